"""An election night in the lab, time-compressed, watched by ``prep-conformance watch``.

The lab publishes a corte every 2 s; two difusores follow it, one lags for a while, one goes down and
comes back, one serves an altered CSV for a while, one never sends Cache-Control. The incidents the
watch finds must have the right kind, start and duration within one poll interval of what really
happened; the followers must have none; availability must count the outage.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from prep_conformance.watch.readdb import accounting, read_db

pytestmark = pytest.mark.lab
CLI = [sys.executable, "-m", "prep_conformance.cli"]
EVERY = 2.0          # seconds between cortes (20 minutes compressed)
INTERVAL = 0.5       # poll interval
JITTER = 0.1
SLACK = 0.35         # scheduling on a shared 2-core machine
LATE = INTERVAL * (1 + JITTER) + SLACK
OFFSET = 4.0         # the night's events start after the watcher is up


def _port_base() -> int:
    return int(os.environ.get("PREP_LAB_PORT_BASE", "20000")) + 900


def _state() -> Path:
    return Path(os.environ.get("PREP_LAB_DIR", "/var/lib/prep-conformance/lab")) / "night"


@pytest.fixture(scope="module")
def night():
    if os.geteuid() != 0 or not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("the night lab needs root and nginx")
    from prep_conformance.lab.night import ElectionNight, default_plan
    n = ElectionNight(_state(), _port_base(), default_plan(EVERY, OFFSET), every_s=EVERY, window_s=120,
                      tolerance_s=2 * EVERY)
    n.start()
    yield n
    n.stop()


def watch(night, db, *extra, duration=None, wait=True):
    argv = [*CLI, "watch", *night.watch_args(), "--db", str(db), "--interval", str(INTERVAL),
            "--jitter", str(JITTER), "-q", *extra]
    if duration is not None:
        argv += ["--duration", str(duration)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return p
    out, err = p.communicate(timeout=(duration or 60) + 30)
    return p.returncode, out, err


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(url, *args):
    """Debian's chromium, headless; returns its stdout (``--dump-dom``) or None when not installed."""
    if CHROMIUM is None:
        return None
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:   # its own profile: no singleton hand-off
        p = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                            "--no-first-run", "--window-size=1400,700", f"--user-data-dir={profile}", *args, url],
                           capture_output=True, text=True, timeout=90)
    return p.stdout


def get(url, wait_s=20.0):
    """GET, waiting for the watcher's server to listen (a loaded machine starts Python slowly)."""
    import urllib.error
    import urllib.request
    deadline = time.time() + wait_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.read().decode("utf-8")
        except urllib.error.URLError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def night_run(night, tmp_path_factory):
    """One watch of the night with the board and the metrics on; what they showed at chosen moments."""
    d = tmp_path_factory.mktemp("watch")
    db = d / "noche.db"
    board, metrics = _port_base() + 50, _port_base() + 51
    t0 = time.time()
    p = watch(night, db, "--board-port", str(board), "--metrics-port", str(metrics), "--board-refresh", "60",
              duration=27, wait=False)
    seen = {}

    def at(t_rel):
        time.sleep(max(0.0, night.t0 + t_rel - time.time()))

    try:
        at(OFFSET + 1.0)
        seen["metrics_before"] = get(f"http://127.0.0.1:{metrics}/metrics")
        seen["state_before"] = get(f"http://127.0.0.1:{board}/state.json")
        chromium(f"http://127.0.0.1:{board}/", f"--screenshot={d / 'antes.png'}")
        at(OFFSET + 12.5)                           # rezagado stale (~10 to 19 s), se-cae down (7 to 16 s)
        seen["metrics_during"] = get(f"http://127.0.0.1:{metrics}/metrics")
        with ThreadPoolExecutor(2) as pool:      # both while rezagado is stale: in parallel
            shot = pool.submit(chromium, f"http://127.0.0.1:{board}/", f"--screenshot={d / 'durante.png'}")
            dom = pool.submit(chromium, f"http://127.0.0.1:{board}/", "--dump-dom")
            shot.result()
            seen["dom_during"] = dom.result()
        seen["html_en"] = None
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    took = time.time() - t0
    assert p.returncode == 1, out + err             # incidents found: exit 1, like a FAIL
    assert took < 27 + 10, f"the watch did not stop by itself in time ({took:.1f} s)"
    seen["shots"] = d
    return read_db(db), seen


@pytest.fixture(scope="module")
def night_db(night_run):
    return night_run[0]


def one(data, difusor, kind):
    found = [i for i in data.incidents.get(difusor, []) if i["kind"] == kind]
    assert len(found) == 1, (difusor, kind, data.incidents.get(difusor))
    return found[0]


def close_to(measured, truth, early=0.1, late=LATE):
    assert truth - early <= measured <= truth + late, f"measured {measured:.2f} vs truth {truth:.2f}"


def test_followers_have_no_incident(night_db):
    for d in ("sigue-uno", "sigue-dos"):
        assert night_db.incidents.get(d, []) == []
        acc = accounting(night_db, d)
        assert acc.down_s == 0 and acc.ratio == 1.0 and acc.samples > 20


def test_down_and_back(night, night_db):
    inc = one(night_db, "se-cae", "down")
    down, up = night.events("se-cae", "down")[0]["t"], night.events("se-cae", "up")[0]["t"]
    close_to(inc["t_start"], down)
    close_to(inc["t_end"], up, early=0.4)          # nginx accepts a moment before the lab sees it listening
    assert abs(inc["duration_s"] - (up - down)) <= LATE + 0.4
    assert "Connection refused" in inc["first_evidence"]["error"]
    assert inc["summary_es"].startswith("Sin respuesta desde ") and "durante" in inc["summary_es"]
    assert "(conexión rechazada)" in inc["summary_es"] and "Connection" not in inc["summary_es"]
    assert "(connection refused)" in inc["summary_en"]
    acc = accounting(night_db, "se-cae")
    assert abs(acc.down_s - (up - down)) <= LATE + 0.4
    assert acc.ratio < 0.999                        # an outage of seconds in a window of seconds


def test_lagging_difusor_is_stale_beyond_the_tolerance(night, night_db):
    inc = one(night_db, "rezagado", "stale")
    truth_end = night.events("rezagado", "lag_end")[0]["t"]
    lag_start = night.events("rezagado", "lag_start")[0]["t"]
    served = max(e["secuencia"] for e in night.events("rezagado", "serves") if e["t"] < lag_start)
    truth_start = night.truth["published"][served + 1] + night.tolerance_s
    close_to(inc["t_start"], truth_start, late=LATE + INTERVAL / 4)
    close_to(inc["t_end"], truth_end)
    assert inc["first_evidence"]["secuencia"] == served
    assert one(night_db, "rezagado", "stale")["last_evidence"]["lag_s"] > night.tolerance_s
    assert not [i for i in night_db.incidents["rezagado"] if i["kind"] == "down"]


def test_altered_file_for_a_while(night, night_db):
    inc = one(night_db, "altera", "altered")
    on = night.first_serving("altera", True)[0]["t"]
    off = [e["t"] for e in night.first_serving("altera", False) if e["t"] > on][0]
    close_to(inc["t_start"], on)
    close_to(inc["t_end"], off)
    (path, detail), = inc["first_evidence"]["integrity"]["altered"].items()
    assert path.startswith("csv/") and detail["expected"] != detail["served"]


def test_missing_cache_control_is_one_open_incident(night_db):
    inc = one(night_db, "sin-cache", "cache_control")
    assert inc["ended_at"] is None and inc["duration_s"] is None
    assert inc["first_evidence"]["cache_control"] is None


def test_sigterm_stops_cleanly_and_a_restart_resumes(night, tmp_path):
    db = tmp_path / "reanuda.db"
    p = watch(night, db, duration=60, wait=False)
    time.sleep(4)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=15)
    assert p.returncode in (0, 1), err
    assert "Traceback" not in err
    time.sleep(2)
    rc, out, err = watch(night, db, duration=3)
    assert rc in (0, 1), err
    data = read_db(db)
    assert len(data.runs) == 2
    assert data.runs[1][0] - data.runs[0][1] >= 2 - 0.1
    import sqlite3
    reasons = [r[0] for r in sqlite3.connect(db).execute("SELECT stop_reason FROM runs ORDER BY id")]
    assert reasons == ["signal", "until"]
    # the open Cache-Control incident carried over: one incident, not one per run
    inc = one(data, "sin-cache", "cache_control")
    assert inc["ended_at"] is None
    acc = accounting(data, "sigue-uno")
    # the time between the two runs is unknown, not up: judged against the gap the db itself records
    gap = data.runs[1][0] - data.runs[0][1]
    assert acc.unknown_s >= gap - 0.5
    assert acc.down_s == 0


def metric(text, name, **labels):
    """The value of one sample in a Prometheus text exposition (None when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(name + ("{" + want + "}" if labels else " ")):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_scraped_during_the_night(night, night_run):
    _, seen = night_run
    before, during = seen["metrics_before"], seen["metrics_during"]
    assert metric(before, "prep_difusor_up", difusor="se-cae") == 1.0
    assert metric(during, "prep_difusor_up", difusor="se-cae") == 0.0
    assert metric(during, "prep_difusor_incidents_open", difusor="se-cae", kind="down") == 1.0
    assert metric(during, "prep_difusor_incidents_open", difusor="sigue-uno", kind="down") == 0.0
    assert metric(during, "prep_difusor_corte_lag_seconds", difusor="rezagado") > night.tolerance_s
    assert metric(during, "prep_difusor_secuencia", difusor="sigue-uno") >= metric(during, "prep_reference_secuencia") - 1
    assert metric(during, "prep_difusor_incidents_total", difusor="sin-cache", kind="cache_control") == 1.0
    assert metric(during, "prep_difusor_polls_total", difusor="sigue-uno") > metric(before, "prep_difusor_polls_total",
                                                                                      difusor="sigue-uno")
    assert metric(during, "prep_difusor_availability_ratio", difusor="se-cae") < 1.0
    assert metric(during, "process_resident_memory_bytes") > 0


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bootstrap.sh installs it)")
def test_board_in_a_browser_shows_a_difusor_going_stale(night_run):
    import json as _json
    from tests.support.png import count_colour
    _, seen = night_run
    before = {r["id"]: r for r in _json.loads(seen["state_before"])["rows"]}
    assert before["rezagado"]["state"] == "ok"
    dom = seen["dom_during"]
    assert 'id="row-rezagado" data-state="stale"' in dom
    assert "Corte desactualizado" in dom
    assert 'id="row-sigue-uno" data-state="ok"' in dom and "En orden" in dom
    stale_badge = (0xf2, 0xa9, 0x00)               # the stale colour of the board's stylesheet
    antes = (seen["shots"] / "antes.png").read_bytes()
    durante = (seen["shots"] / "durante.png").read_bytes()
    assert count_colour(antes, stale_badge) == 0
    assert count_colour(durante, stale_badge) > 500


def test_report_from_the_night(night_db, tmp_path):
    import json as _json
    out = tmp_path / "informe"
    p = subprocess.run([*CLI, "report", "--watch-db", night_db.path, "--out", str(out)], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    ds = {d["id"]: d for d in _json.loads((out / "results.json").read_text())["difusores"]}
    assert ds["se-cae"]["requirements"]["I.2"] == "FAIL" and ds["se-cae"]["requirements"]["II.2.e"] == "FAIL"
    assert ds["rezagado"]["requirements"]["I.9"] == "FAIL"
    assert ds["altera"]["requirements"]["I.6"] == "FAIL"
    assert ds["sin-cache"]["requirements"]["II.1.e"] == "FAIL"
    assert ds["sigue-uno"]["requirements"]["I.9"] == "PASS"
    assert ds["sigue-uno"]["requirements"]["I.2"] == "MANUAL"    # the night's window is not over
    assert "Sin respuesta" in (out / "se-cae.html").read_text()


def test_error_answers_for_a_while(night, night_db):
    inc = one(night_db, "error-404", "http_error")
    close_to(inc["t_start"], night.events("error-404", "error_start")[0]["t"])
    close_to(inc["t_end"], night.events("error-404", "error_end")[0]["t"])
    assert inc["first_evidence"]["status"] == 404
    assert not [i for i in night_db.incidents["error-404"] if i["kind"] == "down"]


def test_missing_file_for_a_while(night, night_db):
    inc = one(night_db, "incompleto", "missing")
    on = night.first_serving("incompleto", True)[0]["t"]
    off = [e["t"] for e in night.first_serving("incompleto", False) if e["t"] > on][0]
    close_to(inc["t_start"], on)
    close_to(inc["t_end"], off)
    (path, detail), = inc["first_evidence"]["integrity"]["missing"].items()
    assert path.startswith("csv/") and detail["status"] == 404


def test_certificates_over_https(night_db):
    assert night_db.incidents.get("seguro", []) == []
    inc = one(night_db, "autofirmado", "tls")
    assert inc["ended_at"] is None and "self-signed" in inc["first_evidence"]["tls_error"]
    assert "autofirmado" in inc["summary_es"] and "self-signed" not in inc["summary_es"]
    assert [i["kind"] for i in night_db.incidents["autofirmado"]] == ["tls"]   # content judged all the same
    assert accounting(night_db, "autofirmado").down_s == 0


def test_untrusted_profiles_cannot_swap_the_convocatoria(night, tmp_path):
    p = subprocess.run([*CLI, "watch", "--profile", str(night.profiles_dir), "--db", str(tmp_path / "x.db"),
                        "--duration", "2"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "convocatoria" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "x.db").exists()


def test_reference_is_the_institutes_own_site(night, tmp_path):
    db = tmp_path / "url.db"
    argv = [*CLI, "watch", "--profile", str(night.profiles_dir), "--convocatoria", str(night.convocatoria_path),
            "--reference", night.reference_url, "--db", str(db), "--interval", str(INTERVAL), "--duration", "5",
            "-q"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert p.returncode in (0, 1), p.stderr
    data = read_db(db)
    assert len(data.reference) >= 2                      # cortes seen appearing on the institute's site
    assert data.meta["reference"] == f"reference: {night.reference_url}"
    lags = [lag for t, up, lag, seq, stale in data.samples["sigue-uno"] if lag is not None]
    assert lags and max(lags) < night.tolerance_s
    assert [i["kind"] for i in data.incidents.get("sigue-uno", [])] == []

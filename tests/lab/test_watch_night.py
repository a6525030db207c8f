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
import sys
import time
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


def _port_base() -> int:
    return int(os.environ.get("PREP_LAB_PORT_BASE", "20000")) + 900


def _state() -> Path:
    return Path(os.environ.get("PREP_LAB_DIR", "/var/lib/prep-conformance/lab")) / "night"


@pytest.fixture(scope="module")
def night():
    if os.geteuid() != 0 or not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("the night lab needs root and nginx")
    from prep_conformance.lab.night import ElectionNight
    n = ElectionNight(_state(), _port_base(), every_s=EVERY, window_s=120)
    n.start()
    yield n
    n.stop()


def watch(night, db, *extra, duration=None, wait=True):
    argv = [*CLI, "watch", "--profile", str(night.profiles_dir), "--db", str(db), "--interval", str(INTERVAL),
            "--jitter", str(JITTER), "-q", *extra]
    if duration is not None:
        argv += ["--duration", str(duration)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return p
    out, err = p.communicate(timeout=(duration or 60) + 30)
    return p.returncode, out, err


@pytest.fixture(scope="module")
def night_db(night, tmp_path_factory):
    db = tmp_path_factory.mktemp("watch") / "noche.db"
    t0 = time.time()
    rc, out, err = watch(night, db, duration=17)
    took = time.time() - t0
    assert rc == 1, out + err                      # incidents found: exit 1, like a FAIL
    assert took < 17 + 10, f"the watch did not stop by itself in time ({took:.1f} s)"
    return read_db(db)


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
    acc = accounting(night_db, "se-cae")
    assert abs(acc.down_s - (up - down)) <= LATE + 0.4
    assert acc.ratio < 0.999                        # an outage of seconds in a window of seconds


def test_lagging_difusor_is_stale_beyond_the_tolerance(night, night_db):
    inc = one(night_db, "rezagado", "stale")
    start = night.events("rezagado", "lag_start")[0]
    missed = start["secuencia"] + 1
    truth_start = night.truth["published"][missed] + night.tolerance_s
    truth_end = night.events("rezagado", "lag_end")[0]["t"]
    close_to(inc["t_start"], truth_start, late=LATE + INTERVAL / 4)
    close_to(inc["t_end"], truth_end)
    assert inc["first_evidence"]["secuencia"] == start["secuencia"]
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
    gap_start = time.time()
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
    assert acc.unknown_s >= time.time() - gap_start - 3 - 1 - 0.5 >= 1.0
    assert acc.down_s == 0

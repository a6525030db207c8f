"""``report --watch-db``: verdicts from the night (pure rules), vantage points merged, the report section."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from prep_conformance.rules.watch import WatchFigures, evaluate_all, evaluate_availability, evaluate_latest_corte, \
    evaluate_window
from prep_conformance.watch.incidents import derive, summaries
from prep_conformance.watch.poller import Sample
from prep_conformance.watch.store import Store

TZ = dt.timezone(dt.timedelta(hours=-6))
WS = 1717380000.0                       # 2 June 2024 20:00 UTC-6
WE = WS + 48 * 3600                     # 48 h window: 172.8 s allowed at 99.9 %


def figs(**kw):
    base = dict(window_start=WS, window_end=WE, until=WE, samples=100, vantage_points=1, up_s=48 * 3600 - 100,
                down_s=100, unknown_s=0, fresh_s=48 * 3600, stale_s=0, threshold=0.999, tolerance_s=1200)
    base.update(kw)
    return WatchFigures(**base)


def test_availability_prorated_to_the_window():
    assert evaluate_availability(figs()).verdict.value == "PASS"
    assert evaluate_availability(figs(down_s=200, up_s=48 * 3600 - 200)).verdict.value == "FAIL"
    # not counted as up: unknown time that could hide an outage leaves it open
    assert evaluate_availability(figs(unknown_s=600)).verdict.value == "MANUAL"
    assert evaluate_availability(figs(until=WS + 3600)).verdict.value == "MANUAL"
    assert evaluate_availability(figs(samples=0)).verdict.value == "ERROR"
    r = evaluate_availability(figs(down_s=200, up_s=48 * 3600 - 200))
    assert r.evidence["downtime_allowed_s"] == 172.8 and "3 min 20 s" in r.summary and "3 min 20 s" in r.summary_en


def test_window_and_latest_corte():
    assert evaluate_window(figs()).verdict.value == "PASS"
    assert evaluate_window(figs(unknown_s=3600)).verdict.value == "MANUAL"
    stale = {"kind": "stale", "summary_es": "Corte desactualizado ...", "summary_en": "Stale corte ..."}
    r = evaluate_latest_corte(figs(fresh_s=1000, stale_s=300, incidents=(stale,)))
    assert r.verdict.value == "FAIL" and "76.92 %" in r.summary and r.evidence["stale_incidents_es"]
    assert evaluate_latest_corte(figs(fresh_s=0, stale_s=0)).verdict.value == "ERROR"
    checks = {c.requirement: c for c in evaluate_all(figs(incidents=({"kind": "altered", "summary_es": "a",
                                                                       "summary_en": "a"},)))}
    assert set(checks) == {"I.2", "I.9", "II.2.e", "I.6"} and checks["I.6"].verdict.value == "FAIL"


def _db(path, ups, incidents_down=False):
    """A db of one difusor 'medio' sampled every 60 s over a 1 h window; ``ups`` per sample."""
    st = Store(path, TZ)
    st.set_meta({"convocatoria": "prueba", "window_start": WS, "window_end": WS + 3600, "interval_s": 60,
                 "threshold": 0.999, "tolerance_s": 1200, "max_gap_s": 180, "utc_offset_s": -21600,
                 "reference": "paquetes: x"})
    st.add_difusores([("medio", "Medio", "https://medio.example/")])
    st.start_run(WS, 60)
    samples = [Sample("medio", WS + 60 * i, up, 200 if up else None, 0.01, None if up else "Connection refused",
                      secuencia=1, lag_s=0.0, flags={"down": not up, "stale": False if up else None})
               for i, up in enumerate(ups)]
    st.begin()
    for s in samples:
        st.add_sample(s)
    for inc in derive(samples):
        iid = st.open_incident(inc, summaries(inc, TZ))
        if inc.ended_at is not None:
            st.close_incident(inc.__class__(**{**inc.__dict__, "id": iid}), summaries(inc, TZ))
    st.heartbeat(WS + 3600)
    st.end_run(WS + 3600, "until")
    st.commit()
    st.close()


def test_report_from_watch_dbs_merges_vantage_points(tmp_path):
    a, b = tmp_path / "cdmx.db", tmp_path / "morelia.db"
    outage = [True] * 20 + [False] * 10 + [True] * 30          # 10 min down, seen from one vantage point
    _db(a, outage)
    _db(b, [True] * 60)
    out = tmp_path / "rep"
    p = subprocess.run([sys.executable, "-m", "prep_conformance.cli", "report", "--watch-db", str(a), str(b),
                        "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    doc = json.loads((out / "results.json").read_text())
    (d,) = doc["difusores"]
    assert set(d["requirements"]) >= {"I.2", "II.4", "II.1.d"}     # every ID, the others MANUAL
    assert d["requirements"]["I.2"] == "PASS" and d["requirements"]["II.2.e"] == "PASS"
    assert d["watch"]["vantage_points"] == ["cdmx.db", "morelia.db"]
    assert [i["kind"] for i in d["watch"]["incidents"]] == ["down"]          # listed with its vantage point
    assert d["watch"]["incidents"][0]["vantage"] == "cdmx.db"
    assert d["watch"]["accounting"]["down_s"] == 0
    html = (out / "medio.html").read_text()
    assert "Noche electoral: vigilancia" in html and "<svg" in html and "cdmx.db" in html
    for word in ("Timeline", "Downtime", "Incidents", "Not watched"):
        assert word not in html
    # one vantage point alone: the outage counts
    p = subprocess.run([sys.executable, "-m", "prep_conformance.cli", "report", "--watch-db", str(a),
                        "--out", str(tmp_path / "rep1"), "--lang", "en"], capture_output=True, text=True, timeout=120)
    d = json.loads((tmp_path / "rep1" / "results.json").read_text())["difusores"][0]
    assert d["requirements"]["I.2"] == "FAIL" and d["requirements"]["II.2.e"] == "FAIL"
    assert d["watch"]["accounting"]["down_s"] == pytest.approx(600, abs=1)
    assert any(seg[2] == "down" for seg in d["watch"]["timeline"]["availability"])
    html = (tmp_path / "rep1" / "medio.html").read_text()
    assert "Election night: watch" in html and "Noche electoral" not in html


def test_report_keeps_a_run_and_adds_the_night(tmp_path):
    a = tmp_path / "n.db"
    _db(a, [True] * 60)
    run = {"schema": "prep-conformance/results/1", "tool": {"name": "prep-conformance", "version": "0"},
           "started_at": "2024-05-20T10:00:00-06:00", "finished_at": "2024-05-20T10:05:00-06:00",
           "convocatoria": "prueba", "difusores": [
               {"id": "medio", "name": "Medio", "target": "https://medio.example/", "overall": "FAIL",
                "requirements": {"I.2": "MANUAL", "II.1.e": "FAIL", "II.2.e": "MANUAL"},
                "checks": [{"requirement": "I.2", "check": "manual_review", "verdict": "MANUAL", "summary": "x",
                            "summary_en": "x", "evidence": {}, "notes": []},
                           {"requirement": "II.1.e", "check": "main_json_cache_control[edge-GET]",
                            "verdict": "FAIL", "summary": "y", "summary_en": "y", "evidence": {}, "notes": []}]}]}
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.json").write_text(json.dumps(run))
    p = subprocess.run([sys.executable, "-m", "prep_conformance.cli", "report", str(tmp_path / "run"),
                        "--watch-db", str(a), "--out", str(tmp_path / "rep")], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    d = json.loads((tmp_path / "rep" / "results.json").read_text())["difusores"][0]
    assert d["requirements"]["I.2"] == "PASS" and d["requirements"]["II.1.e"] == "FAIL"
    assert not [c for c in d["checks"] if c["requirement"] == "I.2" and c["check"] == "manual_review"]
    assert d["overall"] == "FAIL"


def test_report_without_inputs_or_with_a_bad_db_is_a_usage_error(tmp_path):
    bad = tmp_path / "no.db"
    bad.write_text("not sqlite")
    for args in ([], ["--watch-db", str(bad)], ["--watch-db", str(tmp_path / "missing.db")]):
        p = subprocess.run([sys.executable, "-m", "prep_conformance.cli", "report", *args, "--out",
                            str(tmp_path / "o")], capture_output=True, text=True, timeout=60)
        assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr

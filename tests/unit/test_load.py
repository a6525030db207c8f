"""Load rules and Locust output parsing (II.2.a, II.1.e under load): pure, with hand-built observations
and real Locust output files captured from a lab run (tests/data/load/)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes import load
from prep_conformance.probes.load import LoadObservation, LoadPlan, MainJsonTally, SeriesPoint
from prep_conformance.profile import Load
from prep_conformance.rules import load as rules
from prep_conformance.verdict import Verdict

DATA = Path(__file__).resolve().parents[1] / "data" / "load"
CONV = load_convocatoria("iem-michoacan-2024")
CC = CONV.main_json.cache_control


def _settings(**over):
    return rules.settings(CONV.load, Load(**over))


def _s10(conv_over=None, **over):
    """Settings for a 10 s run (what ``_obs`` measured), the 10 s being the convocatoria's own (not relaxed)."""
    defaults = CONV.load.model_copy(update={"duration_s": 10, **(conv_over or {})})
    return rules.settings(defaults, Load(**over))


def _obs(**kw) -> LoadObservation:
    base = dict(plan=LoadPlan(host="http://127.0.0.1:1", users=10, spawn_rate=10, duration_s=10),
                command=("locust",), exit_code=0, timed_out=False, wall_s=11.0, requests=1000, failures=0,
                rps=100.0, p50_ms=5.0, p95_ms=50.0, p99_ms=90.0, avg_ms=8.0, max_ms=120.0, measured_s=10.0,
                tally=MainJsonTally(500, 500, 0, {CC: 500}, {"3": 500}, 0, 0))
    base.update(kw)
    return LoadObservation(**base)


# ---------------------------------------------------------------- parsing Locust's files

def test_percentile_from_histogram_matches_locust():
    hist = {"1": 50, "2": 40, "100": 9, "1000": 1}
    # locust.stats.calculate_response_time_percentile: walk down from the slowest bucket
    assert load.percentile_from_histogram(hist, 0.5) == 2
    assert load.percentile_from_histogram(hist, 0.95) == 100
    assert load.percentile_from_histogram(hist, 0.99) == 1000
    assert load.percentile_from_histogram(hist, 1.0) == 1000
    assert load.percentile_from_histogram({}, 0.95) is None


def test_parse_real_json_stats_agrees_with_locust_csv():
    agg = load.parse_json_stats((DATA / "locust.json").read_text())
    assert agg["requests"] == 415 and agg["failures"] == 301
    # the same percentiles Locust wrote in its own _stats.csv Aggregated row for that run
    assert (agg["p50_ms"], agg["p95_ms"], agg["p99_ms"]) == (2.0, 480.0, 1200.0)
    assert agg["measured_s"] > 5 and agg["rps"] == pytest.approx(415 / agg["measured_s"], rel=0.01)
    assert agg["endpoints"][0].name == "/json/main.json"


def test_series_uses_exact_per_second_counts_from_json():
    agg = load.parse_json_stats((DATA / "locust.json").read_text())
    reqs, fails = agg["per_second"]
    assert sum(reqs.values()) == 415 and sum(fails.values()) == 301
    series = load.parse_history_csv((DATA / "locust_stats_history.csv").read_text(), agg["per_second"])
    assert sum(p.fails_s for p in series) > 0.5 * 301       # the history rows cover most of the run
    assert all(p.fails_s <= p.rps for p in series)


def test_parse_history_and_failures():
    series = load.parse_history_csv((DATA / "locust_stats_history.csv").read_text())
    assert series[0].t == 0 and series[-1].t > 5
    assert series[-1].users == 30 and series[-1].fails_s > 0
    assert series[0].p95_ms is None          # "N/A" before any request
    fails = load.parse_failures_csv((DATA / "locust_failures.csv").read_text())
    assert fails[0].occurrences >= fails[-1].occurrences
    assert "503" in fails[0].error


def test_parse_tally():
    t = load.parse_tally((DATA / "tally_microcache.json").read_text())
    assert t.ok == 236 and t.cache_hits == 232 and t.age_max == 1 and t.hit_examples


def test_workers_seen_and_cpu_warning_from_log():
    log = ("x (index 0) reported as ready. 1 workers connected.\n"
           "y (index 1) reported as ready. 2 workers connected.\nCPU usage above 90%! This may ...")
    assert load.workers_seen(log) == 2 and load.cpu_warning(log)
    assert load.workers_seen("") == 0 and not load.cpu_warning("all fine")


def test_discover_paths_same_origin_only():
    html = ('<link rel="stylesheet" href="assets/app.css"><link rel="icon" href="favicon.ico">'
            '<script src="/assets/app.js"></script><script src="https://cdn.other.example/x.js"></script>'
            '<a href="json/MICH_DIP_LOC_2024.csv">csv</a>')
    js = {"/assets/app.js": 'fetch("json/main.json"); fetch(`json/resumen.json`); x="//evil.example/a.csv"'}
    assets, data = load.discover_paths("https://prep.example/", html, js, "/json/main.json")
    assert assets == ("/assets/app.css", "/assets/app.js")
    assert data == ("/json/MICH_DIP_LOC_2024.csv", "/json/resumen.json")
    # main.json's own list (used when the page names nothing): paths relative to the site root
    _, data = load.discover_paths("https://prep.example/", "", {"main.json": '{"archivos": [{"ruta": '
                                  '"csv/MICH_AYUN_2024.csv"}, {"ruta": "json/main.json"}]}'}, "/json/main.json")
    assert data == ("/csv/MICH_AYUN_2024.csv",)


def test_loopback_addresses():
    assert load.all_loopback(["127.0.0.1", "::1"])
    assert not load.all_loopback(["127.0.0.1", "203.0.113.5"])
    assert not load.all_loopback([])
    assert load.target_addresses("https://x.example:8443/", {"x.example": "127.0.0.9"}) == ("127.0.0.9",)
    assert load.target_addresses("http://127.0.0.1:1/", {}) == ("127.0.0.1",)


# ---------------------------------------------------------------- command lines

def test_locust_command_lines(tmp_path):
    plan = LoadPlan(host="https://h.example:1", users=20, spawn_rate=5, duration_s=30, workers=2,
                    resolve={"h.example": "127.0.0.1"}, ca_bundle="/ca.pem", expect_workers_wait_s=7,
                    verify_tls=True)
    m = load.locust_command(plan, tmp_path, "master", 5599)
    s = " ".join(m)
    assert m[1:3] == ["-m", "locust"] and "--headless" in m
    assert "-t 30s" in s and "-u 20" in s and "-r 5" in s
    assert "--master" in m and "--expect-workers 2" in s and "--expect-workers-max-wait 7" in s
    assert "--master-bind-host 127.0.0.1" in s and "--prep-verify on --prep-ca-bundle /ca.pem" in s
    assert "--prep-verify" not in load.locust_command(replace(plan, verify_tls=False), tmp_path, "master", 1)
    assert "--json-file" in m and "--csv-full-history" in m
    w = load.locust_command(plan, tmp_path, "worker", 5599)
    assert "--worker" in w and "--master-port" in w and "-u" not in w
    assert plan.hard_timeout_s > 30 + 7
    assert "-f - --worker --master-host 10.0.0.5 --master-port 5557" in load.remote_worker_command("10.0.0.5", 5557)


# ---------------------------------------------------------------- settings and guard

def test_settings_defaults_overrides_and_caps():
    s = _settings()
    assert (s.users, s.duration_s, s.p95_ms, s.min_rps) == (CONV.load.users, CONV.load.duration_s,
                                                          CONV.load.p95_ms, CONV.load.min_rps)
    s = _settings(users=5, p95_ms=200, workers=2)
    assert s.users == 5 and s.p95_ms == 200 and s.workers == 2 and not s.capped
    s = _settings(users=10**6, duration_s=10**5)
    assert s.users == CONV.load.max_users and s.duration_s == CONV.load.max_duration_s
    assert len(s.capped) == 2


def test_profile_rejects_unknown_weights():
    from pydantic import ValidationError
    assert Load(weights={"poll": 1, "page": 0}).weights == {"poll": 1, "page": 0}
    with pytest.raises(ValidationError, match="unknown task"):
        Load(weights={"pol": 1})
    with pytest.raises(ValidationError, match="at least one"):
        Load(weights={"poll": 0})


def test_guard():
    assert not rules.guard(False, ["127.0.0.1"], True).allowed
    g = rules.guard(True, ["203.0.113.7"], False)
    assert not g.allowed and "--prep-allow-remote-load" in g.reason_en
    assert rules.guard(True, ["203.0.113.7"], True).allowed
    assert rules.guard(True, ["127.0.0.1"], False).allowed
    assert not rules.guard(True, [], True).allowed


def test_plan_for_uses_profile_and_site():
    prof = SimpleNamespace(target_url="https://prep.example:8443/prep/", load=Load(),
                           http=SimpleNamespace(resolve={"prep.example": "127.0.0.1"}, ca_bundle=None, timeout_s=5))
    site = SimpleNamespace(page_assets=("/prep/a.js",), data_files=("/prep/json/x.csv",))
    plan = load.plan_for(prof, CONV, _settings(users=3, workers=2), site)
    assert plan.host == "https://prep.example:8443" and plan.page == "/prep/"
    assert plan.workers == 2 and plan.main_json == CONV.main_json.path and plan.data_files == ("/prep/json/x.csv",)
    remote = load.plan_for(prof, CONV, _settings(workers=3, remote_workers=True), site)
    # the master binds loopback unless told otherwise; a profile's public address needs --trust-profile
    assert remote.workers == 0 and remote.expect_workers == 3 and remote.master_bind_host == "127.0.0.1"
    from prep_conformance import trust
    with pytest.raises(trust.TrustRefused, match="--trust-profile"):
        load.plan_for(prof, CONV, _settings(workers=3, remote_workers=True, master_bind_host="0.0.0.0"), site)
    prof2 = SimpleNamespace(**vars(prof))
    prof2._trust = trust.TRUSTED
    assert load.plan_for(prof2, CONV, _settings(workers=3, remote_workers=True, master_bind_host="0.0.0.0"),
                          site).master_bind_host == "0.0.0.0"


# ---------------------------------------------------------------- thresholds

def test_thresholds_pass():
    r = rules.thresholds(_obs(), _s10())
    assert r.verdict is Verdict.PASS and r.requirement == "II.2.a"
    assert r.evidence["p95_ms"] == 50.0 and "chart_svg" not in r.evidence     # the report draws the chart
    assert r.evidence["settings"]["thresholds"]["p95_ms"] == CONV.load.p95_ms
    p95 = next(e for e in r.evidence["thresholds"] if e["name"] == "load_p95_ms")
    assert p95 == {"name": "load_p95_ms", "value": 1000, "unit": "ms", "key": "load.p95_ms", "section": "II.2.a",
                   "source": "convocatoria", "convocatoria_value": 1000, "profile_key": None, "relaxed": False}
    assert r.evidence["served"] == 1000 and r.evidence["served_ratio"] == 1.0


@pytest.mark.parametrize("kw,needle", [
    ({"p95_ms": 5000.0}, "p95"), ({"p99_ms": 9000.0}, "p99"),
    ({"failures": 100}, "error rate"), ({"requests": 60, "failures": 0}, "served 60 of")])
def test_thresholds_fail_on_each_criterion(kw, needle):
    r = rules.thresholds(_obs(**kw), _s10())
    assert r.verdict is Verdict.FAIL and needle in r.summary_en


def test_absolute_floor_only_when_the_convocatoria_sets_one():
    assert _s10().min_rps is None and CONV.load.min_rps is None
    r = rules.thresholds(_obs(rps=1.0), _s10({"min_rps": 50}))
    assert r.verdict is Verdict.FAIL and "requests/s < 50" in r.summary_en
    assert rules.thresholds(_obs(rps=1.0), _s10()).verdict is Verdict.PASS


@pytest.mark.parametrize("kw", [{"error": "no stats"}, {"requests": 0}])
def test_thresholds_error_only_when_nothing_was_measured(kw):
    assert rules.thresholds(_obs(**kw), _s10()).verdict is Verdict.ERROR


@pytest.mark.parametrize("kw", [{"timed_out": True}, {"measured_s": 1.0}])
def test_incomplete_run_errors_unless_a_failure_was_measured(kw):
    assert rules.thresholds(_obs(**kw), _s10()).verdict is Verdict.ERROR
    r = rules.thresholds(_obs(failures=790, **kw), _s10())
    assert r.verdict is Verdict.FAIL and "error rate 79.00%" in r.summary_en


def test_unreachable_floor_does_not_mask_a_measured_failure():
    s = _s10({"min_rps": 50}, users=5, poll_min_s=2, poll_max_s=5)       # at most 2.5 tasks/s
    assert rules.offered_max_rps(s, page_assets=0) == pytest.approx(2.5)
    r = rules.thresholds(_obs(requests=50, rps=2.0, failures=40), s)        # 80 % errors
    assert r.verdict is Verdict.FAIL and "error rate 80.00%" in r.summary_en and "unreachable" in r.summary_en
    healthy = rules.thresholds(_obs(requests=30, rps=2.0), s)
    assert healthy.verdict is Verdict.WARN and "unreachable" in healthy.summary_en
    assert rules.offered_max_rps(_s10(poll_min_s=0), 3) is None


def test_healthy_site_at_50_users_is_not_an_error():
    """The bundled convocatoria asks 200 users for 60 s; a profile running 50 users gets judged (not ERROR),
    but only WARN: it ran a lighter test than the institute's."""
    s = rules.settings(CONV.load, Load(users=50), CONV)
    obs = _obs(requests=900, rps=15.0, measured_s=60.0, plan=LoadPlan(host="http://127.0.0.1:1", users=50,
                                                                      spawn_rate=50, duration_s=60))
    r = rules.thresholds(obs, s)
    assert r.verdict is Verdict.WARN, r.summary_en
    assert "cumple con umbrales relajados por el perfil: carga 50 usuarios (convocatoria: 200 usuarios" in r.summary
    assert "met with thresholds relaxed by the profile: load 50 users (convocatoria: 200 users" in r.summary_en
    users = next(e for e in r.evidence["thresholds"] if e["name"] == "load_users")
    assert users["source"] == "perfil" and users["profile_key"] == "load.users" and users["relaxed"]
    # a failing site under the same lighter test still FAILs
    bad = rules.thresholds(replace(obs, failures=711), s)
    assert bad.verdict is Verdict.FAIL and "relaxed by the profile" in bad.summary_en


def test_profile_cannot_quietly_raise_p95():
    s = rules.settings(CONV.load, Load(p95_ms=5000, users=200, duration_s=60), CONV)
    r = rules.thresholds(_obs(p95_ms=2000.0, measured_s=60.0, requests=3000), s)
    assert r.verdict is Verdict.WARN and "p95 5000 ms (convocatoria: 1000 ms; load.p95_ms)" in r.summary
    stricter = rules.settings(CONV.load, Load(p95_ms=500), CONV)
    assert not any(e["relaxed"] for e in stricter.thresholds)
    assert next(e for e in stricter.thresholds if e["name"] == "load_p95_ms")["source"] == "perfil"


def test_thresholds_error_when_workers_missing_and_cpu_note():
    r = rules.thresholds(_obs(workers_seen=1), _s10(workers=2))
    assert r.verdict is Verdict.ERROR and "workers" in r.summary_en
    r = rules.thresholds(_obs(cpu_warning=True, workers_seen=2), _s10(workers=2))
    assert r.verdict is Verdict.PASS and any(n.level == "warn" for n in r.notes)


# ---------------------------------------------------------------- main.json under load

def test_main_json_under_load_pass_and_fail():
    assert rules.main_json_under_load(_obs(), CC, 3, "paquete").verdict is Verdict.PASS
    # directive case and spacing do not matter; order and content do
    t = MainJsonTally(10, 10, 0, {"No-Cache,no-store,  must-revalidate": 10}, {"3": 10}, 0, 0)
    assert rules.main_json_under_load(_obs(tally=t), CC, 3, "paquete").verdict is Verdict.PASS
    t = MainJsonTally(10, 10, 0, {CC: 6, "public, max-age=60": 4}, {"3": 10}, 0, 0)
    r = rules.main_json_under_load(_obs(tally=t), CC, 3, "paquete")
    assert r.verdict is Verdict.FAIL and "4 of 10" in r.summary_en
    t = MainJsonTally(10, 10, 0, {CC: 10}, {"3": 7, "2": 3}, 0, 0)
    assert rules.main_json_under_load(_obs(tally=t), CC, 3, "paquete").verdict is Verdict.FAIL
    t = MainJsonTally(10, 10, 1, {CC: 10}, {"3": 9}, 0, 0)
    assert rules.main_json_under_load(_obs(tally=t), CC, 3, "paquete").verdict is Verdict.FAIL


def test_main_json_under_load_baseline_allows_a_newer_corte():
    t = MainJsonTally(10, 10, 0, {CC: 10}, {"3": 5, "4": 5}, 0, 0)
    assert rules.main_json_under_load(_obs(tally=t), CC, 3, "baseline").verdict is Verdict.PASS
    assert rules.main_json_under_load(_obs(tally=t), CC, 4, "baseline").verdict is Verdict.FAIL


def test_main_json_under_load_says_when_the_corte_was_not_checked():
    r = rules.main_json_under_load(_obs(), CC, None, "baseline")
    assert r.verdict is Verdict.PASS and r.notes and "not checked" in r.notes[0].text_en
    assert not rules.main_json_under_load(_obs(), CC, 3, "paquete").notes


def test_main_json_under_load_error_and_all_failed():
    assert rules.main_json_under_load(_obs(tally=None), CC, 3, "paquete").verdict is Verdict.ERROR
    t = MainJsonTally(0, 0, 0, {}, {}, 0, 0)
    assert rules.main_json_under_load(_obs(tally=t), CC, 3, "paquete").verdict is Verdict.ERROR
    t = MainJsonTally(40, 0, 0, {}, {}, 0, 0)
    assert rules.main_json_under_load(_obs(tally=t), CC, 3, "paquete").verdict is Verdict.FAIL


def test_main_json_not_cached():
    assert rules.main_json_not_cached(_obs()).verdict is Verdict.PASS
    t = load.parse_tally((DATA / "tally_microcache.json").read_text())
    r = rules.main_json_not_cached(_obs(tally=t))
    assert r.verdict is Verdict.FAIL and r.requirement == "II.1.e" and r.evidence["cache_hits"] == 232
    assert rules.main_json_not_cached(_obs(tally=MainJsonTally(5, 0, 0, {}, {}, 0, 0))).verdict is Verdict.ERROR
    assert rules.main_json_not_cached(_obs(error="x")).verdict is Verdict.ERROR


# ---------------------------------------------------------------- chart

def _chart_evidence(series, p95=1000, p99=3000, min_rps=50):
    obs = _obs(series=tuple(series))
    s = _s10({"p95_ms": p95, "p99_ms": p99, "min_rps": min_rps})
    return rules.thresholds(obs, s).evidence


def test_chart_geometry_comes_from_the_evidence_series():
    from prep_conformance.report import charts
    series = load.parse_history_csv((DATA / "locust_stats_history.csv").read_text())
    g = charts.load_overview(_chart_evidence(series))
    assert [len(p["lines"]) for p in g["panels"]] == [3, 3]
    assert {l["name"] for p in g["panels"] for l in p["limits"]} == {"rps", "p95_ms", "p99_ms"}
    assert all(l["points"] for p in g["panels"] for l in p["lines"] if l["name"] != "failures_s")
    assert charts.load_overview({}) is None


def test_the_dictamen_draws_the_load_chart_in_its_language():
    """The chart is the template's: well-formed inline SVG, no script, labels in one language."""
    import re
    from prep_conformance.report.render import render_dictamen
    doc = json.loads((Path(__file__).resolve().parents[1] / "data" / "report" / "lab-results.json").read_text())
    dif = next(d for d in doc["difusores"] if d["id"] == "load-weak-origin")
    for lang, word, other in (("es", "peticiones por segundo", "requests per second"),
                              ("en", "requests per second", "peticiones por segundo")):
        html = render_dictamen(doc, dif, lang)
        m = re.search(r'<svg class="chart" xmlns="http://www.w3.org/2000/svg".*?</svg>', html, re.S)
        assert m, "no overview chart"
        root = ET.fromstring(m.group(0))
        assert root.tag.endswith("svg") and m.group(0).count("<polyline") == 6 and "p95 ≤ " in m.group(0)
        assert word in m.group(0) and other not in m.group(0) and "<script" not in m.group(0)


def test_throughput_relative_to_the_users_that_ran():
    """A site that stalls its visitors serves far fewer requests than they would send to a site answering
    within p95: FAIL on throughput (the users Locust ran, second by second, set the demand)."""
    s = _s10({"users": 30, "poll_min_s": 0.5, "poll_max_s": 1.5})
    series = tuple(SeriesPoint(t, min(30, 10 * (t + 1)), 0.0, 0.0, None, None, None) for t in range(11))
    demand = rules.expected_attempts(_obs(series=series), s)
    assert demand == pytest.approx((10 + 20 + 30 * 8) * 1.0 / (1.0 + 1.0 * 1.0))   # per task 1, cycle 2 s
    ok = rules.thresholds(_obs(series=series, requests=300, rps=30.0), s)
    assert ok.verdict is Verdict.PASS and ok.evidence["expected_min_attempts"] == pytest.approx(demand, abs=0.1)
    stalled = rules.thresholds(_obs(series=series, requests=40, rps=4.0), s)
    assert stalled.verdict is Verdict.FAIL and "served 40 of 135" in stalled.summary_en
    assert "sirvió 40 de 135 peticiones esperadas" in stalled.summary

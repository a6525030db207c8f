from prep_conformance.rules import analytics, availability
from prep_conformance.rules.availability import DAY_S, Sample

MONTH_S = 30 * DAY_S
from prep_conformance.verdict import Verdict

GA = '<html><head><script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123"></script></head></html>'
MATOMO = "<script>var _paq = window._paq = []; _paq.push(['trackPageView']);</script>"


def page(html, status=200, error=None):
    return analytics.PageObservation("https://x.example/", status, html, (), error)


def test_analytics_detected_on_page():
    r = analytics.evaluate(page(GA), None)
    assert r.verdict is Verdict.PASS and r.evidence["detected"][0]["tool"] == "Google Analytics"
    assert analytics.evaluate(page(MATOMO), None).evidence["detected"][0]["tool"] == "Matomo"


def test_analytics_declared_only_is_manual_and_nothing_is_manual():
    assert analytics.evaluate(page("<html></html>"), analytics.Declared("GoAccess", None)).verdict is Verdict.MANUAL
    assert analytics.evaluate(page("<html></html>"), None).verdict is Verdict.MANUAL


def test_analytics_unreadable_page_is_error():
    assert analytics.evaluate(page("", None, "connection refused"), None).verdict is Verdict.ERROR
    assert analytics.evaluate(page("", 503), None).verdict is Verdict.ERROR


def series(n, step, down=()):
    return [Sample(1_700_000_000 + i * step, i not in down) for i in range(n)]


def test_availability_full_month_at_threshold_passes():
    n = MONTH_S // 60 + 1
    obs = availability.summarize(series(n, 60, down=set(range(100, 140))))   # 40 min down < 43.2 min budget
    r = availability.evaluate_monitor(obs, 0.999)
    assert r.verdict is Verdict.PASS and r.evidence["ratio"] >= 0.999


def test_downtime_beyond_the_monthly_budget_fails_even_on_a_short_log():
    obs = availability.summarize(series(24 * 60, 60, down=set(range(0, 50))))   # one day, 50 min down
    assert availability.evaluate_monitor(obs, 0.999).verdict is Verdict.FAIL


def test_short_clean_log_is_manual_and_empty_log_is_error():
    assert availability.evaluate_monitor(availability.summarize(series(60, 60)), 0.999).verdict is Verdict.MANUAL
    assert availability.evaluate_monitor(availability.summarize([]), 0.999).verdict is Verdict.ERROR


def test_declared_sla():
    assert availability.evaluate_declared(0.99, None, 0.999).verdict is Verdict.FAIL
    assert availability.evaluate_declared(0.9995, "sla.pdf", 0.999).verdict is Verdict.MANUAL
    assert availability.evaluate_declared(None, None, 0.999).verdict is Verdict.MANUAL


def test_the_period_comes_from_the_convocatoria():
    obs = availability.summarize(series(8 * 24 * 60 + 1, 60))      # eight clean days
    assert availability.evaluate_monitor(obs, 0.999, period_days=30).verdict is Verdict.MANUAL
    assert availability.evaluate_monitor(obs, 0.999, period_days=7).verdict is Verdict.PASS


CC = "no-cache, no-store, must-revalidate"


def test_monitor_records_are_observations_the_rule_judges():
    """monitor.py stores status, headers and errors; up/down and the header verdict are the rule's."""
    good = {"t": 1_700_000_000.0, "url": "https://x.example/json/main.json", "status": 200, "elapsed_s": 0.01,
            "error": None, "headers": [["Cache-Control", CC]]}
    assert availability.judge_record(good, CC) == (True, True)
    assert availability.judge_record({**good, "headers": [["Cache-Control", "max-age=60"]]}, CC) == (True, False)
    assert availability.judge_record({**good, "status": 503}, CC)[0] is False
    dead = {"t": 1_700_000_000.0, "status": None, "error": "connection refused", "headers": []}
    assert availability.judge_record(dead, CC) == (False, None)
    assert Sample.from_dict(good).ok and not Sample.from_dict(dead).ok
    assert not Sample.from_dict({**good, "status": 200, "error": "timeout"}).ok
    # a log written before the monitor kept observations: its own ok
    assert Sample.from_dict({"t": 1.0, "ok": True}).ok and not Sample.from_dict({"t": 1.0, "ok": False}).ok

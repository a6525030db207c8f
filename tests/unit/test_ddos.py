"""II.2.d.ddos rules: signals to verdicts (MANUAL unless strong evidence; ERROR when nothing answered)."""

from __future__ import annotations

from prep_conformance.probes.ddos import BurstObservation, challenge_markers
from prep_conformance.rules import cdn_detect, ddos
from prep_conformance.verdict import Verdict


def _burst(**kw):
    base = dict(url="https://x/", planned=200, sent=200, elapsed_s=2.0, statuses={"200": 200}, concurrency=20)
    base.update(kw)
    return BurstObservation(**base)


CLOUDFLARE = cdn_detect.detect([("CF-RAY", "8a1b2c3d4e5f-MEX"), ("Server", "cloudflare")])
VARNISH = cdn_detect.detect([("X-Varnish", "32770 3"), ("Via", "1.1 varnish (Varnish/7.1)")])


def test_no_signal_is_manual_with_what_to_ask_for():
    r = ddos.evaluate(_burst(), None)
    assert r.verdict is Verdict.MANUAL and r.requirement == "II.2.d.ddos"
    assert r.evidence["ask_for"] and r.evidence["ask_for_en"]
    assert "no limiting for 200 requests" in r.summary_en


def test_rate_limiting_alone_is_a_signal_not_a_pass():
    b = _burst(statuses={"200": 60, "429": 20}, sent=80, limited=20, first_limited_at=61, retry_after=("2",),
               stopped_early=True)
    r = ddos.evaluate(b, VARNISH)
    assert r.verdict is Verdict.MANUAL
    assert "rate limiting: 20 limited answers from request 61" in r.summary_en and "Retry-After 2" in r.summary_en
    assert "Varnish" in r.summary_en


def test_protected_front_plus_containment_passes():
    b = _burst(statuses={"200": 60, "429": 20}, sent=80, limited=20, first_limited_at=61, retry_after=("2",))
    r = ddos.evaluate(b, CLOUDFLARE)
    assert r.verdict is Verdict.PASS and r.evidence["front"]["provider"] == "cloudflare"


def test_protected_front_without_containment_is_manual():
    assert ddos.evaluate(_burst(), CLOUDFLARE).verdict is Verdict.MANUAL


def test_challenge_counts_as_containment():
    b = _burst(statuses={"200": 10, "403": 5}, limited=5, challenges=("body: cf-chl",))
    assert ddos.evaluate(b, CLOUDFLARE).verdict is Verdict.PASS


def test_no_answer_at_all_is_error():
    r = ddos.evaluate(_burst(statuses={}, errors={"ConnectionError": 200}), None)
    assert r.verdict is Verdict.ERROR


def test_burst_not_run_says_why():
    r = ddos.evaluate(None, None, ("ráfaga no ejecutada: no autorizada", "burst not run: not authorised"))
    assert r.verdict is Verdict.MANUAL and "burst not run" in r.summary_en and r.evidence["burst"]["run"] is False


def test_5xx_without_retry_after_is_a_weak_signal():
    r = ddos.evaluate(_burst(statuses={"200": 10, "503": 190}, unhinted_5xx=190), VARNISH)
    assert r.verdict is Verdict.MANUAL and "190 5xx answers without Retry-After" in r.summary_en


def test_challenge_markers():
    assert challenge_markers(503, {"Server": "cloudflare"}, b"<title>Just a moment...</title>")
    assert challenge_markers(200, [("Set-Cookie", "cf_clearance=abc; Path=/")], b"")
    assert not challenge_markers(503, {"Server": "nginx"}, b"<h1>503 Service Temporarily Unavailable</h1>")
    assert not challenge_markers(200, {}, b"captcha")        # only on 403/429/503 bodies


def test_retry_after_seconds_capped():
    from prep_conformance.probes.ddos import retry_after_s
    assert retry_after_s(_burst(retry_after=("2", "5"))) == 5
    assert retry_after_s(_burst(retry_after=("3600",))) == 10
    assert retry_after_s(_burst(retry_after=("Wed, 21 Oct 2026 07:28:00 GMT",))) == 0
    assert retry_after_s(_burst()) == 0

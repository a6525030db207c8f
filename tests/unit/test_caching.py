"""II.1.e header rule on hand-built responses."""

import pytest

from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes.http import HttpObservation
from prep_conformance.rules import caching
from prep_conformance.verdict import Verdict

CONV = load_convocatoria("iem-michoacan-2024")
URL = "https://prep.lab.prep.example/json/main.json"
DATE = ("Date", "Sat, 28 Nov 2026 00:00:00 GMT")


def obs(*headers, status=200, method="GET", url=URL, body="abc"):
    return HttpObservation("edge-GET", url, method, status, "OK", "HTTP/1.1", (DATE,) + tuple(headers),
                           body_sha256=body)


def v(*headers, **kw):
    return caching.evaluate(obs(*headers, **kw), CONV).verdict


@pytest.mark.parametrize("value", [
    "no-cache, no-store, must-revalidate",
    "must-revalidate,no-store,no-cache",
    "NO-CACHE ,  No-Store , MUST-REVALIDATE",
])
def test_exact_directives_any_order_case_spacing(value):
    assert v(("Cache-Control", value)) is Verdict.PASS


def test_duplicate_lines_are_merged():
    r = caching.evaluate(obs(("Cache-Control", "no-cache"), ("cache-control", "no-store, must-revalidate")), CONV)
    assert r.verdict is Verdict.PASS
    assert r.evidence["cache_control_lines"] == ["Cache-Control: no-cache", "cache-control: no-store, must-revalidate"]
    assert any("RFC 9110" in n.text_en for n in r.notes)


def test_missing_header_fails():
    r = caching.evaluate(obs(("Content-Type", "application/json")), CONV)
    assert r.verdict is Verdict.FAIL and "no Cache-Control" in r.summary_en


def test_only_no_cache_fails_naming_the_missing():
    r = caching.evaluate(obs(("Cache-Control", "no-cache")), CONV)
    assert r.verdict is Verdict.FAIL
    assert r.evidence["missing"] == ["no-store", "must-revalidate"]


@pytest.mark.parametrize("extra", ["max-age=3600", "s-maxage=0", "public", "immutable",
                                   "stale-while-revalidate=30", "stale-if-error=60", "max-age=abc"])
def test_contradicting_directive_fails(extra):
    r = caching.evaluate(obs(("Cache-Control", f"no-cache, no-store, must-revalidate, {extra}")), CONV)
    assert r.verdict is Verdict.FAIL and r.evidence["contradicting"] == [extra]


def test_qualified_no_cache_is_not_the_directive():
    assert v(("Cache-Control", 'no-cache="Set-Cookie", no-store, must-revalidate')) is Verdict.FAIL


def test_harmless_extra_is_warn():
    r = caching.evaluate(obs(("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0, private")), CONV)
    assert r.verdict is Verdict.WARN and r.evidence["extra"] == ["max-age=0", "private"]


def test_far_future_expires_fails_past_expires_passes():
    good = ("Cache-Control", "no-cache, no-store, must-revalidate")
    assert v(good, ("Expires", "Sun, 29 Nov 2026 00:00:00 GMT")) is Verdict.FAIL
    assert v(good, ("Expires", "Thu, 01 Jan 1970 00:00:01 GMT")) is Verdict.PASS
    assert v(good, ("Expires", "0")) is Verdict.PASS


def test_304_is_judged_too():
    assert v(("ETag", '"x"'), status=304) is Verdict.FAIL
    assert v(("Cache-Control", "no-cache, no-store, must-revalidate"), status=304) is Verdict.PASS


def test_no_response_and_404_are_error_never_pass():
    o = HttpObservation("edge-GET", URL, "GET", None, error="Connection refused", error_kind="connect")
    assert caching.evaluate(o, CONV).verdict is Verdict.ERROR
    assert v(("Cache-Control", "no-cache, no-store, must-revalidate"), status=404) is Verdict.ERROR


def test_http_redirect_to_https_is_skip():
    o = obs(("Location", URL), status=301, url="http://prep.lab.prep.example/json/main.json")
    assert caching.evaluate(o, CONV).verdict is Verdict.SKIP


def test_redundancy_note_is_advisory_only():
    r = caching.evaluate(obs(("Cache-Control", "no-cache, no-store, must-revalidate")), CONV)
    assert r.verdict is Verdict.PASS and any("httplint" in n.text_en for n in r.notes)


def test_threshold_comes_from_the_convocatoria():
    mj = CONV.main_json.model_copy(update={"cache_control": "no-store"})
    other = CONV.model_copy(update={"id": "otra-convocatoria-2027", "main_json": mj})   # another institute's call
    r = caching.evaluate(obs(("Cache-Control", "no-store")), other)
    assert r.verdict is Verdict.PASS
    assert r.evidence["thresholds"][0] == {
        "name": "cache_control", "value": "no-store", "unit": "", "key": "main_json.cache_control",
        "section": "II.1.e", "source": "convocatoria", "convocatoria_value": "no-store", "profile_key": None,
        "relaxed": False}
    # the same literal in a copy that keeps the institute's id: the profile's own file, never a clean PASS
    copy = CONV.model_copy(update={"main_json": mj})
    r = caching.evaluate(obs(("Cache-Control", "no-store")), copy)
    assert r.verdict is Verdict.WARN and "umbrales relajados por el perfil" in r.summary
    assert r.evidence["thresholds"][0]["source"] == "perfil" and r.evidence["thresholds"][0]["relaxed"]


@pytest.mark.parametrize("line,hit", [
    (("Age", "12"), True), (("Age", "0"), False), (("X-Cache", "HIT"), True), (("X-Cache", "MISS"), False),
    (("X-Cache", "Hit from cloudfront"), True), (("X-Cache", "RefreshHit from cloudfront"), False),
    (("Cache-Status", "ExampleCache; hit"), True), (("Cache-Status", "Edge; fwd=uri-miss"), False),
    (("CF-Cache-Status", "HIT"), True), (("CF-Cache-Status", "DYNAMIC"), False),
])
def test_cache_hit_signals(line, hit):
    assert bool(caching.cache_hits(obs(line))) is hit


def test_edge_caching_hit_and_stale_body():
    origin = obs(body="new")
    assert caching.edge_caching([obs(("Age", "0")), obs(("Age", "0"), body="new")], origin).verdict is Verdict.PASS
    assert caching.edge_caching([obs(("X-Cache", "HIT"), ("Age", "7"))], origin).verdict is Verdict.FAIL
    stale = caching.edge_caching([obs(body="old")], origin)
    assert stale.verdict is Verdict.FAIL and "stale" in stale.summary_en
    none = HttpObservation("edge-GET", URL, "GET", None, error="timed out", error_kind="timeout")
    assert caching.edge_caching([none], None).verdict is Verdict.ERROR


def test_conditional_without_validators_is_skip():
    first = obs(("Cache-Control", "no-cache, no-store, must-revalidate"))
    assert caching.conditional_headers(first) == {}
    assert caching.evaluate_conditional(first, None, CONV, "c").verdict is Verdict.SKIP
    first = obs(("ETag", '"abc"'), ("Last-Modified", "Sat, 28 Nov 2026 00:00:00 GMT"))
    assert caching.conditional_headers(first) == {"If-None-Match": '"abc"',
                                                  "If-Modified-Since": "Sat, 28 Nov 2026 00:00:00 GMT"}

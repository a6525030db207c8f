"""Asynchronous purges judged on what the public sees, with the provider's timeline beside it; and an edge
that injects scripts into HTML (I.6). Pure rules on hand-built observations."""

from __future__ import annotations

import hashlib

from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes.cdn_drill import DrillObservation, Poll, RestoreObservation
from prep_conformance.probes.cdn import CompletionPoll, PurgeEffect, PurgeObservation
from prep_conformance.rules import cdn, edge_rewrite
from prep_conformance.rules.cdn_detect import detect
from prep_conformance.verdict import Verdict

CONV = load_convocatoria("iem-michoacan-2024")
BOUND = CONV.purge.fresh_within_s
CF = detect({"X-Amz-Cf-Id": "abc", "Via": "1.1 x.cloudfront.net (CloudFront)"})


def _purge(**kw) -> PurgeObservation:
    base = dict(method="cloudfront", targets=("/json/main.json",), accepted=True, statuses=(201,),
                purge_ids=("I2J0I21PCUYOIK",), at=1.0, completion_signal="status")
    return PurgeObservation(**{**base, **kw})


def _drill(purge, polls, fresh) -> DrillObservation:
    return DrillObservation("https://prep.example/", 3, 4, ("json/main.json",), "/srv", 10, 0.1, purge, polls,
                            fresh, 0.1, True, BOUND, RestoreObservation(True, files_restored=1), None, 0.05)


def test_async_purge_timeline_both_sides():
    p = _purge(completion=(CompletionPoll(0.0, "in_progress", "Status InProgress"),
                           CompletionPoll(1.5, "complete", "Status Completed")), reported_complete_after_s=1.5)
    obs = _drill(p, (Poll(0.5, "edge", 200, 3), Poll(1.7, "edge", 200, 4)), 1.7)
    r = next(r for r in cdn.drill(obs, CONV, CF) if r.check == "corte_drill")
    assert r.verdict is Verdict.PASS
    tl = r.evidence["timeline"]
    assert tl["provider_reported_complete_s"] == 1.5 and tl["first_fresh_answer_s"] == 1.7
    assert tl["upload_to_purge_accepted_s"] == 0.05 and tl["completion_signal"] == "status"
    assert "reported it complete after 1.500 s" in r.summary_en and "fresh content after 1.700 s" in r.summary_en


def test_provider_says_done_but_public_still_stale_is_judged_on_the_public():
    p = _purge(method="fastly", completion_signal="none", completion=(CompletionPoll(0.0, "complete", "soft"),),
               reported_complete_after_s=0.0)
    polls = tuple(Poll(t, "edge", 200, 4, old_files=3) for t in (0.5, 3.0, BOUND - 0.5))
    r = next(r for r in cdn.drill(_drill(p, polls, None), CONV, CF) if r.check == "corte_drill")
    assert r.verdict is Verdict.FAIL
    assert r.evidence["timeline"]["stale_after_provider_complete"] == 3
    assert any("soft purge" in n.text_en for n in r.notes)


def test_provider_never_completes_within_bound():
    p = _purge(method="azure", statuses=(202,), completion=(CompletionPoll(BOUND - 1, "in_progress", "InProgress"),))
    r = next(r for r in cdn.drill(_drill(p, (Poll(1, "edge", 200, 3),), None), CONV, CF) if r.check == "corte_drill")
    assert r.verdict is Verdict.FAIL and "did not report it complete (InProgress)" in r.summary_en


def test_purge_not_sent_is_error_with_reason():
    p = PurgeObservation("fastly", ("/",), False, not_sent="api_base (127.0.0.1) no se usa / api_base (127.0.0.1) is not used without consent")
    r = cdn.purge_without_drill(p, None, CF, "no drill")
    assert r.verdict is Verdict.ERROR and "not used without consent" in r.summary_en


def test_purge_without_drill_async_evicted_later():
    p = _purge(reported_complete_after_s=2.0, completion=(CompletionPoll(2.0, "complete", "Completed"),))
    eff = PurgeEffect("", "hit", "miss", purge=p, first_miss_after_s=2.5, waited_s=2.5)
    r = cdn.purge_without_drill(p, eff, CF, "no drill")
    assert r.verdict is Verdict.PASS and "after 2.50 s" in r.summary_en
    assert r.evidence["timeline"]["first_fresh_answer_s"] == 2.5
    not_evicted = PurgeEffect("", "hit", "hit", purge=p, waited_s=BOUND)
    r = cdn.purge_without_drill(p, not_evicted, CF, "no drill")
    assert r.verdict is Verdict.FAIL and "after watching it" in r.summary_en


PAGE = b"<!DOCTYPE html><html><body><h1>PREP</h1><script src=\"app.js\"></script></body></html>\n"
INJ = b'<script data-cfasync="false" src="/cdn-cgi/scripts/5c5dd728/cloudflare-static/email-decode.min.js"></script>'


def _cmp(served: bytes, origin: bytes | None = PAGE):
    added, removed = edge_rewrite.script_diff(PAGE, served)
    h = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    return edge_rewrite.PageComparison("index.html", h(PAGE), 200, h(served), h(origin) if origin else None,
                                       added, removed, len(served) - len(PAGE))


def test_injected_script_named_with_the_feature():
    served = PAGE.replace(b"</body>", INJ + b"</body>")
    r = edge_rewrite.evaluate([_cmp(served)], True)
    assert r.verdict is Verdict.FAIL and "email-decode.min.js" in r.summary_en
    assert "the edge/CDN modifies it" in r.summary_en
    assert any("Email Address Obfuscation" in n.text_en for n in r.notes)


def test_identical_page_passes_and_other_change_named_by_size():
    assert edge_rewrite.evaluate([_cmp(PAGE)], True).verdict is Verdict.PASS
    r = edge_rewrite.evaluate([_cmp(PAGE + b"<!-- x -->", origin=None)], False)
    assert r.verdict is Verdict.FAIL and "+10 bytes" in r.summary_en and "origin not compared" in r.summary_en


def test_not_sent_reason_is_split_by_language():
    p = PurgeObservation("akamai", ("/",), False, not_sent="el host no es de Akamai / the host is not Akamai's")
    r = cdn.purge_without_drill(p, None, CF, "sin simulacro")
    assert "host is not Akamai" not in r.summary and "no es de Akamai" not in r.summary_en


def test_query_cache_key_notes():
    r = cdn.presence(CF, {"key": "ignores-query", "plain": "hit", "first_with_query": "hit"})
    assert r.verdict is Verdict.PASS and any("ignores the query string" in n.text_en for n in r.notes)
    r = cdn.presence(CF, {"key": "includes-query"})
    assert any("reaches the origin" in n.text_en for n in r.notes)
    assert r.evidence["query_cache_key"]["key"] == "includes-query"
    assert not cdn.presence(CF, {"key": "unknown"}).notes


def test_edge_directives_on_main_json_warned():
    r = cdn.presence(CF, None, {"Cache-Control": "no-cache, no-store, must-revalidate",
                                "CDN-Cache-Control": "max-age=60"})
    assert any("CDN-Cache-Control: max-age=60" in n.text_en and n.level == "warn" for n in r.notes)
    assert not cdn.presence(CF, None, {"Surrogate-Control": "no-store", "Cache-Control": "no-store"}).notes
    assert any("Surrogate-Control" in n.text for n in cdn.presence(CF, None, {"Surrogate-Control": "max-age=300"}).notes)
    pairs = (("Cache-Control", "no-store"), ("CDN-Cache-Control", "max-age=30"))      # HttpObservation.headers
    assert cdn.presence(CF, None, pairs).notes


def test_the_rule_compares_what_the_probe_read():
    """The probe only reads (``PageFetch``); the script diff and the verdict are the rule's."""
    from prep_conformance.probes.edge_rewrite import PageFetch
    h = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    served = PAGE.replace(b"</body>", INJ + b"</body>")
    fetched = PageFetch("index.html", h(PAGE), 200, h(served), PAGE, served, h(PAGE))
    assert edge_rewrite.comparison(fetched) == _cmp(served)
    r = edge_rewrite.evaluate([fetched], True)
    assert r.verdict is Verdict.FAIL and "email-decode.min.js" in r.summary_en
    unread = PageFetch("index.html", h(PAGE), 404, None, PAGE, None, error=None)
    assert edge_rewrite.comparison(unread).added_scripts == () and edge_rewrite.comparison(unread).size_delta == 0

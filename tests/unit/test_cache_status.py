"""One definition of a cache hit (``prep_conformance.cache_status``), on header lines real caches send,
and the four places that use it (II.1.e at rest, the Locust visitor under load, the purge, CDN detection)
agreeing on every one of them."""

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from prep_conformance import cache_status as cs
from prep_conformance.loadfiles import CACHE_STATUS, PREP_VISITOR
from prep_conformance.probes.http import HttpObservation
from prep_conformance.probes.cdn import cache_state
from prep_conformance.rules import caching
from prep_conformance.rules.cdn_detect import detect

AKAMAI_HOST = "a23-45-67-89.deploy.akamaitechnologies.com (AkamaiGHost/10.10.0-123) (-)"

# (id, header lines, state, signal kind, outcome)
TABLE = [
    # Varnish (the lab's edge): X-Cache set in vcl_deliver, Age and X-Varnish added by Varnish itself
    ("varnish-hit", [("X-Cache", "HIT"), ("X-Varnish", "32770 3"), ("Age", "5")], "hit", "explicit", "hit"),
    ("varnish-hit-age0", [("X-Cache", "HIT"), ("X-Varnish", "32772 3"), ("Age", "0")], "hit", "explicit", "hit"),
    ("varnish-miss", [("X-Cache", "MISS"), ("X-Varnish", "32770"), ("Age", "0")], "miss", "explicit", "miss"),
    ("varnish-hit-for-pass", [("X-Cache", "HIT-FOR-PASS"), ("Age", "0")], "miss", "explicit", "miss"),
    ("x-varnish-only-hit", [("X-Varnish", "65541 32770"), ("Age", "0")], "hit", "explicit", "hit"),
    ("x-varnish-only-miss", [("X-Varnish", "65541"), ("Age", "0")], "miss", "explicit", "miss"),
    ("x-varnish-behind-status", [("X-Cache", "MISS"), ("X-Varnish", "5 3")], "miss", "explicit", "miss"),
    # Age alone (Google Cloud CDN, a Varnish without X-Cache): whole seconds
    ("age-only", [("Age", "7")], "hit", "age", "hit"),
    ("age-zero", [("Age", "0")], "unknown", "age", None),
    ("age-garbage", [("Age", "soon")], "unknown", None, None),
    ("explicit-miss-aged", [("CF-Cache-Status", "MISS"), ("Age", "30")], "hit", "age", "hit"),
    # CloudFront
    ("cloudfront-hit", [("X-Cache", "Hit from cloudfront"), ("Via", "1.1 3f2a.cloudfront.net (CloudFront)"),
                        ("Age", "12")], "hit", "explicit", "hit"),
    ("cloudfront-refresh", [("X-Cache", "RefreshHit from cloudfront")], "miss", "explicit", "revalidated"),
    ("cloudfront-miss", [("X-Cache", "Miss from cloudfront")], "miss", "explicit", "miss"),
    ("cloudfront-error", [("X-Cache", "Error from cloudfront")], "unknown", None, None),
    ("cloudfront-function", [("X-Cache", "FunctionGeneratedResponse from cloudfront")], "unknown", None, None),
    # Akamai (Pragma: akamai-x-cache-on / akamai-x-cache-remote-on; Return Cache Status behaviour)
    ("akamai-mem-hit", [("X-Cache", f"TCP_MEM_HIT from {AKAMAI_HOST}")], "hit", "explicit", "hit"),
    ("akamai-miss", [("X-Cache", f"TCP_MISS from {AKAMAI_HOST}")], "miss", "explicit", "miss"),
    ("akamai-ims-hit", [("X-Cache", f"TCP_IMS_HIT from {AKAMAI_HOST}")], "hit", "explicit", "hit"),
    ("akamai-refresh-hit", [("X-Cache", f"TCP_REFRESH_HIT from {AKAMAI_HOST}")], "miss", "explicit",
     "revalidated"),
    ("akamai-refresh-miss", [("X-Cache", f"TCP_REFRESH_MISS from {AKAMAI_HOST}")], "miss", "explicit", "miss"),
    ("akamai-refresh-fail-hit", [("X-Cache", f"TCP_REFRESH_FAIL_HIT from {AKAMAI_HOST}")], "hit", "explicit",
     "hit"),
    ("akamai-parent-hit", [("X-Cache", f"TCP_MISS from {AKAMAI_HOST}"), ("X-Cache-Remote", f"TCP_HIT from {AKAMAI_HOST}")],
     "hit", "explicit", "hit"),
    ("akamai-cache-status-tiers", [("Akamai-Cache-Status", "Miss from child, Hit from parent")], "hit", "explicit",
     "hit"),
    ("akamai-cache-status-miss", [("Akamai-Cache-Status", "Miss from child, Miss from parent")], "miss", "explicit",
     "miss"),
    ("akamai-not-cacheable", [("Akamai-Cache-Status", "NotCacheable from child")], "miss", "explicit", "miss"),
    ("akamai-constructed", [("Akamai-Cache-Status", "Constructed from child")], "unknown", None, None),
    # Azure Front Door / Azure CDN
    ("azure-hit", [("X-Cache", "TCP_HIT"), ("X-Azure-Ref", "0abc")], "hit", "explicit", "hit"),
    ("azure-remote-hit", [("X-Cache", "TCP_REMOTE_HIT")], "hit", "explicit", "hit"),
    ("azure-miss", [("X-Cache", "TCP_MISS")], "miss", "explicit", "miss"),
    ("azure-nostore", [("X-Cache", "PRIVATE_NOSTORE")], "miss", "explicit", "miss"),
    ("azure-config-nocache", [("X-Cache", "CONFIG_NOCACHE")], "miss", "explicit", "miss"),
    ("azure-na", [("X-Cache", "N/A")], "unknown", None, None),
    # Fastly: one entry per tier (shield, edge); any entry but MISS means served from cache
    ("fastly-edge-hit", [("X-Served-By", "cache-iad-kiad7000025-IAD, cache-qro4420-QRO"), ("X-Cache", "MISS, HIT"),
                         ("X-Cache-Hits", "0, 1")], "hit", "explicit", "hit"),
    ("fastly-shield-hit", [("X-Cache", "HIT, MISS")], "hit", "explicit", "hit"),
    ("fastly-miss", [("X-Served-By", "cache-qro4420-QRO"), ("X-Cache", "MISS, MISS")], "miss", "explicit", "miss"),
    ("fastly-duplicate-lines", [("X-Cache", "MISS"), ("X-Cache", "HIT")], "hit", "explicit", "hit"),
    # Cloudflare
    ("cf-hit", [("CF-Cache-Status", "HIT"), ("Age", "3")], "hit", "explicit", "hit"),
    ("cf-miss", [("CF-Cache-Status", "MISS")], "miss", "explicit", "miss"),
    ("cf-expired", [("CF-Cache-Status", "EXPIRED")], "miss", "explicit", "miss"),
    ("cf-stale", [("CF-Cache-Status", "STALE")], "hit", "explicit", "hit"),
    ("cf-updating", [("CF-Cache-Status", "UPDATING")], "hit", "explicit", "hit"),
    ("cf-revalidated", [("CF-Cache-Status", "REVALIDATED")], "miss", "explicit", "revalidated"),
    ("cf-bypass", [("CF-Cache-Status", "BYPASS")], "miss", "explicit", "miss"),
    ("cf-dynamic", [("CF-Cache-Status", "DYNAMIC")], "miss", "explicit", "miss"),
    ("cf-none", [("CF-Cache-Status", "NONE")], "unknown", None, None),
    # nginx $upstream_cache_status
    ("nginx-hit", [("X-Cache-Status", "HIT")], "hit", "explicit", "hit"),
    ("nginx-stale", [("X-Cache-Status", "STALE")], "hit", "explicit", "hit"),
    ("nginx-updating", [("X-Cache-Status", "UPDATING")], "hit", "explicit", "hit"),
    ("nginx-revalidated", [("X-Cache-Status", "REVALIDATED")], "miss", "explicit", "revalidated"),
    ("nginx-expired", [("X-Cache-Status", "EXPIRED")], "miss", "explicit", "miss"),
    ("nginx-bypass", [("X-Cache-Status", "BYPASS")], "miss", "explicit", "miss"),
    # RFC 9211 Cache-Status (one member per cache, origin side first)
    ("rfc9211-hit", [("Cache-Status", "ExampleCache; hit")], "hit", "explicit", "hit"),
    ("rfc9211-hit-true", [("Cache-Status", "ExampleCache; hit=?1; ttl=30")], "hit", "explicit", "hit"),
    ("rfc9211-miss", [("Cache-Status", "Edge; fwd=uri-miss")], "miss", "explicit", "miss"),
    ("rfc9211-tiers", [("Cache-Status", "OriginCache; hit; ttl=1100, \"CDN Company Here\"; fwd=uri-miss; stored")],
     "hit", "explicit", "hit"),
    ("rfc9211-revalidated", [("Cache-Status", "CDN; fwd=stale; fwd-status=304")], "miss", "explicit",
     "revalidated"),
    ("rfc9211-stale-changed", [("Cache-Status", "CDN; fwd=stale; fwd-status=200")], "miss", "explicit", "miss"),
    ("rfc9211-netlify", [("Cache-Status", "\"Netlify Edge\"; fwd=miss")], "miss", "explicit", "miss"),
    ("rfc9211-hit-false", [("Cache-Status", "ExampleCache; hit=?0")], "unknown", None, None),
    # Squid, Wikimedia, Vercel, bunny.net
    ("squid-hit", [("X-Cache", "HIT from proxy.example.org"), ("X-Cache-Lookup", "HIT from proxy.example.org:3128")],
     "hit", "explicit", "hit"),
    ("squid-miss", [("X-Cache", "MISS from proxy.example.org")], "miss", "explicit", "miss"),
    ("wikimedia", [("X-Cache", "cp3062 miss, cp3050 hit/6")], "hit", "explicit", "hit"),
    ("vercel-stale", [("X-Vercel-Cache", "STALE")], "hit", "explicit", "hit"),
    ("vercel-prerender", [("X-Vercel-Cache", "PRERENDER")], "unknown", None, None),
    ("bunny-hit", [("CDN-Cache", "HIT")], "hit", "explicit", "hit"),
    # nothing cache-like
    ("nginx-origin", [("Server", "nginx"), ("Cache-Control", "no-cache, no-store, must-revalidate")], "unknown",
     None, None),
    ("empty", [], "unknown", None, None),
]
IDS = [row[0] for row in TABLE]


@pytest.mark.parametrize("name,headers,state,kind,outcome", TABLE, ids=IDS)
def test_reading(name, headers, state, kind, outcome):
    r = cs.read(headers)
    assert (r.state, r.kind, r.outcome) == (state, kind, outcome)
    assert r.hit is (state == "hit")
    if state == "hit":       # the raw lines that say so, as received
        assert r.lines and all(any(line == f"{k}: {v}" for k, v in headers) for line in r.lines)
    assert cs.read(dict(headers)).state == state or len({k.lower() for k, _ in headers}) < len(headers)


def test_every_hit_line_is_kept_and_a_mapping_reads_alike():
    r = cs.read([("X-Cache", "HIT"), ("Age", "5"), ("X-Varnish", "32770 3")])
    assert r.lines == ("X-Cache: HIT", "Age: 5") and r.age == 5 and r.explicit
    assert cs.read({"x-cache": "Miss from cloudfront", "age": "0"}).state == "miss"
    assert r.to_evidence() == {"state": "hit", "signal": "explicit", "outcome": "hit", "lines": ["X-Cache: HIT", "Age: 5"]}


def test_age_wait_only_when_age_alone_can_tell():
    read = cs.read
    assert cs.needs_age_wait([read([("Age", "0")]), read([("Age", "0")])])
    assert not cs.needs_age_wait([read([("Age", "0"), ("X-Cache", "MISS")])])    # explicit: no second needed
    assert not cs.needs_age_wait([read([("Age", "0")]), read([("Age", "3")])])    # already a hit
    assert not cs.needs_age_wait([read([("X-Varnish", "12")]), read([("Age", "0")])])
    assert not cs.needs_age_wait([read([("Server", "nginx")])])                   # no cache says anything


def test_module_stands_alone():
    """Shipped as a plain file to remote Locust workers: it may import nothing of the package."""
    import ast
    tree = ast.parse(CACHE_STATUS.read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {("." * n.level) + (n.module or "") for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "re", "dataclasses", "typing"}, imported


# ---------------------------------------------------------------- the four users agree

_VISITOR = textwrap.dedent("""
    import importlib.abc, json, sys
    class _NoPackage(importlib.abc.MetaPathFinder):   # as on a remote worker: no prep_conformance installed
        def find_spec(self, name, path=None, target=None):
            if name == "prep_conformance" or name.startswith("prep_conformance."):
                raise ImportError(name)
    sys.meta_path.insert(0, _NoPackage())
    import locust                                      # first, as in a Locust process (gevent patching)
    sys.path.insert(0, sys.argv[1])
    import prep_visitor
    rows = json.loads(sys.stdin.read())
    print(json.dumps([prep_visitor.classify(h).state for h in rows]))
""")


def _visitor_states(tmp_path, rows):
    """The visitor's own classification, in a Locust-like process with only the two shipped files."""
    shutil.copy(PREP_VISITOR, tmp_path / "prep_visitor.py")
    shutil.copy(CACHE_STATUS, tmp_path / "cache_status.py")
    cp = subprocess.run([sys.executable, "-c", _VISITOR, str(tmp_path)], input=json.dumps(rows),
                        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr[-2000:]
    return json.loads(cp.stdout.strip().splitlines()[-1])


def test_rest_load_purge_and_detection_agree(tmp_path):
    rows = [headers for _, headers, *_ in TABLE]
    under_load = _visitor_states(tmp_path, rows)
    for (name, headers, state, _kind, _outcome), load_state in zip(TABLE, under_load):
        at_rest = bool(caching.cache_hits(HttpObservation("edge-GET", "https://x.example/json/main.json", "GET", 200,
                                                          headers=tuple(headers))))
        purge = cache_state(headers)
        assert at_rest is (state == "hit"), name
        assert load_state == state, name
        assert purge == (None if state == "unknown" else state), name
        if state != "unknown":          # a cache said something: detection sees a cache
            assert detect(headers).detected, name


def test_at_rest_waits_only_when_age_alone_can_tell():
    def o(*headers):
        return HttpObservation("edge-GET", "https://x.example/json/main.json", "GET", 200, headers=headers)
    assert caching.age_is_the_only_signal([o(("Age", "0")), o(("Age", "0"))])
    assert not caching.age_is_the_only_signal([o(("Age", "0"), ("X-Cache", "MISS")), o(("Age", "0"))])
    assert not caching.age_is_the_only_signal([o(("Age", "0"), ("CF-Cache-Status", "DYNAMIC"))])
    assert not caching.age_is_the_only_signal([o(("Server", "nginx"))])


def test_a_hit_on_another_copy_after_a_purge_is_an_eviction():
    from prep_conformance import cache_status as cs
    before = {"X-Varnish": "426088 557129", "Age": "3", "X-Cache": "HIT"}
    assert cs.replaced(before, {"X-Varnish": "426089 262663", "Age": "0", "X-Cache": "HIT"})
    assert not cs.replaced(before, {"X-Varnish": "426090 557129", "Age": "3", "X-Cache": "HIT"})
    assert cs.replaced({"Age": "40"}, {"Age": "2"})          # no object id: an Age that went back
    assert not cs.replaced({"Age": "0"}, {"Age": "0"})

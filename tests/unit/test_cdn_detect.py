"""CDN/WAF identification from hand-built headers and CNAME chains."""

from prep_conformance.rules.cdn_detect import detect


def test_nothing_in_front():
    d = detect({"Server": "nginx/1.22.1", "Content-Type": "application/json"}, [])
    assert d.provider is None and not d.detected and d.signals == ()


def test_cloudflare_by_headers():
    d = detect([("Server", "cloudflare"), ("CF-RAY", "8a1b2c3d4e5f-MEX")])
    assert d.provider == "cloudflare" and d.kind == "cdn" and d.ddos_protection
    assert any("CF-RAY: 8a1b2c3d4e5f-MEX" in s.evidence for s in d.signals)


def test_cloudfront_by_cname_chain():
    d = detect({}, ["prep.medio.example.edgekey.net.", "d111111abcdef8.cloudfront.net."])
    assert d.providers[0] in ("akamai", "cloudfront")
    assert {s.source for s in d.signals} == {"cname"}


def test_fastly_served_by():
    d = detect({"X-Served-By": "cache-qro4130-QRO", "Via": "1.1 varnish"})
    assert d.provider == "fastly"          # a CDN service ranks above the Varnish it runs
    assert "varnish" in d.providers


def test_self_run_varnish_is_a_cache_not_a_cdn_service():
    d = detect([[("Via", "1.1 lab-edge (Varnish/7.1)"), ("X-Varnish", "32770 3")], [("X-Varnish", "32772")]])
    assert d.provider == "varnish" and d.kind == "cache" and not d.is_cdn_service


def test_generic_cache_only_when_nothing_specific():
    d = detect({"X-Cache": "HIT", "Age": "12"})
    assert d.provider == "generic-cache"
    assert detect({"Age": "0"}).provider is None


def test_header_names_case_insensitive_and_evidence_serialisable():
    d = detect({"x-amz-cf-id": "abc=="})
    assert d.provider == "cloudfront"
    ev = d.to_evidence()
    assert ev["provider"] == "cloudfront" and ev["signals"]

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


def test_commercial_cdns_by_their_documented_headers_and_cnames():
    from prep_conformance.rules.cdn_detect import detect as d
    assert d({"X-Timer": "S1700000000.123,VS0,VE12"}).provider == "fastly"
    assert d({"X-Cache": "TCP_HIT from a23-1-2-3.deploy.akamaitechnologies.com (AkamaiGHost/22)"}).provider == "akamai"
    assert d({"X-Azure-Ref": "20240602T020000Z-abc", "X-Cache": "TCP_HIT"}).provider == "azure"
    assert d({"X-Amz-Cf-Pop": "QRO51-P1", "X-Cache": "Hit from cloudfront"}).provider == "cloudfront"
    assert d({"CF-Mitigated": "challenge"}).provider == "cloudflare"
    assert d((), ["prep.medio.mx.t-msedge.net"]).provider == "azure"
    assert d((), ["prep.medio.mx.global.ssl.fastly.net"]).provider == "fastly"


def test_edge_cache_control_headers_read_and_shown():
    from prep_conformance.rules.cdn_detect import detect as d
    det = d({"Cache-Control": "no-store", "CDN-Cache-Control": "max-age=60", "Surrogate-Control": "max-age=300",
             "Surrogate-Key": "prep main", "X-Served-By": "cache-qro4420-QRO"})
    assert det.provider == "fastly"
    ev = det.to_evidence()["edge_cache_control"]
    assert "CDN-Cache-Control: max-age=60" in ev and "Surrogate-Control: max-age=300" in ev
    assert not any(x.startswith("Cache-Control") for x in ev)
    assert d({"CDN-Cache-Control": "max-age=5"}).edge_cache_control == ("CDN-Cache-Control: max-age=5",)

"""II.1.e: the Cache-Control header on main.json, at the edge and at the origin, and no cache serving it."""

import time

import pytest

from prep_conformance.probes import http
from prep_conformance.rules import caching
from prep_conformance.errors import not_verified

VARIANTS = ["edge-GET", "edge-HEAD", "edge-conditional", "edge-http",
            "origin-GET", "origin-HEAD", "origin-conditional"]


def _observe(difusor, variant):
    ep = http.site(difusor)
    conv = difusor.convocatoria
    path = conv.main_json.path
    where, what = variant.split("-", 1)
    if where == "origin":
        if not ep.origin:
            not_verified("El perfil no indica http.origin: solo se revisa el borde.",
                         "No http.origin in the profile: only the edge is checked.")
        get = difusor.once("http:origin:main_json:GET", lambda: http.fetch_origin(ep, path, "GET", "origin-GET"))
        if what == "GET":
            return get, None
        if what == "HEAD":
            return difusor.once("http:origin:main_json:HEAD",
                                lambda: http.fetch_origin(ep, path, "HEAD", "origin-HEAD")), None
        cond = caching.conditional_headers(get)
        return get, (difusor.once("http:origin:main_json:cond", lambda: http.fetch_origin(
            ep, path, "GET", "origin-conditional", headers=cond)) if cond and get.status == 200 else None)
    if what in ("GET", "HEAD"):
        return http.edge_main_json(difusor, what), None
    if what == "conditional":
        get = http.edge_main_json(difusor, "GET")
        cond = caching.conditional_headers(get)
        url = http.main_json_url(ep, conv)
        return get, (difusor.once("http:edge:main_json:cond", lambda: http.fetch_site(
            ep, url, "GET", variant="edge-conditional", headers=cond)) if cond and get.status == 200 else None)
    # edge-http: the same file over plain HTTP, when the site is HTTPS
    if ep.scheme != "https":
        pytest.skip("El sitio es HTTP: ya se revisó en edge-GET. / The site is HTTP: already checked in edge-GET.")
    o = difusor.once("http:edge:main_json:plain", lambda: http.fetch_site(
        ep, http.main_json_url(ep, conv, ep.http_url), "GET", variant="edge-http"))
    if o.status is None and o.error_kind == "connect":
        pytest.skip(f"HTTP no se ofrece ({o.url}); ver https_redirect. / HTTP is not offered ({o.url}); "
                    "see https_redirect.")
    return o, None


@pytest.mark.requirement("II.1.e")
@pytest.mark.parametrize("variant", VARIANTS)
def test_main_json_cache_control(difusor, record_check, variant):
    first, cond = _observe(difusor, variant)
    name = f"main_json_cache_control[{variant}]"
    if variant.endswith("conditional"):
        record_check(caching.evaluate_conditional(first, cond, difusor.convocatoria, name))
    else:
        record_check(caching.evaluate(first, difusor.convocatoria, name))


@pytest.mark.requirement("II.1.e")
def test_main_json_not_cached(difusor, record_check):
    """Two more edge GETs after the first (a cache would answer HIT / Age > 0), compared with the origin."""
    ep = http.site(difusor)
    conv = difusor.convocatoria
    url = http.main_json_url(ep, conv)
    first = http.edge_main_json(difusor, "GET")
    origin = None
    if ep.origin:
        origin = difusor.once("http:origin:main_json:GET",
                              lambda: http.fetch_origin(ep, conv.main_json.path, "GET", "origin-GET"))
    again = [http.fetch_site(ep, url, "GET", variant="edge-GET#2")]
    seen = [k.lower() for o in [first] + again for k, _ in o.headers]
    if "age" in seen and not any(h in seen for h in caching.HIT_HEADERS + ("cache-status",)):
        time.sleep(1.05)     # only Age tells a hit here, and it counts whole seconds
        again.append(http.fetch_site(ep, url, "GET", variant="edge-GET#3"))
    r = caching.edge_caching([first] + again, origin, "main_json_not_cached")
    det = http.cdn_detection(difusor)
    record_check(r.with_(evidence={**r.evidence, "cdn": det.to_evidence()}))

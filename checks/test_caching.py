"""II.1.e: the Cache-Control header on main.json, at the edge and at the origin, and no cache serving it."""

import time

import pytest

from prep_conformance.errors import not_verified
from prep_conformance.rules import caching, cdn_detect

VARIANTS = ["edge-GET", "edge-HEAD", "edge-conditional", "edge-http",
            "origin-GET", "origin-HEAD", "origin-conditional"]


def _observe(obs, variant):
    """(the answer judged, the conditional answer or None) for one variant."""
    where, what = variant.split("-", 1)
    ep = obs.site()             # the pre-flight first: a silent site is ERROR (blocked), not SKIP
    if where == "origin" and not ep.origin:
        not_verified("El perfil no indica http.origin: solo se revisa el borde.",
                     "No http.origin in the profile: only the edge is checked.")
    if where == "edge" and what == "http":
        if ep.scheme != "https":
            pytest.skip("El sitio es HTTP: ya se revisó en edge-GET. / The site is HTTP: already checked in edge-GET.")
        o = obs.main_json("plain")
        if o.status is None and o.error_kind == "connect":
            pytest.skip(f"HTTP no se ofrece ({o.url}); ver https_redirect. / HTTP is not offered ({o.url}); "
                        "see https_redirect.")
        return o, None
    if what != "conditional":
        return obs.main_json(where, what), None
    get = obs.main_json(where, "GET")
    validators = caching.conditional_headers(get)
    return get, (obs.main_json_conditional(where, validators) if validators and get.status == 200 else None)


@pytest.mark.requirement("II.1.e")
@pytest.mark.parametrize("variant", VARIANTS)
def test_main_json_cache_control(difusor, record_check, variant):
    first, cond = _observe(difusor.observe, variant)
    name = f"main_json_cache_control[{variant}]"
    if variant.endswith("conditional"):
        record_check(caching.evaluate_conditional(first, cond, difusor.convocatoria, name))
    else:
        record_check(caching.evaluate(first, difusor.convocatoria, name))


@pytest.mark.requirement("II.1.e")
def test_main_json_not_cached(difusor, record_check):
    """Two more edge GETs after the first (a cache would answer HIT / Age > 0), compared with the origin."""
    obs = difusor.observe
    first = obs.main_json("edge")
    origin = obs.main_json("origin") if obs.endpoint().origin else None
    again = [obs.main_json_again(2)]
    if caching.age_is_the_only_signal([first] + again):
        time.sleep(1.05)     # only Age tells a hit here, and it counts whole seconds
        again.append(obs.main_json_again(3))
    r = caching.edge_caching([first] + again, origin, "main_json_not_cached")
    record_check(r.with_(evidence={**r.evidence, "cdn": cdn_detect.detect(*obs.cdn_signals()).to_evidence()}))

"""II.1.b the web server, I.3 public access (root, main.json, DNS), with the CDN detection as evidence."""

import secrets

import pytest

from prep_conformance.probes import http
from prep_conformance.rules import public, webserver
from prep_conformance.errors import not_verified


@pytest.mark.requirement("II.1.b")
def test_web_server(difusor, record_check):
    ep = http.site(difusor)
    missing = f"/prep-conformance-404-{secrets.token_hex(4)}"
    if ep.origin:
        root = difusor.once("http:origin:root", lambda: http.fetch_origin(ep, "/", "GET", "origin-root"))
        nf = http.fetch_origin(ep, missing, "GET", "origin-404", sample_bytes=4096)
    else:
        root = http.edge_root(difusor)
        nf = http.fetch_site(ep, http.url_for(ep.site, missing), "GET", variant="edge-404", sample_bytes=4096)
    r = webserver.evaluate(root, nf, at_origin=bool(ep.origin))
    record_check(r.with_(evidence={**r.evidence, "cdn": http.cdn_detection(difusor).to_evidence()}))


@pytest.mark.requirement("I.3")
@pytest.mark.parametrize("what", ["root", "main_json"])
def test_public_access(difusor, record_check, what):
    ep = http.site(difusor)
    url = ep.site if what == "root" else http.main_json_url(ep, difusor.convocatoria)
    chain = difusor.once(f"http:public:{what}", lambda: http.follow(ep, url, variant=f"public-{what}"))
    es, en = ("La raíz del sitio", "The site root") if what == "root" else ("main.json", "main.json")
    r = public.evaluate(chain, es, f"public_access[{what}]", what_en=en)
    record_check(r)


@pytest.mark.requirement("I.3")
def test_site_dns(difusor, record_check):
    ep = http.site(difusor)
    obs = http.dns_observation(difusor)
    if obs is None:
        not_verified("El perfil no indica un resolvedor (dns:).", "No resolver in the profile (dns:).")
    record_check(public.dns_resolution(obs, ep.pin, http.cdn_detection(difusor)))

"""II.1.b the web server, I.3 public access (root, main.json, DNS), with the CDN detection as evidence."""

import pytest

from prep_conformance.errors import not_verified
from prep_conformance.rules import cdn_detect, public, webserver


@pytest.mark.requirement("II.1.b")
def test_web_server(difusor, record_check):
    obs = difusor.observe
    at_origin = bool(obs.endpoint().origin)
    r = webserver.evaluate(obs.root("origin" if at_origin else "edge"), obs.not_found(), at_origin=at_origin)
    record_check(r.with_(evidence={**r.evidence, "cdn": cdn_detect.detect(*obs.cdn_signals()).to_evidence()}))


@pytest.mark.requirement("I.3")
@pytest.mark.parametrize("what", ["root", "main_json"])
def test_public_access(difusor, record_check, what):
    es, en = ("La raíz del sitio", "The site root") if what == "root" else ("main.json", "main.json")
    record_check(public.evaluate(difusor.observe.public(what), es, f"public_access[{what}]", what_en=en))


@pytest.mark.requirement("I.3")
def test_site_dns(difusor, record_check):
    obs = difusor.observe
    dns = obs.dns()
    if dns is None:
        not_verified("El perfil no indica un resolvedor (dns:).", "No resolver in the profile (dns:).")
    record_check(public.dns_resolution(dns, obs.endpoint().pin, cdn_detect.detect(*obs.cdn_signals())))

"""I.3 public access: the site root and main.json as a citizen reaches them, and the site's name in DNS."""

import pytest

from prep_conformance.errors import not_verified
from prep_conformance.rules import cdn_detect, public


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

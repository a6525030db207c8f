"""I.6 at the edge: the paquete's HTML pages must reach the public unmodified (no CDN-injected scripts)."""

import pytest

from prep_conformance.probes import edge_rewrite as probe
from prep_conformance.probes import http
from prep_conformance.rules import edge_rewrite


@pytest.mark.requirement("I.6")
def test_edge_rewrites_html(difusor, record_check):
    if not difusor.profile.package:
        pytest.skip("El perfil no indica package: (el paquete de difusión); no hay con qué comparar. / "
                    "No package: in the profile; nothing to compare with.")
    http.site(difusor)      # the pre-flight: a silent or dripping site is ERROR (blocked) at once
    pages, origin_known = probe.observe_profile(difusor.profile)
    record_check(edge_rewrite.evaluate(pages, origin_known))

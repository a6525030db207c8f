"""Publication fidelity (I.6), the corte served (I.4) and the corte shown (I.9).

One integrity pass per difusor (every manifest file fetched once, concurrently, shared by every check
here through ``difusor.once``); the rules judge it. Without ``package:`` nothing can be compared: SKIP.
"""

import pytest

from prep_conformance.probes import http
from prep_conformance.probes import edge_rewrite as edge_probe
from prep_conformance.probes import publication as pub
from prep_conformance.rules import edge_rewrite
from prep_conformance.rules import publication as rules
from prep_conformance.errors import not_verified


def _observation(difusor, request):
    if not difusor.profile.package:
        not_verified("El perfil no indica package: (el paquete de difusión); no hay con qué comparar.",
                     "No package: in the profile; nothing to compare with.")
    http.site(difusor)      # the pre-flight: a silent or dripping site is ERROR (blocked) at once

    def make():
        capman = request.config.pluginmanager.getplugin("capturemanager")
        tr = request.config.pluginmanager.getplugin("terminalreporter")
        stream = getattr(tr, "_tw", None)

        def progress(done, total, _p=pub.TerminalProgress(f"[{difusor.id}] I.6 integridad", min_total=200)):
            if capman is not None and stream is not None:
                with capman.global_and_fixture_disabled():
                    _p(done, total)
            else:
                _p(done, total)
        return pub.observe_profile(difusor.profile, progress=progress, conv=difusor.convocatoria)
    return difusor.once("publication", make)


def _page(difusor):
    http.site(difusor)

    def make():
        with pub.site_lock(difusor.profile.target_url, exclusive=False), pub.session_for(difusor.profile, pool=4) as s:
            return pub.fetch_page(s, difusor.profile.target_url, difusor.profile.http.timeout_s,
                                  conv=difusor.convocatoria)
    return difusor.once("publication:page", make)


@pytest.mark.requirement("I.6")
def test_integrity(difusor, record_check, request):
    record_check(rules.integrity(_observation(difusor, request)))


@pytest.mark.requirement("I.6")
def test_acta_images(difusor, record_check, request):
    record_check(rules.acta_images(_observation(difusor, request)))


@pytest.mark.requirement("I.4")
def test_corte_current(difusor, record_check, request):
    record_check(rules.corte_current(_observation(difusor, request), difusor.convocatoria))


@pytest.mark.requirement("I.9")
def test_corte_lag(difusor, record_check, request):
    record_check(rules.corte_lag(_observation(difusor, request), difusor.convocatoria))


@pytest.mark.requirement("I.9")
def test_corte_stamps(difusor, record_check, request):
    record_check(rules.corte_stamps(_observation(difusor, request)))


@pytest.mark.requirement("I.9")
def test_page_shows_corte(difusor, record_check, request):
    obs = _observation(difusor, request)
    page, scripts = _page(difusor)
    record_check(rules.page_shows_corte(obs, page, scripts))


@pytest.mark.requirement("I.6")
def test_edge_rewrites_html(difusor, record_check, request):
    """The paquete's HTML pages reach the public unmodified (no CDN-injected scripts)."""
    obs = _observation(difusor, request)
    pages, origin_known = edge_probe.observe_profile(difusor.profile, obs)
    record_check(rules.with_tls_note(edge_rewrite.evaluate(pages, origin_known), obs))

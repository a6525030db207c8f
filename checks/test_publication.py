"""Publication fidelity (I.6), the corte served (I.4) and the corte shown (I.9).

One integrity pass per difusor (every manifest file fetched once, concurrently, shared by every check
here: ``difusor.observe.publication()``); the rules judge it. Without ``package:`` nothing can be
compared: SKIP.
"""

import pytest

from prep_conformance.errors import not_verified
from prep_conformance.probes.publication import TerminalProgress
from prep_conformance.rules import edge_rewrite
from prep_conformance.rules import publication as rules


def _progress(difusor, request):
    """A progress line on the terminal for a long integrity pass (outside pytest's capture)."""
    capman = request.config.pluginmanager.getplugin("capturemanager")
    tr = request.config.pluginmanager.getplugin("terminalreporter")
    line = TerminalProgress(f"[{difusor.id}] I.6 integridad", min_total=200)

    def progress(done, total):
        if capman is not None and getattr(tr, "_tw", None) is not None:
            with capman.global_and_fixture_disabled():
                line(done, total)
        else:
            line(done, total)
    return progress


def _observation(difusor, request):
    if not difusor.profile.package:
        not_verified("El perfil no indica package: (el paquete de difusión); no hay con qué comparar.",
                     "No package: in the profile; nothing to compare with.")
    return difusor.observe.publication(progress=_progress(difusor, request))


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
    page, scripts = difusor.observe.page()
    record_check(rules.page_shows_corte(obs, page, scripts))


@pytest.mark.requirement("I.6")
def test_edge_rewrites_html(difusor, record_check, request):
    """The paquete's HTML pages reach the public unmodified (no CDN-injected scripts)."""
    obs = _observation(difusor, request)
    pages, origin_known = difusor.observe.edge_pages()
    record_check(rules.with_tls_note(edge_rewrite.evaluate(pages, origin_known), obs))

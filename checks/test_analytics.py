"""II.2.c visitor statistics: an analytics tool on the landing page, or the figures from the access logs."""

import pytest

from prep_conformance.errors import CheckError
from prep_conformance.rules import analytics


@pytest.mark.requirement("II.2.c")
def test_analytics_detected(difusor, record_check):
    a = difusor.profile.analytics
    declared = analytics.Declared(a.provider, a.evidence and a.evidence.rsplit("/", 1)[-1]) if a else None
    logs = bool(a and a.access_logs) or _memoria_stats(difusor) is not None
    try:
        page = analytics.PageObservation.of(difusor.observe.landing_page())
    except CheckError as exc:
        if not logs:
            raise
        from prep_conformance.verdict import result, Verdict
        record_check(analytics.as_signal(result("II.2.c", "analytics_detected", Verdict.ERROR, exc.summary,
                                                exc.summary_en, **exc.evidence)))
        return
    r = analytics.evaluate(page, declared)
    record_check(analytics.as_signal(r) if logs else r)


def _memoria_stats(difusor):
    """The figures inside the delivered memoria when this tool made it (its PDF carries them), else None."""
    obs = difusor.observe.memoria()
    return (obs.data or {}).get("stats") or None if obs is not None else None


@pytest.mark.requirement("II.2.c")
def test_access_log_statistics(difusor, record_check):
    """II.2.c with evidence: the four items computed from the difusor's own access logs."""
    a = difusor.profile.analytics
    if not (a and a.access_logs):
        stats = _memoria_stats(difusor)
        if stats is None:
            pytest.skip("El perfil no indica bitácoras de acceso (analytics.access_logs) ni una memoria de esta "
                        "herramienta. / No access logs (analytics.access_logs) nor a memoria made by this tool.")
        r = analytics.evaluate_logs(stats)
        record_check(r.with_(evidence={**r.evidence, "source": "documents.memoria"}))
        return
    from prep_conformance.memoria.logs import LogError
    try:
        figures, _ = difusor.observe.log_stats()
    except LogError as exc:
        record_check(analytics.evaluate_logs(None, str(exc)))
        return
    record_check(analytics.evaluate_logs(figures))

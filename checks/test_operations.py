"""Operations: II.2.c visitor statistics, II.2.e 99.9 % monthly availability."""

import json

import pytest

from prep_conformance.errors import CheckError
from prep_conformance import thresholds
from prep_conformance.rules import analytics, availability


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


@pytest.mark.requirement("II.2.e")
def test_availability(difusor, record_check):
    conv, av = difusor.convocatoria, difusor.profile.availability
    threshold = conv.thresholds.availability
    if av and av.monitor_log:
        samples = []
        with open(av.monitor_log, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        samples.append(availability.Sample.from_dict(json.loads(line)))
                    except (ValueError, KeyError, TypeError) as exc:
                        raise CheckError(f"bitácora del monitor ilegible en la línea {n}: {exc}",
                                         f"monitor log unreadable at line {n}: {exc}") from None
        record_check(thresholds.apply(
            availability.evaluate_monitor(availability.summarize(samples), threshold,
                                          conv.thresholds.availability_period_days),
            [thresholds.threshold(conv, "availability"), thresholds.threshold(conv, "availability_period_days")]))
        if not (av.sla or av.evidence):
            return
    record_check(thresholds.apply(
        availability.evaluate_declared(av.sla if av else None,
                                       av.evidence.rsplit("/", 1)[-1] if av and av.evidence else None, threshold),
        [thresholds.threshold(conv, "availability")]))

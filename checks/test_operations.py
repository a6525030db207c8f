"""Operations: II.2.c visitor statistics, II.2.e 99.9 % monthly availability."""

import json

import pytest

from prep_conformance.errors import CheckError
from prep_conformance import thresholds
from prep_conformance.rules import analytics, availability


def _landing_page(ep) -> analytics.PageObservation:
    """The landing page as a citizen gets it (redirects followed, pinning kept; a bad certificate is
    noted and judged by II.2.d.https, not here). The HTML holds every ``<script src>`` as written."""
    from prep_conformance.probes import http
    last = http.follow(ep, ep.site, variant="analytics", sample_bytes=512 * 1024)[-1]
    return analytics.PageObservation(last.url, last.status, last.body_sample, (), last.error)


@pytest.mark.requirement("II.2.c")
def test_analytics_detected(difusor, record_check):
    a = difusor.profile.analytics
    declared = analytics.Declared(a.provider, a.evidence and a.evidence.rsplit("/", 1)[-1]) if a else None
    from prep_conformance.probes import http
    ep = http.site(difusor)      # the reachability pre-flight: an unreachable site is ERROR (blocked) at once
    page = difusor.once("page:analytics", lambda: _landing_page(ep))
    record_check(analytics.evaluate(page, declared))


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

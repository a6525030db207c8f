"""II.2.e 99.9 % monthly availability: the difusor's monitor log, or its declared SLA with evidence."""

import pytest

from prep_conformance import thresholds
from prep_conformance.rules import availability


@pytest.mark.requirement("II.2.e")
def test_availability(difusor, record_check):
    conv, av = difusor.convocatoria, difusor.profile.availability
    threshold = conv.thresholds.availability
    if av and av.monitor_log:
        samples = difusor.observe.monitor_samples()
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

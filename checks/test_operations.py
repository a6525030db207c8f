"""Operations: II.2.c visitor statistics, II.2.e 99.9 % monthly availability."""

import json

import pytest

from prep_conformance.errors import CheckError
from prep_conformance.rules import analytics, availability


def _landing_page(difusor) -> analytics.PageObservation:
    from prep_conformance.probes import publication
    session = publication.session_for(difusor.profile, pool=2)
    difusor.on_close(session.close)
    page, _scripts = publication.fetch_page(session, difusor.profile.target_url, difusor.profile.http.timeout_s)
    html = page.body.decode("utf-8", errors="replace") if page.body is not None else ""
    # the HTML holds every <script src> as written, which is what the signatures look for
    return analytics.PageObservation(page.url, page.status, html, (), page.error)


@pytest.mark.requirement("II.2.c")
def test_analytics_detected(difusor, record_check):
    a = difusor.profile.analytics
    declared = analytics.Declared(a.provider, a.evidence and a.evidence.rsplit("/", 1)[-1]) if a else None
    try:
        page = difusor.once("page:landing", lambda: _landing_page(difusor))
    except CheckError as exc:
        page = analytics.PageObservation(difusor.profile.target_url, None, error=exc.summary)
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
        record_check(availability.evaluate_monitor(availability.summarize(samples), threshold))
        if not (av.sla or av.evidence):
            return
    record_check(availability.evaluate_declared(av.sla if av else None,
                                                av.evidence.rsplit("/", 1)[-1] if av and av.evidence else None,
                                                threshold))

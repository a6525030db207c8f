"""II.2.d.ddos: signals of DDoS detection and containment (CDN/WAF in front, rate limiting under a burst).

The burst is bounded (convocatoria ``ddos``) and, like the load test, runs only with
``load.authorized: true`` (and ``--prep-allow-remote-load`` beyond loopback); without it the verdict
rests on the CDN/WAF headers alone (MANUAL).
"""

import pytest

from prep_conformance import thresholds
from prep_conformance.rules import cdn_detect, ddos


def _chain(obs):
    """The CNAME chain when the profile names a resolver (evidence; its failure is the DNS check's)."""
    try:
        d = obs.dns()
        return d.cname_chain if d is not None else ()
    except Exception:  # noqa: BLE001
        return ()


@pytest.mark.requirement("II.2.d.ddos")
def test_ddos_signals(difusor, record_check):
    obs, conv = difusor.observe, difusor.convocatoria
    site = obs.site_map()
    g = obs.load_guard()
    burst = obs.burst() if g.allowed else None
    not_run = None if g.allowed else (f"ráfaga no ejecutada: {g.reason.rstrip('.')}",
                                      f"burst not run: {g.reason_en.rstrip('.')}")
    headers = [list(site.page_headers), list(site.main_json_headers)]
    if burst is not None:
        headers += [list(burst.first_headers), list(burst.limited_headers)]
    record_check(thresholds.apply(ddos.evaluate(burst, cdn_detect.detect(headers, _chain(obs)), not_run),
                                  [thresholds.threshold(conv, "ddos_burst_requests"),
                                   thresholds.threshold(conv, "ddos_burst_concurrency")]))

"""II.2.d.ddos: signals of DDoS detection and containment (CDN/WAF in front, rate limiting under a burst).

The burst is bounded (convocatoria ``ddos``) and, like the load test, runs only with
``load.authorized: true`` (and ``--prep-allow-remote-load`` beyond loopback); without it the verdict
rests on the CDN/WAF headers alone (MANUAL).
"""

import time
from dataclasses import replace

import pytest

from prep_conformance import thresholds
from prep_conformance.probes import burst as burst_probe
from prep_conformance.probes import load
from prep_conformance.rules import ddos
from prep_conformance.rules import load as load_rules

from .test_load import site_map


def _detect(difusor, headers_seen):
    """The front from every header seen (page, main.json, burst answers) and the CNAME chain when the
    profile names a resolver (``probes.http.dns_observation``, shared with II.2.b)."""
    from prep_conformance.probes import http
    from prep_conformance.rules import cdn_detect
    try:
        d = http.dns_observation(difusor)
        chain = d.cname_chain if d is not None else ()
    except Exception:  # DNS is evidence here; its own failure is reported by the DNS/CDN checks
        chain = ()
    return cdn_detect.detect(headers_seen, chain)


@pytest.mark.requirement("II.2.d.ddos")
def test_ddos_signals(difusor, record_check):
    prof = difusor.profile
    site = site_map(difusor)
    g = difusor.once("load:guard", lambda: load_rules.guard(
        prof.load.authorized, load.target_addresses(prof.target_url, prof.http.resolve),
        bool(difusor.options.get("allow_remote_load"))))
    obs, not_run = None, None
    if g.allowed:
        c = difusor.convocatoria.ddos

        def run():
            b = burst_probe.burst(
                prof.target_url, requests_n=c.burst_requests, concurrency=c.burst_concurrency, max_s=c.burst_max_s,
                stop_after_limited=c.stop_after_limited, resolve=prof.http.resolve, ca_bundle=prof.http.ca_bundle,
                timeout_s=float(prof.http.timeout_s))
            # let a limiter drain before the next checks (and say how long it took)
            time.sleep(burst_probe.retry_after_s(b))      # the site said when to come back: respect it
            after, _status = load.settle(prof.target_url, prof.http.resolve, prof.http.ca_bundle,
                                         float(prof.http.timeout_s), difusor.convocatoria.load.cooldown_s)
            return replace(b, recovered_after_s=after)
        obs = difusor.once("ddos:burst", run)
    else:
        not_run = (f"ráfaga no ejecutada: {g.reason.rstrip('.')}", f"burst not run: {g.reason_en.rstrip('.')}")
    headers = [list(site.page_headers), list(site.main_json_headers)]
    if obs is not None:
        headers += [list(obs.first_headers), list(obs.limited_headers)]
    conv = difusor.convocatoria
    record_check(thresholds.apply(ddos.evaluate(obs, _detect(difusor, headers), not_run),
                                  [thresholds.threshold(conv, "ddos_burst_requests"),
                                   thresholds.threshold(conv, "ddos_burst_concurrency")]))

"""II.2.d.https: one sslyze scan per (host, port) per run, judged by several pure rules."""

import pytest

from prep_conformance.probes import http, tls
from prep_conformance.rules import https
from urllib.parse import urlsplit


def _scan(difusor):
    ep = http.site(difusor)
    port = urlsplit(ep.https_url).port or 443
    return difusor.once(f"tls:{ep.host}:{port}", lambda: tls.scan(
        ep.host, port, ep.pin, ep.ca_bundle, timeout_s=min(5.0, ep.timeout_s),
        deadline_s=difusor.convocatoria.fetch.tls_scan_s))


@pytest.mark.requirement("II.2.d.https")
def test_https_certificate(difusor, record_check):
    record_check(https.certificate(_scan(difusor)))


@pytest.mark.requirement("II.2.d.https")
def test_https_certificate_validity(difusor, record_check):
    record_check(https.validity(_scan(difusor), difusor.convocatoria))


@pytest.mark.requirement("II.2.d.https")
def test_https_protocols(difusor, record_check):
    record_check(https.protocols(_scan(difusor), difusor.convocatoria))


@pytest.mark.requirement("II.2.d.https")
def test_https_vulnerabilities(difusor, record_check):
    record_check(https.vulnerabilities(_scan(difusor)))


@pytest.mark.requirement("II.2.d.https")
def test_https_redirect(difusor, record_check):
    ep = http.site(difusor)
    o = difusor.once("http:plain:root", lambda: http.fetch_site(ep, ep.http_url, "GET", variant="http-root"))
    record_check(https.redirect(o, ep.https_url))


@pytest.mark.requirement("II.2.d.https")
def test_https_hsts(difusor, record_check):
    ep = http.site(difusor)
    scan = _scan(difusor)
    if scan.listener != "tls":
        record_check(https.hsts(None))
        return
    o = http.edge_root(difusor) if ep.scheme == "https" else difusor.once(
        "http:https:root", lambda: http.fetch_site(ep, ep.https_url, "GET", variant="https-root"))
    record_check(https.hsts(o))

"""II.2.d.https: one sslyze scan per (host, port) per run, judged by several pure rules."""

import pytest

from prep_conformance.rules import https


@pytest.mark.requirement("II.2.d.https")
def test_https_certificate(difusor, record_check):
    record_check(https.certificate(difusor.observe.tls_scan()))


@pytest.mark.requirement("II.2.d.https")
def test_https_certificate_validity(difusor, record_check):
    record_check(https.validity(difusor.observe.tls_scan(), difusor.convocatoria))


@pytest.mark.requirement("II.2.d.https")
def test_https_protocols(difusor, record_check):
    record_check(https.protocols(difusor.observe.tls_scan(), difusor.convocatoria))


@pytest.mark.requirement("II.2.d.https")
def test_https_vulnerabilities(difusor, record_check):
    record_check(https.vulnerabilities(difusor.observe.tls_scan()))


@pytest.mark.requirement("II.2.d.https")
def test_https_redirect(difusor, record_check):
    obs = difusor.observe
    record_check(https.redirect(obs.root("plain"), obs.endpoint().https_url))


@pytest.mark.requirement("II.2.d.https")
def test_https_hsts(difusor, record_check):
    obs = difusor.observe
    record_check(https.hsts(obs.root("https") if obs.tls_scan().listener == "tls" else None))

"""II.2.d.https rules on hand-built TLS observations and responses."""

import datetime as dt

import pytest

from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes.http import HttpObservation
from prep_conformance.probes.https import CertInfo, TlsObservation, TrustResult
from prep_conformance.rules import https
from prep_conformance.verdict import Verdict

BASE = load_convocatoria("iem-michoacan-2024")
START = dt.datetime(2027, 6, 2, 20, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
CONV = BASE.model_copy(update={"publication": BASE.publication.model_copy(
    update={"start": START, "end": START + dt.timedelta(hours=24)})})
NOW = dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)
HOST = "prep.lab.prep.example"
GOOD_PROTOCOLS = {"SSL 2.0": False, "SSL 3.0": False, "TLS 1.0": False, "TLS 1.1": False, "TLS 1.2": True,
                  "TLS 1.3": True}
NO_VULNS = {"heartbleed": False, "robot": False, "ccs_injection": False, "insecure_renegotiation": False,
            "compression": False}


def cert(sans=(HOST,), not_after="2028-01-01T00:00:00+00:00", not_before="2026-01-01T00:00:00+00:00",
         self_signed=False):
    return CertInfo(f"CN={sans[0]}", "CN=Lab CA" if not self_signed else f"CN={sans[0]}", tuple(sans), not_before,
                    not_after, "01", "ab" * 32, self_signed)


def tls(chain=None, trusted=True, protocols=None, vulns=None, listener="tls", **kw):
    chain = (cert(),) if chain is None else chain
    trust = (TrustResult("Mozilla", False, "candidates exhausted"), TrustResult("Supplied CA file", trusted,
                                                                              None if trusted else "exhausted"))
    return TlsObservation(HOST, 443, "127.0.0.1", listener, None if listener == "tls" else "refused", chain, trust,
                          True, protocols or GOOD_PROTOCOLS, {}, vulns or NO_VULNS, {}, scan_errors={},
                          observed_at=NOW.timestamp(), **kw)


def test_good_certificate_passes():
    assert https.certificate(tls()).verdict is Verdict.PASS


def test_wrong_name_fails():
    r = https.certificate(tls(chain=(cert(sans=("other.example",)),), trusted=False))
    assert r.verdict is Verdict.FAIL and "not prep.lab.prep.example" in r.summary_en


def test_self_signed_not_in_bundle_fails():
    r = https.certificate(tls(chain=(cert(self_signed=True),), trusted=False))
    assert r.verdict is Verdict.FAIL and "self-signed" in r.summary_en


def test_expired_fails_both_checks():
    c = (cert(not_after="2026-12-01T00:00:00+00:00"),)
    assert https.certificate(tls(chain=c, trusted=False)).verdict is Verdict.FAIL
    assert https.validity(tls(chain=c), CONV).verdict is Verdict.FAIL


@pytest.mark.parametrize("not_after,verdict", [
    ("2027-06-03T12:00:00+00:00", Verdict.FAIL),     # inside the publication window
    ("2027-06-20T00:00:00+00:00", Verdict.WARN),     # within 30 days after it
    ("2027-09-01T00:00:00+00:00", Verdict.PASS),
])
def test_validity_against_publication_window(not_after, verdict):
    assert https.validity(tls(chain=(cert(not_after=not_after),)), CONV, now=NOW).verdict is verdict


def test_window_end_adds_hold():
    assert https.window_end(CONV) == START + dt.timedelta(hours=48)


def test_past_window_judged_now_with_note():
    r = https.validity(tls(), BASE, now=NOW)
    assert r.verdict is Verdict.PASS and any("over" in n.text_en for n in r.notes)


def test_no_listener_is_fail_timeout_is_error():
    assert https.certificate(tls(listener="refused", chain=())).verdict is Verdict.FAIL
    assert https.protocols(tls(listener="not-tls", chain=()), CONV).verdict is Verdict.FAIL
    assert https.certificate(tls(listener="timeout", chain=())).verdict is Verdict.ERROR


def test_tls10_accepted_fails():
    r = https.protocols(tls(protocols={**GOOD_PROTOCOLS, "TLS 1.0": True, "TLS 1.1": True}), CONV)
    assert r.verdict is Verdict.FAIL and "TLS 1.0, TLS 1.1" in r.summary_en


def test_protocol_unknown_is_error():
    assert https.protocols(tls(protocols={**GOOD_PROTOCOLS, "SSL 3.0": None}), CONV).verdict is Verdict.ERROR


def test_vulnerabilities():
    assert https.vulnerabilities(tls()).verdict is Verdict.PASS
    assert https.vulnerabilities(tls(vulns={**NO_VULNS, "heartbleed": True})).verdict is Verdict.FAIL
    assert https.vulnerabilities(tls(vulns={**NO_VULNS, "compression": None})).verdict is Verdict.ERROR


@pytest.mark.parametrize("host,names,ok", [
    ("a.example.com", ["*.example.com"], True), ("a.b.example.com", ["*.example.com"], False),
    ("example.com", ["*.example.com"], False), ("A.Example.com", ["a.example.COM"], True),
])
def test_hostname_matching(host, names, ok):
    assert https.hostname_matches(host, names) is ok


def resp(status, *headers, url="http://prep.lab.prep.example/"):
    return HttpObservation("x", url, "GET", status, "", "HTTP/1.1", tuple(headers))


def test_redirect():
    target = "https://prep.lab.prep.example/"
    assert https.redirect(resp(301, ("Location", target)), target).verdict is Verdict.PASS
    assert https.redirect(resp(200), target).verdict is Verdict.WARN
    assert https.redirect(resp(302, ("Location", "https://evil.example/")), target).verdict is Verdict.WARN
    refused = HttpObservation("x", "http://h/", "GET", None, error="refused", error_kind="connect")
    assert https.redirect(refused, target).verdict is Verdict.WARN


def test_hsts():
    assert https.hsts(resp(200, ("Strict-Transport-Security", "max-age=63072000"))).verdict is Verdict.PASS
    assert https.hsts(resp(200)).verdict is Verdict.WARN
    assert https.hsts(resp(200, ("Strict-Transport-Security", "max-age=0"))).verdict is Verdict.WARN
    assert https.hsts(None).verdict is Verdict.SKIP


def test_mozilla_policy_is_judged_by_the_rule_not_the_probe():
    """The probe keeps sslyze's results as inputs; the rule runs sslyze's checker (advisory notes only)."""
    import pickle

    from prep_conformance.probes.https import MozillaInputs
    assert https.mozilla_check(None) == (None, None) and https.mozilla_notes(tls()) == []
    incomplete = MozillaInputs({"heartbleed": None})          # a command the checker needs did not complete
    issues, error = https.mozilla_check(incomplete)
    assert issues is None and error.startswith("ServerScanResultIncomplete")
    obs = tls(mozilla=incomplete)
    assert pickle.loads(pickle.dumps(obs)) == obs              # the observation stays plain data
    notes = https.protocols(obs, CONV).notes
    assert [n.level for n in notes] == ["info"] and "Mozilla" in notes[0].text_en

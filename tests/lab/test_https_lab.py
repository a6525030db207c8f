"""II.2.d.https's Mozilla notes: the probe keeps what sslyze observed; the rule runs sslyze's checker over it
and finds exactly what the checker finds over the live ``ServerScanResult``."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import pytest

from prep_conformance.probes import http
from prep_conformance.probes import https as tls
from prep_conformance.profile import convocatoria_of, load_profile
from prep_conformance.rules import https

pytestmark = pytest.mark.lab


def _checker_on_live_scan(ep, port: int):
    from sslyze import (Scanner, ScanCommandsExtraArguments, ServerNetworkConfiguration, ServerNetworkLocation,
                        ServerScanRequest)
    from sslyze.mozilla_tls_profile.tls_config_checker import (
        SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER, MozillaTlsConfiguration, ServerNotCompliantWithTlsConfiguration,
        TlsConfigurationEnum, check_server_against_tls_configuration)
    from sslyze.plugins.certificate_info.implementation import CertificateInfoExtraArgument
    req = ServerScanRequest(
        server_location=ServerNetworkLocation(ep.host, port, ip_address=ep.pin),
        network_configuration=ServerNetworkConfiguration(tls_server_name_indication=ep.host, network_timeout=5),
        scan_commands=set(SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER),
        scan_commands_extra_arguments=ScanCommandsExtraArguments(
            certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(ep.ca_bundle))))
    scanner = Scanner()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scanner.queue_scans([req])
        res = next(iter(scanner.get_results()))
    try:
        check_server_against_tls_configuration(
            res, MozillaTlsConfiguration.get(TlsConfigurationEnum.MOZILLA_INTERMEDIATE))
        return ()
    except ServerNotCompliantWithTlsConfiguration as exc:
        return tuple(sorted((str(k), str(v)) for k, v in exc.issues.items()))


@pytest.mark.parametrize("sid", ["compliant", "tls10-enabled"])
def test_rule_finds_what_sslyze_finds_on_the_live_scan(lab, sid):
    if sid not in lab.active():
        pytest.skip(f"{sid} not up")
    ep = http.endpoint(load_profile(lab.profile_path(sid)))
    port = int(ep.https_url.rsplit(":", 1)[1].strip("/"))
    obs = tls.scan(ep.host, port, ep.pin, ep.ca_bundle, timeout_s=5)
    assert obs.listener == "tls" and obs.mozilla is not None
    assert pickle.loads(pickle.dumps(obs)).mozilla == obs.mozilla     # frozen plain data: it pickles
    issues, error = https.mozilla_check(obs.mozilla)
    assert error is None
    assert issues == _checker_on_live_scan(ep, port)
    if sid == "tls10-enabled":
        assert any(k == "tls_versions" for k, _ in issues)


@pytest.mark.parametrize("sid", ["compliant", "tls10-enabled"])
def test_version_gate_changes_nothing_the_rules_read(lab, sid):
    """A version refused with all its suites offered at once is not enumerated suite by suite: the
    observation the rules read is the same as with the full enumeration, in fewer handshakes."""
    if sid not in lab.active():
        pytest.skip(f"{sid} not up")
    prof = load_profile(lab.profile_path(sid))
    ep = http.endpoint(prof)
    port = int(ep.https_url.rsplit(":", 1)[1].strip("/"))
    gated = tls.scan(ep.host, port, ep.pin, ep.ca_bundle, timeout_s=5)
    full = tls.scan(ep.host, port, ep.pin, ep.ca_bundle, timeout_s=5, gate=False)
    assert full.refused_in_one_handshake == ()
    assert gated.protocols == full.protocols and gated.weak_ciphers == full.weak_ciphers
    assert gated.vulnerabilities == full.vulnerabilities
    assert https.mozilla_check(gated.mozilla) == https.mozilla_check(full.mozilla)
    conv = convocatoria_of(prof)
    a, b = https.protocols(gated, conv), https.protocols(full, conv)
    assert (a.verdict, a.summary, a.notes) == (b.verdict, b.summary, b.notes)
    if sid == "compliant":
        assert gated.refused_in_one_handshake == ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1")
        assert a.evidence["refused_in_one_handshake"] == ["SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1"]
    else:
        assert "TLS 1.0" not in gated.refused_in_one_handshake and gated.protocols["TLS 1.0"] is True

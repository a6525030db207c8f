"""II.1.a rule: uname > ver > banner, with how sure it is."""

from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes.ssh import OsObservation
from prep_conformance.rules import platform

CONV = load_convocatoria("iem-michoacan-2024")
DEB = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"


def test_uname_linux_passes_high_confidence():
    r = platform.evaluate(OsObservation(DEB, uname_s="Linux", uname_r="6.1.0"), CONV)
    assert r.verdict == "PASS" and r.evidence["confidence"] == "high" and r.evidence["os_family"] == "Linux"


def test_uname_freebsd_and_darwin_pass():
    assert platform.evaluate(OsObservation("x", uname_s="FreeBSD", uname_r="14.0"), CONV).verdict == "PASS"
    r = platform.evaluate(OsObservation("x", uname_s="Darwin", uname_r="23"), CONV)
    assert r.verdict == "PASS" and r.evidence["os_family"] == "Unix"


def test_unknown_uname_fails():
    assert platform.evaluate(OsObservation("x", uname_s="Plan9", uname_r="4"), CONV).verdict == "FAIL"


def test_windows_ver_passes():
    r = platform.evaluate(OsObservation("SSH-2.0-OpenSSH_for_Windows_8.1",
                                        ver="Microsoft Windows [Version 10.0.20348.2113]"), CONV)
    assert r.verdict == "PASS" and r.evidence["os_family"] == "Windows" and r.evidence["method"] == "ver"


def test_sftp_only_banner_medium_confidence_passes():
    r = platform.evaluate(OsObservation(DEB, shell=False), CONV)
    assert r.verdict == "PASS" and r.evidence["method"] == "banner" and r.evidence["confidence"] == "medium"
    assert "SFTP" in r.summary_en


def test_generic_openssh_banner_is_warn_low_confidence():
    r = platform.evaluate(OsObservation("SSH-2.0-OpenSSH_9.6", shell=False), CONV)
    assert r.verdict == "WARN" and r.evidence["confidence"] == "low"


def test_unknown_banner_is_manual():
    r = platform.evaluate(OsObservation("SSH-2.0-AWS_SFTP_1.1", shell=False), CONV)
    assert r.verdict == "MANUAL"


def test_os_list_comes_from_convocatoria():
    conv = CONV.model_copy(update={"server": CONV.server.model_copy(update={"operating_systems": ("Windows",)})})
    assert platform.evaluate(OsObservation(DEB, uname_s="Linux", uname_r="6"), conv).verdict == "FAIL"


def test_not_configured_is_manual():
    assert platform.not_configured("II.1.a", "operating_system").verdict == "MANUAL"


def test_connection_evidence_and_first_seen_note():
    from prep_conformance.probes.ssh import SshInfo
    info = SshInfo("h", 22, "u", DEB, "ssh-ed25519", "SHA256:abc", "recorded", "aes128-gcm@openssh.com",
                   "publickey", 0.1)
    r = platform.evaluate(OsObservation(DEB, uname_s="Linux", uname_r="6"), CONV, info)
    assert r.verdict == "PASS" and r.evidence["connection"]["host_key_fingerprint"] == "SHA256:abc"
    assert any("SHA256:abc" in n.text_en for n in r.notes)

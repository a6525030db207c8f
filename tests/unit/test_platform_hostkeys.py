"""Host-key verification (before any credential is sent): known, changed, unknown, opt-in recording."""

import paramiko
import pytest

from prep_conformance.errors import CheckError
from prep_conformance.probes.ssh import fingerprint, host_entry_name, verify_host_key
from prep_conformance.profile import Ssh


def _cfg(tmp_path, kh, **kw):
    key = tmp_path / "k"
    key.write_text("unused")
    return Ssh(host="sftp.example", port=2222, username="u", key_file=str(key), known_hosts=str(kh),
               upload_dir="/srv", **kw)


def _ed25519():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    import io
    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                                     serialization.NoEncryption()).decode()
    return paramiko.Ed25519Key.from_private_key(io.StringIO(pem))


def test_entry_name():
    assert host_entry_name("h", 22) == "h" and host_entry_name("h", 2222) == "[h]:2222"


def test_known_changed_unknown(tmp_path):
    good, bad = _ed25519(), _ed25519()
    kh = tmp_path / "kh"
    kh.write_text(f"[sftp.example]:2222 {good.get_name()} {good.get_base64()}\n")
    cfg = _cfg(tmp_path, kh)
    assert verify_host_key(cfg, good) == "known"
    with pytest.raises(CheckError) as exc:
        verify_host_key(cfg, bad)
    ev = exc.value.evidence
    assert ev["host_key_status"] == "changed"
    assert ev["presented_key"]["fingerprint"] == fingerprint(bad)
    assert ev["expected_keys"][0]["fingerprint"] == fingerprint(good)
    assert fingerprint(bad) in exc.value.summary_en and fingerprint(good) in exc.value.summary_en
    # the opt-in never replaces a changed key
    with pytest.raises(CheckError):
        verify_host_key(_cfg(tmp_path, kh, accept_new_host_key=True), bad)
    assert kh.read_text().count("\n") == 1


def test_unknown_is_error_unless_opted_in(tmp_path):
    k = _ed25519()
    kh = tmp_path / "kh"
    kh.write_text("")
    with pytest.raises(CheckError) as exc:
        verify_host_key(_cfg(tmp_path, kh), k)
    assert exc.value.evidence["host_key_status"] == "unknown"
    new = tmp_path / "sub" / "kh_new"
    assert verify_host_key(_cfg(tmp_path, new, accept_new_host_key=True), k) == "recorded"
    assert verify_host_key(_cfg(tmp_path, new), k) == "known"


def test_hashed_known_hosts_entry(tmp_path):
    k = _ed25519()
    hashed = paramiko.HostKeys.hash_host("[sftp.example]:2222")
    kh = tmp_path / "kh"
    kh.write_text(f"{hashed} {k.get_name()} {k.get_base64()}\n")
    assert verify_host_key(_cfg(tmp_path, kh), k) == "known"


def test_fingerprint_matches_ssh_keygen(tmp_path):
    import subprocess
    import shutil
    if not shutil.which("ssh-keygen"):
        pytest.skip("no ssh-keygen")
    k = _ed25519()
    pub = tmp_path / "k.pub"
    pub.write_text(f"{k.get_name()} {k.get_base64()}\n")
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True).stdout
    assert fingerprint(k) in out

"""trust: the one door through which secrets are read, commands run and listen addresses chosen (pure parts)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from prep_conformance import trust
from prep_conformance.convocatoria import bundled_dir, load_convocatoria, pin
from prep_conformance.profile import load_profile
from prep_conformance.yamlsource import SourceErrors

BASE = """\
id: medio
sites: {test: "https://prep.medio.example/", official: "https://prep2.medio.example/"}
http: {resolve: {prep.medio.example: 127.0.0.1}}
"""


@pytest.fixture(autouse=True)
def _operator_env_untrusted(monkeypatch):
    monkeypatch.delenv(trust.ENV_FLAG, raising=False)
    monkeypatch.delenv("PREP_ALLOW_API_BASE", raising=False)     # tests/conftest.py sets it for the stand-ins


def _profile(tmp_path: Path, extra: str = "", t: trust.Trust | None = None, conv=None, name="p.yaml"):
    p = tmp_path / name
    p.write_text(BASE + textwrap.dedent(extra), encoding="utf-8")
    return load_profile(p, trust=t, convocatoria=conv)


def _errors(exc: pytest.ExceptionInfo) -> str:
    return "\n".join(str(e) for e in exc.value.errors)


# ------------------------------------------------------------------------------------------- secrets

def test_untrusted_profile_reads_no_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("SOME_VARIABLE", "value-of-the-machine")
    prof = _profile(tmp_path)
    with pytest.raises(trust.TrustRefused) as exc:
        trust.secret(prof, "SOME_VARIABLE", "https://prep.medio.example/", "purge token")
    msg = str(exc.value)
    assert "value-of-the-machine" not in msg and "value-of-the-machine" not in str(exc.value.evidence)
    assert "--trust-profile" in exc.value.summary and "--trust-profile" in exc.value.summary_en
    assert "SOME_VARIABLE" in msg and " / " in msg            # bilingual, names the secret
    assert exc.value.evidence["refused"] == "secret"


def test_trusted_token_only_to_provider_or_declared_site(tmp_path, monkeypatch):
    monkeypatch.setenv("TOK", "t0ken-value")
    prof = _profile(tmp_path, t=trust.TRUSTED)
    assert trust.secret(prof, "TOK", "https://prep.medio.example/x", "p") == "t0ken-value"
    assert trust.secret(prof, "TOK", "http://127.0.0.1:16081/", "p") == "t0ken-value"       # pinned address
    assert trust.secret(prof, "TOK", "https://api.cloudflare.com/client/v4", "p", method="cloudflare")
    assert trust.allowed_destination(prof, "https://api.fastly.com/service/x/purge_all", method="fastly")
    assert trust.allowed_destination(prof, "https://akab-x.purge.akamaiapis.net/ccu/v3", method="akamai")
    for dest, method in (("http://127.0.0.2:9/", "PURGE"), ("https://attacker.example/", "cloudflare"),
                         ("https://api.cloudflare.com/", "fastly")):
        assert not trust.allowed_destination(prof, dest, method=method)
        with pytest.raises(trust.TrustRefused) as exc:
            trust.secret(prof, "TOK", dest, "p", method=method)
        assert exc.value.evidence["refused"] == "destination" and trust._host(dest) in exc.value.summary_en


def test_api_base_counts_only_when_trusted(tmp_path):
    extra = "cdn: {purge: {method: cloudflare, zone_id: z, token_env: TOK, api_base: 'http://127.0.0.3:9/v4'}}\n"
    assert not trust.allowed_destination(_profile(tmp_path, extra), "http://127.0.0.3:9/v4", method="cloudflare")
    assert trust.allowed_destination(_profile(tmp_path, extra, trust.TRUSTED), "http://127.0.0.3:9/v4",
                                     method="cloudflare")


def test_password_only_to_the_allowed_ssh_host(tmp_path, monkeypatch):
    monkeypatch.setenv("PW", "pa55word")
    extra = ("ssh: {host: sftp.medio.example, username: iem, password_env: PW, known_hosts: kh, "
             "upload_dir: /srv, accept_new_host_key: true}\n")
    prof = _profile(tmp_path, extra, trust.TRUSTED)
    assert trust.secret(prof, "PW", "sftp.medio.example", "ssh", kind="password") == "pa55word"
    with pytest.raises(trust.TrustRefused):
        trust.secret(prof, "PW", "127.0.0.2", "ssh", kind="password")
    with pytest.raises(trust.TrustRefused):                          # untrusted: not even read
        trust.secret(_profile(tmp_path, extra), "PW", "sftp.medio.example", "ssh", kind="password")


def test_trust_file_grants_a_name_mapped_to_a_variable_or_file(tmp_path, monkeypatch):
    (tmp_path / "pw").write_text("from-file\n")
    tf = tmp_path / "trust.yaml"
    tf.write_text(f"secrets:\n  TOK: {{env: OPERATOR_TOK, profiles: [medio]}}\n"
                  f"  PW: {{file: {tmp_path / 'pw'}, hosts: [sftp.medio.example]}}\n"
                  f"  OTHER: {{env: X, profiles: [someone-else]}}\n")
    monkeypatch.setenv("OPERATOR_TOK", "granted-token")
    monkeypatch.setenv("TOK", "not-this-one")
    t = trust.from_options(trust_file=str(tf), environ={})
    assert not t.profiles
    extra = ("ssh: {host: sftp.medio.example, username: iem, password_env: PW, known_hosts: kh, "
             "upload_dir: /srv, accept_new_host_key: true}\n")
    prof = _profile(tmp_path, extra, t)
    assert trust.secret(prof, "TOK", "https://prep.medio.example/", "p") == "granted-token"
    assert trust.secret(prof, "PW", "sftp.medio.example", "ssh", kind="password") == "from-file"
    with pytest.raises(trust.TrustRefused):
        trust.secret(prof, "PW", "evil.example", "ssh", kind="password")
    with pytest.raises(trust.TrustRefused):
        trust.secret(prof, "OTHER", "https://prep.medio.example/", "p")       # granted to another profile
    with pytest.raises(trust.TrustRefused):
        trust.run(prof, ["true"], "purge")                                   # a grant is not a command
    bad = tmp_path / "bad.yaml"
    bad.write_text("secrets:\n  TOK: {env: A, file: /x}\n")
    with pytest.raises(SourceErrors, match="exactly one"):
        trust.from_options(trust_file=str(bad))


def test_operator_environment_is_consent():
    assert trust.from_options(environ={"PREP_TRUST_PROFILE": "1"}).profiles
    assert not trust.from_options(environ={"PREP_TRUST_PROFILE": "yes"}).profiles
    assert trust.from_options(True, environ={}).via == "--trust-profile"


# ------------------------------------------------------------------------------------------- commands

def test_untrusted_command_is_not_run(tmp_path):
    marker = tmp_path / "x"
    with pytest.raises(trust.TrustRefused) as exc:
        trust.run(None, ["touch", str(marker)], "purge")
    assert not marker.exists() and "--trust-profile" in exc.value.summary_en and exc.value.evidence["argv"]
    trust.run(trust.TRUSTED, ["touch", str(marker)], "purge", check=True)
    assert marker.exists()


def test_bind_host_loopback_unless_told():
    assert trust.bind_host(None, None, "x") == "127.0.0.1"
    assert trust.bind_host(None, "::1", "x") == "::1"
    with pytest.raises(trust.TrustRefused, match="--trust-profile"):
        trust.bind_host(None, "0.0.0.0", "the Locust master")
    assert trust.bind_host(trust.TRUSTED, "0.0.0.0", "x") == "0.0.0.0"
    assert trust.bind_host(None, "0.0.0.0", "x", operator_ok=True) == "0.0.0.0"


# ------------------------------------------------------------------------------------------- paths

@pytest.mark.parametrize("value, why", [("/etc/hostname", "absolute"), ("~/.ssh/id_ed25519", "absolute"),
                                        ("../secret.pdf", "'..'"), ("docs/../../x", "'..'")])
def test_paths_outside_the_folder_are_profile_errors(tmp_path, value, why):
    d = tmp_path / "perfil"
    d.mkdir()
    with pytest.raises(SourceErrors) as exc:
        _profile(d, f"documents: {{diagram: '{value}'}}\n")
    text = _errors(exc)
    assert "documents.diagram" in text and why in text and "--trust-profile" in text and ":4:" in text


def test_symlink_out_is_refused_and_trust_allows_it(tmp_path):
    d = tmp_path / "perfil"
    (d / "docs").mkdir(parents=True)
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(b"%PDF-1.4 secret")
    (d / "docs" / "d.pdf").symlink_to(outside)
    with pytest.raises(SourceErrors, match="symbolic link"):
        _profile(d, "documents: {diagram: docs/d.pdf}\n")
    assert _profile(d, "documents: {diagram: docs/d.pdf}\n", trust.TRUSTED).documents.diagram.endswith("d.pdf")
    inside = d / "docs" / "real.pdf"
    inside.write_bytes(b"%PDF-1.4")
    (d / "docs" / "alias.pdf").symlink_to(inside)            # a link that stays inside is fine
    assert _profile(d, "documents: {diagram: docs/alias.pdf}\n").documents.diagram


def test_package_folder_with_a_link_out_is_refused(tmp_path):
    d = tmp_path / "perfil"
    (d / "paquete" / "json").mkdir(parents=True)
    (d / "paquete" / "json" / "main.json").symlink_to("/etc/passwd")
    with pytest.raises(SourceErrors) as exc:
        _profile(d, "package: paquete\n")
    assert "package" in _errors(exc) and "main.json" in _errors(exc)


def test_ssh_fields_never_become_options(tmp_path):
    for field in ("host: -oProxyCommand=touch", "host: 'a b'", "username: -oProxyCommand=x"):
        extra = ("ssh: {host: h, username: u, key_file: k, known_hosts: kh, upload_dir: /srv, "
                 "accept_new_host_key: true}\n").replace("host: h" if field.startswith("host") else "username: u",
                                                         field)
        (tmp_path / "k").write_text("")
        with pytest.raises(SourceErrors, match="must not start with '-'"):
            _profile(tmp_path, extra)


# ------------------------------------------------------------------------------------------- convocatoria

def _own_convocatoria(folder: Path, **changes) -> Path:
    text = bundled_dir().joinpath("iem-michoacan-2024.yaml").read_text(encoding="utf-8")
    text = text.replace("sftp_upload_mb_s: 40", "sftp_upload_mb_s: 1")   # the applicant's own, easier threshold
    assert "sftp_upload_mb_s: 1" in text
    p = folder / "mi-convocatoria.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_untrusted_profile_cannot_bring_its_own_convocatoria(tmp_path):
    _own_convocatoria(tmp_path)
    with pytest.raises(SourceErrors) as exc:
        _profile(tmp_path, "convocatoria: mi-convocatoria.yaml\n")
    text = _errors(exc)
    assert "convocatoria" in text and ":4:" in text and "--convocatoria" in text and "--trust-profile" in text
    # trusted (a difusor testing with a draft): accepted
    assert _profile(tmp_path, "convocatoria: mi-convocatoria.yaml\n", trust.TRUSTED).convocatoria


def test_pinned_convocatoria_refuses_another_even_with_the_same_id(tmp_path):
    own = _own_convocatoria(tmp_path)
    assert load_convocatoria(own).id == "iem-michoacan-2024"
    pinned = pin("iem-michoacan-2024")
    for t in (None, trust.TRUSTED):
        with pytest.raises(SourceErrors) as exc:
            _profile(tmp_path, "convocatoria: mi-convocatoria.yaml\n", t, pinned)
        text = _errors(exc)
        assert "SHA-256" in text and pinned.sha256[:12] in text and ":4:" in text
    # the same one, or none named: judged against the pinned one
    from prep_conformance.profile import convocatoria_of
    assert convocatoria_of(_profile(tmp_path, "convocatoria: iem-michoacan-2024\n", None, pinned)) is pinned
    assert convocatoria_of(_profile(tmp_path, "", None, pinned)) is pinned


def test_pinned_file_accepts_a_profile_copy_byte_for_byte(tmp_path):
    own = _own_convocatoria(tmp_path)
    pinned = load_convocatoria(own)
    prof = _profile(tmp_path, "convocatoria: mi-convocatoria.yaml\n", None, pinned)
    from prep_conformance.profile import convocatoria_of
    assert convocatoria_of(prof).sha256 == pinned.sha256
    assert pinned.identity() == {"id": "iem-michoacan-2024", "sha256": pinned.sha256, "bundled": False}
    assert pin("iem-michoacan-2024").identity()["bundled"] is True
    assert pin(None) is None


def test_own_commands_only():
    import sys
    assert trust.own_command(["sftp", "-b", "x"])[0] == "sftp"
    assert trust.own_command([sys.executable, "-m", "locust"])[0] == sys.executable
    for argv in (["touch", "/tmp/x"], ["/bin/sh", "-c", "id"], [], ["sftp", "a\nb"]):
        with pytest.raises(ValueError):
            trust.own_command(argv)

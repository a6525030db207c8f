"""Every door of issue 17 with a malicious profile, run as the institute would (CLI, untrusted by default):
nothing runs, nothing leaks, the message says why and which flag would allow it; the same self-test
profiles with ``--trust-profile`` work. Listeners are our own, on loopback (127.0.0.1 / 127.0.0.2)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from prep_conformance.convocatoria import bundled_dir

DATA = Path(__file__).resolve().parents[1] / "data"
CLI = [sys.executable, "-m", "prep_conformance.cli"]
SECRET = "s3cr3t-of-the-deoe-" + os.urandom(4).hex()


def run_cli(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()                 # as the institute runs it: no consent
            if k not in ("PREP_TRUST_PROFILE", "PREP_ALLOW_API_BASE")}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300,
                          env={**base, **(env or {})}, cwd=cwd)


class Listener:
    """An HTTP server of ours that records every request (method, path, headers)."""

    def __init__(self, host: str):
        seen = self.seen = []

        class H(BaseHTTPRequestHandler):
            def _any(self):
                seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})
                body = b"ok\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
            do_GET = do_HEAD = do_PURGE = do_BAN = do_POST = _any

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer((host, 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class TcpCounter:
    """A bare TCP listener that counts connections (an "SSH server" that must never be contacted)."""

    def __init__(self, host: str):
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            c.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def site():
    with Listener("127.0.0.1") as s:
        yield s


@pytest.fixture
def attacker():
    try:
        l = Listener("127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 not available on this machine")
    with l as s:
        yield s


def profile(folder: Path, site_port: int, extra: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "perfil.yaml"
    p.write_text(f"id: medio-malicioso\nsites: {{test: 'http://prep.medio.example:{site_port}/'}}\n"
                 f"http: {{resolve: {{prep.medio.example: 127.0.0.1}}, timeout_s: 3}}\n" + extra, encoding="utf-8")
    return p


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))["difusores"][0]


def checks_of(d: dict, rid: str) -> list[dict]:
    return [c for c in d["checks"] if c["requirement"] == rid]


def no_secret_anywhere(out: Path, proc: subprocess.CompletedProcess) -> None:
    for f in out.rglob("*"):
        if f.is_file():
            assert SECRET not in f.read_text(errors="replace"), f.name
    assert SECRET not in proc.stdout + proc.stderr


# ----------------------------------------------------------------------------------------- a command purge

def test_command_purge_never_runs_untrusted_and_runs_with_consent(tmp_path, site):
    marker = tmp_path / "x"
    prof = profile(tmp_path / "p", site.port, f"cdn: {{purge: {{method: command, command: [touch, '{marker}']}}}}\n")
    out = tmp_path / "out"
    p = run_cli("run", "--profile", prof, "--out", out, "--only", "II.2.b", "--convocatoria", "iem-michoacan-2024")
    assert p.returncode == 1, p.stderr
    assert not marker.exists()                                    # nothing was executed
    purge = next(c for c in checks_of(results(out), "II.2.b") if c["check"] == "cdn_purge")
    assert purge["verdict"] == "ERROR"
    assert "No se ejecutó" in purge["summary"] and "--trust-profile" in purge["summary"]
    assert "was not run" in purge["summary_en"] and "--trust-profile" in purge["summary_en"]
    assert purge["evidence"]["refused"] == "command"
    assert not [r for r in site.seen if r["method"] not in ("GET", "HEAD")]

    out2 = tmp_path / "out2"                                      # the difusor's own self-test: it runs
    p = run_cli("run", "--profile", prof, "--out", out2, "--only", "II.2.b", "--trust-profile")
    assert marker.exists(), p.stdout + p.stderr
    assert json.loads((out2 / "results.json").read_text())["trust"]["profiles"] == "trusted"


# ----------------------------------------------------------------------------------------- tokens

def test_token_never_read_untrusted_never_sent_to_a_foreign_host(tmp_path, site, attacker):
    prof = profile(tmp_path / "p", site.port,
                   f"cdn: {{purge: {{method: PURGE, url: 'http://127.0.0.2:{attacker.port}/', "
                   f"token_env: SOME_VARIABLE}}}}\n")
    env = {"SOME_VARIABLE": SECRET}
    out = tmp_path / "untrusted"
    p = run_cli("run", "--profile", prof, "--out", out, "--only", "II.2.b", env=env)
    assert attacker.seen == []                                    # not even a connection
    purge = next(c for c in checks_of(results(out), "II.2.b") if c["check"] == "cdn_purge")
    assert purge["verdict"] == "ERROR" and "SOME_VARIABLE" in purge["summary_en"]
    assert "--trust-profile" in purge["summary_en"] and purge["evidence"]["refused"] == "secret"
    no_secret_anywhere(out, p)

    out = tmp_path / "trusted"                                    # consent: still only where it belongs
    p = run_cli("run", "--profile", prof, "--out", out, "--only", "II.2.b", "--trust-profile", env=env)
    assert attacker.seen == []
    purge = next(c for c in checks_of(results(out), "II.2.b") if c["check"] == "cdn_purge")
    assert purge["verdict"] == "ERROR" and purge["evidence"]["refused"] == "destination"
    assert "127.0.0.2" in purge["summary_en"] and "127.0.0.2" in purge["summary"]
    no_secret_anywhere(out, p)


def test_token_goes_to_the_declared_site_with_consent(tmp_path, site):
    prof = profile(tmp_path / "p", site.port,
                   f"cdn: {{purge: {{method: PURGE, url: 'http://127.0.0.1:{site.port}/', token_env: SOME_VARIABLE}}}}\n")
    out = tmp_path / "out"
    p = run_cli("run", "--profile", prof, "--out", out, "--only", "II.2.b", "--trust-profile",
                env={"SOME_VARIABLE": SECRET})
    purges = [r for r in site.seen if r["method"] == "PURGE"]
    assert purges and purges[0]["headers"].get("Authorization") == f"Bearer {SECRET}", p.stdout + p.stderr
    no_secret_anywhere(out, p)


# ----------------------------------------------------------------------------------------- SSH passwords

def test_password_never_goes_to_an_ssh_host_not_allowed(tmp_path, site):
    try:
        sshd = TcpCounter("127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 not available on this machine")
    with sshd:
        folder = tmp_path / "p"
        folder.mkdir()
        (folder / "kh").write_text("")
        prof = profile(folder, site.port, f"ssh: {{host: 127.0.0.2, port: {sshd.port}, username: iem, "
                                          f"password_env: SOME_PW, known_hosts: kh, upload_dir: /srv}}\n")
        out = tmp_path / "untrusted"
        p = run_cli("run", "--profile", prof, "--out", out, "--only", "II.1.c", env={"SOME_PW": SECRET})
        d = results(out)
        assert sshd.accepted == 0
        assert d["requirements"]["II.1.c"] == "ERROR"
        c = checks_of(d, "II.1.c")[0]
        assert "SOME_PW" in c["summary_en"] and "--trust-profile" in c["summary_en"]
        no_secret_anywhere(out, p)
        # the operator's trust file grants SOME_PW, but for another SSH host only
        tf = tmp_path / "trust.yaml"
        tf.write_text("secrets:\n  SOME_PW: {env: SOME_PW, hosts: [sftp.medio.example]}\n")
        out = tmp_path / "granted-elsewhere"
        p = run_cli("run", "--profile", prof, "--out", out, "--only", "II.1.c", "--trust-file", tf,
                    env={"SOME_PW": SECRET})
        assert sshd.accepted == 0
        c = checks_of(results(out), "II.1.c")[0]
        assert c["verdict"] == "ERROR" and "127.0.0.2" in c["summary_en"] and "not an SSH host" in c["summary_en"]
        no_secret_anywhere(out, p)


# ----------------------------------------------------------------------------------------- convocatoria

def _substitute(folder: Path) -> None:
    text = bundled_dir().joinpath("iem-michoacan-2024.yaml").read_text(encoding="utf-8")
    (folder / "convocatoria.yaml").write_text(text.replace("sftp_upload_mb_s: 40", "sftp_upload_mb_s: 1"),
                                              encoding="utf-8")


def test_substituted_convocatoria_is_a_profile_error(tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(DATA / "docs", folder / "docs")
    _substitute(folder)
    text = (DATA / "docs_ok.yaml").read_text(encoding="utf-8").replace(
        "convocatoria: iem-michoacan-2024", "convocatoria: convocatoria.yaml")
    (folder / "perfil.yaml").write_text(text, encoding="utf-8")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("convocatoria:"))
    for extra in ((), ("--trust-profile",)):
        p = run_cli("run", "--profile", folder / "perfil.yaml", "--out", tmp_path / "o", "--only", "III.3",
                    "--convocatoria", "iem-michoacan-2024", *extra)
        assert p.returncode == 2, p.stdout + p.stderr
        assert f"perfil.yaml:{line}: convocatoria:" in p.stderr and "--convocatoria" in p.stderr
        assert not (tmp_path / "o" / "results.json").exists()
    # untrusted and not pinned: a profile's own convocatoria file is refused too
    p = run_cli("run", "--profile", folder / "perfil.yaml", "--out", tmp_path / "o", "--only", "III.3")
    assert p.returncode == 2 and "--trust-profile" in p.stderr


def test_reports_show_the_convocatoria_id_and_sha256(tmp_path):
    out = tmp_path / "o"
    p = run_cli("run", "--profile", DATA / "docs_ok.yaml", "--out", out, "--only", "III.3",
                "--convocatoria", "iem-michoacan-2024")
    assert p.returncode in (0, 1), p.stderr
    doc = json.loads((out / "results.json").read_text())
    import hashlib
    sha = hashlib.sha256(bundled_dir().joinpath("iem-michoacan-2024.yaml").read_bytes()).hexdigest()
    assert doc["convocatoria"] == "iem-michoacan-2024" and doc["convocatoria_sha256"] == sha
    assert doc["convocatoria_pinned"]["sha256"] == sha and doc["trust"]["profiles"] == "untrusted"
    assert doc["difusores"][0]["convocatoria"] == {"id": "iem-michoacan-2024", "sha256": sha, "bundled": True}
    assert sha in (out / "medio-ejemplo.html").read_text() and sha in (out / "index.html").read_text()
    # report --convocatoria: a run judged against another one is refused
    folder = tmp_path / "c"
    folder.mkdir()
    _substitute(folder)
    p = run_cli("report", out, "--out", tmp_path / "r", "--convocatoria", folder / "convocatoria.yaml")
    assert p.returncode == 2 and "medio-ejemplo" in p.stderr
    p = run_cli("report", out, "--out", tmp_path / "r", "--convocatoria", "iem-michoacan-2024")
    assert p.returncode == 0, p.stderr


# ----------------------------------------------------------------------------------------- paths

@pytest.mark.parametrize("key, value", [("documents", "{diagram: /etc/hostname}"),
                                        ("documents", "{diagram: ../fuera.pdf}"),
                                        ("http", "{ca_bundle: /etc/ssl/certs/ca-certificates.crt}"),
                                        ("package", "/etc")])
def test_paths_outside_the_profile_folder(tmp_path, key, value):
    (tmp_path / "fuera.pdf").write_bytes(b"%PDF-1.4")
    folder = tmp_path / "p"
    folder.mkdir()
    prof = folder / "perfil.yaml"
    prof.write_text(f"id: medio\nsites: {{test: 'https://prep.medio.example/'}}\n{key}: {value}\n")
    p = run_cli("validate", prof)
    assert p.returncode == 2 and f"perfil.yaml:3: {key}" in p.stderr and "--trust-profile" in p.stderr, p.stderr
    p = run_cli("run", "--profile", prof, "--out", tmp_path / "o", "--only", "III.3")
    assert p.returncode == 2 and not (tmp_path / "o" / "results.json").exists()
    p = run_cli("validate", prof, "--trust-profile")
    assert p.returncode == 0, p.stderr


def test_symlink_out_of_the_folder(tmp_path):
    folder = tmp_path / "p"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "logo.svg").symlink_to("/etc/passwd")
    prof = folder / "perfil.yaml"
    prof.write_text("id: medio\nsites: {test: 'https://prep.medio.example/'}\ndocuments: {logo: docs/logo.svg}\n")
    p = run_cli("run", "--profile", prof, "--out", tmp_path / "o", "--only", "II.3.a.ii")
    assert p.returncode == 2 and "documents.logo" in p.stderr and "symbolic link" in p.stderr
    p = run_cli("validate", prof, "--trust-profile")
    assert p.returncode == 0, p.stderr


def test_watch_and_memoria_take_the_same_pin_and_trust(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    _substitute(folder)
    prof = folder / "perfil.yaml"
    prof.write_text("id: medio\nsites: {test: 'https://prep.medio.example/'}\nconvocatoria: convocatoria.yaml\n")
    p = run_cli("watch", "--profile", prof, "--db", tmp_path / "w.db", "--duration", "1",
                "--convocatoria", "iem-michoacan-2024", "--trust-profile")
    assert p.returncode == 2 and "perfil.yaml:3: convocatoria:" in p.stderr and not (tmp_path / "w.db").exists()
    p = run_cli("memoria", "--profile", prof, "--access-log", tmp_path / "none.log", "--out", tmp_path / "m")
    assert p.returncode == 2 and "--trust-profile" in p.stderr


# ----------------------------------------------------------------------------------------- CDN providers

def test_provider_purges_read_no_credential_of_this_machine_untrusted(tmp_path, monkeypatch):
    from prep_conformance import trust
    from prep_conformance.probes import cdn as purge_probe
    from prep_conformance.profile import load_profile
    monkeypatch.delenv("PREP_TRUST_PROFILE", raising=False)
    monkeypatch.delenv("PREP_ALLOW_API_BASE", raising=False)
    monkeypatch.setenv("FASTLY_TOKEN", SECRET)
    site = "sites: {test: 'https://prep.medio.example/'}\n"
    cases = {"fastly": "cdn: {purge: {method: fastly, service_id: S, token_env: FASTLY_TOKEN}}\n",
             "cloudfront": "cdn: {purge: {method: cloudfront, distribution_id: E123}}\n"}
    for method, extra in cases.items():
        p = tmp_path / f"{method}.yaml"
        p.write_text(f"id: {method}\n" + site + extra)
        with pytest.raises(trust.TrustRefused) as exc:
            purge_probe.authorize(load_profile(p))
        assert "--trust-profile" in exc.value.summary_en and SECRET not in str(exc.value)
    # consent: the token is read, for the provider's own API host only
    prof = load_profile(tmp_path / "fastly.yaml", trust=trust.TRUSTED)
    assert trust.secret(prof, "FASTLY_TOKEN", "https://api.fastly.com/", "t", method="fastly") == SECRET
    assert not trust.allowed_destination(prof, "http://127.0.0.2:9/", method="fastly")

"""The lab's life cycle on real servers: up, up again, status, kill -9, down; and what it serves.

The life-cycle tests use their own state folders and port bases, so they never disturb the shared lab
other engineers' tests run against.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from prep_conformance import paquete
from prep_conformance.lab import Lab, LabError
from prep_conformance.lab.procs import alive
from prep_conformance.profile import load_profile

pytestmark = pytest.mark.lab
ROOT = Path("/var/lib/prep-conformance")
SOME = ["compliant", "header-trap", "cert-expired"]


def _need_root():
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")


def _https(host: str, port: int, path: str, ca: str | None, method: str = "GET") -> tuple[int, dict, bytes]:
    """A tiny HTTPS/1.0 client that connects to 127.0.0.1 but sends SNI/Host ``host`` (no DNS involved)."""
    ctx = ssl.create_default_context(cafile=ca) if ca else ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            s.sendall(f"{method} {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@pytest.fixture(scope="module")
def own_lab():
    """A private lab (3 scenarios) for the life-cycle tests."""
    _need_root()
    lab = Lab(ROOT / f"lab-test-{os.getpid()}", port_base=23000)
    try:
        lab.up(SOME, log=lambda *a: None)
        yield lab
    finally:
        if not lab.down(log=lambda *a: None)["errors"]:
            shutil.rmtree(lab.state, ignore_errors=True)


def test_up_writes_valid_profiles_and_records_processes(own_lab):
    st = own_lab.status()
    assert st["status"] == "up" and st["ok"], st["problems"]
    names = {p["name"] for p in st["processes"]}
    assert {"nginx", "varnishd"} <= names
    assert all(p["alive"] for p in st["processes"])
    for sid in SOME:
        prof = load_profile(own_lab.profile_path(sid))
        assert prof.id == sid
        assert prof.sites.test.startswith(f"https://{sid}.lab.prep.example:")
        assert prof.http.resolve == {f"{sid}.lab.prep.example": "127.0.0.1"}
        assert prof.package and paquete.load_paquete(prof.package).secuencia == 3
    conv = (own_lab.state / "convocatoria-lab.yaml").read_text()
    assert "iem-michoacan-2024" in conv
    start = dt.datetime.fromisoformat(json.loads((own_lab.state / "lab.json").read_text())["window"][0])
    assert start > dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=10)


def test_up_twice_is_harmless(own_lab):
    before = {p["name"]: p["pid"] for p in own_lab.status()["processes"]}
    st = own_lab.up(SOME, log=lambda *a: None)
    assert not st.get("started_now")
    assert {p["name"]: p["pid"] for p in st["processes"]} == before


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_serves_the_scenarios(own_lab):
    rec = json.loads((own_lab.state / "lab.json").read_text())
    ports = {k: v for k, v in rec["ports"].items()}
    ca = str(own_lab.state / "pki" / "ca.pem")
    host = "compliant.lab.prep.example"
    code, h, body = _https(host, ports["compliant:front_https"], "/json/main.json", ca)
    assert code == 200 and h["cache-control"] == "no-cache, no-store, must-revalidate"
    assert h["x-cache"] == "MISS" and "age" in h and "varnish" in h["via"].lower()
    assert json.loads(body)["secuencia"] == 3
    _https(host, ports["compliant:front_https"], "/index.html", ca)
    code, h, body = _https(host, ports["compliant:front_https"], "/index.html", ca)
    assert h["x-cache"] == "HIT" and b"Corte: 02/06/2024 20:40 (UTC-6)" in body
    # PURGE: refused through the public front, accepted at the edge from loopback, then a MISS
    assert _https(host, ports["compliant:front_https"], "/index.html", ca, method="PURGE")[0] == 403
    edge = f"http://127.0.0.1:{ports['compliant:edge']}"
    assert requests.request("PURGE", f"{edge}/index.html", timeout=5).status_code == 200
    assert requests.get(f"{edge}/index.html", timeout=5).headers["X-Cache"] == "MISS"
    assert requests.request("BAN", f"{edge}/", timeout=5).status_code == 200
    # the HTTP front redirects to HTTPS
    r = requests.get(f"http://127.0.0.1:{ports['compliant:front_http']}/", headers={"Host": host},
                     allow_redirects=False, timeout=5)
    assert r.status_code == 301 and r.headers["Location"].startswith(f"https://{host}:")
    # the add_header trap: origin and edge both lack Cache-Control on main.json
    r = requests.get(f"http://127.0.0.1:{ports['header-trap:origin_http']}/json/main.json", timeout=5)
    assert r.status_code == 200 and "Cache-Control" not in r.headers
    # TLS 1.1 is refused (TLS 1.2+ only)
    ctx = ssl._create_unverified_context()
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError):
        with socket.create_connection(("127.0.0.1", ports["compliant:front_https"]), timeout=5) as raw:
            ctx.wrap_socket(raw, server_hostname=host)
    # the expired certificate is refused by a verifying client
    with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        _https("cert-expired.lab.prep.example", ports["cert-expired:front_https"], "/", ca)


def test_status_reports_kill9_and_down_cleans_up(own_lab):
    st = own_lab.status()
    varnish = next(p for p in st["processes"] if p["name"] == "varnishd")
    rec = json.loads((own_lab.state / "lab.json").read_text())
    recorded = [(p["pid"], p["start"]) for p in rec["procs"]] + [
        (c["pid"], c["start"]) for p in rec["procs"] for c in p["children"]]
    os.kill(varnish["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and own_lab.status()["ok"]:
        time.sleep(0.1)
    st = own_lab.status()
    assert not st["ok"]
    assert any("varnishd" in p and "not running" in p for p in st["problems"])
    out = subprocess.run([sys.executable, "-m", "prep_conformance.lab", "status", "--state", str(own_lab.state)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "DEAD" in out.stdout
    rep = own_lab.down(log=lambda *a: None)
    assert not rep["errors"], rep
    assert own_lab.status()["status"] == "down"
    time.sleep(0.2)
    assert [pid for pid, start in recorded if alive(pid, start)] == []
    for k, port in rec["ports"].items():
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"{k} still listening"
    mounts = Path("/proc/mounts").read_text()
    for r in rec["resources"]:
        if r["kind"] == "mount":
            assert f" {r['value']} " not in mounts
        if r["kind"] == "netns":
            assert not Path(f"/run/netns/{r['value']}").exists()
        if r["kind"] == "user":
            assert subprocess.run(["id", r["value"]], capture_output=True).returncode != 0
    # up again after down works (up, down, up)
    st = own_lab.up(SOME, log=lambda *a: None)
    assert st["ok"] and st.get("started_now")


def test_taken_port_is_a_clear_error():
    _need_root()
    lab = Lab(ROOT / f"lab-test-port-{os.getpid()}", port_base=23500)
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", 23501))
    blocker.listen()
    try:
        with pytest.raises(LabError, match=r"23501.*already taken|already taken.*23501"):
            lab.up(["compliant"], log=lambda *a: None)
        st = lab.status()
        assert st["status"] == "down" and st["processes"] == []
    finally:
        blocker.close()
        lab.down(log=lambda *a: None)
        shutil.rmtree(lab.state, ignore_errors=True)


def test_down_after_partial_up_and_when_not_up():
    _need_root()
    lab = Lab(ROOT / f"lab-test-partial-{os.getpid()}", port_base=23600)
    assert lab.down(log=lambda *a: None) == {"stopped": [], "removed": [], "errors": []}
    from prep_conformance.lab import Scenario
    from prep_conformance.lab import scenario as scenario_mod
    # a scenario whose nginx block is invalid: nginx refuses, the lab stops what it had started
    bad = Scenario("broken-nginx", "x", "x", nginx_extra="server { this is not nginx; }")
    orig = scenario_mod.discover
    import prep_conformance.lab.manager as manager
    manager.discover = lambda: (orig()[0] + [bad], [])
    try:
        with pytest.raises(LabError, match="nginx refused"):
            lab.up(["compliant", "broken-nginx"], log=lambda *a: None)
    finally:
        manager.discover = orig
    st = lab.status()
    assert st["status"] == "down"
    last = json.loads((lab.state / "lab.last.json").read_text())
    assert all(not alive(p["pid"], p["start"]) for p in last["procs"])
    shutil.rmtree(lab.state, ignore_errors=True)


def test_down_removes_what_a_component_registered(monkeypatch):
    """A component's namespace, mount, user, path and process go away on down, by record alone."""
    _need_root()
    import prep_conformance.lab.manager as manager
    from prep_conformance.lab import Component
    tag = f"plt{os.getpid() % 100000}"
    state = ROOT / f"lab-test-res-{os.getpid()}"
    made = {}

    class Toy(Component):
        name, order = "toy", 90

        def plan(self, ctx):
            ctx.port("lab", "toy")

        def start(self, ctx):
            ctx.register(self.name, "netns", tag)
            ctx.run(["ip", "netns", "add", tag])
            mnt = ctx.state / "toy-mnt"
            mnt.mkdir(exist_ok=True)
            ctx.register(self.name, "mount", str(mnt))
            ctx.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)])
            ctx.register(self.name, "user", tag)
            ctx.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", tag])
            junk = ctx.state / "toy-junk"
            ctx.register(self.name, "path", str(junk))
            junk.mkdir(exist_ok=True)
            port = ctx.port("lab", "toy")
            made["pid"] = ctx.spawn(self.name, "toy-http", [sys.executable, "-m", "http.server", "--bind",
                                                            "127.0.0.1", str(port)], ports=[port])
            made.update(mnt=str(mnt), junk=junk, port=port)

    real = manager.load_components
    monkeypatch.setattr(manager, "load_components", lambda: ([c for c in real()[0] if c.name in ("nginx", "varnish")] + [Toy()], []))
    lab = Lab(state, port_base=23700)
    try:
        st = lab.up(["compliant"], log=lambda *a: None)
        assert st["ok"] and any(p["name"] == "toy-http" and p["alive"] for p in st["processes"])
        assert Path(f"/run/netns/{tag}").exists()
        rep = lab.down(log=lambda *a: None)
        assert not rep["errors"], rep
        assert not Path(f"/run/netns/{tag}").exists()
        assert f" {made['mnt']} " not in Path("/proc/mounts").read_text()
        assert subprocess.run(["id", tag], capture_output=True).returncode != 0
        assert not made["junk"].exists()
        assert not alive(made["pid"])
        assert {"netns " + tag, "user " + tag, "mount " + made["mnt"]} <= set(rep["removed"])
    finally:
        lab.down(log=lambda *a: None)
        subprocess.run(["ip", "netns", "del", tag], capture_output=True)
        subprocess.run(["userdel", tag], capture_output=True)
        shutil.rmtree(state, ignore_errors=True)

"""Hostile servers for the lab: the faults of election night, one per mode, on a loopback port.

* ``silent``: accepts TCP and never sends a byte (an overloaded origin; an SSH port with no banner);
* ``drip``: a correct HTTP answer (status, ``Cache-Control`` as the convocatoria says, ``Content-Length``)
  whose body comes at one byte a second;
* ``chunked``: a correct HTTP answer whose chunked body never ends;
* ``junk``: binary garbage instead of a protocol greeting (an SSH port that is not SSH);
* ``cut``: a TCP relay to ``--upstream host:port`` that drops the connection once the client has sent
  ``--cut-after`` bytes (an SFTP upload killed half-way).

Run as a foreground process (``python -m prep_conformance.lab.hostile --mode drip --port 23100``); the
lab's ``hostile`` component starts one per scenario that asks for it. ``serve`` runs one in a thread
for tests. Connections are daemon threads; nothing here reads more than it needs.
"""

from __future__ import annotations

import argparse
import os
import socket
import socketserver
import threading
import time
from typing import Any

from .component import Component, Context

MODES = ("silent", "drip", "chunked", "junk", "cut")
CACHE_CONTROL = "no-cache, no-store, must-revalidate"


def _drain(sock: socket.socket) -> None:
    """Read the request head (or whatever comes first) so the client is waiting for an answer."""
    sock.settimeout(5)
    try:
        sock.recv(65536)
    except OSError:
        pass
    sock.settimeout(None)


def _hold(sock: socket.socket, max_s: float = 3600) -> None:
    """Keep the connection open and silent until the client goes away."""
    sock.settimeout(1.0)
    end = time.monotonic() + max_s
    while time.monotonic() < end:
        try:
            if sock.recv(65536) == b"":
                return
        except socket.timeout:
            continue
        except OSError:
            return


def _headers(extra: str) -> bytes:
    return ("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\n"
            f"Cache-Control: {CACHE_CONTROL}\r\n{extra}\r\n").encode()


class _Handler(socketserver.BaseRequestHandler):
    server: "_Server"

    def handle(self) -> None:
        s: socket.socket = self.request
        mode = self.server.mode
        try:
            if mode == "silent":
                _hold(s)
            elif mode == "drip":
                _drain(s)
                s.sendall(_headers("Content-Length: 100000\r\n"))
                body = b'{"secuencia": 1, "pad": "' + b"x" * 99960
                for b in body:
                    s.sendall(bytes([b]))
                    time.sleep(self.server.drip_s)
            elif mode == "chunked":
                _drain(s)
                s.sendall(_headers("Transfer-Encoding: chunked\r\n"))
                chunk = b"[" + b"0," * 8191 + b"\n"
                frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
                while True:
                    s.sendall(frame)
                    if self.server.chunk_pause_s:
                        time.sleep(self.server.chunk_pause_s)
            elif mode == "junk":
                for _ in range(600):
                    s.sendall(os.urandom(64).replace(b"\n", b"\x00"))
                    time.sleep(0.05)
                _hold(s)
            elif mode == "cut":
                self._relay(s)
        except OSError:
            pass

    def _relay(self, client: socket.socket) -> None:
        up = socket.create_connection(self.server.upstream, timeout=10)
        up.settimeout(None)
        sent = [0]
        done = threading.Event()

        def pump(src, dst, count):
            try:
                while not done.is_set():
                    data = src.recv(65536)
                    if not data:
                        break
                    if count:
                        room = self.server.cut_after - sent[0]
                        if len(data) >= room:
                            dst.sendall(data[:max(room, 0)])
                            sent[0] += max(room, 0)
                            break
                        sent[0] += len(data)
                    dst.sendall(data)
            except OSError:
                pass
            done.set()
            for x in (client, up):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        t = threading.Thread(target=pump, args=(up, client, False), daemon=True)
        t.start()
        pump(client, up, True)
        t.join(5)
        up.close()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, mode: str, *, host: str = "127.0.0.1", drip_s: float = 1.0,
                 chunk_pause_s: float = 0.0, upstream: tuple[str, int] | None = None, cut_after: int = 0):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode, self.drip_s, self.chunk_pause_s = mode, drip_s, chunk_pause_s
        self.upstream, self.cut_after = upstream, cut_after
        super().__init__((host, port), _Handler)


def serve(mode: str, port: int = 0, **kw: Any) -> tuple[_Server, int]:
    """Start a hostile server in a daemon thread (tests); returns it and its port. ``.shutdown()`` stops it."""
    srv = _Server(port, mode, **kw)
    threading.Thread(target=srv.serve_forever, daemon=True, name=f"hostile-{mode}").start()
    return srv, srv.server_address[1]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="prep-conformance-hostile", description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--drip-s", type=float, default=1.0)
    ap.add_argument("--chunk-pause-s", type=float, default=0.0)
    ap.add_argument("--upstream", default=None, help="host:port (mode cut)")
    ap.add_argument("--cut-after", type=int, default=0, help="bytes from the client before the cut (mode cut)")
    a = ap.parse_args(argv)
    up = None
    if a.upstream:
        h, p = a.upstream.rsplit(":", 1)
        up = (h, int(p))
    srv = _Server(a.port, a.mode, host=a.host, drip_s=a.drip_s, chunk_pause_s=a.chunk_pause_s, upstream=up,
                  cut_after=a.cut_after)
    print(f"hostile {a.mode} on {a.host}:{a.port}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()


# ---------------------------------------------------------------------------------------------- lab component


class HostileComponent(Component):
    """One hostile server per scenario that asks for it with ``options={"hostile": {...}}``:

    * ``{"web": MODE}``: the scenario's public site is the hostile server (``silent``, ``drip``,
      ``chunked``); no origin, no purge, and its HTTPS port is a loopback port nothing listens on;
    * ``{"ssh": MODE, "cut_after": N}``: its ``ssh:`` section points at the hostile server (``silent``,
      ``junk``) or at a relay to the lab's sshd that drops the connection after ``N`` client bytes
      (``cut``); the credentials and known_hosts are the lab's ``ssh-compliant`` ones.
    """

    name = "hostile"
    order = 70          # after sshd (60): the ``cut`` relay forwards to it

    @staticmethod
    def spec(sc) -> dict[str, Any]:
        return dict(sc.options.get("hostile") or {}) if "hostile" in sc.requires else {}

    def plan(self, ctx: Context) -> None:
        for sc in ctx.scenarios:
            spec = self.spec(sc)
            if spec:
                ctx.port(sc.id, "hostile")
                if "web" in spec:
                    ctx.port(sc.id, "hostile_no_https")      # allocated, never listened on

    def start(self, ctx: Context) -> None:
        import sys
        for sc in ctx.scenarios:
            spec = self.spec(sc)
            if not spec:
                continue
            port = ctx.port(sc.id, "hostile")
            mode = spec.get("web") or spec.get("ssh")
            argv = [sys.executable, "-m", "prep_conformance.lab.hostile", "--mode", mode, "--port", str(port)]
            if mode == "cut":
                argv += ["--upstream", f"127.0.0.1:{ctx.port('lab', 'sshd')}",
                         "--cut-after", str(int(spec.get("cut_after", 2_000_000)))]
            if "drip_s" in spec:
                argv += ["--drip-s", str(spec["drip_s"])]
            ctx.spawn(self.name, f"hostile-{sc.id}", argv, ports=[port])

    def profile_for(self, scenario, ctx: Context) -> dict[str, Any]:
        spec = self.spec(scenario)
        if not spec:
            return {}
        port = ctx.port(scenario.id, "hostile")
        host = ctx.host(scenario.id)
        if "web" in spec:
            site = f"http://{host}:{port}/"
            return {"sites": {"test": site, "official": site},
                    "http": {"resolve": {host: "127.0.0.1"}, "origin": None, "http_port": port,
                             "https_port": ctx.port(scenario.id, "hostile_no_https")},
                    "cdn": {"purge": None}}
        from .sshd import SshdLab, ssh_section
        lab = SshdLab(ctx.state / "sshd", port=ctx.port("lab", "sshd"))
        sec = ssh_section(lab, "ssh-compliant")
        sec.update(host="127.0.0.1", port=port, timeout_s=float(spec.get("timeout_s", 5)),
                   scratch_dir=f"{sec['upload_dir']}/.conformance-{scenario.id}",
                   known_hosts=self._known_hosts(ctx, scenario.id, sec["known_hosts"], port))
        for k in ("probe_mb", "rounds", "upload_engine"):
            if k in spec:
                sec[k] = spec[k]
        return {"ssh": sec}


    @staticmethod
    def _known_hosts(ctx: Context, sid: str, lab_file: str, port: int) -> str:
        """The lab sshd's host keys under the relay's name ``[127.0.0.1]:port`` (the relay forwards to it)."""
        from pathlib import Path
        out = ctx.state / "hostile" / f"{sid}.known_hosts"
        out.parent.mkdir(parents=True, exist_ok=True)
        src = Path(lab_file)
        lines = src.read_text().splitlines() if src.exists() else []
        keys = sorted({" ".join(ln.split()[1:3]) for ln in lines if len(ln.split()) >= 3})
        out.write_text("".join(f"[127.0.0.1]:{port} {k}\n" for k in keys))
        return str(out)


COMPONENT = HostileComponent()

"""The watch's polls are bounded: servers on loopback that never answer, drip, or never end their body."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from prep_conformance.watch.fetch import Client, error_kind


class Hostile:
    """A TCP server on 127.0.0.1 doing one bad thing per connection until closed."""

    def __init__(self, mode: str):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            conn.recv(4096)
            if self.mode == "silent":
                self.stop.wait(30)
            elif self.mode == "drip":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nCache-Control: no-cache\r\n\r\n")
                while not self.stop.is_set():
                    conn.sendall(b"{")
                    time.sleep(0.05)
            elif self.mode == "drip_headers":
                for b in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10000:
                    if self.stop.is_set():
                        break
                    conn.sendall(bytes([b]))
                    time.sleep(0.05)
            elif self.mode == "endless":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                chunk = b"x" * 65536
                while not self.stop.is_set():
                    conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.sock.close()


@pytest.mark.parametrize("mode,kind", [("silent", "timeout"), ("drip", "deadline"), ("drip_headers", "deadline"),
                                       ("endless", "too_large")])
def test_each_poll_costs_at_most_its_deadline(mode, kind):
    srv = Hostile(mode)
    client = Client(f"http://127.0.0.1:{srv.port}/")
    try:
        t0 = time.monotonic()
        g = client.get("json/main.json", deadline_s=1.5, cap=1024 * 1024, keep_body=True)
        took = time.monotonic() - t0
    finally:
        client.close()
        srv.close()
    assert took < 1.5 + 1.0, took
    assert error_kind(g) == kind, g
    assert g.body is None and g.error
    if mode == "drip":
        assert "still sending" in g.error and g.status == 200

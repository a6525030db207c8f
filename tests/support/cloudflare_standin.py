"""A local stand-in for Cloudflare's purge API: a real HTTP server on loopback, nothing more.

It follows the documented request and reply of ``POST /client/v4/zones/{zone_id}/purge_cache``:
``Authorization: Bearer <token>``, a JSON body with ``{"purge_everything": true}`` or
``{"files": [...]}`` (at most 30 URLs), and the envelope ``{"success", "errors": [{"code", "message"}],
"messages", "result": {"id"}}``. Error codes are the ones Cloudflare documents or returns for these
cases (9106 missing auth, 10000 authentication error, 7003 unknown zone, 1012 empty purge request);
the exact texts are approximations. ``on_purge`` lets a test or the lab wire the purge to a real cache
(e.g. a ``BAN`` to Varnish); ``ignore=True`` answers success and purges nothing.

    python -m tests.support.cloudflare_standin --zone Z --token-env CF_TOKEN --port 18990 \
        [--forward-ban http://127.0.0.1:16081/ --site-host prep.lab]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

MAX_FILES = 30
ROUTE = re.compile(r"^/client/v4/zones/([^/]+)/purge_cache/?$")


def _envelope(success: bool, errors=(), result: Any = None) -> dict:
    return {"success": success, "errors": [{"code": c, "message": m} for c, m in errors], "messages": [],
            "result": result}


class CloudflareStandIn:
    """Start with ``with CloudflareStandIn(token, zone) as cf: cf.api_base``; ``cf.received`` logs requests."""

    def __init__(self, token: str, zone_id: str, *, on_purge: Callable[[dict], None] | None = None,
                 ignore: bool = False, host: str = "127.0.0.1", port: int = 0):
        self.token, self.zone_id, self.on_purge, self.ignore = token, zone_id, on_purge, ignore
        self.received: list[dict] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def _reply(self, status: int, doc: dict) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("CF-RAY", uuid.uuid4().hex[:16] + "-QRO")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._reply(405, _envelope(False, [(10405, "Method not allowed for this endpoint")]))

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                auth = self.headers.get("Authorization")
                entry = {"path": self.path, "authorized": auth == f"Bearer {standin.token}", "body": None}
                standin.received.append(entry)
                m = ROUTE.match(urlsplit(self.path).path)
                if not m:
                    return self._reply(404, _envelope(False, [(7000, "No route for that URI")]))
                if not auth:
                    return self._reply(400, _envelope(False, [(9106, "Missing X-Auth-Key, X-Auth-Email or "
                                                                     "Authorization headers")]))
                if not entry["authorized"]:
                    return self._reply(403, _envelope(False, [(10000, "Authentication error")]))
                if m.group(1) != standin.zone_id:
                    return self._reply(400, _envelope(False, [(7003, "Could not route to "
                                                                     f"/zones/{m.group(1)}/purge_cache, perhaps "
                                                                     "your object identifier is invalid?")]))
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    return self._reply(400, _envelope(False, [(6007, "Malformed JSON in request body")]))
                entry["body"] = body
                keys = [k for k in ("purge_everything", "files", "tags", "hosts", "prefixes")
                        if isinstance(body, dict) and body.get(k)]
                if len(keys) != 1 or (keys == ["purge_everything"] and body["purge_everything"] is not True):
                    return self._reply(400, _envelope(False, [(1012, "Request must contain one of "
                                                                     "\"purge_everything\", \"files\", \"tags\", "
                                                                     "\"hosts\" or \"prefixes\"")]))
                if keys == ["files"] and (not isinstance(body["files"], list) or len(body["files"]) > MAX_FILES):
                    return self._reply(400, _envelope(False, [(1015, f"Request must contain at most {MAX_FILES} "
                                                                     "files")]))
                if not standin.ignore and standin.on_purge is not None:
                    try:
                        standin.on_purge(body)
                    except Exception as exc:  # the real API would answer 5xx if its backend failed
                        return self._reply(500, _envelope(False, [(1000, f"Internal error: {exc}")]))
                return self._reply(200, _envelope(True, result={"id": standin.zone_id}))

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def api_base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/client/v4"

    def start(self) -> "CloudflareStandIn":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "CloudflareStandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def forward_ban(varnish_url: str, site_host: str, timeout: float = 5.0) -> Callable[[dict], None]:
    """An ``on_purge`` that turns a Cloudflare purge into a Varnish ``BAN`` (``X-Ban-Url``) on a real edge."""

    def ban(body: dict) -> None:
        # Varnish's lab VCL bans by URL prefix: BAN /path (everything: BAN /).
        if body.get("files"):
            paths = [urlsplit(f if isinstance(f, str) else f.get("url", "")).path or "/" for f in body["files"]]
        else:
            paths = ["/"]
        base = varnish_url.rstrip("/")
        for p in paths:
            req = Request(base + p, method="BAN", headers={"Host": site_host})
            with urlopen(req, timeout=timeout) as r:
                if not 200 <= r.status < 300:
                    raise RuntimeError(f"BAN {p} answered {r.status}")

    return ban


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zone", required=True)
    ap.add_argument("--token-env", required=True, help="environment variable holding the accepted token")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--forward-ban", default=None, help="Varnish URL to BAN on each purge")
    ap.add_argument("--site-host", default="localhost")
    ap.add_argument("--ignore", action="store_true", help="answer success and purge nothing")
    a = ap.parse_args(argv)
    cb = forward_ban(a.forward_ban, a.site_host) if a.forward_ban else None
    s = CloudflareStandIn(os.environ[a.token_env], a.zone, on_purge=cb, ignore=a.ignore, port=a.port)
    print(s.api_base, flush=True)
    try:
        s.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Local stand-ins for the CDNs' purge APIs (CloudFront, Fastly, Akamai, Azure Front Door), for tests and the lab.

Each is a real HTTP server on loopback that checks credentials as its provider does, answers with the
provider's documented shapes, and drives a real Varnish edge of the lab (``EdgeDriver``) after a delay:
* CloudFront: ``moto``'s own CloudFront API (WSGI, served by werkzeug); the access key id in the SigV4
  ``Authorization`` must be the expected one; an invalidation is ``InProgress`` for ``delay_s``, then
  ``Completed`` and the paths are BANned at the edge;
* Fastly: ``Fastly-Key``; ``POST /service/{id}/purge/{key}`` (surrogate key), ``POST /purge/{host/path}``;
  ``{"status": "ok", "id"}``; ``Fastly-Soft-Purge: 1`` marks the object stale (``SOFTPURGE`` at the
  edge) and, with ``stale_s``, the edge keeps serving it that long before a hard purge;
* Akamai Fast Purge v3: EdgeGrid ``EG1-HMAC-SHA256`` verified (signature, timestamp skew, nonce reuse) by
  recomputing it with ``edgegrid-python``; ``201`` with ``estimatedSeconds``; applied after ``delay_s``;
* Azure Front Door: ``Authorization: Bearer``; ``202`` + ``Azure-AsyncOperation``/``Location``/
  ``Retry-After``; the operation answers ``InProgress`` then ``Succeeded`` after ``delay_s``.

``ignore=True`` accepts every purge and purges nothing (a CDN that says yes and does not).

    python -m prep_conformance.lab.cdn_apis fastly --port P --token-env T --service-id S \
        --edge http://127.0.0.1:E/ --site-host H [--delay 2] [--stale 10] [--ignore]
    (cloudfront: --token-env names the accepted AWS access key id, --distribution-id; akamai: --edgerc)
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Sequence
from urllib.parse import parse_qs, unquote, urlsplit
from urllib.request import Request, urlopen

# ---------------------------------------------------------------------------------------------- the edge


class EdgeDriver:
    """Purges on a lab Varnish edge: ``PURGE`` (exact URL), ``BAN`` (path prefix), ``SOFTPURGE`` (mark stale,
    needs ``SOFT_PURGE_VCL`` in the scenario). ``log`` records what was done (for tests)."""

    def __init__(self, edge_url: str, site_host: str, timeout: float = 5.0):
        self.base, self.host, self.timeout = edge_url.rstrip("/"), site_host, timeout
        self.log: list[tuple[float, str, str]] = []

    def _send(self, method: str, path: str) -> None:
        req = Request(self.base + (path if path.startswith("/") else "/" + path), method=method,
                      headers={"Host": self.host})
        with urlopen(req, timeout=self.timeout) as r:
            r.read()
        self.log.append((time.monotonic(), method, path))

    def purge(self, paths: Sequence[str], soft: bool = False) -> None:
        for p in paths:
            p = urlsplit(p).path or "/"
            if p.endswith("*"):
                self._send("BAN", p.rstrip("*") or "/")
            else:
                self._send("SOFTPURGE" if soft else "PURGE", p)

    def ban_all(self) -> None:
        self._send("BAN", "/")


def _later(delay_s: float, fn: Callable[[], None]) -> None:
    if delay_s <= 0:
        fn()
        return
    t = threading.Timer(delay_s, fn)
    t.daemon = True
    t.start()


class _Server:
    """A threading HTTP server on loopback with a handler class; ``received`` logs requests."""

    def __init__(self, handler_cls, host: str = "127.0.0.1", port: int = 0):
        self.received: list[dict[str, Any]] = []
        handler_cls.standin = self
        self.server = ThreadingHTTPServer((host, port), handler_cls)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    standin: Any = None

    def log_message(self, *a):  # quiet
        pass

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(n, 1_000_000)) if n else b""

    def _json(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


# ---------------------------------------------------------------------------------------------- Fastly


class FastlyStandIn(_Server):
    """``with FastlyStandIn(token, service_id, edge=EdgeDriver(...)) as f: f.base_url``."""

    def __init__(self, token: str, service_id: str, *, edge: EdgeDriver | None = None, delay_s: float = 0.0,
                 stale_s: float = 0.0, ignore: bool = False, port: int = 0):
        self.token, self.service_id, self.edge = token, service_id, edge
        self.delay_s, self.stale_s, self.ignore = delay_s, stale_s, ignore
        super().__init__(_FastlyHandler, port=port)

    def apply(self, paths: list[str], soft: bool) -> None:
        if self.ignore or self.edge is None:
            return
        if soft:
            _later(self.delay_s, lambda: self.edge.purge(paths, soft=True))
            if self.stale_s > 0:        # revalidation done only later: stale served until then
                _later(self.delay_s + self.stale_s, lambda: self.edge.purge(paths))
            elif self.stale_s == 0:
                pass
        else:
            _later(self.delay_s, lambda: self.edge.purge(paths))


class _FastlyHandler(_Handler):
    def do_POST(self):
        s: FastlyStandIn = self.standin
        self._body()
        path = urlsplit(self.path).path
        soft = self.headers.get("Fastly-Soft-Purge") is not None
        s.received.append({"path": path, "soft": soft, "key_ok": self.headers.get("Fastly-Key") == s.token})
        if self.headers.get("Fastly-Key") != s.token:
            return self._json(401, {"msg": "Provided credentials are missing or invalid"})
        pid = f"{int(time.time())}-{uuid.uuid4().hex[:8]}"
        m = re.match(r"^/service/([^/]+)/purge/([^/]+)$", path)
        if m:
            if m.group(1) != s.service_id:
                return self._json(404, {"msg": "Record not found", "detail": "Cannot find service"})
            # the lab objects carry no surrogate keys of their own: a key purge empties the service
            if not s.ignore and s.edge is not None:
                _later(s.delay_s, s.edge.ban_all)
            return self._json(200, {"status": "ok", "id": pid})
        if re.match(r"^/service/([^/]+)/purge_all$", path):
            if not s.ignore and s.edge is not None:
                _later(s.delay_s, s.edge.ban_all)
            return self._json(200, {"status": "ok"})
        m = re.match(r"^/purge/(.+)$", path)
        if m:
            cached = unquote(m.group(1))
            p = "/" + cached.split("/", 1)[1] if "/" in cached else "/"
            s.apply([p], soft)
            return self._json(200, {"status": "ok", "id": pid})
        return self._json(404, {"msg": "Record not found"})


# ---------------------------------------------------------------------------------------------- Akamai

EG_AUTH = re.compile(r"^EG1-HMAC-SHA256 (.+)$")


class AkamaiStandIn(_Server):
    """Fast Purge v3 with EdgeGrid verification; ``edgerc_text()`` writes the client's credentials."""

    def __init__(self, *, edge: EdgeDriver | None = None, delay_s: float = 0.0, estimated_s: int = 5,
                 ignore: bool = False, port: int = 0, client_token: str | None = None,
                 client_secret: str | None = None, access_token: str | None = None, max_skew_s: float = 120):
        self.client_token = client_token or "akab-" + uuid.uuid4().hex[:16] + "-" + uuid.uuid4().hex[:16]
        self.client_secret = client_secret or base64.b64encode(os.urandom(32)).decode()
        self.access_token = access_token or "akab-" + uuid.uuid4().hex[:16] + "-" + uuid.uuid4().hex[:16]
        self.edge, self.delay_s, self.estimated_s, self.ignore, self.max_skew_s = edge, delay_s, estimated_s, ignore, max_skew_s
        self.nonces: set[str] = set()
        super().__init__(_AkamaiHandler, port=port)

    def edgerc_text(self, section: str = "default") -> str:
        host, port = self.server.server_address[:2]
        return (f"[{section}]\nclient_secret = {self.client_secret}\nhost = {host}:{port}\n"
                f"access_token = {self.access_token}\nclient_token = {self.client_token}\n")

    def verify(self, method: str, url: str, headers, body: bytes) -> str | None:
        """None when the EdgeGrid signature is Akamai-valid; else the reason (as Akamai's 401 detail)."""
        from akamai.edgegrid.edgegrid import EdgeGridAuthHeaders
        m = EG_AUTH.match(headers.get("Authorization") or "")
        if not m:
            return "Missing or malformed Authorization header"
        fields = dict(kv.split("=", 1) for kv in m.group(1).split(";") if "=" in kv)
        if fields.get("client_token") != self.client_token or fields.get("access_token") != self.access_token:
            return "Invalid client token or access token"
        ts, nonce = fields.get("timestamp", ""), fields.get("nonce", "")
        try:
            when = dt.datetime.strptime(ts, "%Y%m%dT%H:%M:%S+0000").replace(tzinfo=dt.timezone.utc)
        except ValueError:
            return "Invalid timestamp"
        if abs((dt.datetime.now(dt.timezone.utc) - when).total_seconds()) > self.max_skew_s:
            return "Invalid timestamp (outside the allowed skew)"
        if nonce in self.nonces:
            return "Nonce reused"

        class R:  # what EdgeGridAuthHeaders reads of a request
            pass
        r = R()
        r.method, r.url, r.body = method, url, body
        r.headers = {k: v for k, v in headers.items()}
        expected = EdgeGridAuthHeaders(self.client_token, self.client_secret, self.access_token).make_auth_header(
            r, ts, nonce)
        got_sig = fields.get("signature", "")
        if not hmac.compare_digest(expected.rsplit("signature=", 1)[-1], got_sig):
            return "The signature does not match"
        self.nonces.add(nonce)
        return None


class _AkamaiHandler(_Handler):
    def do_POST(self):
        s: AkamaiStandIn = self.standin
        body = self._body()
        url = f"http://{self.headers.get('Host')}{self.path}"
        why = s.verify("POST", url, self.headers, body)
        path = urlsplit(self.path).path
        s.received.append({"path": path, "signed_ok": why is None})
        if why:
            return self._json(401, {"type": "https://problems.luna.akamaiapis.net/-/pep-authn/deny",
                                    "title": "Not authorized", "status": 401, "detail": why,
                                    "instance": f"https://akab.luna.akamaiapis.net{path}"})
        m = re.match(r"^/ccu/v3/(invalidate|delete)/(url|cpcode|tag)/(staging|production)$", path)
        if not m:
            return self._json(404, {"title": "Not found", "status": 404, "detail": "Unknown purge endpoint"})
        try:
            objects = json.loads(body or b"{}").get("objects")
        except (ValueError, AttributeError):
            objects = None
        if not isinstance(objects, list) or not objects:
            return self._json(400, {"title": "Bad request", "status": 400, "detail": "objects: must be a "
                                    "non-empty array", "httpStatus": 400})
        support = "17PY" + uuid.uuid4().hex[:20]
        if not s.ignore and s.edge is not None:
            kind = m.group(2)
            if kind == "url":
                _later(s.delay_s, lambda: s.edge.purge([str(o) for o in objects]))
            else:           # a CP code or a cache tag covers the whole lab site
                _later(s.delay_s, s.edge.ban_all)
        return self._json(201, {"httpStatus": 201, "detail": "Request accepted",
                                "estimatedSeconds": s.estimated_s, "purgeId": str(uuid.uuid4()),
                                "supportId": support})


# ---------------------------------------------------------------------------------------------- Azure


class AzureStandIn(_Server):
    """AFD endpoint purge: 202, then an async operation that succeeds after ``delay_s``."""

    def __init__(self, token: str, *, edge: EdgeDriver | None = None, delay_s: float = 2.0, ignore: bool = False,
                 port: int = 0):
        self.token, self.edge, self.delay_s, self.ignore = token, edge, delay_s, ignore
        self.ops: dict[str, float] = {}
        super().__init__(_AzureHandler, port=port)


AZ_PURGE = re.compile(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Cdn/profiles/([^/]+)"
                      r"/afdEndpoints/([^/]+)/purge$", re.I)
AZ_OP = re.compile(r"^/subscriptions/([^/]+)/providers/Microsoft\.Cdn/locations/global/operationresults/([^/]+)$",
                   re.I)


class _AzureHandler(_Handler):
    def _authorized(self) -> bool:
        s: AzureStandIn = self.standin
        if self.headers.get("Authorization") == f"Bearer {s.token}":
            return True
        self._json(401, {"error": {"code": "AuthenticationFailed" if self.headers.get("Authorization")
                                   else "AuthenticationFailedMissingToken",
                                   "message": "Authentication failed."}},
                   {"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/"'})
        return False

    def do_POST(self):
        s: AzureStandIn = self.standin
        body = self._body()
        parts = urlsplit(self.path)
        s.received.append({"path": parts.path, "auth_ok": self.headers.get("Authorization") == f"Bearer {s.token}"})
        if not self._authorized():
            return
        m = AZ_PURGE.match(parts.path)
        if not m:
            return self._json(404, {"error": {"code": "NotFound", "message": "Resource not found."}})
        if not parse_qs(parts.query).get("api-version"):
            return self._json(400, {"error": {"code": "MissingApiVersionParameter",
                                              "message": "The api-version query parameter is required."}})
        try:
            paths = json.loads(body or b"{}").get("contentPaths")
        except (ValueError, AttributeError):
            paths = None
        if not isinstance(paths, list) or not paths:
            return self._json(400, {"error": {"code": "BadRequest", "message": "contentPaths is required."}})
        op = str(uuid.uuid4())
        s.ops[op] = time.monotonic() + s.delay_s
        if not s.ignore and s.edge is not None:
            _later(s.delay_s, lambda: s.edge.purge([str(p) for p in paths]))
        api = parse_qs(parts.query)["api-version"][0]
        base = f"http://{self.headers.get('Host')}/subscriptions/{m.group(1)}/providers/Microsoft.Cdn/locations/global"
        self.send_response(202)
        self.send_header("Azure-AsyncOperation", f"{base}/operationresults/{op}?api-version={api}")
        self.send_header("Location", f"{base}/operationresults/{op}?api-version={api}&monitor=true")
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        s: AzureStandIn = self.standin
        if not self._authorized():
            return
        m = AZ_OP.match(urlsplit(self.path).path)
        if not m or m.group(2) not in s.ops:
            return self._json(404, {"error": {"code": "NotFound", "message": "Operation not found."}})
        done = time.monotonic() >= s.ops[m.group(2)]
        return self._json(200, {"name": m.group(2), "status": "Succeeded" if done else "InProgress",
                                "startTime": dt.datetime.now(dt.timezone.utc).isoformat()})


# ---------------------------------------------------------------------------------------------- CloudFront


class CloudFrontStandIn:
    """moto's CloudFront API on loopback; invalidations stay ``InProgress`` ``delay_s``, then BAN the edge.

    ``distribution_id`` is created at start (moto's own ``create_distribution``)."""

    def __init__(self, access_key: str, *, edge: EdgeDriver | None = None, delay_s: float = 2.0,
                 ignore: bool = False, port: int = 0, distribution_id: str | None = None):
        self.access_key, self.edge, self.delay_s, self.ignore = access_key, edge, delay_s, ignore
        self.want_id = distribution_id
        self.received: list[dict[str, Any]] = []
        self.distribution_id = ""
        self._port = port
        self.server = None

    def _app(self):
        from moto.server import DomainDispatcherApplication, create_backend_app
        app = DomainDispatcherApplication(create_backend_app)
        standin = self

        def wsgi(environ, start_response):
            auth = environ.get("HTTP_AUTHORIZATION", "")
            m = re.search(r"Credential=([^/]+)/", auth)
            standin.received.append({"path": environ.get("PATH_INFO"), "key_ok": bool(m and m.group(1) ==
                                                                                      standin.access_key)})
            if not m or m.group(1) != standin.access_key:
                body = (b'<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type>'
                        b'<Code>InvalidClientTokenId</Code><Message>The security token included in the request '
                        b'is invalid.</Message></Error></ErrorResponse>')
                start_response("403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
                return [body]
            return app(environ, start_response)

        return wsgi

    def _patch(self) -> None:
        from moto.cloudfront import models
        standin = self
        original = models.CloudFrontBackend.create_invalidation

        def create_invalidation(backend, dist_id, paths, caller_ref):
            for inv in backend.invalidations.get(dist_id, []):     # CloudFront: same reference, same batch
                if inv.caller_ref == caller_ref:
                    return inv
            inv = original(backend, dist_id, paths, caller_ref)
            inv.status = "InProgress"

            def done():
                if not standin.ignore and standin.edge is not None:
                    standin.edge.purge(list(paths))
                inv.status = "Completed"
            _later(standin.delay_s, done)
            return inv

        models.CloudFrontBackend.create_invalidation = create_invalidation
        self._original = original

    def start(self) -> "CloudFrontStandIn":
        from werkzeug.serving import make_server
        self._patch()
        self.server = make_server("127.0.0.1", self._port, self._app(), threaded=True)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        self.distribution_id = self._create_distribution()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def _create_distribution(self) -> str:
        import boto3
        c = boto3.client("cloudfront", endpoint_url=self.base_url, region_name="us-east-1",
                         aws_access_key_id=self.access_key, aws_secret_access_key="standin-secret")
        r = c.create_distribution(DistributionConfig={
            "CallerReference": str(uuid.uuid4()), "Comment": "prep-conformance lab", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "origin", "DomainName": "origin.lab.prep.example",
                                                  "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                                                         "OriginProtocolPolicy": "http-only"}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "origin", "ViewerProtocolPolicy": "allow-all",
                                     "MinTTL": 60}})
        made = r["Distribution"]["Id"]
        if not self.want_id:
            return made
        from moto.cloudfront.models import cloudfront_backends
        for account in list(cloudfront_backends.keys()):
            for region in list(cloudfront_backends[account].keys()):
                backend = cloudfront_backends[account][region]
                dist = backend.distributions.pop(made, None)
                if dist is not None:          # the id the lab wrote into the profile
                    dist.distribution_id = dist.id = self.want_id
                    backend.distributions[self.want_id] = dist
                    return self.want_id
        return made

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        from moto.cloudfront import models
        if getattr(self, "_original", None) is not None:
            models.CloudFrontBackend.create_invalidation = self._original

    def __enter__(self) -> "CloudFrontStandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------- CLI (the lab)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("provider", choices=("cloudfront", "fastly", "akamai", "azure"))
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token-env", help="environment variable holding the accepted token / AWS access key id")
    ap.add_argument("--service-id", default="SERVICE")
    ap.add_argument("--edgerc", help="akamai: the client's .edgerc (the credentials to accept)")
    ap.add_argument("--distribution-id", help="cloudfront: the distribution's id")
    ap.add_argument("--edge", help="Varnish edge URL to drive")
    ap.add_argument("--site-host", default="localhost")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--stale", type=float, default=0.0)
    ap.add_argument("--estimated", type=int, default=5)
    ap.add_argument("--ignore", action="store_true")
    a = ap.parse_args(argv)
    edge = EdgeDriver(a.edge, a.site_host) if a.edge else None
    token = os.environ.get(a.token_env or "", "")
    if a.provider == "fastly":
        s = FastlyStandIn(token, a.service_id, edge=edge, delay_s=a.delay, stale_s=a.stale, ignore=a.ignore,
                          port=a.port)
    elif a.provider == "akamai":
        # the client's credentials as the lab wrote them into its .edgerc (section default)
        from akamai.edgegrid import EdgeRc
        rc = EdgeRc(a.edgerc) if a.edgerc else None
        kw = {k: rc.get("default", k) for k in ("client_token", "client_secret", "access_token")} if rc else {}
        s = AkamaiStandIn(edge=edge, delay_s=a.delay, estimated_s=a.estimated, ignore=a.ignore, port=a.port, **kw)
    elif a.provider == "azure":
        s = AzureStandIn(token, edge=edge, delay_s=a.delay, ignore=a.ignore, port=a.port)
    else:
        s = CloudFrontStandIn(token, edge=edge, delay_s=a.delay, ignore=a.ignore, port=a.port,
                              distribution_id=a.distribution_id)
    s.start()
    print(s.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        s.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

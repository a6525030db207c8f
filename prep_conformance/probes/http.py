"""The HTTP seam: every request this tool sends to a difusor's site goes through here.

One ``Client`` per difusor holds what a request to that site needs, in one place: the profile's host
pinning (``http.resolve``; like ``curl --resolve``, the connection goes to the pinned address while SNI and
certificate hostname verification use the real name, through urllib3 2's ``server_hostname`` /
``assert_hostname`` pool kwargs set by ``PinnedAdapter``), trust (system CAs plus ``http.ca_bundle``), the
TLS-fallback policy (content is fetched again without verification when only the certificate failed:
II.2.d.https judges the certificate, the content requirements are still judged), the deadlines and body
caps of the convocatoria's ``fetch:`` section (``probes.bounded``), the per-site breaker, and kept-alive
connections reused across the checks of the difusor. Redirects are never followed implicitly.

Probes that need a ``requests`` session (the integrity pass, the purge, the burst, the load pre-flight)
get it from ``session()``: the same adapter, the same bounds. One observation type: ``HttpObservation``.
"""

from __future__ import annotations

import functools
import hashlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from ..errors import CheckError
from . import bounded

USER_AGENT = "prep-conformance/0.1 (+PREP difusor conformance harness)"
DEFAULT_POOL = 16

MAX_BODY = 32 * 1024 * 1024
SECRET_HEADERS = ("set-cookie", "authorization", "proxy-authorization", "cookie")


@dataclass(frozen=True)
class HttpObservation:
    """One HTTP exchange as seen on the wire.

    Attributes:
        variant: what was asked (``edge-GET``, ``origin-conditional`` ...).
        url: the URL requested; ``connected_to`` the ``ip:port`` actually used (pinning shown).
        method: GET or HEAD; ``request_headers`` the notable ones sent (conditional validators).
        status: the status code, or None when no response came (then ``error``/``error_kind``).
        reason, http_version: from the status line.
        headers: every response header line, in order, original case, duplicates kept.
        body_sha256, body_len: of the body read (GET only); ``body_sample`` its first bytes as text when
            asked (``sample_bytes``), for fingerprints and login-page detection.
        elapsed_s: time to the full response.
        error_kind: ``connect`` | ``timeout`` | ``tls`` | ``protocol`` | None.
        tls_unverified: why the certificate did not verify, when the answer was fetched without verification.
        body_cut: the body was not read to its end (deadline or size cap; ``bounded.Cut`` says which).
        body: the whole body, only when the caller asked to keep it and it was read to its end (the watch
            reads main.json and the reference's manifest from it); never in evidence.
    """

    variant: str
    url: str
    method: str
    status: int | None
    reason: str = ""
    http_version: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body_sha256: str | None = None
    body_len: int = 0
    elapsed_s: float = 0.0
    connected_to: str = ""
    request_headers: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    error_kind: str | None = None
    observed_at: float = field(default_factory=time.time)
    body_sample: str = ""
    tls_unverified: str | None = None
    body_cut: bounded.Cut | None = None
    body: bytes | None = field(default=None, repr=False, compare=False)

    def getlist(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), one per line received."""
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def get(self, name: str) -> str | None:
        """The field value with duplicate lines merged by ``, `` (RFC 9110 §5.3), or None."""
        vals = self.getlist(name)
        return ", ".join(vals) if vals else None

    def raw_lines(self, names: tuple[str, ...] | None = None) -> list[str]:
        """``Name: value`` lines as received (secret-bearing headers redacted)."""
        out = []
        for k, v in self.headers:
            if names is not None and k.lower() not in names:
                continue
            out.append(f"{k}: {'[redactado]' if k.lower() in SECRET_HEADERS else v}")
        return out

    @property
    def status_line(self) -> str:
        if self.status is None:
            return f"(sin respuesta / no response: {self.error})"
        return f"{self.http_version} {self.status} {self.reason}".strip()

    def to_evidence(self) -> dict[str, Any]:
        ev: dict[str, Any] = {"url": self.url, "method": self.method, "connected_to": self.connected_to,
                              "status_line": self.status_line, "headers": self.raw_lines()}
        if self.request_headers:
            ev["request_headers"] = [f"{k}: {v}" for k, v in self.request_headers]
        if self.body_sha256:
            ev["body_sha256"] = self.body_sha256
            ev["body_bytes"] = self.body_len
        ev["elapsed_s"] = round(self.elapsed_s, 4)
        if self.error:
            ev["error"] = self.error
        if self.tls_unverified:
            ev["tls_unverified"] = self.tls_unverified
        if self.body_cut is not None:
            ev["body_cut"] = self.body_cut.to_evidence()
        return ev


@dataclass(frozen=True)
class Endpoint:
    """Where the web checks send their requests for one difusor (derived from the profile).

    Attributes:
        site: the public URL (edge). ``host`` its name, ``https_url``/``http_url`` the root over each
        scheme (``None`` when unknown), ``pin`` the pinned address of ``host`` (or None).
        origin: the origin URL behind the CDN, if the profile names it.
    """

    site: str
    host: str
    scheme: str
    port: int
    pin: str | None
    https_url: str
    http_url: str
    origin: str | None
    resolve: Mapping[str, str]
    ca_bundle: str | None
    timeout_s: float
    client: Any = field(default=None, compare=False, repr=False)    # the difusor's ``Client`` (one per run)
    conv: Any = field(default=None, compare=False, repr=False)      # its convocatoria (``fetch:`` limits)

    def limits(self, kind: str, url: str = "") -> bounded.Limits:
        """The bounds of a request for ``kind`` (``main_json`` | ``page`` | ``data``) to ``url``."""
        return bounded.limits_for(self.conv, kind, self.timeout_s, label=urlsplit(url).path or "/")


def _netloc(host: str, port: int, scheme: str) -> str:
    h = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return h if port == default else f"{h}:{port}"


def endpoint(profile) -> Endpoint:
    """The edge/origin URLs and ports of a profile (``http.http_port``/``https_port`` for the other scheme)."""
    url = profile.target_url
    p = urlsplit(url)
    host = (p.hostname or "").lower()
    scheme = p.scheme
    port = p.port or (443 if scheme == "https" else 80)
    h = profile.http
    https_port = port if scheme == "https" else (h.https_port or 443)
    http_port = port if scheme == "http" else (h.http_port or 80)
    https_url = urlunsplit(("https", _netloc(host, https_port, "https"), "/", "", ""))
    http_url = urlunsplit(("http", _netloc(host, http_port, "http"), "/", "", ""))
    return Endpoint(url, host, scheme, port, h.resolve.get(host), https_url, http_url, h.origin,
                    dict(h.resolve), h.ca_bundle, float(h.timeout_s))


def url_for(base: str, path: str) -> str:
    """``path`` (absolute, from the site root, as the convocatoria writes it) on ``base``'s scheme and host."""
    p = urlsplit(base)
    return urljoin(urlunsplit((p.scheme, p.netloc, "/", "", "")), path)


@functools.lru_cache(maxsize=32)
def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """System trust anchors plus the profile's bundle; hostname checking on. Built once per bundle
    (loading the system store costs ~40 ms); contexts are safe to share between connections."""
    ctx = ssl.create_default_context()
    if ca_bundle:
        ctx.load_verify_locations(cafile=ca_bundle)
    return ctx


@functools.lru_cache(maxsize=1)
def insecure_context() -> ssl.SSLContext:
    """For content only, after verification failed: the failure itself is judged by II.2.d.https."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class PinnedAdapter(bounded.TrackedAdapter):
    """Connect to pinned addresses while TLS uses the site's name for SNI and certificate verification.

    Two ways to pin: ``connect_host``/``connect_port`` send every request to one address (an origin
    reached by IP while ``server_name`` carries the site's name), or ``resolve`` maps names to addresses
    per request (like ``curl --resolve``; the URL keeps the name, so Host, SNI and the name check stay the
    site's own). Trust: ``context`` when given, else ``ssl_context(ca_bundle)`` (system CAs plus the
    profile's bundle); a request sent with ``verify=False`` uses ``insecure_context()`` (content only).
    ``pool_kw`` go to ``HTTPAdapter`` (``pool_maxsize``, ``pool_block`` ...).
    """

    def __init__(self, connect_host: str | None = None, connect_port: int | None = None,
                 server_name: str | None = None, context: ssl.SSLContext | None = None, *,
                 resolve: Mapping[str, str] | None = None, ca_bundle: str | None = None, **pool_kw: Any):
        self._connect_host = connect_host
        self._connect_port = connect_port
        self._server_name = server_name
        self._context = context
        self._resolve = {k.lower(): v for k, v in (resolve or {}).items()}
        self._ca_bundle = ca_bundle
        pool_kw.setdefault("max_retries", 0)
        super().__init__(**pool_kw)

    def context_for(self, verify) -> ssl.SSLContext:
        """The TLS context for a request's ``verify`` (False: no verification; a path: that bundle too).

        urllib3 sets ``verify_mode`` on the context it is given: a shared verifying context must only
        ever be used with ``cert_reqs=CERT_REQUIRED`` (requests does so for any ``verify`` but False).
        """
        if verify is False:
            return insecure_context()
        if self._context is not None:
            return self._context
        return ssl_context(verify if isinstance(verify, str) else self._ca_bundle)

    def pin(self, name: str) -> str | None:
        """The address ``name`` is pinned to, or None."""
        return self._connect_host or self._resolve.get(name.lower())

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        name = (host_params.get("host") or "").lower()
        sni = self._server_name
        if self._connect_host:
            host_params["host"] = self._connect_host
        elif name in self._resolve:
            host_params["host"] = self._resolve[name]
            sni = sni or name
        if self._connect_port:
            host_params["port"] = self._connect_port
        if host_params.get("scheme") == "https":
            pool_kwargs.pop("ca_certs", None)
            pool_kwargs.pop("ca_cert_dir", None)
            pool_kwargs["ssl_context"] = self.context_for(verify)
            if sni:
                pool_kwargs["server_hostname"] = sni
                pool_kwargs["assert_hostname"] = sni
        return host_params, pool_kwargs

    def cert_verify(self, conn, url, verify, cert):
        """Trust is the pool's ``ssl_context`` (system CAs plus the profile's bundle). requests would also
        point every new connection at certifi's bundle, which urllib3 then loads into the shared context
        on each TLS connect (~50 ms of CPU per connection, and a trust store nobody chose)."""
        super().cert_verify(conn, url, verify, cert)
        if url.lower().startswith("https") and verify:
            conn.ca_certs = None
            conn.ca_cert_dir = None

    def bulk_pool(self, base_url: str, size: int, verify) -> urllib3.HTTPConnectionPool:
        """A urllib3 pool to ``base_url``'s host for bulk GETs, same pinning and trust as the session.

        requests costs about twice the CPU per small GET of urllib3 alone, and the integrity pass is
        CPU-bound under the GIL on loopback (bench/integrity.py); so the bulk fetch talks urllib3.
        """
        p = urlsplit(base_url)
        name = (p.hostname or "").lower()
        port = p.port or (443 if p.scheme == "https" else 80)
        addr = self.pin(name) or name
        key = (p.scheme, addr, port, name, size, str(verify))
        pools = self.__dict__.setdefault("_bulk", {})
        if key not in pools:
            if p.scheme == "https":
                pools[key] = bounded.TrackedHTTPSConnectionPool(
                    addr, port, maxsize=size, block=True, server_hostname=name, assert_hostname=name,
                    retries=False, cert_reqs="CERT_NONE" if verify is False else "CERT_REQUIRED",
                    ssl_context=self.context_for(verify))
            else:
                pools[key] = bounded.TrackedHTTPConnectionPool(addr, port, maxsize=size, block=True, retries=False)
        return pools[key]

    def close(self) -> None:
        for pool in self.__dict__.pop("_bulk", {}).values():
            pool.close()
        super().close()

    def send(self, request, *args, **kwargs):
        if self._resolve and "Host" not in request.headers:
            netloc = urlsplit(request.url).netloc.rsplit("@", 1)[-1]
            if (urlsplit(request.url).hostname or "").lower() in self._resolve:
                request.headers["Host"] = netloc
        return super().send(request, *args, **kwargs)


def _classify(exc: BaseException) -> str:
    text = repr(exc)
    if isinstance(exc, requests.exceptions.SSLError) or "SSL" in text or "CERTIFICATE" in text.upper():
        return "tls"
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout)):
        return "timeout"
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "timed out" in text or "Timeout" in text:
            return "timeout"
        if "RemoteDisconnected" in text or "BadStatusLine" in text or "Connection aborted" in text:
            return "protocol"
        return "connect"
    return "protocol"


def _short_error(exc: BaseException) -> str:
    s = str(exc)
    for marker in ("certificate verify failed", "Connection refused", "timed out", "wrong version number",
                   "Hostname mismatch", "doesn't match", "unsupported protocol", "handshake failure"):
        if marker in s:
            idx = s.find(marker)
            start = s.rfind("(", 0, idx)
            return s[max(0, start):idx + 120].strip("() ") if start >= 0 else s[idx:idx + 160]
    return s[:300]


classify_error = _classify          # ``connect`` | ``timeout`` | ``tls`` | ``protocol``, for other probes


def session(resolve: Mapping[str, str] | None = None, ca_bundle: str | None = None, pool: int = DEFAULT_POOL, *,
            conv=None, verify: bool = True, user_agent: str = USER_AGENT,
            connect_to: tuple[str, int] | None = None, server_name: str | None = None) -> requests.Session:
    """A ``requests`` session to a difusor's site: the profile's pinning and trust (``PinnedAdapter``),
    ``pool`` kept-alive connections per host (blocking beyond), every request bounded (``BoundedSession``:
    the ``fetch:`` deadline and size cap of its URL's kind), no proxies from the environment, and no
    redirect or retry unless the caller asks. ``verify=False``: content only (a failed certificate is
    II.2.d.https's verdict). The caller closes it."""
    s = bounded.BoundedSession(conv)
    ip, port = connect_to if connect_to else (None, None)
    adapter = PinnedAdapter(ip, port, server_name, resolve=resolve, ca_bundle=ca_bundle, pool_connections=4,
                            pool_maxsize=pool, pool_block=True)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.verify = verify
    s.trust_env = False          # no proxies from the environment: traffic goes where the profile says
    s.headers["User-Agent"] = user_agent
    return s


class Client:
    """One difusor's HTTP: single requests observed as ``HttpObservation`` over kept-alive connections.

    Sessions are kept per way of connecting (the site by its pinned name; the origin by address with the
    site's name in Host and SNI) and per verification, so the checks of one difusor reuse connections
    instead of paying a TCP and TLS handshake per request. A request that fails on the protocol level on a
    connection that may have been reused (the server closed it while idle) is sent once more on a new
    connection: that failure is the keep-alive's, not the site's. ``breaker``: per site address, the
    requests that ran out their deadline (``probes.bounded.Breaker``).
    """

    def __init__(self, resolve: Mapping[str, str] | None = None, ca_bundle: str | None = None,
                 timeout_s: float = 10.0, conv=None, breaker: bounded.Breaker | None = None):
        self.resolve = {k.lower(): v for k, v in (resolve or {}).items()}
        self.ca_bundle = ca_bundle
        self.timeout_s = float(timeout_s)
        self.conv = conv
        self.breaker = breaker
        self._sessions: dict[tuple, requests.Session] = {}
        self._used: set[tuple] = set()
        self._lock = threading.Lock()

    def session(self, pool: int = DEFAULT_POOL, verify: bool = True, user_agent: str = USER_AGENT) -> requests.Session:
        """A new session with this client's pinning, trust and bounds (for probes that send many requests)."""
        return session(self.resolve, self.ca_bundle, pool, conv=self.conv, verify=verify, user_agent=user_agent)

    def _new(self, connect_to, server_name, pool: int = 8) -> requests.Session:
        """A session for one way of connecting: by the site's pinned name, or to ``connect_to`` (the origin
        by address) with ``server_name`` in SNI."""
        return session(None if connect_to else self.resolve, self.ca_bundle, pool, conv=self.conv,
                       connect_to=connect_to, server_name=server_name)

    def _shared(self, key: tuple) -> requests.Session:
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = self._new(*key)
            return self._sessions[key]

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for s in sessions:
            s.close()

    def fetch(self, url: str, method: str = "GET", *, headers: Mapping[str, str] | None = None,
              connect_to: tuple[str, int] | None = None, host_header: str | None = None,
              server_name: str | None = None, variant: str = "", read_body: bool = True,
              connect_timeout_s: float | None = None, sample_bytes: int = 0, verify: bool = True,
              limits: bounded.Limits | None = None, timeout_s: float | None = None) -> HttpObservation:
        """Send one request and observe the answer; a failure to connect is an observation, not an exception.

        ``connect_to`` (ip, port) overrides the address (an origin reached by IP while ``host_header`` /
        ``server_name`` carry the site's name). ``limits`` bound the whole exchange (``probes.bounded``;
        default: ``timeout_s`` in all and ``MAX_BODY``); a body cut by either is ``body_cut``, no answer in
        time an ``error`` that says so.
        """
        key = (tuple(connect_to) if connect_to else None, server_name)
        reused = key in self._used
        o = self._fetch(self._shared(key), url, method, headers, connect_to, host_header, variant, read_body,
                        connect_timeout_s, sample_bytes, verify, limits, timeout_s)
        self._used.add(key)
        if reused and o.status is None and o.error_kind == "protocol" and o.body_cut is None:
            with self._new(*key, pool=1) as fresh:       # a kept-alive connection the server had closed meanwhile
                o = self._fetch(fresh, url, method, headers, connect_to, host_header, variant, read_body,
                                connect_timeout_s, sample_bytes, verify, limits, timeout_s)
        return o

    def _fetch(self, s, url, method, headers, connect_to, host_header, variant, read_body, connect_timeout_s,
               sample_bytes, verify, limits, timeout_s) -> HttpObservation:
        p = urlsplit(url)
        host = (p.hostname or "").lower()
        port = p.port or (443 if p.scheme == "https" else 80)
        ip, cport = (connect_to if connect_to else (self.resolve.get(host), None))
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        sent = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity",
                "Host": host_header or p.netloc}
        sent.update(headers or {})
        connected = f"{ip or host}:{cport or port}"
        ct = connect_timeout_s if connect_timeout_s is not None else min(3.0, timeout_s)
        lim = limits or bounded.Limits(timeout_s, MAX_BODY, p.path or "/", ct)
        t0 = time.perf_counter()
        with bounded.watching(lim) as w:
            try:
                r = s.request(method, url, headers=sent, timeout=w.timeout(), allow_redirects=False,
                              stream=True, verify=verify)
            except requests.exceptions.RequestException as exc:
                kind = _classify(exc)
                cut = w.no_answer() if (w.expired or kind == "timeout") else None
                return HttpObservation(variant, url, method, None, elapsed_s=time.perf_counter() - t0,
                                       connected_to=connected, request_headers=_notable(headers),
                                       error=cut.text_en if cut else _short_error(exc),
                                       error_kind="timeout" if cut else kind, body_cut=cut)
            complete = False
            try:
                raw_pairs = _raw_header_pairs(r)
                digest, n, sample = None, 0, b""
                if read_body and method != "HEAD":
                    h = hashlib.sha256()
                    for chunk in bounded.body(r, w):
                        if len(sample) < sample_bytes:
                            sample += chunk[:sample_bytes - len(sample)]
                        n += len(chunk)
                        h.update(chunk)
                    digest = h.hexdigest() if n else None
                complete = w.cut is None and (read_body or method == "HEAD")
                version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(getattr(r.raw, "version", 11),
                                                                             "HTTP/1.1")
                return HttpObservation(variant, url, method, r.status_code, r.reason or "", version, raw_pairs,
                                       digest, n, time.perf_counter() - t0, connected, _notable(headers),
                                       body_sample=sample.decode("utf-8", "replace"), body_cut=w.cut)
            except requests.exceptions.RequestException as exc:
                return HttpObservation(variant, url, method, r.status_code, r.reason or "", "",
                                       _raw_header_pairs(r), elapsed_s=time.perf_counter() - t0,
                                       connected_to=connected, request_headers=_notable(headers),
                                       error=_short_error(exc), error_kind=_classify(exc), body_cut=w.cut)
            finally:
                if complete:
                    r.raw.release_conn()     # read to its end: the connection goes back to the pool for reuse
                r.close()                    # otherwise (cut, unread, failed) it is closed, never reused

    def _guarded(self, url: str, send) -> HttpObservation:
        """``send()`` unless the breaker says this address already ran out its deadlines; counts its cut."""
        key = _breaker_key(url, self.resolve)
        if self.breaker is not None:
            self.breaker.check(key)
        o = send()
        if self.breaker is not None:
            self.breaker.record(key, o.body_cut)
        return o

    def site(self, url: str, method: str = "GET", variant: str = "", *, tls_fallback: bool = True,
             **kw) -> HttpObservation:
        """A request to the public site (edge): the breaker first, then the TLS-fallback policy."""
        kw.setdefault("limits", bounded.limits_for(self.conv, kind_of(url, self.conv), self.timeout_s,
                                                   label=urlsplit(url).path or "/"))

        def send() -> HttpObservation:
            o = self.fetch(url, method, variant=variant, **kw)
            if tls_fallback and o.error_kind == "tls" and urlsplit(url).scheme == "https":
                o2 = self.fetch(url, method, variant=variant, verify=False, **kw)
                if o2.status is not None:
                    o = replace(o2, tls_unverified=o.error)
            return o
        return self._guarded(url, send)

    def origin(self, url: str, method: str = "GET", variant: str = "", **kw) -> HttpObservation:
        """A request to the origin (``connect_to``, Host and SNI in ``kw``), under the same breaker."""
        return self._guarded(url, lambda: self.fetch(url, method, variant=variant, **kw))


def fetch(url: str, method: str = "GET", *, resolve: Mapping[str, str] | None = None,
          ca_bundle: str | None = None, timeout_s: float = 10.0, **kw) -> HttpObservation:
    """One request on its own connection (``Client.fetch``, for callers without a difusor: tests, tools)."""
    c = Client(resolve, ca_bundle, timeout_s)
    try:
        return c.fetch(url, method, **kw)
    finally:
        c.close()


def _notable(headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in (headers or {}).items() if k.lower() not in SECRET_HEADERS)


def _raw_header_pairs(r: requests.Response) -> tuple[tuple[str, str], ...]:
    """Header lines as received: http.client keeps every line in order with its original case."""
    orig = getattr(r.raw, "_original_response", None)
    msg = getattr(orig, "msg", None)
    if msg is not None:
        return tuple((str(k), str(v)) for k, v in msg.items())
    return tuple((str(k), str(v)) for k, v in r.raw.headers.items())


def _with_client(ep: Endpoint, send):
    """``send(client)`` with the endpoint's client (one per difusor), or with one made for this request
    and closed after it (a caller without a difusor: a tool, a bench)."""
    if ep.client is not None:
        return send(ep.client)
    c = Client(ep.resolve, ep.ca_bundle, ep.timeout_s, ep.conv)
    try:
        return send(c)
    finally:
        c.close()


def fetch_site(ep: Endpoint, url: str, method: str = "GET", variant: str = "", **kw) -> HttpObservation:
    """A request to the public site (edge) with the profile's pinning, trust and bounds (``Client.site``).

    When the certificate does not verify, the request is repeated without verification so content
    requirements (II.1.e, I.3 ...) are still judged; ``tls_unverified`` says why, and II.2.d.https FAILs.
    """
    kw.setdefault("limits", ep.limits(kind_of(url, ep.conv), url))
    return _with_client(ep, lambda c: c.site(url, method, variant, **kw))


kind_of = bounded.kind_of


def _breaker_key(url: str, resolve: Mapping[str, str] | None) -> str:
    p = urlsplit(url)
    host = (p.hostname or "").lower()
    return f"{p.scheme}://{(resolve or {}).get(host, host)}:{p.port or (443 if p.scheme == 'https' else 80)}"


def fetch_origin(ep: Endpoint, path: str, method: str = "GET", variant: str = "", **kw) -> HttpObservation:
    """A request to the origin (``http.origin``) for the site's name: Host and SNI carry the site's host."""
    if not ep.origin:
        raise ValueError("no origin in the profile")
    o = urlsplit(ep.origin)
    ohost = (o.hostname or "").lower()
    oport = o.port or (443 if o.scheme == "https" else 80)
    pinned = ep.resolve.get(ohost, ohost)
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in pinned else socket.AF_INET, pinned)
        connect = (pinned, oport)
    except OSError:
        connect = None          # a name: resolved normally by the connection
    url = urljoin(urlunsplit((o.scheme, o.netloc, "/", "", "")), path)
    kw.setdefault("limits", ep.limits(kind_of(url, ep.conv), url))
    return _with_client(ep, lambda c: c.origin(url, method, variant, connect_to=connect,
                                               host_header=_netloc(ep.host, ep.port, ep.scheme),
                                               server_name=ep.host, **kw))


@dataclass(frozen=True)
class Reach:
    """Pre-flight result: which (address, port) answered a TCP connect, and how fast.

    Attributes: host, address, ports_open ({port: connect seconds}), ports_closed ({port: error}).
    """

    host: str
    address: str
    ports_open: Mapping[int, float]
    ports_closed: Mapping[int, str]


def tcp_connect(address: str, port: int, timeout_s: float) -> float:
    t0 = time.perf_counter()
    with socket.create_connection((address, port), timeout=timeout_s):
        return time.perf_counter() - t0


def reach(ep: Endpoint, connect_timeout_s: float = 3.0, probe_url: str | None = None) -> Reach:
    """Is anything listening for the site, and does it answer? Raises ``CheckError`` when neither its HTTP
    nor HTTPS port accepts a connection, or (with ``probe_url``, the site's main.json) when the site
    accepts but sends no answer, or drips it, within the request's deadline (``fetch:`` limits).

    Observed once per difusor (``observe.Observations.site``) so every web check of an unreachable or
    silent difusor is reported blocked at once instead of timing out one by one.
    """
    address = ep.pin or ep.host
    ports = [ep.port] + [p for p in (urlsplit(ep.https_url).port or 443, urlsplit(ep.http_url).port or 80)
                         if p != ep.port]
    open_, closed = {}, {}
    t = min(connect_timeout_s, ep.timeout_s)
    for port in ports:           # the site's own port first; the others only when it is closed
        try:
            open_[port] = round(tcp_connect(address, port, t), 4)
            break
        except OSError as exc:
            closed[port] = f"{type(exc).__name__}: {exc}"[:200]
    if not open_:
        raise CheckError(f"El sitio {ep.site} no responde: ningún puerto HTTP/HTTPS acepta conexión en {address}.",
                         f"The site {ep.site} is unreachable: no HTTP/HTTPS port accepts a connection at {address}.",
                         host=ep.host, address=address, ports_closed={str(k): v for k, v in closed.items()})
    if probe_url and ep.port in open_:
        o = fetch_site(ep, probe_url, "GET", variant="preflight")
        cut = o.body_cut
        if cut is not None and cut.reason in ("deadline", "no-answer"):
            where = f"{address}:{ep.port}"
            raise CheckError(f"El sitio {ep.site} acepta conexiones en {where} pero no responde a tiempo: "
                             f"{cut.text_es}.",
                             f"The site {ep.site} accepts connections at {where} but does not answer in time: "
                             f"{cut.text_en}.", host=ep.host, address=address, port=ep.port,
                             url=probe_url, deadline=cut.to_evidence())
    return Reach(ep.host, address, open_, closed)


def main_json_url(ep: Endpoint, conv, base: str | None = None) -> str:
    return url_for(base or ep.site, conv.main_json.path)


def follow(ep: Endpoint, url: str, max_hops: int = 5, variant: str = "", sample_bytes: int = 8192) -> list[HttpObservation]:
    """GET ``url`` following redirects by hand (each hop observed, pinning and trust kept)."""
    chain = []
    for _ in range(max_hops + 1):
        o = fetch_site(ep, url, "GET", variant=variant, sample_bytes=sample_bytes)
        chain.append(o)
        loc = o.get("location")
        if o.status is None or not (300 <= o.status < 400 and o.status != 304 and loc):
            break
        url = urljoin(url, loc)
    return chain

"""Bounded HTTP: the one place where every fetch gets a total deadline and a body size cap.

Socket timeouts bound each read, not a request: a server that drips a byte a second, or streams a
chunked body that never ends, keeps every read short and the request alive forever. Here a request
runs under a ``Watch``: a wall-clock deadline (connect + first byte + whole body) enforced by one
watchdog thread that shuts the request's socket down when time is up, whatever phase it is in, and a
byte cap applied while the body streams. What happened is said in words a reviewer can quote
("main.json: 512 KiB after 10 s, still sending").

How to use it (``probes.http``, ``probes.publication``, ``probes.cdn``, ``probes.ddos`` do):

* mount ``TrackedAdapter`` (or build a ``TrackedHTTP(S)ConnectionPool``): its connections report their
  socket to the fetch running in the same thread;
* wrap the request in ``with watching(limits) as w:`` and pass ``timeout=w.timeout()`` to requests;
* read the body with ``for chunk in body(response, w):``; afterwards ``w.cut`` says why it stopped
  early (``None`` when read to the end) and ``w.expired`` whether the deadline fired.

``Breaker`` (one per difusor and site) stops the same slow failure from being paid again and again:
after ``limit`` requests that ran out their deadline, later requests fail at once with that reason.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator

from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

CHUNK = 64 * 1024
DEFAULT_CONNECT_S = 3.0


@dataclass(frozen=True)
class Limits:
    """Bounds of one request: ``deadline_s`` for all of it, ``max_bytes`` of body, ``connect_s`` for the
    TCP connect alone; ``label`` names the thing fetched in messages (``main.json``, ``page``, ``data``)."""

    deadline_s: float
    max_bytes: int
    label: str = ""
    connect_s: float = DEFAULT_CONNECT_S


def limits_for(conv, kind: str, timeout_s: float | None = None, label: str = "") -> Limits:
    """The limits of ``kind`` (``main_json`` | ``page`` | ``data``) from the convocatoria's ``fetch:``
    section; a profile's ``http.timeout_s`` may only shorten the deadline, never lengthen it."""
    f = getattr(conv, "fetch", None)
    if f is None:
        from ..convocatoria import Fetch
        f = Fetch()
    deadline = float(getattr(f.deadline_s, kind))
    if timeout_s:
        deadline = min(deadline, float(timeout_s))
    return Limits(deadline, int(getattr(f.max_bytes, kind)), label or kind.replace("_", "."),
                  min(float(f.connect_s), deadline))


def kind_of(url_or_path: str, conv=None) -> str:
    """Which ``fetch:`` limits apply: ``main_json`` (the convocatoria's path), ``page`` (HTML, a folder, the
    root) or ``data`` (everything else: CSV, ZIP, images, other JSON)."""
    path = urlsplit(url_or_path).path or "/"
    path = path if path.startswith("/") else "/" + path
    mj = getattr(getattr(conv, "main_json", None), "path", "/json/main.json")
    if path == mj or path.endswith("/main.json"):
        return "main_json"
    last = path.rsplit("/", 1)[-1]
    if not last or last.lower().endswith((".html", ".htm")) or "." not in last:
        return "page"
    return "data"


def human_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


def _secs(s: float) -> str:
    return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"


@dataclass(frozen=True)
class Cut:
    """Why a response was not read to its end.

    Attributes: reason (``deadline``: time ran out while it was still arriving, ``size``: the body passed
    ``max_bytes``, ``no-answer``: not even the status line came before the deadline), label, bytes
    read, elapsed_s, and the limit that applied (seconds or bytes).
    """

    reason: str
    label: str
    bytes: int
    elapsed_s: float
    limit: float

    @property
    def text_en(self) -> str:
        what = self.label or "response"
        if self.reason == "no-answer":
            return f"{what}: no answer in {_secs(self.elapsed_s)}"
        if self.reason == "size":
            return f"{what}: more than {human_bytes(int(self.limit))} after {_secs(self.elapsed_s)}, cut at the size limit"
        return f"{what}: {human_bytes(self.bytes)} after {_secs(self.elapsed_s)}, still sending"

    @property
    def text_es(self) -> str:
        what = self.label or "respuesta"
        if self.reason == "no-answer":
            return f"{what}: sin respuesta en {_secs(self.elapsed_s)}"
        if self.reason == "size":
            return (f"{what}: más de {human_bytes(int(self.limit))} tras {_secs(self.elapsed_s)}, "
                    "cortado en el límite de tamaño")
        return f"{what}: {human_bytes(self.bytes)} tras {_secs(self.elapsed_s)}, y seguía enviando"

    def to_evidence(self) -> dict[str, Any]:
        return {"reason": self.reason, "bytes": self.bytes, "elapsed_s": round(self.elapsed_s, 3),
                "limit": self.limit, "text": self.text_en}


# ---------------------------------------------------------------------------------------------- watchdog


class Watch:
    """The deadline of one request. Sockets attached to it are shut down when the deadline passes."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.t0 = time.monotonic()
        self.deadline = self.t0 + limits.deadline_s
        self.expired = False
        self.cut: Cut | None = None
        self.bytes = 0
        self.headers_at: float | None = None
        self._socks: list[socket.socket] = []
        self._done = False
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` for requests: no single wait may outlive the deadline."""
        left = max(0.05, self.remaining())
        return min(self.limits.connect_s, left), left

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if self._done:
                return
            self._socks.append(sock)
            fire_now = self.expired
        if fire_now:
            _shutdown(sock)

    def fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            socks = list(self._socks)
        for s in socks:
            _shutdown(s)

    def finish(self) -> None:
        with self._lock:
            self._done = True
            self._socks.clear()

    def no_answer(self) -> Cut:
        """The cut to report when the request failed before any response because time ran out."""
        self.cut = Cut("no-answer", self.limits.label, 0, self.elapsed(), self.limits.deadline_s)
        return self.cut


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Watchdog:
    """One daemon thread for every deadline of the process (a heap; no thread per request)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watch]] = []
        self._cv = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, w: Watch) -> None:
        with self._cv:
            heapq.heappush(self._heap, (w.deadline, next(self._seq), w))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="prep-http-watchdog", daemon=True)
                self._thread.start()
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._heap:
                    self._cv.wait()
                when, _, w = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._cv.wait(min(delay, 60.0))
                    continue
                heapq.heappop(self._heap)
            w.fire()


_WATCHDOG = _Watchdog()
_current = threading.local()


def current() -> Watch | None:
    """The watch of the request running in this thread, if any."""
    return getattr(_current, "watch", None)


@contextlib.contextmanager
def watching(limits: Limits) -> Iterator[Watch]:
    """Run one request under ``limits``: sockets it opens or reuses in this thread are attached."""
    w = Watch(limits)
    prev = current()
    _current.watch = w
    _WATCHDOG.add(w)
    try:
        yield w
    finally:
        w.finish()
        _current.watch = prev


# ---------------------------------------------------------------------------------------------- connections


class _TrackedMixin:
    """Report the socket to the current watch when it is made (TCP connect, before any TLS) and when a
    kept-alive connection is reused for a request."""

    def _new_conn(self):
        sock = super()._new_conn()
        w = current()
        if w is not None:
            w.attach(sock)
        return sock

    def request(self, *args, **kwargs):
        w = current()
        if w is not None and getattr(self, "sock", None) is not None:
            w.attach(self.sock)
        return super().request(*args, **kwargs)


class TrackedHTTPConnection(_TrackedMixin, HTTPConnection):
    pass


class TrackedHTTPSConnection(_TrackedMixin, HTTPSConnection):
    pass


class TrackedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = TrackedHTTPConnection


class TrackedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = TrackedHTTPSConnection

    def _validate_conn(self, conn) -> None:
        """As urllib3's, without its InsecureRequestWarning for a pool made unverified on purpose: this tool
        fetches content without verification only after the certificate failed (II.2.d.https's verdict,
        noted in the evidence). Per pool, so no process-wide warnings filter is needed."""
        ctx = getattr(self, "ssl_context", None)
        if self.cert_reqs in ("CERT_NONE", ssl.CERT_NONE) or (ctx is not None and ctx.verify_mode == ssl.CERT_NONE):
            HTTPConnectionPool._validate_conn(self, conn)
            if conn.is_closed:
                conn.connect()
            return
        super()._validate_conn(conn)


class TrackedAdapter(HTTPAdapter):
    """A requests transport adapter whose pools make tracked connections (mount it, or subclass it)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": TrackedHTTPConnectionPool,
                                                   "https": TrackedHTTPSConnectionPool}


# ---------------------------------------------------------------------------------------------- body


def body(response, w: Watch) -> Iterator[bytes]:
    """The body of a streamed response (requests ``Response`` or urllib3 ``HTTPResponse``), in the
    chunks that arrive, stopped at ``w``'s deadline or byte cap (``w.cut`` then says which).

    ``read1`` returns what has arrived instead of waiting for a full buffer, so a dripping body is
    counted byte by byte and the deadline is checked between arrivals; the watchdog covers a read
    that blocks."""
    raw = getattr(response, "raw", response)
    cap = w.limits.max_bytes
    read = getattr(raw, "read1", None)
    chunks = ((lambda: read(CHUNK, decode_content=True)) if read is not None
              else (lambda: raw.read(CHUNK, decode_content=True)))
    while True:
        if w.expired or w.remaining() <= 0:
            w.cut = Cut("deadline", w.limits.label, w.bytes, w.elapsed(), w.limits.deadline_s)
            return
        try:
            chunk = chunks()
        except Exception:
            if w.expired:
                w.cut = Cut("deadline", w.limits.label, w.bytes, w.elapsed(), w.limits.deadline_s)
                return
            raise
        if not chunk:
            if w.expired:        # the watchdog closed it: an end of stream that is not the body's end
                w.cut = Cut("deadline", w.limits.label, w.bytes, w.elapsed(), w.limits.deadline_s)
            return
        if w.bytes + len(chunk) > cap:
            keep = cap - w.bytes
            if keep > 0:
                w.bytes += keep
                yield chunk[:keep]
            w.cut = Cut("size", w.limits.label, w.bytes, w.elapsed(), cap)
            return
        w.bytes += len(chunk)
        yield chunk


# ---------------------------------------------------------------------------------------------- breaker


class Breaker:
    """Per difusor: after ``limit`` requests to one place (``scheme://address:port``) ran out their
    deadline, the later ones fail at once with that reason instead of each waiting its own deadline.

    ``record(key, cut)`` counts a request that ended on a deadline (``no-answer`` or ``deadline``);
    ``check(key)`` raises ``CheckError`` naming the first such request once the limit is reached.
    """

    def __init__(self, limit: int = 2):
        self.limit = limit
        self.cuts: dict[str, list[Cut]] = {}
        self._lock = threading.Lock()

    def record(self, key: str, cut: Cut | None) -> None:
        if cut is not None and cut.reason in ("deadline", "no-answer"):
            with self._lock:
                self.cuts.setdefault(key, []).append(cut)

    def is_open(self, key: str) -> bool:
        return len(self.cuts.get(key, ())) >= self.limit

    def check(self, key: str) -> None:
        if self.is_open(key):
            from ..errors import CheckError
            cuts = self.cuts[key]
            first = cuts[0]
            raise CheckError(f"no se intentó: {len(cuts)} solicitudes a {key} ya agotaron su plazo "
                             f"(la primera: {first.text_es})",
                             f"not attempted: {len(cuts)} requests to {key} already ran out their "
                             f"deadline (the first: {first.text_en})", deadline=first.to_evidence())


# ---------------------------------------------------------------------------------------------- session


class BodyCutError(requests.exceptions.ConnectionError):
    """A response cut by its deadline or size cap (``cut`` says which), raised by ``BoundedSession`` for a
    request whose body it had to read in full: callers treat it as any other transport fault."""

    def __init__(self, cut: Cut):
        super().__init__(cut.text_en)
        self.cut = cut


class NoAnswerError(requests.exceptions.Timeout):
    """No answer before the request's deadline (``cut`` holds the words)."""

    def __init__(self, cut: Cut):
        super().__init__(cut.text_en)
        self.cut = cut


def _read_timeout(timeout) -> float | None:
    if isinstance(timeout, (int, float)):
        return float(timeout)
    if isinstance(timeout, tuple) and len(timeout) == 2 and isinstance(timeout[1], (int, float)):
        return float(timeout[1])
    return None


class BoundedSession(requests.Session):
    """A ``requests.Session`` whose every request is bounded: a caller already running under
    ``watching`` keeps its own watch; otherwise each request gets the ``fetch:`` limits of its URL's kind
    (the caller's read timeout may only shorten the deadline) and its body is read here, under the cap
    (also with ``stream=True``: the response comes back read). Adapters mounted on it should be ``TrackedAdapter``s (the default ones are)."""

    def __init__(self, conv=None):
        super().__init__()
        self.mount("http://", TrackedAdapter())
        self.mount("https://", TrackedAdapter())
        self.conv = conv

    def send(self, request, **kw):
        if current() is not None:
            return super().send(request, **kw)
        lim = limits_for(self.conv, kind_of(request.url, self.conv), _read_timeout(kw.get("timeout")),
                         label=urlsplit(request.url).path or "/")
        with watching(lim) as w:
            kw["timeout"] = w.timeout()
            kw["stream"] = True
            try:
                r = super().send(request, **kw)
            except requests.exceptions.RequestException as exc:
                if w.expired or isinstance(exc, requests.exceptions.Timeout):
                    raise NoAnswerError(w.no_answer()) from exc
                raise
            try:
                content = b"".join(body(r, w))
            except requests.exceptions.RequestException:
                r.close()
                raise
            except Exception as exc:           # urllib3 errors surface as requests' when read via iter_content
                r.close()
                raise requests.exceptions.ConnectionError(str(exc)) from exc
            if w.cut is not None:
                r.close()
                raise BodyCutError(w.cut)
            r._content = content
            r._content_consumed = True
            return r

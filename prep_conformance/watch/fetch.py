"""Bounded GETs for the watch: a total deadline (connect + headers + body) and a body cap per request.

Each difusor keeps one client: a keep-alive urllib3 pool built by the HTTP seam's adapter
(``probes.http.PinnedAdapter.bulk_pool``: ``http.resolve`` pins, SNI and certificate checks on the site's name, trust =
system CAs + ``http.ca_bundle``), so a poll of a healthy difusor costs one request on an open
connection. Every request runs under ``probes.bounded`` (a total wall-clock deadline enforced by its
watchdog, the body read as it arrives and cut at a cap), so a server that never answers, drips a byte a
second or streams an endless chunked body costs the deadline, not more. A certificate that does not verify is observed (``tls_unverified``) and the content
fetched again without verification, as the publication checks do.
"""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
from dataclasses import replace
from urllib.parse import urlsplit

import urllib3

from ..probes import bounded
from ..probes.http import HttpObservation
from ..probes import publication as pub

USER_AGENT = "prep-conformance/watch"
MAIN_JSON_CAP = 1 * 1024 * 1024            # main.json: a few kB in practice
FILE_CAP = 64 * 1024 * 1024                # a data file (ZIP of the corte)
VARIANT = "watch"                          # HttpObservation.variant of the watch's requests


def error_kind(o: HttpObservation) -> str | None:
    """What went wrong, as the watch records it: the seam's ``connect|timeout|tls|protocol``, or
    ``deadline``/``too_large`` for a body cut short by the deadline or the cap."""
    if o.error_kind is not None or o.body_cut is None:
        return o.error_kind
    return "deadline" if o.body_cut.reason == "deadline" else "too_large"


class Client:
    """Keep-alive GETs to one site (the difusor's target), bounded in time and size; thread-safe."""

    def __init__(self, base_url: str, resolve=None, ca_bundle: str | None = None, pool: int = 2):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._session = pub.make_session(resolve, ca_bundle, pool)
        self._adapter = self._session.get_adapter(self.base_url)
        self._size = pool
        self._host = urlsplit(self.base_url).netloc.rsplit("@", 1)[-1]
        self._lock = threading.Lock()

    def close(self) -> None:
        self._session.close()

    def _pool(self, verify: bool) -> urllib3.HTTPConnectionPool:
        with self._lock:
            return self._adapter.bulk_pool(self.base_url, self._size, verify)

    def get(self, rel: str, *, deadline_s: float, cap: int, keep_body: bool = False) -> HttpObservation:
        """GET ``rel`` (relative to the site root); never raises for transport faults (``error_kind``)."""
        url = pub.file_url(self.base_url, rel)
        g = self._get(url, deadline_s, cap, keep_body, verify=True)
        if g.error_kind == "tls" and url.startswith("https:"):
            g2 = self._get(url, deadline_s, cap, keep_body, verify=False)    # the seam's unverified pool: quiet
            if g2.status is not None:
                return replace(g2, tls_unverified=pub.tls_reason(g.error or "TLS"))
        return g

    def _get(self, url: str, deadline_s: float, cap: int, keep_body: bool, verify: bool) -> HttpObservation:
        """One GET under ``probes.bounded``: a watchdog shuts the socket when the deadline passes, whatever
        phase the request is in; the body is read as it arrives and cut at the cap."""
        t0 = time.monotonic()
        p = urlsplit(url)
        target = p.path + (f"?{p.query}" if p.query else "")
        label = p.path.rsplit("/", 1)[-1] or "/"
        with bounded.watching(bounded.Limits(deadline_s, cap, label, min(3.0, deadline_s))) as w:
            try:
                pool = self._pool(verify)
                connect, read = w.timeout()
                r = pool.urlopen("GET", target, headers={"Host": self._host, "User-Agent": USER_AGENT,
                                                         "Accept-Encoding": "identity", "Cache-Control": "no-cache"},
                                 preload_content=False, redirect=False, retries=False,
                                 timeout=urllib3.Timeout(connect=connect, read=read))
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if w.expired:
                    return HttpObservation(VARIANT, url, "GET", None, elapsed_s=time.monotonic() - t0,
                                           error=w.no_answer().text_en, error_kind="timeout")
                return HttpObservation(VARIANT, url, "GET", None, elapsed_s=time.monotonic() - t0, error=_short(exc),
                                       error_kind=_kind(exc))
            h = hashlib.sha256()
            chunks = []
            try:
                for chunk in bounded.body(r, w):
                    h.update(chunk)
                    if keep_body:
                        chunks.append(chunk)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                r.close()
                return HttpObservation(VARIANT, url, "GET", r.status, headers=tuple(r.headers.items()), body_len=w.bytes,
                                       elapsed_s=time.monotonic() - t0, error=_short(exc), error_kind=_kind(exc))
            headers = tuple(r.headers.items())
            if w.cut is not None:
                r.close()                   # never reuse a connection with a body still in flight
                return HttpObservation(VARIANT, url, "GET", r.status, headers=headers, body_len=w.bytes,
                                       elapsed_s=time.monotonic() - t0, error=w.cut.text_en, body_cut=w.cut)
            r.release_conn()
            return HttpObservation(VARIANT, url, "GET", r.status, headers=headers, body_sha256=h.hexdigest(),
                                   body_len=w.bytes, elapsed_s=time.monotonic() - t0,
                                   body=b"".join(chunks) if keep_body else None)


def _kind(exc: BaseException) -> str:
    text = repr(exc)
    if isinstance(exc, (urllib3.exceptions.SSLError, ssl.SSLError)) or "CERTIFICATE" in text.upper():
        return "tls"
    # urllib3's NewConnectionError is a ConnectTimeoutError by inheritance: look at refusals first
    if isinstance(exc, ConnectionRefusedError) or "refused" in text:
        return "connect"
    if isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError)) or "timed out" in text:
        return "timeout"
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connect"
    return "protocol"


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    for marker in ("Connection refused", "timed out", "certificate verify failed", "Hostname mismatch",
                   "Connection reset", "Remote end closed"):
        if marker in text:
            i = text.find(marker)
            return text[i:i + 160]
    return text[:240]

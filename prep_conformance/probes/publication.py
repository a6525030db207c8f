"""What the public site serves of the paquete (I.4, I.6, I.9): every manifest file fetched and hashed.

The fetch is concurrent with a bounded pool (one ``requests.Session``, an ``HTTPAdapter`` sized to the
worker count, a thread pool), honours the profile's ``http.resolve`` pins (SNI and certificate checks
keep the site's name; the web probe's ``PinnedAdapter`` and trust: system CAs plus ``http.ca_bundle``),
and times out every request. Only small text files keep their bodies (JSON, CSV, HTML, JS): the rules
need them; images and ZIPs keep only their digest.

A certificate that does not verify is II.2.d.https's finding, not a reason to leave I.4/I.6/I.9
unjudged: when the pre-flight fails on TLS alone, the content is fetched again without verification and
``tls_unverified`` says why (the rules add an advisory note). No answer at all stays an error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import ssl
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote, urljoin, urlsplit

import requests
import urllib3

from ..errors import CheckError
from ..paquete import MAIN_JSON, Paquete, decode_text, integrity_code, load_paquete, main_json_corte, read_csv_table
from . import bounded
from . import http as http_probe

KEEP_SUFFIXES = (".json", ".csv", ".html", ".htm", ".js", ".txt")
KEEP_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_WORKERS = 16
USER_AGENT = "prep-conformance/publication"

Progress = Callable[[int, int], None]


# ---------------------------------------------------------------------------------------------- session


def make_session(resolve: Mapping[str, str] | None = None, ca_bundle: str | None = None,
                 pool: int = DEFAULT_WORKERS, conv=None) -> requests.Session:
    """The seam's session (``probes.http.session``) with ``pool`` kept-alive connections per host."""
    return http_probe.session(resolve, ca_bundle, pool, conv=conv, user_agent=USER_AGENT)


def session_for(profile, pool: int = DEFAULT_WORKERS, conv=None) -> requests.Session:
    return make_session(profile.http.resolve, profile.http.ca_bundle, pool, conv=conv)


def file_url(base_url: str, rel: str) -> str:
    base = base_url if base_url.endswith("/") else base_url + "/"
    return urljoin(base, quote(rel.lstrip("/")))


# ---------------------------------------------------------------------------------------------- fetch


@dataclass(frozen=True)
class ServedFile(http_probe.HttpObservation):
    """One file as the site served it: the HTTP exchange (``HttpObservation``, the seam's one response
    type) and the paquete-relative ``path`` it stands for.

    Of the exchange: ``status`` (None when no response came: ``error``/``error_kind`` say why),
    ``body_sha256`` (lowercase hex, only when the status was 200), ``body_len``, ``body`` (kept for small
    text files only), ``headers`` (every line), ``elapsed_s`` (to the last body byte), ``tls_unverified``
    (why the certificate did not verify, when fetched without verification) and ``body_cut`` (not read
    to its end: deadline or size cap; then ``error_kind`` is ``timeout`` or ``size``).
    """

    path: str = ""

    @classmethod
    def of(cls, path: str, url: str, status: int | None, sha256: str | None = None, size: int | None = None,
           error: str | None = None, body: bytes | None = None,
           headers: Mapping[str, str] | Iterable[tuple[str, str]] = (), elapsed_s: float = 0.0,
           error_kind: str | None = None, tls_unverified: str | None = None,
           cut: bounded.Cut | None = None) -> "ServedFile":
        """A GET of ``url`` standing for the paquete's ``path``."""
        pairs = tuple(headers.items()) if isinstance(headers, Mapping) else tuple(headers)
        return cls(VARIANT, url, "GET", status, headers=pairs, body_sha256=sha256, body_len=size or 0,
                   elapsed_s=elapsed_s, error=error, error_kind=error_kind, tls_unverified=tls_unverified,
                   body_cut=cut, body=body, path=path)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None and self.body_sha256 is not None

    def json(self) -> Any | None:
        """The body as JSON, or None when absent or not JSON."""
        if self.body is None:
            return None
        try:
            return json.loads(decode_text(self.body)[0])
        except ValueError:
            return None

    def brief(self) -> dict[str, Any]:
        d = {"path": self.path, "status": self.status, "sha256": self.body_sha256, "size": self.body_len}
        if self.error:
            d["error"] = self.error
        return d


VARIANT = "file"                 # HttpObservation.variant of a paquete file's GET


def _digest_stream(chunks_in, keep_body: bool):
    """SHA-256 and size of a streamed body; the body itself only when asked and small enough."""
    h = hashlib.sha256()
    size = 0
    chunks: list[bytes] | None = [] if keep_body else None
    for chunk in chunks_in:
        h.update(chunk)
        size += len(chunk)
        if chunks is not None:
            if size <= KEEP_MAX_BYTES:
                chunks.append(chunk)
            else:
                chunks = None
    return h, size, chunks


def _limits(rel: str, timeout: float, conv=None) -> bounded.Limits:
    return bounded.limits_for(conv, bounded.kind_of(rel, conv), timeout, label=rel)


def _cut_file(sf: ServedFile, cut: bounded.Cut | None) -> ServedFile:
    """A file whose body was cut, named as its error. Still arriving at its deadline: not measured, as if
    no answer came (status None). Past the size cap: measured, the digest is of what came up to the cap
    (it cannot be the paquete's file); no body is kept either way."""
    if cut is None:
        return sf
    if cut.reason != "size":
        return replace(sf, status=None, body_sha256=None, body=None, error=f"Timeout: {cut.text_en}", body_cut=cut,
                       error_kind="timeout")
    return replace(sf, body=None, error=cut.text_en, body_cut=cut, error_kind="size")


def fetch_one(session: requests.Session, url: str, rel: str, timeout: float, keep_body: bool,
              redirects: bool = False, verify: bool | None = None, limits: bounded.Limits | None = None,
              conv=None) -> ServedFile:
    """GET ``url``, hashing the body as it streams; never raises for transport faults (``error`` says).

    ``verify`` None: the session's (verifying); False: content without certificate verification.
    ``limits`` (default: the ``fetch:`` limits of ``rel``'s kind, ``timeout`` at most) bound it all.
    """
    t0 = time.perf_counter()
    with bounded.watching(limits or _limits(rel, timeout, conv)) as w:
        try:
            with session.get(url, timeout=w.timeout(), stream=True, allow_redirects=redirects, verify=verify) as r:
                h, size, chunks = _digest_stream(bounded.body(r, w), keep_body)
                headers = tuple(r.raw.headers.items())     # every line, duplicates kept
                return _cut_file(ServedFile.of(rel, r.url if redirects else url, r.status_code,
                                               h.hexdigest() if r.status_code == 200 else None, size, None,
                                               b"".join(chunks) if chunks is not None else None, headers,
                                               round(time.perf_counter() - t0, 4)), w.cut)
        except requests.RequestException as exc:
            kind = http_probe.classify_error(exc)
            if w.expired or kind == "timeout":
                cut = w.no_answer()
                return ServedFile.of(rel, url, None, error=f"Timeout: {cut.text_en}", cut=cut,
                                     elapsed_s=round(time.perf_counter() - t0, 4), error_kind="timeout")
            why = tls_reason(str(exc)) if kind == "tls" else _short(exc)
            return ServedFile.of(rel, url, None, error=f"{type(exc).__name__}: {why}",
                                 elapsed_s=round(time.perf_counter() - t0, 4), error_kind=kind)


def fetch_verifying_or_not(session: requests.Session, url: str, rel: str, timeout: float, keep_body: bool,
                           redirects: bool = False, conv=None) -> tuple[ServedFile, bool | None]:
    """``fetch_one`` with verification; when only TLS failed on an https URL, again without verification.

    Returns the file (``tls_unverified`` set when fetched unverified) and the ``verify`` to use for the
    rest of the site's content (None: the session's; False: the certificate does not verify). Connection
    refused, timeouts and TLS failures that persist without verification are returned as they are.
    """
    first = fetch_one(session, url, rel, timeout, keep_body, redirects, conv=conv)
    if first.status is not None or first.error_kind != "tls" or urlsplit(url).scheme != "https":
        return first, None
    second = fetch_one(session, url, rel, timeout, keep_body, redirects, verify=False, conv=conv)
    if second.status is None:
        return first, None
    reason = (first.error or "TLS").split(": ", 1)[-1]
    return replace(second, tls_unverified=reason), False


_TLS_REASON = re.compile(r"certificate verify failed: [^'\"()]+"
                         r"|hostname '[^']+' doesn't match (?:either of )?'[^']+'(?:, '[^']+')*"
                         r"|Hostname mismatch[^'\"()]*"
                         r"|\[SSL: [A-Z_]+\] [^'\"()]+")


def tls_reason(text: str) -> str:
    """A TLS failure in a line (``certificate verify failed: self-signed certificate``), from the
    exception text requests/urllib3 wrap it in; the text shortened when no known phrase is found."""
    m = _TLS_REASON.search(text)
    if not m:
        return _short(RuntimeError(text))
    return re.sub(r"^\[SSL: CERTIFICATE_VERIFY_FAILED\] (?=certificate verify failed)", "", m.group(0).strip())


def fetch_bulk(pool: urllib3.HTTPConnectionPool, host_header: str, url: str, rel: str, timeout: float,
               keep_body: bool, limits: bounded.Limits | None = None, conv=None) -> ServedFile:
    """``fetch_one`` over a urllib3 pool (no redirects): the integrity pass's fast path."""
    t0 = time.perf_counter()
    path = urlsplit(url)
    target = path.path + (f"?{path.query}" if path.query else "")
    with bounded.watching(limits or _limits(rel, timeout, conv)) as w:
        try:
            connect_s, read_s = w.timeout()
            r = pool.urlopen("GET", target, headers={"Host": host_header, "User-Agent": USER_AGENT,
                                                     "Accept-Encoding": "identity"},
                             preload_content=False, redirect=False, retries=False,
                             timeout=urllib3.Timeout(connect=connect_s, read=read_s))
            try:
                h, size, chunks = _digest_stream(bounded.body(r, w), keep_body)
                headers = tuple(r.headers.items())
            finally:
                if w.cut is not None:
                    r.close()           # a connection left mid-body is not reusable
                r.release_conn()
            return _cut_file(ServedFile.of(rel, url, r.status, h.hexdigest() if r.status == 200 else None, size,
                                           None, b"".join(chunks) if chunks is not None else None, headers,
                                           round(time.perf_counter() - t0, 4)), w.cut)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if w.expired or isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError)):
                cut = w.no_answer()
                return ServedFile.of(rel, url, None, error=f"Timeout: {cut.text_en}", cut=cut,
                                     elapsed_s=round(time.perf_counter() - t0, 4), error_kind="timeout")
            kind = "tls" if isinstance(exc, (urllib3.exceptions.SSLError, ssl.SSLError)) else None
            return ServedFile.of(rel, url, None, error=f"{type(exc).__name__}: {_short(exc)}",
                                 elapsed_s=round(time.perf_counter() - t0, 4), error_kind=kind)


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 240 else text[:237] + "..."


def _keep(rel: str) -> bool:
    return rel.lower().endswith(KEEP_SUFFIXES)


def fetch_many(session: requests.Session, base_url: str, paths: Iterable[str], *, workers: int = DEFAULT_WORKERS,
               timeout: float = 10.0, keep: Callable[[str], bool] = _keep,
               progress: Progress | None = None, max_failures: int = 32,
               verify: bool | None = None, conv=None) -> dict[str, ServedFile]:
    """Fetch every path under ``base_url`` with at most ``workers`` requests in flight.

    ``progress(done, total)`` is called from the calling thread as results arrive. When the first
    ``max_failures`` answers are all transport faults, the rest is not attempted (marked as such).
    ``verify=False``: without certificate verification (after ``fetch_verifying_or_not`` said so).
    Every request is bounded (``conv``'s ``fetch:`` limits); once ``fetch.breaker_after`` of them ran out
    their deadline, the rest is not attempted either (a dripping site costs one deadline, not thousands).
    """
    return _fetch_many(session, base_url, paths, workers, timeout, keep, progress, max_failures, verify, conv)


def _fetch_many(session, base_url, paths, workers, timeout, keep, progress, max_failures, verify, conv=None):
    paths = list(dict.fromkeys(paths))
    out: dict[str, ServedFile] = {}
    total = len(paths)
    adapter = session.get_adapter(base_url)
    if isinstance(adapter, http_probe.PinnedAdapter):
        u3 = adapter.bulk_pool(base_url, max(1, workers), session.verify if verify is None else verify)
        host = urlsplit(base_url).netloc.rsplit("@", 1)[-1]
        get = lambda p: fetch_bulk(u3, host, file_url(base_url, p), p, timeout, keep(p), conv=conv)  # noqa: E731
    else:
        get = lambda p: fetch_one(session, file_url(base_url, p), p, timeout, keep(p), verify=verify,  # noqa: E731
                                  conv=conv)
    breaker = bounded.Breaker(conv.fetch.breaker_after if conv is not None else 2)
    failures = successes = 0
    stopped = None
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fetch") as pool:
        futs = {pool.submit(get, p): p for p in paths}
        for n, fut in enumerate(as_completed(futs), 1):
            if fut.cancelled():
                continue
            sf = fut.result()
            out[sf.path] = sf
            failures, successes = failures + (sf.status is None), successes + (sf.status is not None)
            if progress is not None:
                progress(n, total)
            breaker.record(base_url, sf.body_cut)
            if stopped is None and failures >= max_failures and successes == 0:
                # The site does not answer at all: stop instead of timing out on every file.
                stopped = f"not attempted: the first {failures} requests got no answer ({sf.error})"
                for f in futs:
                    f.cancel()
            elif stopped is None and breaker.is_open(base_url):
                stopped = (f"not attempted: {len(breaker.cuts[base_url])} requests ran out their deadline "
                           f"({breaker.cuts[base_url][0].text_en})")
                for f in futs:
                    f.cancel()
    for p in paths:
        if p not in out:
            out[p] = ServedFile.of(p, file_url(base_url, p), None, error=stopped or "not attempted")
    return out


class TerminalProgress:
    """A one-line progress counter for long runs (``\\r``-rewritten on a TTY, a line per 10 % otherwise)."""

    def __init__(self, label: str, stream=None, min_total: int = 200, min_interval_s: float = 0.2):
        self.label, self._stream = label, stream        # None: sys.stderr as it is when called
        self.min_total, self.min_interval_s = min_total, min_interval_s
        self._last, self._last_decile, self._t0 = 0.0, -1, time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if total < self.min_total:
            return
        stream = self._stream or sys.stderr
        now = time.perf_counter()
        final = done == total
        if bool(getattr(stream, "isatty", lambda: False)()):
            if final or now - self._last >= self.min_interval_s:
                self._last = now
                rate = done / max(now - self._t0, 1e-9)
                stream.write(f"\r{self.label}: {done}/{total} ({rate:.0f}/s)" + ("\n" if final else ""))
                stream.flush()
        else:
            decile = done * 10 // total
            if decile != self._last_decile:
                self._last_decile = decile
                stream.write(f"{self.label}: {done}/{total}\n")
                stream.flush()


# ---------------------------------------------------------------------------------------------- observe


@dataclass(frozen=True)
class CorteRef:
    """The corte a ``main.json`` announces (None fields when absent or malformed)."""

    secuencia: int | None
    corte_iso: str | None
    ultimo_corte: Mapping[str, Any] | None
    corte: dt.datetime | None

    @classmethod
    def from_doc(cls, doc: Any) -> "CorteRef":
        if not isinstance(doc, Mapping):
            return cls(None, None, None, None)
        seq, _ = main_json_corte(doc)          # an int, or a numeric string as some PREPs write it
        iso = doc.get("corte_iso") if isinstance(doc.get("corte_iso"), str) else None
        when = None
        if iso:
            try:
                when = dt.datetime.fromisoformat(iso)
                when = when if when.tzinfo else None
            except ValueError:
                when = None
        uc = doc.get("ultimoCorte")
        return cls(seq, iso, MappingProxyType(dict(uc)) if isinstance(uc, Mapping) else None, when)

    def brief(self) -> dict[str, Any]:
        return {"secuencia": self.secuencia, "corte_iso": self.corte_iso,
                "ultimoCorte": dict(self.ultimo_corte) if self.ultimo_corte is not None else None}


@dataclass(frozen=True)
class PaqueteRef:
    """The paquete side of a comparison: its manifest, its corte and its small text files.

    Attributes:
        source: what was loaded; ``manifest`` path → sha256; ``corte`` from its main.json;
        texts: bodies of the JSON/CSV/HTML files (for the corte-line and page rules).
    """

    source: str
    manifest: Mapping[str, str]
    corte: CorteRef
    texts: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    md5: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_paquete(cls, pq: Paquete) -> "PaqueteRef":
        texts = {}
        for rel in pq.manifest:
            if rel.lower().endswith((".json", ".csv", ".html", ".htm")):
                p = pq.path(rel)
                if p.is_file() and p.stat().st_size <= KEEP_MAX_BYTES:
                    texts[rel] = p.read_bytes()
        return cls(str(pq.source), MappingProxyType(dict(pq.manifest)), CorteRef.from_doc(pq.main_json),
                   MappingProxyType(texts), MappingProxyType(_md5_of_coded_images(pq, texts)))


def _md5_of_coded_images(pq: Paquete, texts: Mapping[str, bytes]) -> dict[str, str]:
    """MD5 of the paquete's images whose CODIGO_INTEGRIDAD is an MD5 (some OPLs publish MD5, not SHA-256):
    the acta rule compares those codes with the paquete's own bytes once the served bytes equal them."""
    out: dict[str, str] = {}
    for rel, data in texts.items():
        if not rel.lower().endswith(".csv"):
            continue
        table = read_csv_table(data)
        if table.kind != "actas" or not table.header or "CODIGO_INTEGRIDAD" not in table.header:
            continue
        ci = table.header.index("CODIGO_INTEGRIDAD")
        ri = next((table.header.index(c) for c in ("RUTA_IMAGEN", "RUTA_ACTA", "IMAGEN", "ARCHIVO")
                   if c in table.header), None)
        for row in table.rows:
            if ri is None or len(row) <= max(ci, ri) or integrity_code(row[ci])[0] != "md5":
                continue
            img = row[ri].strip().strip("'").lstrip("/")
            p = pq.path(img)
            if img in pq.manifest and img not in out and p.is_file():
                h = hashlib.md5()
                with p.open("rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                out[img] = h.hexdigest()
    return out


@dataclass(frozen=True)
class PublicationObservation:
    """Everything the publication rules judge (I.4, I.6, I.9).

    Attributes:
        base_url: the public site fetched (the profile's target).
        paquete: the newest paquete delivered (``package:``).
        served: manifest path → what the site served for it.
        served_corte: the corte of the served ``main.json``.
        reference: the paquete of the corte actually served when it is an older one found beside
            ``package:`` (integrity is then judged against it; staleness is I.4's business), else None.
        named_extra: files the served ``main.json`` names that are not in the reference manifest → served.
        elapsed_s, workers: the integrity pass's wall time and pool size.
        tls_unverified: why the site's certificate did not verify, when the content was fetched without
            verification (II.2.d.https judges the certificate; the rules only add a note).
    """

    base_url: str
    paquete: PaqueteRef
    served: Mapping[str, ServedFile]
    served_corte: CorteRef
    reference: PaqueteRef | None = None
    named_extra: Mapping[str, ServedFile] = field(default_factory=dict)
    elapsed_s: float = 0.0
    workers: int = DEFAULT_WORKERS
    tls_unverified: str | None = None

    @property
    def baseline(self) -> PaqueteRef:
        """The paquete the served bytes are compared with."""
        return self.reference or self.paquete


def named_files(doc: Any) -> list[str]:
    """Relative paths a ``main.json`` names (``archivos[].ruta`` or plain strings in ``archivos``)."""
    out: list[str] = []
    if isinstance(doc, Mapping):
        for item in doc.get("archivos") or []:
            rel = item.get("ruta") if isinstance(item, Mapping) else item if isinstance(item, str) else None
            if isinstance(rel, str) and rel and not re.match(r"^[a-z]+://", rel):
                out.append(rel.lstrip("/"))
    return out


def find_corte(package: str | Path, secuencia: int, when: dt.datetime | None = None) -> Paquete | None:
    """The paquete of corte ``secuencia`` beside ``package`` (sibling folders or archives), if delivered.

    Archives are opened only when their name says the corte: its secuencia (``corte-0006.zip``) or, as
    institutes name them, its date and time (``20240602_2200_PREP_MICH.zip``, from ``when``).
    """
    src = Path(package)
    parent = src.parent
    if not parent.is_dir():
        return None
    stamps = [f"{secuencia:04d}"]
    if when is not None:
        local = when.astimezone(dt.timezone(dt.timedelta(hours=-6))) if when.utcoffset() is None else when
        stamps.append(f"{local:%Y%m%d_%H%M}")
    for cand in sorted(parent.iterdir()):
        if cand == src:
            continue
        if not cand.is_dir() and not (cand.name.endswith((".tar.gz", ".tgz", ".zip"))
                                      and any(st in cand.name for st in stamps)):
            continue                               # archives are extracted: only a name that says the corte
        if cand.is_dir() and not (cand / MAIN_JSON).is_file():
            continue
        try:
            pq = load_paquete(cand)
        except (OSError, ValueError):
            continue
        if pq.secuencia == secuencia:
            return pq
    return None


def observe(base_url: str, package: str | Path, session: requests.Session, *, workers: int = DEFAULT_WORKERS,
            timeout: float = 10.0, progress: Progress | None = None,
            paquete: Paquete | None = None, conv=None) -> PublicationObservation:
    """Fetch every manifest file from the public site and the files its ``main.json`` names beyond it."""
    try:
        pq = paquete or load_paquete(package)
    except (OSError, ValueError) as exc:
        raise CheckError(f"No se pudo leer el paquete de difusión: {exc}",
                         f"Could not read the paquete de difusión: {exc}", package=str(package)) from None
    ref = PaqueteRef.from_paquete(pq)
    t0 = time.perf_counter()
    first, verify = fetch_verifying_or_not(session, file_url(base_url, MAIN_JSON), MAIN_JSON, timeout, True,
                                           conv=conv)
    if first.status is None or (first.body_cut is not None and first.body_cut.reason != "size"):
        # pre-flight: one timeout, not thousands (no answer, or main.json still arriving at its deadline)
        es = first.body_cut.text_es if first.body_cut is not None else first.error
        raise CheckError(f"El sitio no responde: {es}", f"The site does not answer: {first.error}",
                         url=first.url)
    served = fetch_many(session, base_url, list(ref.manifest) + [MAIN_JSON], workers=workers, timeout=timeout,
                        progress=progress, verify=verify, conv=conv)
    if served[MAIN_JSON].status is None:            # not attempted (the breaker) or lost: the pre-flight's copy
        served[MAIN_JSON] = first
    main = served.get(MAIN_JSON)
    if MAIN_JSON not in ref.manifest:
        served.pop(MAIN_JSON, None)
    served_corte = CorteRef.from_doc(main.json() if main is not None else None)
    reference = None
    if served_corte.secuencia is not None and served_corte.secuencia != ref.corte.secuencia:
        older = find_corte(package, served_corte.secuencia, served_corte.corte)
        if older is not None:
            reference = PaqueteRef.from_paquete(older)
            missing = [p for p in reference.manifest if p not in served]
            served.update(fetch_many(session, base_url, missing, workers=workers, timeout=timeout, verify=verify,
                                     conv=conv))
    baseline = reference or ref
    extra_paths = [p for p in named_files(main.json() if main is not None else None) if p not in baseline.manifest]
    named_extra = (fetch_many(session, base_url, extra_paths, workers=workers, timeout=timeout, verify=verify,
                              conv=conv) if extra_paths else {})
    elapsed = time.perf_counter() - t0
    return PublicationObservation(base_url, ref, MappingProxyType(served), served_corte, reference,
                                  MappingProxyType(named_extra), round(elapsed, 3), workers, first.tls_unverified)


LOCK_WAIT_S = 900.0


@contextlib.contextmanager
def site_lock(site_url: str, exclusive: bool, wait_s: float = LOCK_WAIT_S):
    """A lock per public site on this machine: the corte drill (exclusive) never overlaps a publication
    pass (shared) of the same site, whichever process or xdist worker runs them."""
    key = hashlib.sha1(site_url.rstrip("/").lower().encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"prep-conformance-site-{key}.lock"
    with open(path, "a+") as f:
        try:
            os.chmod(path, 0o666)
        except OSError:
            pass
        deadline = time.monotonic() + wait_s
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        while True:
            try:
                fcntl.flock(f, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CheckError(f"El sitio {site_url} sigue ocupado por otra verificación (simulacro de corte).",
                                     f"The site {site_url} is still busy with another check (corte drill).",
                                     lock=str(path)) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def observe_profile(profile, timeout: float | None = None, workers: int = DEFAULT_WORKERS,
                    progress: Progress | None = None, conv=None) -> PublicationObservation:
    """``observe`` for a difusor profile: its target site, its ``package:``, its ``http`` settings."""
    if not profile.package:
        raise CheckError("El perfil no indica el paquete de difusión (package:).",
                         "The profile names no paquete de difusión (package:).")
    with site_lock(profile.target_url, exclusive=False), session_for(profile, workers) as s:
        return observe(profile.target_url, profile.package, s, workers=workers,
                       timeout=timeout or profile.http.timeout_s, progress=progress, conv=conv)


_SCRIPT_SRC = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']""", re.I)


def fetch_page(session: requests.Session, base_url: str, timeout: float = 10.0, conv=None
               ) -> tuple[ServedFile, dict[str, ServedFile]]:
    """The page a citizen lands on (the site URL, redirects followed) and its same-site scripts by URL.

    When the certificate does not verify, both are fetched without verification (``page.tls_unverified``).
    """
    page, verify = fetch_verifying_or_not(session, base_url, "/", timeout, keep_body=True, redirects=True,
                                          conv=conv)
    scripts: dict[str, ServedFile] = {}
    breaker = bounded.Breaker(conv.fetch.breaker_after if conv is not None else 2)
    if page.ok and page.body is not None:
        host = urlsplit(page.url).netloc
        for src in _SCRIPT_SRC.findall(page.body.decode("utf-8", errors="replace"))[:20]:
            url = urljoin(page.url, src)
            if urlsplit(url).netloc == host and url not in scripts and not breaker.is_open(host):
                scripts[url] = fetch_one(session, url, src, timeout, keep_body=True, verify=verify, conv=conv)
                breaker.record(host, scripts[url].body_cut)
    return page, scripts

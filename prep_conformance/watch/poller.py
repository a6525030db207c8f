"""One poll of one difusor: main.json (status, latency, Cache-Control, corte served, lag), TLS, integrity.

Integrity is incremental: when a difusor starts serving a new corte, the files whose digest changed in
the reference manifest since the corte last verified (plus any found bad before) are fetched and compared
(the I.6 rule: byte-identical SHA-256); a poll spends at most its remaining deadline on them and the rest
waits for the next poll. Each poll also re-checks one unchanged file in turn, so a file altered in place
is found within a manifest's length of polls. ``main.json`` itself is compared with the manifest on
every poll.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from ..paquete import MAIN_JSON
from ..probes.http import HttpObservation
from ..probes.publication import CorteRef
from ..rules import caching
from ..verdict import Verdict
from .fetch import FILE_CAP, MAIN_JSON_CAP, Client, error_kind
from .reference import Reference, lag_s

KINDS = ("down", "http_error", "stale", "altered", "missing", "cache_control", "tls")


@dataclass(frozen=True)
class Sample:
    """One poll of one difusor (frozen; what the store keeps and the incident rules read).

    Attributes:
        difusor: profile id; t: epoch seconds when the poll started.
        reachable: an HTTP answer came in time; error/error_kind say why not.
        status, latency_s: of ``main.json``; cache_control: the exact header value (lines merged).
        secuencia, corte_iso: the corte served; ref_secuencia: the newest corte of the reference then;
        lag_s: how long the served corte had been superseded (0 when newest).
        tls_error: why the certificate did not verify (content fetched anyway), None when valid or HTTP.
        flags: incident kind → True (bad), False (good), None (not measurable in this poll).
        integrity: files found altered/missing (path → expected/served digest or status), files still
            pending verification, files checked in this poll.
    """

    difusor: str
    t: float
    reachable: bool
    status: int | None = None
    latency_s: float | None = None
    error: str | None = None
    error_kind: str | None = None
    cache_control: str | None = None
    secuencia: int | None = None
    corte_iso: str | None = None
    ref_secuencia: int | None = None
    lag_s: float | None = None
    tls_error: str | None = None
    flags: Mapping[str, bool | None] = field(default_factory=dict)
    integrity: Mapping[str, Any] = field(default_factory=dict)

    @property
    def up(self) -> bool:
        """The publication answered: main.json 200 within the deadline (availability counts this)."""
        return self.reachable and self.status == 200

    def evidence(self, kind: str | None = None) -> dict[str, Any]:
        """What a reviewer reads for this poll (JSON-serialisable); the integrity part for integrity kinds."""
        ev: dict[str, Any] = {"t": round(self.t, 3), "reachable": self.reachable, "status": self.status,
                              "latency_s": None if self.latency_s is None else round(self.latency_s, 4)}
        if self.error:
            ev["error"] = self.error
            ev["error_kind"] = self.error_kind
        if kind in (None, "cache_control"):
            ev["cache_control"] = self.cache_control
        if kind in (None, "stale", "altered", "missing"):
            ev.update(secuencia=self.secuencia, corte_iso=self.corte_iso, ref_secuencia=self.ref_secuencia,
                      lag_s=None if self.lag_s is None else round(self.lag_s, 1))
        if kind in (None, "tls") and self.tls_error:
            ev["tls_error"] = self.tls_error
        if kind in (None, "altered", "missing") and self.integrity:
            ev["integrity"] = dict(self.integrity)
        return ev


class Target:
    """A watched difusor: its client and the integrity state carried from poll to poll (one poll at a time)."""

    def __init__(self, difusor: str, name: str, url: str, main_json_path: str, resolve=None,
                 ca_bundle: str | None = None):
        self.id, self.name, self.url = difusor, name, url
        self.main_json = main_json_path.lstrip("/") or MAIN_JSON
        self.client = Client(url, resolve, ca_bundle)
        self.verified_seq: int | None = None
        self.pending: set[str] = set()
        self.bad: dict[str, dict[str, Any]] = {}
        self.cursor = 0
        self.lock = threading.Lock()
        self.main_cap, self.file_cap = MAIN_JSON_CAP, FILE_CAP

    @classmethod
    def from_profile(cls, profile, conv) -> "Target":
        t = cls(profile.id, profile.name, profile.target_url, conv.main_json.path, profile.http.resolve,
                profile.http.ca_bundle)
        fetch = getattr(conv, "fetch", None)          # the convocatoria's body caps (probes.bounded)
        if fetch is not None:
            t.main_cap, t.file_cap = int(fetch.max_bytes.main_json), int(fetch.max_bytes.data)
        return t

    def close(self) -> None:
        self.client.close()


def poll(target: Target, ref: Reference, *, cache_control: str, tolerance_s: float, deadline_s: float,
         now=time.time) -> Sample:
    """Poll ``target`` once; never raises for what the difusor does (it becomes the sample)."""
    with target.lock:
        return _poll(target, ref, cache_control, tolerance_s, deadline_s, now)


def _poll(target: Target, ref: Reference, cache_control: str, tolerance_s: float, deadline_s: float,
          now) -> Sample:
    t = now()
    t0 = time.monotonic()
    newest = ref.newest
    g = target.client.get(target.main_json, deadline_s=deadline_s, cap=target.main_cap, keep_body=True)
    ref_seq = newest.secuencia if newest else None
    kind = error_kind(g)
    if g.status is None or kind in ("deadline", "protocol"):
        flags = {"down": True, "tls": True} if kind == "tls" else {"down": True}
        return Sample(target.id, t, False, g.status, g.elapsed_s, g.error, kind, ref_secuencia=ref_seq,
                      tls_error=g.error if kind == "tls" else None, flags=flags)
    flags: dict[str, bool | None] = {"down": False, "http_error": g.status != 200 or kind is not None}
    flags["tls"] = bool(g.tls_unverified) if target.url.startswith("https:") else None
    judged = caching.judge_headers(replace(g, observed_at=t, body=None), cache_control)
    flags["cache_control"] = judged.verdict is Verdict.FAIL
    cc = g.get("cache-control")
    if flags["http_error"]:
        return Sample(target.id, t, True, g.status, g.elapsed_s, g.error or f"HTTP {g.status}", kind,
                      cc, ref_secuencia=ref_seq, tls_error=g.tls_unverified, flags=flags)
    try:
        doc = json.loads((g.body or b"").decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        doc = None
    corte = CorteRef.from_doc(doc)
    lag = lag_s(corte.secuencia, ref.published_at, t)
    flags["stale"] = None if lag is None else lag > tolerance_s
    integrity = _integrity(target, ref, corte.secuencia, g, t0 + deadline_s)
    if integrity is not None:
        flags["altered"] = integrity.pop("_altered")
        flags["missing"] = integrity.pop("_missing")
    return Sample(target.id, t, True, g.status, g.elapsed_s, None, None, cc, corte.secuencia, corte.corte_iso,
                  ref_seq, lag, g.tls_unverified, flags, integrity or {})


def _integrity(target: Target, ref: Reference, seq: int | None, main: HttpObservation,
               until: float) -> dict | None:
    """Verify what changed (and one unchanged file in turn) against the served corte's manifest."""
    manifest = ref.manifest(seq)
    if not manifest:
        return None
    if target.verified_seq != seq:
        prev = ref.manifest(target.verified_seq) or {}
        target.pending = {p for p, h in manifest.items() if prev.get(p) != h} | set(target.bad)
        target.pending.discard(target.main_json)
        target.bad = {}
        target.verified_seq = seq
    target.pending |= set(target.bad)          # what was bad is looked at again every poll (it may be fixed)
    checked = []
    paths = sorted(manifest)
    if paths and not target.pending:          # one unchanged file in turn: in-place alterations are found too
        target.cursor = (target.cursor + 1) % len(paths)
        if paths[target.cursor] != target.main_json:
            target.pending.add(paths[target.cursor])
    for p in sorted(target.pending):
        left = until - time.monotonic()
        if left <= 0.05:
            break
        g = target.client.get(p, deadline_s=left, cap=target.file_cap)
        if g.status is None or error_kind(g) not in (None, "too_large"):
            break                              # the site stopped answering: try the rest next poll
        target.pending.discard(p)
        checked.append(p)
        if g.status == 404 or g.status == 410:
            target.bad[p] = {"kind": "missing", "status": g.status}
        elif g.status != 200:
            target.bad[p] = {"kind": "missing", "status": g.status}
        elif g.body_sha256 != manifest[p]:
            target.bad[p] = {"kind": "altered", "expected": manifest[p], "served": g.body_sha256, "bytes": g.body_len}
        else:
            target.bad.pop(p, None)
    main_bad = target.main_json in manifest and main.body_sha256 != manifest[target.main_json]
    bad = dict(target.bad)
    if main_bad:
        bad[target.main_json] = {"kind": "altered", "expected": manifest[target.main_json], "served": main.body_sha256}
    altered = {p: v for p, v in bad.items() if v["kind"] == "altered"}
    missing = {p: v for p, v in bad.items() if v["kind"] == "missing"}
    done = not target.pending
    return {"_altered": True if altered else (False if done else None),
            "_missing": True if missing else (False if done else None),
            **({"altered": altered} if altered else {}), **({"missing": missing} if missing else {}),
            **({"pending": len(target.pending)} if target.pending else {}), "checked": len(checked)}

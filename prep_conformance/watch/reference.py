"""The institute's own publication: which corte is the newest, when it appeared, and its manifest.

Two sources: a folder where the institute's paquetes arrive (``--paquetes DIR``: one folder or archive per
corte, each with ``MANIFEST.sha256`` and ``json/main.json``), or the institute's public site
(``--reference URL``: its ``json/main.json``; the manifest from ``MANIFEST.sha256`` beside it, else the
``archivos[].sha256`` list main.json carries). A corte "appears" when the watcher first sees it; that time
(kept in the db across restarts) is what a difusor's lag is counted from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..paquete import MAIN_JSON, MANIFEST, load_paquete, parse_manifest
from ..probes.publication import CorteRef
from .fetch import MAIN_JSON_CAP, Client


@dataclass(frozen=True)
class RefCorte:
    """One corte of the reference. Attributes: secuencia, corte_iso, manifest (path → sha256; None when the
    source gives none), source (folder, archive or URL)."""

    secuencia: int
    corte_iso: str | None
    manifest: Mapping[str, str] | None
    source: str


class PaquetesDir:
    """Cortes as they arrive in a folder; each entry read once (by name, size and mtime)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._seen: dict[tuple[str, float], RefCorte] = {}

    def describe(self) -> str:
        return f"paquetes: {self.path}"

    def refresh(self) -> list[RefCorte]:
        found = []
        try:
            entries = sorted(self.path.iterdir())
        except OSError:
            return []
        for e in entries:
            is_archive = e.is_file() and e.name.endswith((".tar.gz", ".tgz", ".zip"))
            if not (is_archive or (e.is_dir() and (e / MAIN_JSON).is_file() and (e / MANIFEST).is_file())):
                continue
            try:
                key = (e.name, (e / MANIFEST).stat().st_mtime if e.is_dir() else e.stat().st_mtime)
            except OSError:
                continue
            if key not in self._seen:
                try:
                    pq = load_paquete(e)
                    self._seen[key] = RefCorte(pq.secuencia, pq.main_json.get("corte_iso"),
                                               MappingProxyType(dict(pq.manifest)), str(e))
                except (OSError, ValueError):
                    continue                    # a paquete still being copied: read again next time
            found.append(self._seen[key])
        return found

    def close(self) -> None:
        pass


class ReferenceUrl:
    """The institute's own site: its main.json names the newest corte."""

    def __init__(self, url: str, resolve=None, ca_bundle: str | None = None, deadline_s: float = 5.0):
        self.url = url
        self.client = Client(url, resolve, ca_bundle)
        self.deadline_s = deadline_s
        self.error: str | None = None
        self._manifests: dict[int, RefCorte] = {}

    def describe(self) -> str:
        return f"reference: {self.url}"

    def refresh(self) -> list[RefCorte]:
        g = self.client.get(MAIN_JSON, deadline_s=self.deadline_s, cap=MAIN_JSON_CAP, keep_body=True)
        if g.status != 200 or g.body is None:
            self.error = g.error or f"HTTP {g.status}"
            return list(self._manifests.values())
        try:
            doc = json.loads(g.body.decode("utf-8-sig"))
        except ValueError:
            self.error = "main.json is not JSON"
            return list(self._manifests.values())
        ref = CorteRef.from_doc(doc)
        self.error = None
        if ref.secuencia is not None and ref.secuencia not in self._manifests:
            manifest = None
            m = self.client.get(MANIFEST, deadline_s=self.deadline_s, cap=16 * 1024 * 1024, keep_body=True)
            if m.status == 200 and m.body is not None:
                try:
                    manifest = parse_manifest(m.body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    manifest = None
            if manifest is None:
                listed = {a.get("ruta"): a.get("sha256") for a in doc.get("archivos") or []
                          if isinstance(a, dict) and isinstance(a.get("ruta"), str) and isinstance(a.get("sha256"), str)}
                manifest = {k.lstrip("/"): v.lower() for k, v in listed.items()} or None
                if manifest is not None:
                    manifest[MAIN_JSON] = g.body_sha256 or ""
            self._manifests[ref.secuencia] = RefCorte(ref.secuencia, ref.corte_iso,
                                                      MappingProxyType(manifest) if manifest else None, self.url)
        return list(self._manifests.values())

    def close(self) -> None:
        self.client.close()


class Reference:
    """What the watcher knows of the institute's publication: cortes by secuencia and when each appeared."""

    def __init__(self, source, published_at: Mapping[int, float] | None = None):
        self.source = source
        self.cortes: dict[int, RefCorte] = {}
        self.published_at: dict[int, float] = dict(published_at or {})

    def refresh(self, now: float) -> list[RefCorte]:
        """Read the source; returns the cortes seen for the first time (their time is ``now``)."""
        new = []
        for c in self.source.refresh():
            if c.secuencia not in self.cortes:
                self.cortes[c.secuencia] = c
                if c.secuencia not in self.published_at:
                    self.published_at[c.secuencia] = now
                    new.append(c)
        return new

    @property
    def newest(self) -> RefCorte | None:
        return self.cortes[max(self.cortes)] if self.cortes else None

    def manifest(self, secuencia: int | None) -> Mapping[str, str] | None:
        c = self.cortes.get(secuencia) if secuencia is not None else None
        return c.manifest if c else None


def lag_s(served: int | None, published_at: Mapping[int, float], now: float) -> float | None:
    """How long the corte a difusor serves has been superseded: 0 when it serves the newest corte known,
    else the time since the first newer corte appeared. None when nothing is known. Pure."""
    if served is None or not published_at:
        return None
    newer = [t for s, t in published_at.items() if s > served]
    return max(0.0, now - min(newer)) if newer else 0.0

"""I.6 at the edge: a CDN feature that rewrites HTML (script injection) changes what the institute published.

Cloudflare's e-mail address obfuscation, Rocket Loader, bot challenges, Akamai's mPulse/Bot Manager and
similar features insert ``<script>`` elements into every HTML page they serve: the page is no longer the
paquete's, byte for byte. Pure: compares the paquete's bytes with what the public (and the origin) served
and names what was added, so the report can say which feature did it and where to turn it off.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..probes.edge_rewrite import PageFetch
from ..report.i18n import plural
from ..verdict import CheckResult, Note, Verdict, result

REQ = "I.6"
SCRIPT = re.compile(rb"<script\b[^>]*>.*?</script\s*>|<script\b[^>]*/>", re.I | re.S)

# fragment of an injected script -> (feature, where it is switched off), as the providers document them
KNOWN_FEATURES: tuple[tuple[str, str, str], ...] = (
    ("email-decode.min.js", "Cloudflare Email Address Obfuscation", "Scrape Shield > Email Address Obfuscation"),
    ("rocket-loader", "Cloudflare Rocket Loader", "Speed > Optimization > Rocket Loader"),
    ("/cdn-cgi/challenge-platform", "Cloudflare Bot Fight Mode / JS challenge", "Security > Bots"),
    ("static.cloudflareinsights.com", "Cloudflare Web Analytics (automatic setup)", "Web Analytics"),
    ("/akam/", "Akamai Bot Manager / mPulse", "Property Manager behavior"),
    ("go-mpulse.net", "Akamai mPulse RUM", "Property Manager: mPulse behavior"),
)


@dataclass(frozen=True)
class PageComparison:
    """One HTML file of the paquete as published, served at the edge, and at the origin (when known).

    Attributes:
        path: paquete-relative; ``expected_sha256`` the paquete's digest.
        edge_status, edge_sha256: what the public got; ``origin_sha256`` what the origin served (None: not asked).
        added_scripts: ``<script>`` elements the public got that the paquete does not have (≤ 300 chars each).
        removed_scripts: the reverse; ``size_delta`` served minus expected bytes.
    """

    path: str
    expected_sha256: str
    edge_status: int | None
    edge_sha256: str | None
    origin_sha256: str | None = None
    added_scripts: tuple[str, ...] = ()
    removed_scripts: tuple[str, ...] = ()
    size_delta: int = 0
    error: str | None = None

    @property
    def changed_at_edge(self) -> bool:
        return self.edge_status == 200 and self.edge_sha256 != self.expected_sha256

    def to_evidence(self) -> dict[str, Any]:
        return {"path": self.path, "expected_sha256": self.expected_sha256, "edge_status": self.edge_status,
                "edge_sha256": self.edge_sha256, "origin_sha256": self.origin_sha256,
                "added_scripts": list(self.added_scripts), "removed_scripts": list(self.removed_scripts),
                "size_delta": self.size_delta, "error": self.error}


def script_diff(expected: bytes, served: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``<script>`` elements added to and removed from ``expected`` in ``served`` (as multisets)."""
    a, b = Counter(SCRIPT.findall(expected)), Counter(SCRIPT.findall(served))
    fmt = lambda s: s.decode("utf-8", "replace")[:300]  # noqa: E731
    return (tuple(fmt(s) for s in (b - a).elements()), tuple(fmt(s) for s in (a - b).elements()))


def comparison(page: PageFetch) -> PageComparison:
    """What changed in one page the probe read: digests, and the scripts added or removed."""
    if page.served is None:     # no 200 body read: nothing to compare
        return PageComparison(page.path, page.expected_sha256, page.edge_status, page.edge_sha256,
                              page.origin_sha256, error=page.error)
    added, removed = script_diff(page.expected, page.served)
    return PageComparison(page.path, page.expected_sha256, page.edge_status, page.edge_sha256, page.origin_sha256,
                          added, removed, len(page.served) - len(page.expected), page.error)


def features(scripts: tuple[str, ...]) -> list[tuple[str, str]]:
    """The CDN features a set of injected scripts points to: (feature, where to switch it off)."""
    out = []
    for frag, name, where in KNOWN_FEATURES:
        if any(frag in s for s in scripts) and (name, where) not in out:
            out.append((name, where))
    return out


def evaluate(pages: list[PageFetch | PageComparison], origin_known: bool) -> CheckResult:
    """FAIL when an HTML page the public gets differs from the paquete; the injected scripts are named,
    and, when the origin serves the paquete's bytes, the edge is named as the one that changed it."""
    check = "edge_rewrites_html"
    pages = [comparison(p) if isinstance(p, PageFetch) else p for p in pages]
    ev: dict[str, Any] = {"pages": [p.to_evidence() for p in pages[:20]], "origin_compared": origin_known}
    if not pages:
        return result(REQ, check, Verdict.SKIP, "El paquete no tiene páginas HTML que comparar.",
                      "The paquete has no HTML pages to compare.", **ev)
    seen = [p for p in pages if p.edge_status is not None]
    if not seen:
        return result(REQ, check, Verdict.ERROR, f"No se pudo leer ninguna página HTML: {pages[0].error}",
                      f"No HTML page could be read: {pages[0].error}", **ev)
    changed = [p for p in seen if p.changed_at_edge]
    if not changed:
        return result(REQ, check, Verdict.PASS,
                      f"{plural(len(seen), 'página HTML servida', 'páginas HTML servidas')} tal como están en el "
                      "paquete (sin scripts añadidos).",
                      f"{plural(len(seen), 'HTML page', 'HTML pages')} served as in the paquete (no script added).",
                      **ev)
    added = tuple(s for p in changed for s in p.added_scripts)
    feats = features(added)
    at_edge = [p for p in changed if p.origin_sha256 == p.expected_sha256]
    who_es = ("el borde/CDN la modifica (el origen sirve el archivo íntegro)" if at_edge
              else "modificada (el origen no se comparó)" if not origin_known else "modificada también en el origen")
    who_en = ("the edge/CDN modifies it (the origin serves the file intact)" if at_edge
              else "modified (origin not compared)" if not origin_known else "modified at the origin too")
    first = changed[0]
    if added:
        n = len(first.added_scripts)
        what_es = f"se le {'añadió' if n == 1 else 'añadieron'} {plural(n, 'script', 'scripts')}: " \
                  f"{first.added_scripts[0][:160]}"
        what_en = f"{plural(n, 'script was', 'scripts were')} added: {first.added_scripts[0][:160]}"
    else:
        what_es = f"cambió en {first.size_delta:+d} bytes"
        what_en = f"changed by {first.size_delta:+d} bytes"
    notes = [Note("bad", f"Función del CDN que lo hace: {n}. Desactívela para el sitio del PREP ({w}).",
                  f"The CDN feature doing it: {n}. Switch it off for the PREP site ({w}).") for n, w in feats]
    notes.append(Note("info", "La convocatoria exige publicar la información sin modificaciones: una página que el "
                      "CDN reescribe ya no es la del paquete, aunque el origen sea correcto.",
                      "The convocatoria requires publishing the information unmodified: a page the CDN rewrites "
                      "is no longer the paquete's, even when the origin is right."))
    return result(REQ, check, Verdict.FAIL,
                  f"{len(changed)} de {plural(len(seen), 'página HTML', 'páginas HTML')} "
                  f"{'difiere' if len(changed) == 1 else 'difieren'} del paquete; /{first.path}: {what_es}; {who_es}.",
                  f"{len(changed)} of {plural(len(seen), 'HTML page', 'HTML pages')} "
                  f"{'differs' if len(changed) == 1 else 'differ'} from the paquete; /{first.path}: {what_en}; "
                  f"{who_en}.", notes=notes, **ev)

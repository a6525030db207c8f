"""I.6 at the edge: the paquete's HTML pages as the public got them, and as the origin serves them.

The public side comes from the one integrity pass (``publication.observe``), so a site serving an older
corte is compared with that corte's own pages, as the integrity check does (a stale corte is an I.4
finding, not a modification). Only a page that differs is asked of the origin, to say who changed it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

from .publication import PublicationObservation, session_for

MAX_PAGES = 20
MAX_BYTES = 5_000_000


@dataclass(frozen=True)
class PageFetch:
    """One HTML file of the paquete: its bytes as published, as the public got them, and the origin's digest.

    Attributes:
        path: paquete-relative; ``expected_sha256``/``expected`` the paquete's digest and bytes.
        edge_status, edge_sha256, served: what the public got (``served`` at most ``MAX_BYTES``; None
            unless a 200 body was read); ``origin_sha256`` what the origin served (None: not asked); ``error`` a fault.
    The rule (``rules.edge_rewrite``) compares them; the probe only reads.
    """

    path: str
    expected_sha256: str
    edge_status: int | None
    edge_sha256: str | None
    expected: bytes = b""
    served: bytes | None = None
    origin_sha256: str | None = None
    error: str | None = None


def html_paths(manifest) -> list[str]:
    return sorted(p for p in manifest if p.lower().endswith((".html", ".htm")))[:MAX_PAGES]


def _origin_get(session: requests.Session, origin: str, site_url: str, rel: str, timeout: float
                ) -> bytes | None:
    url = urljoin(origin.rstrip("/") + "/", rel.lstrip("/"))
    try:
        r = session.get(url, headers={"Host": urlsplit(site_url).netloc}, timeout=timeout, allow_redirects=False)
    except requests.RequestException:
        return None
    body = r.content if r.status_code == 200 else None
    return body[:MAX_BYTES] if body is not None else None


def compare(obs: PublicationObservation, origin_get=None) -> list[PageFetch]:
    """One look per HTML page of the paquete the served bytes are judged against (the origin asked only
    for a page the public got changed)."""
    base = obs.baseline
    out = []
    for rel in html_paths(base.manifest):
        expected, sf = base.texts.get(rel), obs.served.get(rel)
        if expected is None or sf is None:
            continue
        ok = sf.status == 200 and sf.body is not None
        served = sf.body[:MAX_BYTES] if ok else None
        changed = ok and sf.body_sha256 != base.manifest[rel]
        o = origin_get(rel) if (changed and origin_get) else None
        out.append(PageFetch(rel, base.manifest[rel], sf.status, sf.body_sha256 if sf.status == 200 else None,
                             expected, served, hashlib.sha256(o).hexdigest() if o is not None else None, sf.error))
    return out


def observe_profile(profile, obs: PublicationObservation) -> tuple[list[PageFetch], bool]:
    """(pages, origin compared) for the profile's site, from its publication observation."""
    origin = profile.http.origin
    if not origin:
        return compare(obs), False
    with session_for(profile, pool=4) as s:
        return compare(obs, lambda rel: _origin_get(s, origin, profile.target_url, rel,
                                                     profile.http.timeout_s)), True

"""I.6 at the edge: every HTML page of the paquete as the public gets it, and as the origin serves it.

Few files (the paquete's pages), read whole (capped) so the rule can name what an edge added.
"""

from __future__ import annotations

import hashlib
from typing import Sequence
from urllib.parse import urljoin, urlsplit

import requests

from .. import paquete as gen
from ..rules.edge_rewrite import PageComparison, script_diff
from .publication import fetch_verifying_or_not, file_url, session_for

MAX_PAGES = 20
MAX_BYTES = 5_000_000


def html_paths(pq: gen.Paquete) -> list[str]:
    return sorted(p for p in pq.manifest if p.lower().endswith((".html", ".htm")))[:MAX_PAGES]


def _origin_get(session: requests.Session, origin: str, site_url: str, rel: str, timeout: float
                ) -> bytes | None:
    url = urljoin(origin.rstrip("/") + "/", rel.lstrip("/"))
    try:
        r = session.get(url, headers={"Host": urlsplit(site_url).netloc}, timeout=timeout, allow_redirects=False)
    except requests.RequestException:
        return None
    return r.content[:MAX_BYTES] if r.status_code == 200 else None


def compare(session: requests.Session, site_url: str, pq: gen.Paquete, paths: Sequence[str], timeout: float,
            origin: str | None = None) -> list[PageComparison]:
    out = []
    for rel in paths:
        expected = pq.path(rel).read_bytes()
        sf, _ = fetch_verifying_or_not(session, file_url(site_url, rel), rel, timeout, True)
        served = (sf.body or b"")[:MAX_BYTES] if sf.status == 200 else b""
        o = _origin_get(session, origin, site_url, rel, timeout) if origin else None
        added, removed = script_diff(expected, served) if sf.status == 200 else ((), ())
        out.append(PageComparison(rel, pq.manifest[rel], sf.status, sf.sha256 if sf.status == 200 else None,
                                  hashlib.sha256(o).hexdigest() if o is not None else None, added, removed,
                                  len(served) - len(expected) if sf.status == 200 else 0, sf.error))
    return out


def observe_profile(profile) -> tuple[list[PageComparison], bool]:
    """(comparisons, origin compared) for the profile's site and paquete."""
    pq = gen.load_paquete(profile.package)
    with session_for(profile, pool=4) as s:
        return compare(s, profile.target_url, pq, html_paths(pq), profile.http.timeout_s, profile.http.origin), \
            bool(profile.http.origin)

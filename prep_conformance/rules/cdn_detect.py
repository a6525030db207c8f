"""CDN / WAF identification from response headers and the DNS CNAME chain. Pure: no I/O.

Used by the web checks (evidence), and by II.2.b (a CDN with purge) and II.2.d.ddos (a CDN/WAF in
front). ``detect(headers_seen, cname_chain)`` returns a frozen ``CdnDetection``: the provider most
signals point to (or None) and every signal with the raw header line or CNAME that gave it.
Signatures follow what the providers document (Cloudflare ``CF-RAY``, CloudFront ``X-Amz-Cf-Id``,
Fastly ``X-Served-By: cache-*``, Akamai ``*.edgekey.net`` ...), the same tables wafw00f/webanalyze use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .. import cache_status

# provider id -> (display name, kind, ddos_protection). kind: "cdn" (a CDN service) or "cache"
# (a reverse-proxy cache the difusor runs itself, e.g. Varnish); ddos: the provider sells DDoS/WAF
# protection in front of the site (a signal for II.2.d.ddos, not proof that it is enabled).
PROVIDERS: dict[str, tuple[str, str, bool]] = {
    "cloudflare": ("Cloudflare", "cdn", True),
    "akamai": ("Akamai", "cdn", True),
    "cloudfront": ("Amazon CloudFront", "cdn", True),
    "fastly": ("Fastly", "cdn", True),
    "azure": ("Azure Front Door / Azure CDN", "cdn", True),
    "google": ("Google Cloud CDN", "cdn", True),
    "imperva": ("Imperva Incapsula", "cdn", True),
    "sucuri": ("Sucuri", "cdn", True),
    "stackpath": ("StackPath / Highwinds", "cdn", True),
    "edgio": ("Edgio / Edgecast / Limelight", "cdn", True),
    "bunny": ("bunny.net", "cdn", False),
    "keycdn": ("KeyCDN", "cdn", False),
    "vercel": ("Vercel", "cdn", True),
    "netlify": ("Netlify", "cdn", False),
    "varnish": ("Varnish", "cache", False),
    "generic-cache": ("caché HTTP no identificada / unidentified HTTP cache", "cache", False),
}

# (provider, header name (lowercase), value regex or None for "present")
HEADER_SIGNATURES: tuple[tuple[str, str, str | None], ...] = (
    ("cloudflare", "cf-ray", None),
    ("cloudflare", "cf-cache-status", None),
    ("cloudflare", "server", r"^cloudflare"),
    ("akamai", "server", r"akamai"),
    ("akamai", "akamai-grn", None),
    ("akamai", "akamai-cache-status", None),
    ("akamai", "x-akamai-transformed", None),
    ("akamai", "x-akamai-request-id", None),
    ("cloudfront", "x-amz-cf-id", None),
    ("cloudfront", "x-amz-cf-pop", None),
    ("cloudfront", "via", r"cloudfront"),
    ("cloudfront", "x-cache", r"cloudfront"),
    ("fastly", "x-served-by", r"\bcache-[a-z0-9-]+"),
    ("fastly", "x-fastly-request-id", None),
    ("fastly", "fastly-debug-digest", None),
    ("fastly", "cdn-cache", r"fastly"),
    ("fastly", "x-timer", r"^S\d+\.\d+,VS\d"),
    ("fastly", "fastly-restarts", None),
    ("akamai", "x-cache", r"akamaitechnologies\.com"),
    ("akamai", "x-akamai-staging", None),
    ("akamai", "server-timing", r"\bak_p\b"),
    ("cloudflare", "cf-mitigated", None),
    ("cloudflare", "cf-apo-via", None),
    ("azure", "x-cache", r"^(TCP_[A-Z_]+|CONFIG_NOCACHE|UNCACHEABLE|PRIVATE_NOSTORE)$"),
    ("azure", "x-azure-ref", None),
    ("azure", "x-msedge-ref", None),
    ("azure", "x-fd-int-roxy-purgeid", None),
    ("google", "via", r"\b1\.1 google\b"),
    ("google", "server", r"^(gws|google frontend)"),
    ("imperva", "x-iinfo", None),
    ("imperva", "x-cdn", r"incapsula|imperva"),
    ("sucuri", "x-sucuri-id", None),
    ("sucuri", "x-sucuri-cache", None),
    ("sucuri", "server", r"sucuri"),
    ("stackpath", "x-hw", None),
    ("stackpath", "server", r"stackpath"),
    ("edgio", "server", r"^(ecacc|ecs|ecd)\b"),
    ("edgio", "x-ec-custom-error", None),
    ("bunny", "server", r"bunnycdn"),
    ("bunny", "cdn-pullzone", None),
    ("keycdn", "server", r"keycdn"),
    ("vercel", "x-vercel-id", None),
    ("vercel", "x-vercel-cache", None),
    ("vercel", "server", r"^vercel"),
    ("netlify", "x-nf-request-id", None),
    ("netlify", "server", r"^netlify"),
    ("varnish", "x-varnish", None),
    ("varnish", "via", r"varnish"),
    ("varnish", "server", r"varnish"),
)

# Headers that tell the edge, not the browser, how long to cache (RFC 9213 ``CDN-Cache-Control``; Cloudflare's
# own; Fastly/Akamai ``Surrogate-Control``; Akamai ``Edge-Control``); ``Surrogate-Key``/``Cache-Tag`` name
# the purge keys. Read and shown as evidence: a browser sees ``Cache-Control``, the CDN obeys these.
EDGE_CACHE_HEADERS = ("cdn-cache-control", "cloudflare-cdn-cache-control", "surrogate-control", "edge-control",
                      "surrogate-key", "cache-tag", "x-cache-tags")

# Headers any shared cache may add; they alone say "a cache", not which: the cache-status headers
# (``cache_status.STATUS_HEADERS``), ``Age`` (only > 0: ``cache_status.age_seconds``) and ``Via``.
GENERIC_CACHE_HEADERS = cache_status.STATUS_HEADERS + ("age", "via")

# CNAME suffixes (lowercase, no trailing dot) -> provider
CNAME_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("cdn.cloudflare.net", "cloudflare"),
    ("cloudflare.net", "cloudflare"),
    ("akamaiedge.net", "akamai"),
    ("akamai.net", "akamai"),
    ("akamaized.net", "akamai"),
    ("edgekey.net", "akamai"),
    ("edgesuite.net", "akamai"),
    ("akamaihd.net", "akamai"),
    ("cloudfront.net", "cloudfront"),
    ("fastly.net", "fastly"),
    ("fastlylb.net", "fastly"),
    ("azureedge.net", "azure"),
    ("azurefd.net", "azure"),
    ("msecnd.net", "azure"),
    ("t-msedge.net", "azure"),
    ("azurefd-t.net", "azure"),
    ("akamaized-staging.net", "akamai"),
    ("edgekey-staging.net", "akamai"),
    ("global.ssl.fastly.net", "fastly"),
    ("global-ssl.fastly.net", "fastly"),
    ("googlehosted.com", "google"),
    ("googleusercontent.com", "google"),
    ("incapdns.net", "imperva"),
    ("impervadns.net", "imperva"),
    ("sucuridns.com", "sucuri"),
    ("stackpathdns.com", "stackpath"),
    ("hwcdn.net", "stackpath"),
    ("edgecastcdn.net", "edgio"),
    ("llnwd.net", "edgio"),
    ("edgio.net", "edgio"),
    ("b-cdn.net", "bunny"),
    ("kxcdn.com", "keycdn"),
    ("vercel-dns.com", "vercel"),
    ("netlify.app", "netlify"),
    ("netlifyglobalcdn.com", "netlify"),
)


@dataclass(frozen=True)
class CdnSignal:
    """One reason to believe a CDN is in front.

    Attributes:
        provider: provider id (a key of ``PROVIDERS``).
        source: ``header`` or ``cname``.
        evidence: the raw header line (``CF-RAY: 8a...``) or the CNAME (``www -> x.cdn.cloudflare.net``).
    """

    provider: str
    source: str
    evidence: str


@dataclass(frozen=True)
class CdnDetection:
    """What sits in front of the site.

    Attributes:
        provider: the provider id with most signals (a CDN service preferred over a self-run cache), or None.
        name: its display name (or None).
        kind: ``cdn`` | ``cache`` | None.
        ddos_protection: the provider offers DDoS/WAF protection (a signal, not proof).
        providers: every provider id seen, strongest first.
        signals: every signal, with its evidence.
        edge_cache_control: ``CDN-Cache-Control``/``Surrogate-Control``/... lines seen (``EDGE_CACHE_HEADERS``):
            what the edge is told to cache, apart from what browsers see in ``Cache-Control``.
    """

    provider: str | None
    name: str | None = None
    kind: str | None = None
    ddos_protection: bool = False
    providers: tuple[str, ...] = ()
    signals: tuple[CdnSignal, ...] = field(default_factory=tuple)
    edge_cache_control: tuple[str, ...] = ()

    @property
    def detected(self) -> bool:
        return self.provider is not None

    @property
    def is_cdn_service(self) -> bool:
        return self.kind == "cdn"

    def to_evidence(self) -> dict:
        return {"provider": self.provider, "name": self.name, "kind": self.kind,
                "ddos_protection": self.ddos_protection, "providers": list(self.providers),
                "signals": [f"{s.source}: {s.evidence} -> {s.provider}" for s in self.signals],
                "edge_cache_control": list(self.edge_cache_control)}


HeaderSource = Mapping[str, str] | Iterable[tuple[str, str]]


def _header_pairs(headers_seen: HeaderSource | Iterable[HeaderSource]) -> list[tuple[str, str]]:
    """Accept one header mapping, a list of (name, value) lines, or a list of those (several responses)."""
    if headers_seen is None:
        return []
    if isinstance(headers_seen, Mapping):
        return [(str(k), str(v)) for k, v in headers_seen.items()]
    out: list[tuple[str, str]] = []
    for item in headers_seen:
        if isinstance(item, Mapping):
            out.extend((str(k), str(v)) for k, v in item.items())
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            out.append((item[0], str(item[1])))
        else:  # a list of pairs (one response)
            out.extend(_header_pairs(item))
    return out


def _cname_provider(name: str) -> str | None:
    n = name.lower().rstrip(".")
    for suffix, provider in CNAME_SUFFIXES:
        if n == suffix or n.endswith("." + suffix):
            return provider
    return None


def detect(headers_seen: HeaderSource | Iterable[HeaderSource] = (), cname_chain: Iterable[str] = ()) -> CdnDetection:
    """Identify the CDN/cache in front of a site from the response headers seen and the CNAME chain.

    ``cname_chain`` is the list of names the public host name aliases to, in order (without the name
    itself). Headers may come from several responses; duplicates give one signal.
    """
    signals: list[CdnSignal] = []
    seen: set[tuple[str, str, str]] = set()

    def add(provider: str, source: str, evidence: str) -> None:
        key = (provider, source, evidence.lower())
        if key not in seen:
            seen.add(key)
            signals.append(CdnSignal(provider, source, evidence))

    pairs = _header_pairs(headers_seen)
    specific = False
    for name, value in pairs:
        lname = name.strip().lower()
        for provider, hname, pattern in HEADER_SIGNATURES:
            if lname == hname and (pattern is None or re.search(pattern, value, re.I)):
                add(provider, "header", f"{name.strip()}: {value.strip()}")
                specific = True
    if not specific:
        for name, value in pairs:
            lname = name.strip().lower()
            if lname in GENERIC_CACHE_HEADERS and not (lname == "age" and not cache_status.age_seconds(value)):
                add("generic-cache", "header", f"{name.strip()}: {value.strip()}")
    for cname in cname_chain or ():
        provider = _cname_provider(str(cname))
        if provider:
            add(provider, "cname", str(cname).rstrip("."))

    edge_cc: list[str] = []
    for name, value in pairs:
        line = f"{name.strip()}: {value.strip()}"
        if name.strip().lower() in EDGE_CACHE_HEADERS and line not in edge_cc:
            edge_cc.append(line)
    if not signals:
        return CdnDetection(None, edge_cache_control=tuple(edge_cc))
    counts: dict[str, int] = {}
    for s in signals:
        counts[s.provider] = counts.get(s.provider, 0) + (2 if s.source == "cname" else 1)
    # a CDN service ranks above a cache behind it (Cloudflare in front of the difusor's own Varnish)
    ranked = sorted(counts, key=lambda p: (PROVIDERS[p][1] != "cdn", p == "generic-cache", -counts[p], p))
    top = ranked[0]
    name, kind, ddos = PROVIDERS[top]
    return CdnDetection(top, name, kind, ddos, tuple(ranked), tuple(signals), tuple(edge_cc))

"""What a response's headers say about the cache that answered: THE definition of a cache hit.

Used alike at rest (II.1.e ``rules.caching``), under load (the Locust visitor's tally, ``rules.load``),
by the purge (``probes.cdn``: its effect and the query cache key) and by CDN detection
(``rules.cdn_detect``), so one ``X-Cache`` value is judged the same everywhere. Pure standard library,
importing nothing of the package: the Locust visitor imports it, and a remote Locust worker receives it
from the master as a plain file beside the locustfile.

**Hit** means the answer is a stored copy that the origin was not asked about for this request.
**Miss** means it was not: fetched from the origin, passed through, or revalidated (the origin
confirmed the stored copy for this very request, which is what ``no-cache``/``must-revalidate`` ask
for, and what a purge that marks objects stale achieves). **Unknown**: nothing says (no cache header,
or only ``Age: 0``).

Signals, by kind:
* ``explicit``: a status header naming the outcome (``STATUS_HEADERS``): ``X-Cache`` (Varnish/Squid
  ``HIT``, CloudFront ``Hit from cloudfront``, Akamai ``TCP_MEM_HIT from ...``, Azure ``TCP_HIT``,
  Fastly one entry per tier ``MISS, HIT``), ``X-Cache-Remote`` (Akamai parent tier),
  ``CF-Cache-Status``, ``X-Cache-Status`` (nginx ``$upstream_cache_status``), ``Akamai-Cache-Status``
  (``Miss from child, Hit from parent``), RFC 9211 ``Cache-Status`` (``hit`` / ``fwd=`` parameters per
  cache), and a few vendors' own (Vercel, Sucuri, bunny.net). ``X-Varnish`` counts as explicit (two
  transaction ids: a hit; one: not) only when no status header gave a reading: it is Varnish's
  bookkeeping, the status headers are what the operator chose to report.
* ``age``: ``Age > 0`` (RFC 9111 §5.1: time the response has spent in caches) is a hit whatever
  else is said, since some cache on the path stored it (a MISS at the nearest tier does not make the
  answer fresh when a farther tier, a shield or the origin's own Varnish, served it). ``Age`` counts
  whole seconds: a copy stored less than a second ago shows ``Age: 0``, so where ``Age`` is the only
  signal a caller waits a second before its decisive look (``needs_age_wait``).

Across tiers and lines: any hit makes a hit (Fastly: any entry other than MISS means served from
cache); else any revalidation or miss makes a miss.

Decided edge cases (token = first recognised word of each comma-separated member, case-insensitive):
* hit: ``HIT``, ``HIT-*`` (Fastly ``HIT-STALE``, ``HIT-SYNTH``), ``*_HIT`` (``TCP_HIT``, ``TCP_MEM_HIT``,
  ``TCP_IMS_HIT``, ``TCP_REMOTE_HIT``, ``TCP_NEGATIVE_HIT``, ``TCP_EXPIRED_HIT``,
  ``TCP_REFRESH_FAIL_HIT``: the origin failed, the stale copy was served), ``HitStale``, ``STALE`` and
  ``UPDATING`` (a stale copy served while the origin is unreachable or being asked in the background),
  RFC 9211 ``hit``;
* miss (revalidated): ``REVALIDATED``, ``RefreshHit`` (CloudFront, Akamai), ``TCP_REFRESH_HIT``,
  RFC 9211 ``fwd=stale; fwd-status=304``;
* miss: ``MISS``, ``*_MISS`` (``TCP_MISS``, ``TCP_REFRESH_MISS``, ``TCP_CLIENT_REFRESH_MISS``),
  ``EXPIRED`` (fetched anew), ``BYPASS``, ``DYNAMIC``, ``PASS``, Varnish ``HIT-FOR-PASS``/``HIT-FOR-MISS``
  and ``HITPASS`` (a remembered decision not to cache: the origin answers), Azure ``PRIVATE_NOSTORE``,
  ``CONFIG_NOCACHE``, ``UNCACHEABLE``, Akamai ``NotCacheable``, RFC 9211 ``fwd=`` otherwise;
* nothing (the line is ignored): edge-generated answers and errors (Cloudflare ``NONE``/``UNKNOWN``,
  CloudFront ``Error``/``Redirect``/``FunctionGeneratedResponse``/``LimitExceeded``, Akamai
  ``Constructed``, Vercel ``PRERENDER``, Azure ``N/A``) and anything unrecognised; ``Age`` that is not
  a whole number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

HIT, MISS, UNKNOWN = "hit", "miss", "unknown"
REVALIDATED = "revalidated"         # an outcome (state MISS): the origin confirmed the stored copy

# Headers whose value names the cache outcome (lowercase).
STATUS_HEADERS = ("x-cache", "x-cache-remote", "cf-cache-status", "cache-status", "x-cache-status",
                  "x-proxy-cache", "akamai-cache-status", "x-vercel-cache", "x-sucuri-cache", "cdn-cache")
# Every header this module reads (to keep from a response, or to list as cache evidence).
CACHE_HEADERS = STATUS_HEADERS + ("x-varnish", "age")

_HIT_WORDS = {"HIT", "HITSTALE", "STALE", "UPDATING"}
_REVALIDATED_WORDS = {"REVALIDATED", "REFRESHHIT", "TCP_REFRESH_HIT"}
_MISS_WORDS = {"MISS", "EXPIRED", "BYPASS", "DYNAMIC", "PASS", "HITPASS", "HIT-FOR-PASS", "HIT-FOR-MISS",
               "PRIVATE_NOSTORE", "CONFIG_NOCACHE", "UNCACHEABLE", "NOTCACHEABLE"}
_WORD = re.compile(r"[A-Za-z][A-Za-z_-]*")


@dataclass(frozen=True)
class CacheSignal:
    """One header line read. ``outcome``: ``hit`` | ``revalidated`` | ``miss``; ``kind``: ``explicit`` | ``age``."""

    name: str
    value: str
    outcome: str
    kind: str

    @property
    def line(self) -> str:
        return f"{self.name}: {self.value}"


@dataclass(frozen=True)
class CacheReading:
    """What one response says about the cache that answered it.

    Attributes:
        state: ``hit`` | ``miss`` | ``unknown`` (see the module's definition).
        kind: the kind of signal that decided ``state``: ``explicit`` | ``age`` | None (nothing said).
        outcome: finer than ``state``: ``hit`` | ``revalidated`` | ``miss`` | None.
        lines: the raw ``Name: value`` lines that say so (every hit line when a hit).
        explicit: some status header (or ``X-Varnish``) gave a reading, hit or not: ``Age``'s
            one-second resolution does not matter to this response.
        age: the ``Age`` header in seconds (None when absent or not a number).
        signals: every line read, in order.
    """

    state: str
    kind: str | None = None
    outcome: str | None = None
    lines: tuple[str, ...] = ()
    explicit: bool = False
    age: int | None = None
    signals: tuple[CacheSignal, ...] = ()

    @property
    def hit(self) -> bool:
        return self.state == HIT

    def to_evidence(self) -> dict:
        return {"state": self.state, "signal": self.kind, "outcome": self.outcome, "lines": list(self.lines)}


def _members(value: str) -> list[str]:
    """Comma-separated members outside double quotes (RFC 9110 lists; Fastly tiers; merged duplicates)."""
    out, buf, quoted = [], [], False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf).strip())
    return [m for m in out if m]


def word_outcome(word: str) -> str | None:
    """``hit`` | ``revalidated`` | ``miss`` | None for one status word (``TCP_MEM_HIT``, ``RefreshHit``)."""
    w = word.upper().strip("-_")
    if w in _REVALIDATED_WORDS:
        return REVALIDATED
    if w in _MISS_WORDS or w.endswith("_MISS"):
        return MISS
    if w in _HIT_WORDS or w.startswith("HIT-") or w.endswith("_HIT"):
        return HIT
    return None


def _member_outcome(member: str) -> str | None:
    """The first recognised word of one member: ``Hit from cloudfront``, ``TCP_MISS from a23-...``,
    ``cp3062 hit/6``."""
    for token in member.split():
        m = _WORD.match(token)
        if m:
            o = word_outcome(m.group(0))
            if o is not None:
                return o
    return None


def _cache_status_outcome(member: str) -> str | None:
    """One RFC 9211 ``Cache-Status`` member: ``Name; hit``, ``Name; fwd=uri-miss``, ``Name; fwd=stale;
    fwd-status=304``. Booleans may be written ``hit=?1`` / ``hit=?0``."""
    params = {}
    for p in member.split(";")[1:]:
        k, eq, v = p.strip().partition("=")
        params[k.strip().lower()] = v.strip().strip('"').lower() if eq else "?1"
    if params.get("hit") == "?1":
        return HIT
    if "fwd" in params:
        if params["fwd"] == "stale" and params.get("fwd-status") == "304":
            return REVALIDATED
        return MISS
    return None


def _combine(outcomes: Iterable[str | None]) -> str | None:
    """Tiers or lines together: any hit is a hit; else any revalidation; else any miss."""
    seen = set(o for o in outcomes if o)
    for o in (HIT, REVALIDATED, MISS):
        if o in seen:
            return o
    return None


def value_outcome(name: str, value: str) -> str | None:
    """``hit`` | ``revalidated`` | ``miss`` | None for one status header line (``name`` any case)."""
    n = name.strip().lower()
    if n == "cache-status":
        return _combine(_cache_status_outcome(m) for m in _members(value))
    if n in STATUS_HEADERS:
        return _combine(_member_outcome(m) for m in _members(value))
    if n == "x-varnish":
        # "1234 5678": the request's id and the id of the one that stored the object (a hit)
        return _combine((HIT if len(m.split()) >= 2 else MISS) for m in _members(value))
    return None


def age_seconds(value: str | None) -> int | None:
    """``Age`` as whole seconds (the first of merged duplicates); None when absent or not a number."""
    if value is None:
        return None
    first = str(value).split(",")[0].strip()
    return int(first) if first.isdigit() else None


def header_pairs(headers) -> list[tuple[str, str]]:
    """(name, value) lines from a mapping (``.items()``: a multi-dict yields duplicates) or from pairs."""
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) or hasattr(headers, "items") else headers
    return [(str(k), str(v)) for k, v in items]


def read(headers) -> CacheReading:
    """Read one response's headers: a mapping (requests' or geventhttpclient's) or (name, value) pairs."""
    status: list[CacheSignal] = []
    varnish: list[CacheSignal] = []
    age_lines: list[CacheSignal] = []
    age: int | None = None
    for name, value in header_pairs(headers):
        n = name.strip().lower()
        v = value.strip()
        if n == "age":
            secs = age_seconds(v)
            if secs is not None:
                age = secs if age is None else age
                age_lines.append(CacheSignal(name.strip(), v, HIT if secs > 0 else MISS, "age"))
            continue
        if n not in STATUS_HEADERS and n != "x-varnish":
            continue
        o = value_outcome(n, v)
        if o is not None:
            (varnish if n == "x-varnish" else status).append(CacheSignal(name.strip(), v, o, "explicit"))
    explicit = status or varnish         # X-Varnish speaks only where no status header does
    signals = tuple(explicit) + tuple(age_lines)
    said = _combine(s.outcome for s in explicit)
    aged = [s for s in age_lines if s.outcome == HIT]
    if said == HIT or aged:
        lines = tuple(s.line for s in explicit if s.outcome == HIT) + tuple(s.line for s in aged)
        return CacheReading(HIT, "explicit" if said == HIT else "age", HIT, lines, bool(explicit), age, signals)
    if said is not None:
        lines = tuple(s.line for s in explicit if s.outcome == said)
        return CacheReading(MISS, "explicit", said, lines, True, age, signals)
    if age_lines:
        return CacheReading(UNKNOWN, "age", None, tuple(s.line for s in age_lines), False, age, signals)
    return CacheReading(UNKNOWN, signals=signals)


def needs_age_wait(readings: Iterable[CacheReading]) -> bool:
    """Only ``Age`` can still tell a hit: no response carried an explicit signal, none is a hit yet, and
    an ``Age`` header was seen (``Age: 0``). Wait a second before the decisive look: ``Age`` counts
    whole seconds, so a copy stored just now still shows 0."""
    rs = list(readings)
    return not any(r.explicit or r.hit for r in rs) and any(r.kind == "age" for r in rs)


def object_id(headers) -> str | None:
    """The cached object's own id where the cache says it (Varnish: ``X-Varnish: <request> <object>``)."""
    for name, value in header_pairs(headers):
        if name.strip().lower() == "x-varnish":
            parts = value.split(",")[0].split()
            return parts[1] if len(parts) >= 2 else None
    return None


def replaced(before, after) -> bool:
    """A hit after a purge on a *different* copy than before: the purge evicted the object and another
    visitor's request stored it again in between (on a busy site, milliseconds). Told by the object id
    (Varnish) or by an ``Age`` that went back (an older copy cannot get younger)."""
    b, a = object_id(before), object_id(after)
    if b is not None and a is not None:
        return a != b
    ab, aa = read(before).age, read(after).age
    return ab is not None and aa is not None and aa < ab

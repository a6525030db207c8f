"""Visit statistics from access-log hits, in one pass and bounded memory (II.2.c, II.4 b).

Definitions (the memoria prints them beside the figures):
* **request**: every parsed log line; **bot**: a request whose user agent names a crawler or a tool
  (``BOT_RE``: Googlebot, bingbot, curl, python-requests, uptime monitors, ...). Every figure below except
  requests, status mix and peak per minute counts people only (bots apart).
* **page view**: a successful (status < 400) ``GET`` of an HTML page: a path ending in ``/``, ``.html``,
  ``.htm``, ``.php``, ``.asp(x)`` or with no extension. **poll**: a request for the convocatoria's
  ``main_json.path`` (``/json/main.json``): the PREP page polls it while open, so polls are counted
  apart and never as page views. Everything else (JSON, CSV, images, styles) is a **resource**.
* **visitor**: an IP address with a user agent (IP alone in the *common* format) on one calendar day in
  the convocatoria's time zone. *Unique visitors* = distinct visitors per day, summed over the days
  (GoAccess's definition); *unique in the period* counts each IP + user agent once over the whole log.
* **session (visit)**: a visitor's requests (polls included: an open page that polls is a person on the
  site) with no gap longer than ``idle_timeout_s`` (30 min by default, as Google Analytics and Matomo).
  *Time on site* of a session = its last request minus its first (0 for a single request); the average is
  over all sessions.
* **geolocation**: the country of each unique visitor (period) from an offline database (``geo``).

Memory: counters keyed by minute, status, bot family, page (capped), and the visitors seen in the period
(one 64-bit hash each); open sessions are swept once they are idle, so a 5 GB log needs megabytes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from .geo import Geo
from .logs import Hit

BOT_RE = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|facebookexternalhit|bingpreview|mediapartners|"
    r"\bcurl/|\bwget/|python-requests|python-urllib|aiohttp|httpx|go-http-client|\bjava/|okhttp|libwww|"
    r"httpclient|scrapy|headlesschrome|phantomjs|uptime|pingdom|statuscake|monitor|check_http|"
    r"prep-conformance|locust|nagios|zabbix|ahrefs|semrush|petalbot|yandex|baiduspider", re.I)
_FAMILY = re.compile(r"([A-Za-z][A-Za-z0-9._-]*(?:bot|crawler|spider|slurp|monitor)[A-Za-z0-9._-]*)", re.I)
_TOOL = re.compile(r"^([A-Za-z][A-Za-z0-9._-]*)/", re.I)
_PAGE_EXT = (".html", ".htm", ".php", ".asp", ".aspx", ".shtml")
HIST_EDGES_S = (0, 10, 60, 300, 900, 1800, 3600)    # session length buckets: 0, <10 s, <1 min, ... >=1 h
MAX_PAGES = 50_000
SWEEP_EVERY = 50_000


def bot_family(ua: str) -> str:
    """A short name for a bot's user agent (``Googlebot``, ``curl``)."""
    m = _FAMILY.search(ua) or _TOOL.search(ua)
    return (m.group(1) if m else ua[:40]) or "-"


def is_page(path: str) -> bool:
    if path.endswith("/"):
        return True
    last = path.rsplit("/", 1)[-1]
    return "." not in last or last.lower().endswith(_PAGE_EXT)


@dataclass
class _Session:
    start: float
    last: float
    pages: int


@dataclass
class Aggregator:
    """Feed hits with ``add``; ``result()`` gives the figures as plain data (JSON-serialisable)."""

    tz: dt.tzinfo
    poll_path: str = "/json/main.json"
    idle_timeout_s: float = 1800
    geo: Geo | None = None
    top_n: int = 10

    requests: int = 0
    bots: int = 0
    bytes: int = 0
    page_views: int = 0
    polls: int = 0
    resources: int = 0
    first_ts: float | None = None
    last_ts: float | None = None
    status: Counter = field(default_factory=Counter)
    per_minute: Counter = field(default_factory=Counter)        # all requests, by local minute
    pages_per_minute: Counter = field(default_factory=Counter)
    polls_per_minute: Counter = field(default_factory=Counter)
    bots_per_minute: Counter = field(default_factory=Counter)
    errors_per_minute: Counter = field(default_factory=Counter)  # 5xx answers
    pages: Counter = field(default_factory=Counter)
    pages_other: int = 0
    bot_families: Counter = field(default_factory=Counter)
    daily_unique: Counter = field(default_factory=Counter)      # local day number -> distinct visitors
    countries: Counter = field(default_factory=Counter)
    country_names: dict = field(default_factory=dict)
    sessions: int = 0
    session_time_s: float = 0.0
    session_pages: int = 0
    single_request_sessions: int = 0
    session_hist: list = field(default_factory=lambda: [0] * (len(HIST_EDGES_S) + 1))
    _offset: float = 0.0
    _day_sets: dict = field(default_factory=dict)
    _period: set = field(default_factory=set)
    _open: dict = field(default_factory=dict)
    _bot_cache: dict = field(default_factory=dict)
    _since_sweep: int = 0

    def __post_init__(self) -> None:
        off = dt.datetime(2024, 1, 1, tzinfo=self.tz).utcoffset()
        self._offset = off.total_seconds() if off else 0.0

    def _is_bot(self, ua: str) -> bool:
        c = self._bot_cache
        v = c.get(ua)
        if v is None:
            if len(c) > 20_000:
                c.clear()
            v = c[ua] = bool(BOT_RE.search(ua))
        return v

    def add(self, h: Hit) -> None:
        ts = h.ts
        self.requests += 1
        self.bytes += h.bytes
        self.status[h.status] += 1
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts
        local = ts + self._offset
        minute = int(local // 60)
        self.per_minute[minute] += 1
        if h.status >= 500:
            self.errors_per_minute[minute] += 1
        if self._is_bot(h.ua):
            self.bots += 1
            self.bots_per_minute[minute] += 1
            fam = bot_family(h.ua)
            if fam in self.bot_families or len(self.bot_families) < 5000:
                self.bot_families[fam] += 1
            return
        page = False
        if h.path == self.poll_path:
            self.polls += 1
            self.polls_per_minute[minute] += 1
        elif h.method == "GET" and h.status < 400 and is_page(h.path):
            page = True
            self.page_views += 1
            self.pages_per_minute[minute] += 1
            if h.path in self.pages or len(self.pages) < MAX_PAGES:
                self.pages[h.path] += 1
            else:
                self.pages_other += 1
        else:
            self.resources += 1
        key = hash((h.ip, h.ua))
        day = int(local // 86400)
        ds = self._day_sets.get(day)
        if ds is None:
            ds = self._day_sets[day] = set()
            for old in [d for d in self._day_sets if d < day - 1]:   # logs run forward: keep two days
                self.daily_unique[old] = len(self._day_sets.pop(old))
        ds.add(key)
        if key not in self._period:
            self._period.add(key)
            if self.geo is not None:
                cc, name = self.geo.country(h.ip)
                self.countries[cc] += 1
                self.country_names.setdefault(cc, name)
        s = self._open.get(key)
        if s is None:
            self._open[key] = _Session(ts, ts, int(page))
        elif ts - s.last > self.idle_timeout_s:
            self._close(s)
            self._open[key] = _Session(ts, ts, int(page))
        else:
            if ts > s.last:
                s.last = ts
            elif ts < s.start:
                s.start = ts
            s.pages += page
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:
            self._sweep(ts)

    def _close(self, s: _Session) -> None:
        d = s.last - s.start
        self.sessions += 1
        self.session_time_s += d
        self.session_pages += s.pages
        if d == 0:
            self.single_request_sessions += 1
        self.session_hist[0 if d <= 0 else 1 + sum(1 for e in HIST_EDGES_S[1:] if d >= e)] += 1

    def _sweep(self, now: float) -> None:
        """Close sessions idle for longer than the timeout: memory follows the visitors active now."""
        self._since_sweep = 0
        stale = [k for k, s in self._open.items() if now - s.last > self.idle_timeout_s]
        for k in stale:
            self._close(self._open.pop(k))

    def feed(self, hits: Iterable[Hit]) -> "Aggregator":
        for h in hits:
            self.add(h)
        return self

    # -- results -------------------------------------------------------------------------------------

    def _iso(self, ts: float | None) -> str | None:
        return None if ts is None else dt.datetime.fromtimestamp(ts, self.tz).isoformat(timespec="seconds")

    def _local_minute_iso(self, minute: int) -> str:
        return self._iso(minute * 60 - self._offset)

    def result(self) -> dict:
        """Close what is open and return every figure (plain data)."""
        for s in self._open.values():
            self._close(s)
        self._open.clear()
        for d in list(self._day_sets):
            self.daily_unique[d] = len(self._day_sets.pop(d))
        human = self.requests - self.bots
        peak_min = max(self.per_minute.items(), key=lambda kv: (kv[1], -kv[0]), default=None)
        by_hour: Counter = Counter()
        for m, n in self.per_minute.items():
            by_hour[m // 60] += n
        pages_by_hour: Counter = Counter()
        for m, n in self.pages_per_minute.items():
            pages_by_hour[m // 60] += n
        peak_hour = max(by_hour.items(), key=lambda kv: (kv[1], -kv[0]), default=None)
        classes = Counter()
        for code, n in self.status.items():
            classes[f"{code // 100}xx" if code else "-"] += n
        total_c = sum(self.countries.values())
        return {
            "definitions": {"idle_timeout_s": self.idle_timeout_s, "poll_path": self.poll_path,
                            "utc_offset_s": self._offset, "visitor": "ip+user_agent per day"},
            "period": {"first": self._iso(self.first_ts), "last": self._iso(self.last_ts)},
            "requests": {"total": self.requests, "human": human, "bots": self.bots},
            "bytes": self.bytes,
            "page_views": self.page_views, "polls": self.polls, "resources": self.resources,
            "visitors": {
                "unique_daily_sum": sum(self.daily_unique.values()),
                "unique_period": len(self._period),
                "by_day": [{"day": (dt.date(1970, 1, 1) + dt.timedelta(days=d)).isoformat(), "unique": n}
                           for d, n in sorted(self.daily_unique.items())],
            },
            "sessions": {
                "count": self.sessions,
                "avg_duration_s": round(self.session_time_s / self.sessions, 1) if self.sessions else None,
                "avg_pages": round(self.session_pages / self.sessions, 2) if self.sessions else None,
                "single_request": self.single_request_sessions,
                "histogram": [{"from_s": lo, "to_s": hi, "sessions": n} for (lo, hi), n in
                              zip(_hist_bounds(), self.session_hist)],
            },
            "top_pages": [{"path": p, "views": n,
                           "share": round(n / self.page_views, 4) if self.page_views else 0}
                          for p, n in sorted(self.pages.items(), key=lambda kv: (-kv[1], kv[0]))[:self.top_n]],
            "distinct_pages": len(self.pages),
            "peak_minute": {"at": self._local_minute_iso(peak_min[0]), "requests": peak_min[1],
                            "per_s": round(peak_min[1] / 60, 2)} if peak_min else None,
            "peak_hour": {"at": self._local_minute_iso(peak_hour[0] * 60), "requests": peak_hour[1],
                          "page_views": pages_by_hour.get(peak_hour[0], 0)} if peak_hour else None,
            "by_hour": [{"at": self._local_minute_iso(h * 60), "requests": n, "page_views": pages_by_hour.get(h, 0)}
                        for h, n in sorted(by_hour.items())],
            "status_classes": dict(sorted(classes.items())),
            "status_codes": {str(k): v for k, v in sorted(self.status.items())},
            "errors_5xx": sum(self.errors_per_minute.values()),
            "bots": {"requests": self.bots,
                     "top": [{"family": f, "requests": n} for f, n in
                             sorted(self.bot_families.items(), key=lambda kv: (-kv[1], kv[0]))[:self.top_n]]},
            "countries": [{"code": cc, "name": self.country_names.get(cc, cc), "visitors": n,
                           "share": round(n / total_c, 4) if total_c else 0}
                          for cc, n in sorted(self.countries.items(), key=lambda kv: (-kv[1], kv[0]))],
            "geo_source": self.geo.source if self.geo else None,
            "series": self._series(),
        }

    def _series(self, max_points: int = 144) -> dict:
        """Traffic over time in buckets (1, 5, 10, 15, 30, 60 ... min) so that a chart has at most
        ``max_points`` bars."""
        if not self.per_minute:
            return {"bucket_min": 1, "points": []}
        lo, hi = min(self.per_minute), max(self.per_minute)
        span = hi - lo + 1
        bucket = next((b for b in (1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440) if span / b <= max_points), 1440)
        start = lo - lo % bucket
        n = (hi - start) // bucket + 1
        pts = [{"at": self._local_minute_iso(start + i * bucket), "requests": 0, "page_views": 0, "polls": 0,
                "bots": 0, "errors": 0} for i in range(n)]
        for src, key in ((self.per_minute, "requests"), (self.pages_per_minute, "page_views"),
                         (self.polls_per_minute, "polls"), (self.bots_per_minute, "bots"),
                         (self.errors_per_minute, "errors")):
            for m, c in src.items():
                pts[(m - start) // bucket][key] += c
        return {"bucket_min": bucket, "points": pts}


def _hist_bounds() -> list[tuple[float, float | None]]:
    b: list[tuple[float, float | None]] = [(0, 0)]
    edges = HIST_EDGES_S[1:]
    prev = 0
    for e in edges:
        b.append((prev, e))
        prev = e
    b.append((prev, None))
    return b


def compute(hits: Iterable[Hit], tz: dt.tzinfo, poll_path: str = "/json/main.json", idle_timeout_s: float = 1800,
            geo: Geo | None = None) -> dict:
    """The figures of a log (see the module's definitions)."""
    return Aggregator(tz, poll_path, idle_timeout_s, geo).feed(hits).result()

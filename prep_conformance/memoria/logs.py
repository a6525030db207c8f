"""Access logs in, one ``Hit`` at a time out: streamed, whatever the format, plain or gzip.

Formats (detected per file from its first lines):
* ``clf``: nginx/Apache *combined* and *common* (``%h %l %u %t "%r" %>s %b ["%{Referer}i" "%{User-Agent}i"]``);
  a leading virtual host (Apache ``vhost_combined``) is accepted too;
* ``cloudfront``: CloudFront standard logs (W3C, tab separated, ``#Fields:`` header, times in UTC,
  user agent URL-encoded);
* ``jsonl``: one JSON object per line, e.g. nginx ``log_format ... escape=json`` or a CDN's JSON export.
  Keys accepted (first found): time ``time``/``timestamp``/``@timestamp``/``time_iso8601``/``time_local``/
  ``date``, address ``remote_addr``/``client_ip``/``ip``/``c-ip``/``ClientIP``/``clientIP``, request
  ``request`` ("GET /x HTTP/1.1") or ``method`` + ``uri``/``path``/``request_uri``/``ClientRequestURI``,
  ``status``/``EdgeResponseStatus``, ``body_bytes_sent``/``bytes``/``EdgeResponseBytes``, user agent
  ``http_user_agent``/``user_agent``/``ClientRequestUserAgent``, referer ``http_referer``/``referer``.
  A time is ISO 8601 (with offset, or UTC), CLF (``02/Jun/2024:20:00:00 -0600``) or epoch seconds/ns.

Lines are read with a length cap (a line longer than ``MAX_LINE`` is counted as malformed, never held in
memory whole); nothing but counters is kept per line. Files are read in the order of their first
timestamp, so rotations (``access.log``, ``access.log.1``, ``access.log.2.gz``) may be given in any order.
"""

from __future__ import annotations

import calendar
import datetime as dt
import gzip
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple
from urllib.parse import unquote

MAX_LINE = 64 * 1024
OVERLONG = b"\x00overlong\n"   # stands for a line longer than MAX_LINE: parsed as malformed
FORMATS = ("clf", "cloudfront", "jsonl")

_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                        "Nov", "Dec"), 1)}

# host ident user [time] "request" status bytes ["referer" "ua"]; an optional leading vhost[:port]
_CLF = re.compile(
    r'^(?:\S+ )?(?P<ip>[0-9A-Fa-f.:]+) \S+ \S+ \[(?P<t>[^\]]+)\] "(?P<req>(?:[^"\\]|\\.)*)" (?P<st>\d{3}|-) '
    r'(?P<b>\d+|-)(?: "(?P<ref>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)")?')
# the same without escapes inside quoted fields (nginx writes " as \x22): most lines, much faster
_CLF_FAST = re.compile(r'(?:\S+ )?([0-9A-Fa-f.:]+) \S+ \S+ \[([^\]]+)\] "([^"\\]*)" (\d{3}|-) (\d+|-)'
                       r'(?: "([^"\\]*)" "([^"\\]*)"|\s*$)')


class Hit(NamedTuple):
    """One request. ``ts`` is POSIX seconds (UTC); ``path`` has no query string. (A tuple: cheap to make.)"""

    ts: float
    ip: str
    method: str
    path: str
    status: int
    bytes: int
    ua: str
    referer: str


class LogError(Exception):
    """A log file that cannot be read at all (missing, not a log): a user error, reported with the file."""


def open_lines(path: Path) -> Iterator[bytes]:
    """Every line of a plain or gzip file (detected by magic number), each at most ``MAX_LINE`` bytes; a
    longer line yields ``b""`` once (malformed) and its rest is skipped."""
    raw = open(path, "rb", buffering=1 << 20)
    try:
        magic = raw.read(2)
        raw.seek(0)
        fh = io.BufferedReader(gzip.GzipFile(fileobj=raw), 1 << 20) if magic == b"\x1f\x8b" else raw
        skipping = False
        readline = fh.readline
        while True:
            line = readline(MAX_LINE)
            if not line:
                return
            if line[-1:] != b"\n" and len(line) == MAX_LINE:
                if not skipping:
                    yield OVERLONG
                skipping = True
                continue
            if skipping:
                skipping = False
                continue
            yield line
    except (OSError, EOFError) as exc:   # a truncated gzip member: what was read stays counted
        raise LogError(f"{path.name}: {exc}") from None
    finally:
        raw.close()


def _clf_time(s: str) -> float:
    """``02/Jun/2024:20:00:00 -0600`` → POSIX seconds (no strptime: ten times faster)."""
    day, mon, year = int(s[0:2]), _MONTHS[s[3:6]], int(s[7:11])
    hh, mm, ss = int(s[12:14]), int(s[15:17]), int(s[18:20])
    off = s[21:26]
    sign = -1 if off[0] == "-" else 1
    offset = sign * (int(off[1:3]) * 3600 + int(off[3:5]) * 60)
    return calendar.timegm((year, mon, day, hh, mm, ss)) - offset


def _any_time(v) -> float:
    if isinstance(v, (int, float)):
        v = float(v)
        return v / 1e9 if v > 1e14 else (v / 1e3 if v > 1e11 else v)
    s = str(v).strip()
    if re.match(r"^\d+(\.\d+)?$", s):
        return _any_time(float(s))
    if re.match(r"^\d\d/[A-Z][a-z]{2}/\d{4}:", s):
        return _clf_time(s)
    t = dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace(" ", "T", 1))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.timestamp()


def _unescape(s: str) -> str:
    return s.replace('\\"', '"').replace("\\\\", "\\") if "\\" in s else s


def _split_request(req: str) -> tuple[str, str]:
    parts = req.split(" ")
    if len(parts) >= 2:
        return parts[0], parts[1].split("?", 1)[0]
    return "-", req.split("?", 1)[0] if req.startswith("/") else "-"


def detect_format(path: Path) -> str | None:
    """``clf``, ``cloudfront`` or ``jsonl`` from the first non-empty lines; None if none fits."""
    seen = 0
    for raw in open_lines(path):
        line = raw.decode("utf-8", "replace").strip()
        if not line:
            continue
        if line.startswith("#Version") or line.startswith("#Fields"):
            return "cloudfront"
        if line.startswith("{"):
            return "jsonl"
        if _CLF.match(line):
            return "clf"
        seen += 1
        if seen >= 20:
            return None
    return None


def _parse_clf(path: Path, stats) -> Iterator[Hit]:
    fast, full = _CLF_FAST.match, _CLF.match
    last_t, last_ts = "", 0.0
    for raw in open_lines(path):
        line = raw.decode("utf-8", "replace")
        m = fast(line)
        if m is None:
            m = full(line)           # quotes escaped inside a field (Apache writes \")
            if m is None:
                if line.strip():
                    stats.malformed += 1
                continue
            ip, t, req, st, b, ref, ua = m.groups()
            req, ref, ua = _unescape(req), _unescape(ref or ""), _unescape(ua) if ua is not None else ""
        else:
            ip, t, req, st, b, ref, ua = m.groups()
        if t != last_t:
            try:
                last_ts, last_t = _clf_time(t), t
            except (ValueError, KeyError, IndexError):
                stats.malformed += 1
                continue
        sp = req.find(" ")
        if sp > 0:
            method, rest = req[:sp], req[sp + 1:]
            sp2 = rest.find(" ")
            target = rest[:sp2] if sp2 >= 0 else rest
            q = target.find("?")
            path_ = target[:q] if q >= 0 else target
        else:
            method, path_ = _split_request(req)
        yield Hit(last_ts, ip, method, path_, int(st) if st != "-" else 0, int(b) if b != "-" else 0,
                  ua or "", ref or "")


def _parse_cloudfront(path: Path, stats) -> Iterator[Hit]:
    fields: list[str] = []
    for raw in open_lines(path):
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith("#Fields:"):
                fields = line[8:].split()
            continue
        parts = line.split("\t")
        if not fields or len(parts) < len(fields):
            stats.malformed += 1
            continue
        r = dict(zip(fields, parts))
        try:
            ts = calendar.timegm(dt.datetime.strptime(f"{r['date']} {r['time']}", "%Y-%m-%d %H:%M:%S").timetuple())
            status = int(r.get("sc-status", "0") or 0)
            nbytes = int(r.get("sc-bytes", "0") or 0)
        except (KeyError, ValueError):
            stats.malformed += 1
            continue
        ua = unquote(unquote(r.get("cs(User-Agent)", "-")))   # CloudFront encodes twice (%2520)
        ref = r.get("cs(Referer)", "-")
        yield Hit(float(ts), r.get("c-ip", "-"), r.get("cs-method", "-"), r.get("cs-uri-stem", "-"), status,
                  nbytes, "" if ua == "-" else ua, "" if ref == "-" else unquote(ref))


_J_TIME = ("time", "timestamp", "@timestamp", "time_iso8601", "time_local", "date", "EdgeStartTimestamp")
_J_IP = ("remote_addr", "client_ip", "ip", "c-ip", "ClientIP", "clientIP", "client")
_J_PATH = ("uri", "path", "request_uri", "ClientRequestURI", "cs-uri-stem", "url")
_J_METHOD = ("method", "request_method", "ClientRequestMethod", "cs-method")
_J_STATUS = ("status", "EdgeResponseStatus", "sc-status", "status_code")
_J_BYTES = ("body_bytes_sent", "bytes", "bytes_sent", "EdgeResponseBytes", "sc-bytes")
_J_UA = ("http_user_agent", "user_agent", "ClientRequestUserAgent", "ua", "cs(User-Agent)")
_J_REF = ("http_referer", "referer", "ClientRequestReferer", "cs(Referer)")


def _first(d: dict, keys: tuple[str, ...], default=None):
    for k in keys:
        v = d.get(k)
        if v not in (None, ""):
            return v
    return default


def _parse_jsonl(path: Path, stats) -> Iterator[Hit]:
    for raw in open_lines(path):
        if not raw.strip():
            continue
        try:
            d = json.loads(raw)
            if not isinstance(d, dict):
                raise ValueError("not an object")
            ts = _any_time(_first(d, _J_TIME))
            ip = str(_first(d, _J_IP, "-"))
            if d.get("request"):
                method, p = _split_request(str(d["request"]))
            else:
                method, p = str(_first(d, _J_METHOD, "-")), str(_first(d, _J_PATH, "-")).split("?", 1)[0]
            status = int(_first(d, _J_STATUS, 0))
            nbytes = int(_first(d, _J_BYTES, 0))
        except (ValueError, TypeError, KeyError, IndexError):
            stats.malformed += 1
            continue
        yield Hit(ts, ip, method, p, status, nbytes, str(_first(d, _J_UA, "")), str(_first(d, _J_REF, "")))


_PARSERS = {"clf": _parse_clf, "cloudfront": _parse_cloudfront, "jsonl": _parse_jsonl}


@dataclass
class ReadStats:
    """What the reader saw: files (name, format, lines used), malformed lines."""

    malformed: int = 0
    files: list | None = None


def _first_ts(path: Path, fmt: str) -> float:
    probe = ReadStats()
    for hit in _PARSERS[fmt](path, probe):
        return hit.ts
    return float("inf")


def read_logs(paths: list[Path], fmt: str | None = None, stats: ReadStats | None = None) -> Iterator[Hit]:
    """Every hit of every file, files ordered by their first timestamp (rotations in any order).

    ``fmt`` forces a format; otherwise each file's is detected. Raises ``LogError`` for a missing file or
    one in no known format (before any hit is yielded)."""
    stats = stats if stats is not None else ReadStats()
    stats.files = []
    plan = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise LogError(f"{p}: no existe / not found")
        f = fmt or detect_format(p)
        if f is None:
            raise LogError(f"{p.name}: formato no reconocido (combined, common, CloudFront, JSON lines) / "
                           "unknown format")
        plan.append((_first_ts(p, f), p, f))
    plan.sort(key=lambda x: (x[0], str(x[1])))
    for _, p, f in plan:
        entry = {"file": p.name, "format": f, "hits": 0}
        stats.files.append(entry)
        n = 0
        for hit in _PARSERS[f](p, stats):
            n += 1
            yield hit
        entry["hits"] = n

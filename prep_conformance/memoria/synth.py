"""Synthetic access logs: a small election night whose figures are known by construction (tests, lab), and
a large generated log for the benchmark. The same night can be written in every supported format.

The night (UTC−6, 2 June 2024), people:
* V1 187.190.1.10 Firefox: ``/`` at 20:05, polls main.json each minute 20:06–20:15, ``/presidencia.html``
  20:10:30 (one visit of 600 s); back at 21:00 for ``/`` alone (a second visit: the gap exceeds 30 min).
* V2 187.190.1.10 Chrome (same IP, another browser: another visitor): ``/`` 22:00, ``/diputaciones/``
  22:02, one poll 22:03 (180 s).
* V3 8.8.8.8 Safari: ``/`` 23:59 on 2 June, ``/ayuntamientos.html`` 00:01 on 3 June: one visit of 120 s
  and a unique visitor on each day.
* V4 2806:2f0::1 Edge: ``/index.html``, a stylesheet, a 404, all within 21:30:00–21:30:06.
* V5 10.0.0.5 (private) Firefox: ``/`` answered 502 at 20:20:00 then 200 at 20:20:10.
Bots: Googlebot ``/`` and ``/robots.txt`` at 20:30, curl polling main.json at 20:40.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from pathlib import Path

TZ = dt.timezone(dt.timedelta(hours=-6))
FF = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
CH = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36"
SA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
ED = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36 Edg/125.0"
FF2 = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:126.0) Gecko/20100101 Firefox/126.0"
GB = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CURL = "curl/8.5.0"

# What the tests assert (see the module docstring for why each number is what it is).
EXPECTED = {
    "requests": 26, "bots": 3, "human": 23, "page_views": 9, "polls": 11, "resources": 3,
    "unique_daily_sum": 6, "unique_period": 5, "sessions": 6, "session_time_s": 916, "avg_duration_s": 152.7,
    "avg_pages": 1.5, "single_request": 1,
    "top_pages": [("/", 5), ("/ayuntamientos.html", 1), ("/diputaciones/", 1), ("/index.html", 1),
                  ("/presidencia.html", 1)],
    "status_codes": {"200": 24, "404": 1, "502": 1},
    "peak_minute": ("2024-06-02T21:30:00-06:00", 3), "peak_hour": ("2024-06-02T20:00:00-06:00", 17, 3),
    "countries": {"MX": 3, "US": 1, "--": 1}, "bots_top": [("Googlebot", 2), ("curl", 1)],
    "errors_5xx": 1,
}


def _t(day: int, hh: int, mm: int, ss: int = 0) -> dt.datetime:
    return dt.datetime(2024, 6, day, hh, mm, ss, tzinfo=TZ)


def night_events() -> list[tuple[dt.datetime, str, str, str, int, int, str, str]]:
    """(time, ip, method, path, status, bytes, user agent, referer), in time order."""
    site = "https://prep.medio.example/"
    ev = []
    add = lambda t, ip, path, ua, status=200, size=5120, ref="-": ev.append((t, ip, "GET", path, status, size, ua, ref))
    add(_t(2, 20, 5), "187.190.1.10", "/", FF)
    for m in range(6, 16):
        add(_t(2, 20, m), "187.190.1.10", "/json/main.json", FF, size=812, ref=site)
    add(_t(2, 20, 10, 30), "187.190.1.10", "/presidencia.html", FF, ref=site)
    add(_t(2, 21, 0), "187.190.1.10", "/", FF)
    add(_t(2, 22, 0), "187.190.1.10", "/", CH)
    add(_t(2, 22, 2), "187.190.1.10", "/diputaciones/", CH, ref=site)
    add(_t(2, 22, 3), "187.190.1.10", "/json/main.json?_=1717387380", CH, size=812, ref=site)
    add(_t(2, 23, 59), "8.8.8.8", "/", SA)
    add(_t(3, 0, 1), "8.8.8.8", "/ayuntamientos.html", SA, ref=site)
    add(_t(2, 21, 30, 0), "2806:2f0::1", "/index.html", ED)
    add(_t(2, 21, 30, 5), "2806:2f0::1", "/css/site.css", ED, size=900, ref=site)
    add(_t(2, 21, 30, 6), "2806:2f0::1", "/no-existe.html", ED, status=404, size=150, ref=site)
    add(_t(2, 20, 20, 0), "10.0.0.5", "/", FF2, status=502, size=166)
    add(_t(2, 20, 20, 10), "10.0.0.5", "/", FF2)
    add(_t(2, 20, 30, 0), "66.249.66.1", "/", GB)
    add(_t(2, 20, 30, 1), "66.249.66.1", "/robots.txt", GB, size=40)
    add(_t(2, 20, 40), "127.0.0.1", "/json/main.json", CURL, size=812)
    ev.sort(key=lambda e: e[0])
    return ev


def clf_line(e, combined: bool = True) -> str:
    t, ip, method, path, status, size, ua, ref = e
    ts = t.strftime("%d/%b/%Y:%H:%M:%S %z")
    line = f'{ip} - - [{ts}] "{method} {path} HTTP/1.1" {status} {size}'
    return line + (f' "{ref}" "{ua}"' if combined else "")


def cloudfront_lines(events) -> list[str]:
    from urllib.parse import quote
    out = ["#Version: 1.0", "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem "
           "sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type"]
    for t, ip, method, path, status, size, ua, ref in events:
        u = t.astimezone(dt.timezone.utc)
        stem, _, q = path.partition("?")
        out.append("\t".join([u.strftime("%Y-%m-%d"), u.strftime("%H:%M:%S"), "MEX50-C1", str(size), ip, method,
                              "d111111abcdef8.cloudfront.net", stem, str(status), ref,
                              quote(quote(ua, safe="")), q or "-", "-", "Miss"]))
    return out


def jsonl_lines(events) -> list[str]:
    return [json.dumps({"time": t.isoformat(), "remote_addr": ip, "request": f"{m} {p} HTTP/1.1", "status": s,
                        "body_bytes_sent": b, "http_user_agent": ua, "http_referer": ref})
            for t, ip, m, p, s, b, ua, ref in events]


def write_night(path: Path, fmt: str = "combined", gz: bool = False, events=None) -> Path:
    """The night in ``combined``, ``common``, ``cloudfront`` or ``jsonl``."""
    events = events if events is not None else night_events()
    if fmt in ("combined", "common"):
        lines = [clf_line(e, fmt == "combined") for e in events]
    elif fmt == "cloudfront":
        lines = cloudfront_lines(events)
    else:
        lines = jsonl_lines(events)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def big_log(path: Path, size_bytes: int, seed: int = 7, visitors: int = 50_000) -> int:
    """A combined log of about ``size_bytes`` over one night (20:00 → 08:00, UTC−6), written in blocks;
    returns the number of lines. Each visitor keeps its address and browser, polls main.json and opens
    pages now and then; 3 % of the visitors are bots."""
    rnd = random.Random(seed)
    browsers = [FF, CH, SA, ED, FF2]
    pool = []
    for k in range(visitors):
        ip = f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
        ua = rnd.choice((GB, CURL)) if rnd.random() < 0.03 else rnd.choice(browsers)
        pool.append((ip, ua))
    paths = ["/json/main.json"] * 12 + ["/", "/presidencia.html", "/diputaciones/", "/ayuntamientos.html",
                                         "/css/site.css", "/js/app.js", "/json/diputaciones.json", "/csv/DIP.csv"]
    start = int(_t(2, 20, 0).timestamp())
    span = 12 * 3600
    n_lines = size_bytes // 200
    written = 0
    last_sec, stamp = -1, ""
    with open(path, "w", encoding="utf-8", buffering=1 << 22) as fh:
        block = []
        for i in range(n_lines):
            sec = start + span * i // n_lines
            if sec != last_sec:
                stamp = dt.datetime.fromtimestamp(sec, TZ).strftime("%d/%b/%Y:%H:%M:%S %z")
                last_sec = sec
            ip, ua = pool[rnd.randrange(visitors)]
            status = 200 if rnd.random() > 0.002 else 503
            block.append(f'{ip} - - [{stamp}] "GET {rnd.choice(paths)} HTTP/1.1" {status} {rnd.randint(200, 9000)} '
                         f'"https://prep.medio.example/" "{ua}"')
            if len(block) >= 10_000:
                fh.write("\n".join(block) + "\n")
                written += len(block)
                block = []
        if block:
            fh.write("\n".join(block) + "\n")
            written += len(block)
    return written

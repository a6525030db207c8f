"""Load probe (II.2.a): Locust, headless, in subprocesses; its JSON/CSV statistics parsed into frozen records.

Why a subprocess: importing Locust monkey-patches this interpreter with gevent (locust#2250), and
``requests`` imported first then breaks with a RecursionError. So the harness never imports Locust: it
runs ``sys.executable -m locust -f loadfiles/prep_visitor.py --headless ...`` (plus ``--master`` and
N ``--worker`` processes in distributed mode) and reads ``--json-file``, ``--csv`` and
``--csv-full-history``. Every process gets its own process group and a parent-death signal; whatever
happens (the run ends, times out, Ctrl-C, SIGTERM, an exception; ``probes.guard``) every group is
terminated, then killed.
"""

from __future__ import annotations

import csv
import ctypes
import io
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence
from urllib.parse import urljoin, urlsplit, urlunsplit

from .. import trust
from ..errors import CheckError
from ..loadfiles import LOCUSTFILES
from .guard import Guard

# ---------------------------------------------------------------- observations


@dataclass(frozen=True)
class LoadPlan:
    """What one Locust run does (already capped by the rules; see ``rules.load.settings``; ``plan_for`` builds it).

    Attributes:
        host: ``scheme://netloc`` of the site; ``page`` the page path (``/``).
        users, spawn_rate, duration_s: Locust ``-u``, ``-r``, ``-t``.
        workers: local worker processes (0 = one process); ``remote_workers`` waits for workers
            started elsewhere instead (``expect_workers`` of them, at most ``expect_workers_wait_s``).
        main_json, page_assets, data_files: what a visitor fetches; ``poll_min_s``/``poll_max_s`` think time.
        resolve, ca_bundle, timeout_s: the profile's pinning, trust and per-request timeout.
    """

    host: str
    users: int
    spawn_rate: float
    duration_s: int
    page: str = "/"
    workers: int = 0
    remote_workers: bool = False
    expect_workers_wait_s: int = 60
    master_bind_host: str = "127.0.0.1"
    master_port: int | None = None
    main_json: str = "/json/main.json"
    page_assets: tuple[str, ...] = ()
    data_files: tuple[str, ...] = ()
    poll_min_s: float = 2.0
    poll_max_s: float = 5.0
    weights: Mapping[str, float] = field(default_factory=lambda: {"poll": 6, "data": 3, "page": 1})
    resolve: Mapping[str, str] = field(default_factory=dict)
    ca_bundle: str | None = None
    timeout_s: float = 10.0
    cache_bust: bool = False
    verify_tls: bool = False        # trust is II.2.d.https's verdict; the load does not fail on certificates

    @property
    def hard_timeout_s(self) -> float:
        """The run is killed after this, whatever Locust does (run time + worker wait + shutdown slack)."""
        wait = self.expect_workers_wait_s if (self.workers or self.remote_workers) else 0
        return self.duration_s + wait + 30 + self.timeout_s

    remote_count: int = 0

    @property
    def expect_workers(self) -> int:
        return self.remote_count if self.remote_workers else self.workers


@dataclass(frozen=True)
class EndpointStats:
    """One row of Locust's final statistics (milliseconds)."""

    method: str
    name: str
    requests: int
    failures: int
    avg_ms: float
    max_ms: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class SeriesPoint:
    """One second of the run (``--csv-full-history`` Aggregated row): Locust's current rps and window percentiles."""

    t: float
    users: int
    rps: float
    fails_s: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class FailureLine:
    method: str
    name: str
    error: str
    occurrences: int


@dataclass(frozen=True)
class MainJsonTally:
    """What the ``main.json`` answers carried under load (from the locustfile's tally).

    Attributes:
        responses: main.json requests answered (any status); ``ok`` those with 200.
        cache_control: raw Cache-Control value -> count (``<absent>`` when missing).
        secuencia: corte ``secuencia`` -> count.
        cache_hits: answers that came from a cache (a hit as ``cache_status`` reads it); ``age_max`` seconds.
    """

    responses: int
    ok: int
    bad_json: int
    cache_control: Mapping[str, int]
    secuencia: Mapping[str, int]
    cache_hits: int
    age_max: int
    hit_examples: tuple[Mapping[str, str | None], ...] = ()


@dataclass(frozen=True)
class LoadObservation:
    """The outcome of one Locust run.

    Attributes:
        plan: what was asked. ``command``: the master's command line.
        exit_code: Locust's (None if killed); ``timed_out`` when the hard timeout fired.
        requests, failures, rps, p50/p95/p99/avg/max_ms: aggregated over every request.
        measured_s: from the first to the last request.
        workers_seen: workers that joined (distributed mode), parsed from the master's log.
        cpu_warning: Locust warned that a generator process ran above 90 % CPU (the numbers then
            measure the generator as much as the site).
        error: why no statistics could be read (then the numbers are zero).
        recovered_after_s: seconds after the load until the page answered again without 5xx/429
            (None: not within the wait; ``recovery_status`` the last status seen).
    """

    plan: LoadPlan
    command: tuple[str, ...]
    exit_code: int | None
    timed_out: bool
    wall_s: float
    requests: int = 0
    failures: int = 0
    rps: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    avg_ms: float | None = None
    max_ms: float | None = None
    measured_s: float = 0.0
    endpoints: tuple[EndpointStats, ...] = ()
    series: tuple[SeriesPoint, ...] = ()
    failure_lines: tuple[FailureLine, ...] = ()
    tally: MainJsonTally | None = None
    workers_seen: int = 0
    cpu_warning: bool = False
    log_tail: str = ""
    artifacts: str = ""
    error: str | None = None
    recovered_after_s: float | None = None
    recovery_status: int | None = None

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


# ---------------------------------------------------------------- pure parsing of Locust's outputs


def percentile_from_histogram(hist: Mapping[str, int] | Mapping[int, int], q: float) -> float | None:
    """Locust's own method (``StatsEntry.get_response_time_percentile``): the rounded bucket at rank ``q``."""
    items = sorted((float(k), int(v)) for k, v in hist.items())
    total = sum(v for _, v in items)
    if not total:
        return None
    rank = int(total * q)
    seen = 0
    for rt, n in reversed(items):
        seen += n
        if total - seen <= rank:
            return rt
    return items[0][0]


def _num(s: str | None) -> float | None:
    if s is None or s.strip() in ("", "N/A"):
        return None
    try:
        return float(s)
    except ValueError:
        return None


def parse_json_stats(text: str) -> dict:
    """Aggregate Locust's ``--json-file`` (one entry per endpoint) into totals and percentiles."""
    entries = json.loads(text)
    hist: dict[float, int] = {}
    req = fail = 0
    total_rt = 0.0
    mx = 0.0
    start, last = math.inf, 0.0
    eps: list[EndpointStats] = []
    for e in entries:
        n, f = int(e["num_requests"]), int(e["num_failures"])
        req += n
        fail += f
        total_rt += float(e["total_response_time"])
        mx = max(mx, float(e.get("max_response_time") or 0))
        if n:
            start = min(start, float(e["start_time"]))
            last = max(last, float(e.get("last_request_timestamp") or 0))
        h = e.get("response_times") or {}
        for k, v in h.items():
            hist[float(k)] = hist.get(float(k), 0) + int(v)
        eps.append(EndpointStats(e["method"] or "", e["name"], n, f,
                                 round(float(e["total_response_time"]) / n, 2) if n else 0.0,
                                 round(float(e.get("max_response_time") or 0), 2),
                                 percentile_from_histogram(h, 0.50), percentile_from_histogram(h, 0.95),
                                 percentile_from_histogram(h, 0.99)))
    per_s: dict[int, int] = {}
    fail_s: dict[int, int] = {}
    for e in entries:
        for k, v in (e.get("num_reqs_per_sec") or {}).items():
            per_s[int(k)] = per_s.get(int(k), 0) + int(v)
        for k, v in (e.get("num_fail_per_sec") or {}).items():
            fail_s[int(k)] = fail_s.get(int(k), 0) + int(v)
    measured = max(0.0, last - start) if req else 0.0
    return {"requests": req, "failures": fail,
            # Locust's total_rps: requests over the span from the first to the last request
            "rps": round(req / measured, 2) if measured > 0 else float(req),
            "p50_ms": percentile_from_histogram(hist, 0.50), "p95_ms": percentile_from_histogram(hist, 0.95),
            "p99_ms": percentile_from_histogram(hist, 0.99),
            "avg_ms": round(total_rt / req, 2) if req else None, "max_ms": round(mx, 2) if req else None,
            "measured_s": round(measured, 3), "endpoints": tuple(sorted(eps, key=lambda x: -x.requests)),
            "per_second": (per_s, fail_s)}


def parse_history_csv(text: str, per_second: tuple[Mapping[int, int], Mapping[int, int]] | None = None
                      ) -> tuple[SeriesPoint, ...]:
    """The Aggregated rows of ``*_stats_history.csv``, one per second, time relative to the first row.

    Locust's history gives users and moving-window percentiles; its requests/s and failures/s are
    smoothed, so when ``per_second`` (the exact counts per epoch second from ``--json-file``) is given,
    those are used instead.
    """
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r.get("Name") == "Aggregated"]
    if not rows:
        return ()
    t0 = float(rows[0]["Timestamp"])
    out = []
    for r in rows:
        ts = int(float(r["Timestamp"]))
        rps, fails = _num(r["Requests/s"]) or 0.0, _num(r["Failures/s"]) or 0.0
        if per_second is not None:
            rps, fails = float(per_second[0].get(ts, 0)), float(per_second[1].get(ts, 0))
        out.append(SeriesPoint(float(r["Timestamp"]) - t0, int(float(r["User Count"] or 0)), rps, fails,
                               _num(r.get("50%")), _num(r.get("95%")), _num(r.get("99%"))))
    return tuple(out)


def parse_failures_csv(text: str) -> tuple[FailureLine, ...]:
    rows = list(csv.DictReader(io.StringIO(text)))
    lines = [FailureLine(r.get("Method", ""), r.get("Name", ""), (r.get("Error") or "")[:300],
                         int(float(r.get("Occurrences") or 0))) for r in rows]
    return tuple(sorted(lines, key=lambda x: -x.occurrences))


def parse_tally(text: str) -> MainJsonTally:
    d = json.loads(text)
    return MainJsonTally(int(d["responses"]), int(d["ok"]), int(d.get("bad_json", 0)),
                         dict(d.get("cache_control", {})), dict(d.get("secuencia", {})),
                         int(d.get("cache_hits", 0)), int(d.get("age_max", 0)),
                         tuple(d.get("hit_examples", ())))


_WORKER_RE = re.compile(r"\(index \d+\) reported as ready\. (\d+) workers connected")


def workers_seen(log: str) -> int:
    found = [int(m.group(1)) for m in _WORKER_RE.finditer(log)]
    return max(found) if found else 0


def cpu_warning(log: str) -> bool:
    return "CPU usage above 90%" in log or "exceeded cpu threshold" in log


# ---------------------------------------------------------------- the site the visitors load


@dataclass(frozen=True)
class SiteMap:
    """What a visitor's browser loads, found by reading the page and its scripts once before the load.

    Attributes:
        page_status, main_json_status: HTTP status of the page and of main.json (None: no answer).
        page_assets: same-origin CSS/JS the page references; data_files: JSON/CSV paths named in the
            page or its scripts (main.json excluded: it is polled), else those main.json lists.
        secuencia: the corte main.json carried before the load; main_json_headers: its raw header lines.
    """

    page_url: str
    page_status: int | None
    main_json_status: int | None
    page_assets: tuple[str, ...]
    data_files: tuple[str, ...]
    secuencia: int | None
    main_json_headers: tuple[tuple[str, str], ...]
    page_headers: tuple[tuple[str, str], ...]
    error: str | None = None


_ASSET_RE = re.compile(r"""<(?:script[^>]*\ssrc|link[^>]*\shref)\s*=\s*["']([^"'#]+)["']""", re.I)
_DATA_RE = re.compile(r"""["'`]([^"'`\s<>]+?\.(?:json|csv))(?:\?[^"'`\s]*)?["'`]""", re.I)


def discover_paths(page_url: str, html: str, scripts: Mapping[str, str], main_json: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Same-origin asset paths from the page, and JSON/CSV paths named in the page or its scripts. Pure."""
    base = urlsplit(page_url)

    def local(url: str) -> str | None:
        p = urlsplit(urljoin(page_url, url))
        if (p.scheme, p.netloc) != (base.scheme, base.netloc):
            return None
        return p.path + (f"?{p.query}" if p.query else "")

    assets: list[str] = []
    for m in _ASSET_RE.finditer(html):
        tag = html[max(0, m.start()):m.end()].lower()
        if tag.startswith("<link") and "stylesheet" not in tag and not m.group(1).endswith(".css"):
            continue
        path = local(m.group(1))
        if path and path not in assets:
            assets.append(path)
    data: list[str] = []
    for text in [html, *scripts.values()]:
        for m in _DATA_RE.finditer(text):
            path = local(m.group(1))
            if path and path != main_json and path not in data:
                data.append(path)
    return tuple(assets[:20]), tuple(data[:20])


def _pinned_session(resolve: Mapping[str, str], ca_bundle: str | None, host: str, verify: bool = False):
    """A requests session to the site with the profile's pinning (probes.http's adapter).

    TLS is not verified unless ``verify``: certificate trust is II.2.d.https's verdict, and a bad
    certificate must not turn the load checks into FAIL/ERROR (the evidence notes it).
    """
    from . import http as seam

    s = seam.session(resolve, ca_bundle, 2, verify=verify,
                     user_agent="prep-conformance/0.1 (+PREP difusor conformance harness; load pre-flight)")
    return s


def site_map(page_url: str, main_json: str, resolve: Mapping[str, str], ca_bundle: str | None,
             timeout_s: float) -> SiteMap:
    """GET the page, its same-origin scripts and main.json once (the visitors' shopping list)."""
    import requests

    p = urlsplit(page_url)
    root = urlunsplit((p.scheme, p.netloc, "/", "", ""))
    scripts: dict[str, str] = {}
    with _pinned_session(resolve, ca_bundle, root) as s:
        try:
            r = s.get(page_url, timeout=(min(3.0, timeout_s), timeout_s), allow_redirects=True)
            html, page_status, page_headers = r.text[:2_000_000], r.status_code, tuple(r.headers.items())
        except requests.RequestException as exc:
            return SiteMap(page_url, None, None, (), (), None, (), (), error=f"{type(exc).__name__}: {exc}"[:300])
        assets, _ = discover_paths(page_url, html, {}, main_json)
        for path in [a for a in assets if a.split("?")[0].endswith(".js")][:5]:
            try:
                js = s.get(urljoin(root, path), timeout=(min(3.0, timeout_s), timeout_s))
                if js.status_code == 200:
                    scripts[path] = js.text[:1_000_000]
            except requests.RequestException:
                pass
        assets, data = discover_paths(page_url, html, scripts, main_json)
        seq, mj_status, mj_headers = None, None, ()
        try:
            mj = s.get(urljoin(root, main_json), timeout=(min(3.0, timeout_s), timeout_s))
            mj_status, mj_headers = mj.status_code, tuple(mj.headers.items())
            doc = mj.json() if mj.status_code == 200 else None
            if isinstance(doc, dict):          # an int, or a numeric string as some PREPs write it
                from ..paquete import main_json_corte
                seq = main_json_corte(doc)[0]
            if not data and mj.status_code == 200:
                # the page names no data file: take the JSON/CSV main.json lists (what a results page renders)
                # (its paths are relative to the site root: the paquete's layout)
                _, data = discover_paths(root, "", {"main.json": mj.text[:1_000_000]}, main_json)
        except (requests.RequestException, ValueError):
            pass
    return SiteMap(page_url, page_status, mj_status, assets, data, seq, mj_headers, page_headers)


def wait_recovered(page_url: str, resolve: Mapping[str, str], ca_bundle: str | None, timeout_s: float,
                   max_s: float = 30.0, interval_s: float = 0.5) -> tuple[float | None, int | None]:
    """After a load or a burst: how long until the page answers again without 5xx or 429.

    Evidence for II.2.a (a site that stays down after the traffic stops is worse than a slow one), and
    it keeps the next checks from meeting a limiter still draining. One request at a time, 2/s at most.
    """
    import requests

    p = urlsplit(page_url)
    root = urlunsplit((p.scheme, p.netloc, "/", "", ""))
    t0 = time.monotonic()
    status = None
    with _pinned_session(resolve, ca_bundle, root) as s:
        while True:
            try:
                r = s.get(page_url, timeout=(min(3.0, timeout_s), timeout_s), allow_redirects=True)
                status = r.status_code
                r.close()
                if status < 500 and status != 429:
                    return round(time.monotonic() - t0, 2), status
            except requests.RequestException:
                status = None
            if time.monotonic() - t0 + interval_s > max_s:
                return None, status
            time.sleep(interval_s)


def settle(page_url: str, resolve: Mapping[str, str], ca_bundle: str | None, timeout_s: float,
           cooldown_s: float) -> tuple[float | None, int | None]:
    """After a load or burst: measure recovery (``wait_recovered``), then keep quiet until ``cooldown_s``
    have passed in all, so that a limiter still draining does not fail the checks that come next."""
    t0 = time.monotonic()
    out = wait_recovered(page_url, resolve, ca_bundle, timeout_s, max_s=max(30.0, cooldown_s))
    rest = cooldown_s - (time.monotonic() - t0)
    if rest > 0:
        time.sleep(rest)
    return out


# ---------------------------------------------------------------- where the target is


def target_addresses(url: str, resolve: Mapping[str, str], timeout_s: float = 5.0) -> tuple[str, ...]:
    """The addresses the load would go to: the pinned one, the literal IP, or what DNS answers."""
    host = (urlsplit(url).hostname or "").lower()
    if host in resolve:
        return (resolve[host],)
    try:
        ipaddress.ip_address(host)
        return (host,)
    except ValueError:
        pass
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout_s)
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return ()
    finally:
        socket.setdefaulttimeout(old)
    return tuple(sorted({i[4][0] for i in infos}))


def all_loopback(addresses: Sequence[str]) -> bool:
    try:
        return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)
    except ValueError:
        return False


def plan_for(profile, convocatoria, s, site) -> LoadPlan:
    """The Locust plan for a profile: its site, pinning, trust, and what the page loads.

    ``s``: the capped ``rules.load.LoadSettings`` (users, duration, think time, workers); ``site``: a
    ``SiteMap``. Configuration of the probe, not a judgement: the rules only read the observation."""
    p = urlsplit(profile.target_url)
    return LoadPlan(
        host=urlunsplit((p.scheme, p.netloc, "", "", "")), page=p.path or "/", users=s.users,
        spawn_rate=s.spawn_rate, duration_s=s.duration_s, workers=0 if s.remote_workers else s.workers,
        remote_workers=s.remote_workers, remote_count=s.workers if s.remote_workers else 0,
        expect_workers_wait_s=s.expect_workers_wait_s,
        # loopback unless told otherwise; a profile's non-loopback address needs --trust-profile
        master_bind_host=trust.bind_host(profile, s.master_bind_host, "el maestro de Locust / the Locust master"),
        master_port=s.master_port, main_json=convocatoria.main_json.path,
        page_assets=tuple(site.page_assets), data_files=tuple(site.data_files),
        poll_min_s=s.poll_min_s, poll_max_s=s.poll_max_s, weights=dict(s.weights),
        resolve=dict(profile.http.resolve), ca_bundle=profile.http.ca_bundle, timeout_s=float(profile.http.timeout_s))


# ---------------------------------------------------------------- the run

REMOTE_DEFAULT_PORT = 5557     # Locust's default master port, what remote workers try first
_PR_SET_PDEATHSIG = 1


def _child_setup() -> None:  # pragma: no cover - runs in the child between fork and exec
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def _spawn(cmd: list[str], log: Path, cwd: Path, procs: list[subprocess.Popen]) -> subprocess.Popen:
    """Start one Locust process in its own group; it goes into ``procs`` (what the run's guard stops) at once."""
    fh = open(log, "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(trust.own_command(cmd), stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                            cwd=str(cwd),
                            env=env, preexec_fn=_child_setup, close_fds=True)
    procs.append(proc)
    fh.close()
    return proc


def _stop(procs: Sequence[subprocess.Popen], grace_s: float = 5.0) -> None:
    """SIGTERM every process group (Locust writes its stats on SIGTERM), then SIGKILL what is left."""
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace_s
    for p in procs:
        try:
            p.wait(max(0.05, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)   # the group too: anything a worker forked
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(2)
        except subprocess.TimeoutExpired:
            pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def locust_command(plan: LoadPlan, out: Path, role: str = "standalone", master_port: int | None = None) -> list[str]:
    """The ``python -m locust`` command line for one role: standalone, master or worker."""
    base = [sys.executable, "-m", "locust", "-f", LOCUSTFILES, "--loglevel", "INFO"]
    if role == "worker":
        return base + ["--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port)]
    weights = ",".join(f"{k}={v:g}" for k, v in plan.weights.items())
    cmd = base + [
        "--headless", "--only-summary", "-H", plan.host,
        "-u", str(plan.users), "-r", f"{plan.spawn_rate:g}", "-t", f"{plan.duration_s}s",
        "--stop-timeout", "2", "--exit-code-on-error", "0",
        "--csv", str(out / "locust"), "--csv-full-history", "--json-file", str(out / "locust"),
        "--prep-main-json", plan.main_json, "--prep-poll", f"{plan.poll_min_s:g},{plan.poll_max_s:g}",
        "--prep-weights", weights, "--prep-page", plan.page, "--prep-page-assets", json.dumps(list(plan.page_assets)),
        "--prep-data-files", json.dumps(list(plan.data_files)), "--prep-resolve", json.dumps(dict(plan.resolve)),
        "--prep-timeout", f"{plan.timeout_s:g}", "--prep-cache-bust", "query" if plan.cache_bust else "off",
        "--prep-tally-file", str(out / "tally.json"),
    ]
    if plan.verify_tls:
        cmd += ["--prep-verify", "on"] + (["--prep-ca-bundle", plan.ca_bundle] if plan.ca_bundle else [])
    if role == "master":
        cmd += ["--master", "--master-bind-host", plan.master_bind_host, "--master-bind-port", str(master_port),
                "--expect-workers", str(plan.expect_workers),
                "--expect-workers-max-wait", str(plan.expect_workers_wait_s)]
    return cmd


def remote_worker_command(master_host: str, master_port: int) -> str:
    """What a user runs on another machine (with prep-conformance or just locust installed) to join a run."""
    return f"python -m locust -f - --worker --master-host {master_host} --master-port {master_port}"


def run(plan: LoadPlan, out_dir: str | Path) -> LoadObservation:
    """Run Locust for ``plan`` and read what it wrote. Never leaves a Locust process behind."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("locust*"):
        old.unlink()
    (out / "tally.json").unlink(missing_ok=True)
    distributed = plan.workers > 0 or plan.remote_workers
    port = (plan.master_port or (REMOTE_DEFAULT_PORT if plan.remote_workers else _free_port())) if distributed else None
    role = "master" if distributed else "standalone"
    cmd = locust_command(plan, out, role, port)
    procs: list[subprocess.Popen] = []
    timed_out = False
    t0 = time.monotonic()
    with Guard("the load test") as g:
        stop = g.on_exit(lambda: _stop(procs))
        try:
            master = _spawn(cmd, out / "master.log", out, procs)
            if plan.remote_workers:
                # the person running the check starts the workers elsewhere while the master waits
                sys.__stderr__.write(
                    f"\nprep-conformance: waiting up to {plan.expect_workers_wait_s} s for {plan.expect_workers} "
                    f"Locust worker(s); on each worker machine run:\n  "
                    f"{remote_worker_command('<this-host>', port)}\n")
                sys.__stderr__.flush()
            if plan.workers and not plan.remote_workers:
                for i in range(plan.workers):
                    _spawn(locust_command(plan, out, "worker", port), out / f"worker{i}.log", out, procs)
            try:
                master.wait(plan.hard_timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
        finally:
            # normal end, timeout, Ctrl-C/SIGTERM (KeyboardInterrupt) or any exception: nothing outlives the run
            stop()
    wall = time.monotonic() - t0
    log = (out / "master.log").read_text(errors="replace") if (out / "master.log").exists() else ""
    for w in sorted(out.glob("worker*.log")):
        log_w = w.read_text(errors="replace")
        if cpu_warning(log_w):
            log += "\n[worker] CPU usage above 90%"
    common = dict(plan=plan, command=tuple(cmd), exit_code=procs[0].returncode if procs else None,
                  timed_out=timed_out, wall_s=round(wall, 3), workers_seen=workers_seen(log),
                  cpu_warning=cpu_warning(log), log_tail=log[-2000:], artifacts=str(out))
    stats_file = out / "locust.json"
    if not stats_file.exists() or not stats_file.read_text().strip():
        why = "Locust no escribió estadísticas / Locust wrote no statistics"
        if distributed and workers_seen(log) < plan.expect_workers:
            why += f" (workers conectados / connected: {workers_seen(log)} de/of {plan.expect_workers})"
        return LoadObservation(**common, error=why)
    try:
        agg = parse_json_stats(stats_file.read_text())
    except (ValueError, KeyError) as exc:
        return LoadObservation(**common, error=f"estadísticas ilegibles / unreadable statistics: {exc}")
    hist = out / "locust_stats_history.csv"
    fails = out / "locust_failures.csv"
    tally = out / "tally.json"
    per_second = agg.pop("per_second")
    return LoadObservation(
        **common, **agg,
        series=parse_history_csv(hist.read_text(), per_second) if hist.exists() else (),
        failure_lines=parse_failures_csv(fails.read_text()) if fails.exists() else (),
        tally=parse_tally(tally.read_text()) if tally.exists() else None)


def locust_processes(marker: str) -> list[int]:
    """PIDs of live Locust processes whose command line or working folder holds ``marker`` (the run's
    output folder: workers run there). Tests use it to show that nothing outlives a run."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmdline = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next((ln for ln in (d / "status").read_text().splitlines() if ln.startswith("State:")), "")
            is_locust = " -m locust " in f" {cmdline} " or Path(cmdline.split(" ", 1)[0]).name == "locust"
            cwd = os.readlink(d / "cwd") if is_locust else ""
        except OSError:
            continue
        if (is_locust and int(d.name) != os.getpid() and (marker in cmdline or cwd.startswith(marker))
                and "Z (zombie)" not in state):
            pids.append(int(d.name))
    return pids


def require_stats(obs: LoadObservation) -> LoadObservation:
    if obs.error:
        raise CheckError(f"La prueba de carga no produjo estadísticas: {obs.error}",
                         f"The load test produced no statistics: {obs.error}", log_tail=obs.log_tail[-800:])
    return obs

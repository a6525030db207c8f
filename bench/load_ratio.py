#!/usr/bin/env python3
"""Requests/s of the harness's Locust (1 process; master + N local workers) against wrk on the same target.

The target is the lab's ``load-compliant`` edge (Varnish, plain HTTP) serving ``/json/main.json``, which
Varnish passes to the nginx origin on every request (no-store): the same chain the load check loads,
without TLS so that the numbers compare request machinery, not handshakes. With ``--https`` the target is
the TLS front instead (wrk gets ``Host``; SNI is then 127.0.0.1 and wrk does not verify).

Visitors have no think time here (``poll 0``, main.json only): the point is the ceiling of each generator.
Everything shares the machine's cores (generator, Varnish, nginx): say so with the numbers.

    sudo .venv/bin/python bench/load_ratio.py [--users 50] [--duration 10] [--workers 2] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prep_conformance.lab import Lab  # noqa: E402
from prep_conformance.probes import load  # noqa: E402


def wrk(url: str, conns: int, duration: int, threads: int, host: str | None) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{duration}s", "--latency", url]
    if host:
        cmd[1:1] = ["-H", f"Host: {host}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = None
    if m:
        p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": p99, "non_2xx": int(errs.group(1)) if errs else 0, "cmd": " ".join(cmd)}


def locust_run(plan: load.LoadPlan, workers: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        obs = load.run(replace(plan, workers=workers), out)
        if obs.error:
            raise SystemExit(f"locust failed: {obs.error}\n{obs.log_tail}")
        return {"rps": obs.rps, "requests": obs.requests, "failures": obs.failures, "p95_ms": obs.p95_ms,
                "p99_ms": obs.p99_ms, "workers_seen": obs.workers_seen, "cpu_warning": obs.cpu_warning,
                "measured_s": obs.measured_s}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=50, help="Locust users = wrk connections")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--https", action="store_true", help="load the TLS front instead of the edge")
    ap.add_argument("--state", default="/var/lib/prep-conformance/lab-load-bench")
    ap.add_argument("--port-base", type=int, default=26700)
    ap.add_argument("--json", help="write the numbers here")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    lab = Lab(a.state, port_base=a.port_base)
    started = not lab.is_up()
    if started:
        lab.up(["load-compliant"], log=lambda *x: None)
    try:
        ports = {k.split(":", 1)[1]: v for k, v in lab.record()["ports"].items() if k.startswith("load-compliant:")}
        host = "load-compliant.lab.prep.example"
        if a.https:
            url_locust = f"https://{host}:{ports['front_https']}"
            url_wrk, wrk_host = f"https://127.0.0.1:{ports['front_https']}/json/main.json", host
            resolve, ca = {host: "127.0.0.1"}, str(Path(a.state) / "pki" / "ca.pem")
        else:
            url_locust = f"http://127.0.0.1:{ports['edge']}"
            url_wrk, wrk_host, resolve, ca = f"{url_locust}/json/main.json", host, {}, None
        plan = load.LoadPlan(host=url_locust, users=a.users, spawn_rate=a.users, duration_s=a.duration,
                             poll_min_s=0, poll_max_s=0, weights={"poll": 1, "data": 0, "page": 0},
                             resolve=resolve, ca_bundle=ca, timeout_s=10, expect_workers_wait_s=30)
        rows: dict[str, list[dict]] = {"wrk": [], "locust_1": [], f"locust_master_{a.workers}w": []}
        for i in range(a.repeat):
            rows["wrk"].append(wrk(url_wrk, a.users, a.duration, a.wrk_threads, wrk_host))
            time.sleep(1)
            rows["locust_1"].append(locust_run(plan, 0))
            time.sleep(1)
            rows[f"locust_master_{a.workers}w"].append(locust_run(plan, a.workers))
            time.sleep(1)
        med = {k: statistics.median(r["rps"] for r in v) for k, v in rows.items()}
        w = med["wrk"]
        print(f"target: {url_wrk} (users/connections {a.users}, {a.duration} s, {a.repeat} round(s), "
              f"{os.cpu_count()} cores shared by generator and servers)")
        print(f"{'generator':<20} {'req/s (median)':>15} {'of wrk':>8}  runs")
        for k, v in rows.items():
            print(f"{k:<20} {med[k]:>15.0f} {med[k] / w:>8.2f}  " + ", ".join(f"{r['rps']:.0f}" for r in v))
        one, dist = med["locust_1"], med[f"locust_master_{a.workers}w"]
        print(f"master+{a.workers} workers / 1 process: {dist / one:.2f}")
        for k, v in rows.items():
            if k != "wrk" and any(r.get("cpu_warning") for r in v):
                print(f"note: {k}: Locust warned of >90 % CPU in a generator process")
            if any(r.get("failures") or r.get("non_2xx") for r in v):
                print(f"note: {k}: some requests failed: {[r.get('failures', r.get('non_2xx')) for r in v]}")
        if a.json:
            Path(a.json).write_text(json.dumps({"args": vars(a), "median_rps": med, "runs": rows}, indent=1))
    finally:
        if started:
            lab.down(log=lambda *x: None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

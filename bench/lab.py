"""Lab and paquete timings: paquete generation (tiny/small/realistic), `lab up` and `lab down` of every
scenario, and the edge's throughput with wrk (compliant scenario, through the HTTPS front).

    sudo .venv/bin/python bench/lab.py [--runs 3] [--wrk-seconds 10] [--json out.json]

Uses its own state folder (/var/lib/prep-conformance/lab-bench) and ports (PREP_LAB_PORT_BASE, default
24000 here), so it never touches a lab someone left up. Numbers are medians of --runs.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prep_conformance import paquete  # noqa: E402
from prep_conformance.lab import Lab  # noqa: E402
from prep_conformance.lab.manager import SIZES  # noqa: E402


def _median(xs):
    return round(statistics.median(xs), 3)


def bench_paquete(runs: int) -> dict:
    out = {}
    for size, params in SIZES.items():
        times, files, nbytes = [], 0, 0
        for _ in range(runs):
            with tempfile.TemporaryDirectory(dir="/var/tmp") as d:
                t = time.perf_counter()
                c = paquete.generate_corte(d, 3, **params)
                times.append(time.perf_counter() - t)
                fs = [p for p in c.rglob("*") if p.is_file()]
                files, nbytes = len(fs), sum(p.stat().st_size for p in fs)
        out[size] = {"seconds": _median(times), "files": files, "MB": round(nbytes / 1e6, 2), **params}
    return out


def bench_lab(runs: int, port_base: int) -> dict:
    state = Path("/var/lib/prep-conformance/lab-bench")
    lab = Lab(state, port_base=port_base)
    lab.down(log=lambda *a: None)
    ups, downs, n = [], [], 0
    for _ in range(runs):
        t = time.perf_counter()
        st = lab.up(log=lambda *a: None)
        ups.append(time.perf_counter() - t)
        n = len(st["scenarios"])
        assert st["ok"], st["problems"]
        t = time.perf_counter()
        lab.down(log=lambda *a: None)
        downs.append(time.perf_counter() - t)
    return {"scenarios": n, "up_s": _median(ups), "down_s": _median(downs), "up_all_s": [round(x, 2) for x in ups],
            "components": st.get("components")}


def bench_wrk(seconds: int, port_base: int) -> dict:
    if not shutil.which("wrk"):
        return {"skipped": "wrk not installed"}
    lab = Lab(Path("/var/lib/prep-conformance/lab-bench"), port_base=port_base)
    lab.up(["compliant"], log=lambda *a: None)
    try:
        ports = json.loads((lab.state / "lab.json").read_text())["ports"]
        host = "compliant.lab.prep.example"
        out = {}
        for label, url in (("front-https index.html (edge HIT)", f"https://127.0.0.1:{ports['compliant:front_https']}/index.html"),
                           ("front-https main.json (edge MISS, origin)", f"https://127.0.0.1:{ports['compliant:front_https']}/json/main.json"),
                           ("edge http index.html (Varnish HIT)", f"http://127.0.0.1:{ports['compliant:edge']}/index.html"),
                           ("origin http main.json (nginx)", f"http://127.0.0.1:{ports['compliant:origin_http']}/json/main.json")):
            cp = subprocess.run(["wrk", "-t2", "-c50", f"-d{seconds}s", "--latency", "-H", f"Host: {host}", url],
                                capture_output=True, text=True, timeout=seconds + 30)
            rps = re.search(r"Requests/sec:\s+([\d.]+)", cp.stdout)
            p99 = re.search(r"99%\s+([\d.]+\w+)", cp.stdout)
            errs = re.search(r"Non-2xx or 3xx responses: (\d+)", cp.stdout)
            out[label] = {"rps": float(rps.group(1)) if rps else None, "p99": p99.group(1) if p99 else None,
                          "non_2xx": int(errs.group(1)) if errs else 0}
        return out
    finally:
        lab.down(log=lambda *a: None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--port-base", type=int, default=int(os.environ.get("PREP_LAB_PORT_BASE", 24000)))
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    load = os.getloadavg()
    res = {"loadavg_before": [round(x, 2) for x in load], "cpus": os.cpu_count(),
           "paquete": bench_paquete(args.runs), "lab": bench_lab(args.runs, args.port_base),
           "wrk": bench_wrk(args.wrk_seconds, args.port_base),
           "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(res, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

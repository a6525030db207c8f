"""One difusor against a hostile server: seconds until a complete results.json (issue 11).

Starts a hostile server from the lab (``prep_conformance.lab.hostile``: ``silent`` accepts TCP and never
answers; ``drip`` sends main.json at 1 byte/s; ``chunked`` never ends its body) on a loopback port, writes
a minimal profile (site and paquete, no SSH, no load test) and times ``prep-conformance run`` end to end,
as a user would run it. Prints per run: wall seconds, exit code, requirement IDs in results.json, peak
RSS of the run.

    .venv/bin/python bench/hostile.py [--mode silent|drip|chunked] [--runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prep_conformance import catalog
from prep_conformance.lab import hostile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", default="silent", choices=("silent", "drip", "chunked"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    srv, port = hostile.serve(a.mode)
    tmp = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    subprocess.run([sys.executable, "-m", "prep_conformance.cli", "paquete", "generate", str(tmp / "paq"),
                    "--cortes", "1"], check=True, capture_output=True)
    paq = sorted((tmp / "paq").iterdir())[-1]
    host = f"{a.mode}.bench.prep.example"
    prof = tmp / "perfil.yaml"
    prof.write_text(f"id: bench-{a.mode}\nsites: {{test: 'http://{host}:{port}/'}}\n"
                    f"http:\n  resolve: {{{host}: 127.0.0.1}}\npackage: {paq}\n", encoding="utf-8")
    rows = []
    for i in range(a.runs):
        out = tmp / f"out{i}"
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "prep_conformance.cli", "run", "--profile", str(prof),
                               "--out", str(out), "--trust-profile"], capture_output=True, text=True)  # we wrote it
        secs = time.monotonic() - t0
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        path = out / "results.json"
        ids = 0
        if path.exists():
            (d,) = json.loads(path.read_text())["difusores"]
            ids = len(set(d["requirements"]) & set(catalog.requirement_ids()))
        rows.append({"run": i + 1, "seconds": round(secs, 2), "exit": proc.returncode, "ids": ids,
                     "of_ids": len(catalog.requirement_ids()), "peak_rss_mb": round(max(rss, before) / 1024, 1)})
        print(f"run {i + 1}: {secs:.2f} s to results.json, exit {proc.returncode}, "
              f"{ids}/{len(catalog.requirement_ids())} IDs, peak RSS {rows[-1]['peak_rss_mb']} MB", flush=True)
    med = statistics.median(r["seconds"] for r in rows)
    print(f"{a.mode}: median {med:.2f} s over {a.runs} run(s)")
    if a.json:
        Path(a.json).write_text(json.dumps({"mode": a.mode, "median_s": med, "runs": rows}, indent=1))
    srv.shutdown()


if __name__ == "__main__":
    main()

"""Access-log parsing speed and memory: the memoria's streamed parser against a plain awk pass and GoAccess.

    .venv/bin/python bench/memoria.py [--gb 1] [--dir /var/tmp/prep-memoria-bench] [--runs 1] [--gzip]

Generates (once) a combined log of about ``--gb`` GB over one night (``memoria.synth.big_log``), then
times, each in its own process so that peak memory (ru_maxrss) is that process's own:
  1. ``parse``: prep-conformance's reader alone (hits counted, nothing aggregated);
  2. ``memoria``: reader + every statistic of the memoria (visitors, sessions, pages, geolocation ...);
  3. ``awk``: ``awk '{n++; s[$9]++} END {...}'``, a plain pass that splits every line;
  4. ``goaccess``: GoAccess (if installed) with ``--log-format=COMBINED`` writing its JSON report.
Prints lines/s, MB/s, wall and CPU seconds, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

PARSE = """
import sys
from pathlib import Path
from prep_conformance.memoria.logs import read_logs
n = 0
for _ in read_logs([Path(sys.argv[1])]):
    n += 1
print(n)
"""

MEMORIA = """
import sys, json
from pathlib import Path
from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.memoria.build import log_stats
fig, _ = log_stats([Path(sys.argv[1])], load_convocatoria("iem-michoacan-2024"))
print(fig["requests"]["total"])
print(json.dumps({k: fig[k] for k in ("requests", "page_views", "polls")} | {"visitors": fig["visitors"]["unique_period"],
      "sessions": fig["sessions"]["count"], "countries": len(fig["countries"])}), file=sys.stderr)
"""


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(cmd: list[str], **kw) -> dict:
    """Run a command; wall and CPU seconds (wait4's rusage) and peak RSS read from the child's own VmHWM
    while it runs (ru_maxrss would count the Python parent's pages the child had before exec)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    hwm = 0
    import threading
    out: list[str] = []
    err: list[str] = []
    t1 = threading.Thread(target=lambda: out.append(p.stdout.read()))
    t2 = threading.Thread(target=lambda: err.append(p.stderr.read()))
    t1.start(), t2.start()
    while True:
        hwm = max(hwm, _hwm_kb(p.pid))
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    t1.join(), t2.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": round(wall, 2), "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
            "max_rss_mb": round(hwm / 1024, 1), "status": p.returncode,
            "stdout": "".join(out).strip()[-300:], "stderr": "".join(err).strip()[-500:]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--dir", default="/var/tmp/prep-memoria-bench")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--gzip", action="store_true", help="also time the gzip'd log (parse only)")
    ap.add_argument("--skip", default="", help="comma list of measurements to skip (parse,memoria,awk,goaccess)")
    ap.add_argument("--json", metavar="FILE")
    a = ap.parse_args(argv)
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    log = d / f"access-{a.gb:g}gb.log"
    if not log.exists():
        sys.path.insert(0, str(ROOT))
        from prep_conformance.memoria.synth import big_log
        t0 = time.perf_counter()
        n = big_log(log, int(a.gb * 1e9))
        print(f"generated {log} ({log.stat().st_size / 1e9:.2f} GB, {n} lines) in {time.perf_counter() - t0:.0f} s")
    size = log.stat().st_size
    lines = int(subprocess.run(["wc", "-l", str(log)], capture_output=True, text=True).stdout.split()[0])
    print(f"log: {size / 1e9:.2f} GB, {lines} lines")
    skip = set(filter(None, a.skip.split(",")))
    jobs = {
        "parse": [PY, "-c", PARSE, str(log)],
        "memoria": [PY, "-c", MEMORIA, str(log)],
        "awk": ["awk", '{n++; s[$9]++} END {print n; for (k in s) print k, s[k] > "/dev/stderr"}', str(log)],
    }
    if shutil.which("goaccess"):
        jobs["goaccess"] = ["goaccess", str(log), "--log-format=COMBINED", "--no-progress", "-o",
                            str(d / "goaccess.json")]
    if a.gzip:
        gz = log.with_suffix(".log.gz")
        if not gz.exists():
            subprocess.run(f"gzip -1 -c {log} > {gz}", shell=True, check=True)
        jobs["parse_gzip"] = [PY, "-c", PARSE, str(gz)]
    results = {}
    for name, cmd in jobs.items():
        if name in skip:
            continue
        runs = [timed(cmd, cwd=ROOT) for _ in range(a.runs)]
        best = min(runs, key=lambda r: r["wall_s"])
        best["lines_per_s"] = round(lines / best["wall_s"]) if best["wall_s"] else None
        best["mb_per_s"] = round(size / 1e6 / best["wall_s"], 1) if best["wall_s"] else None
        results[name] = best
        print(f"{name:10s} wall {best['wall_s']:8.2f} s  cpu {best['cpu_s']:8.2f} s  {best['lines_per_s']:>10,} lines/s"
              f"  {best['mb_per_s']:7.1f} MB/s  peak RSS {best['max_rss_mb']:8.1f} MB  exit {best['status']}")
        if best["status"]:
            print("   ", best["stderr"])
    load = os.getloadavg()
    print(f"load average: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; nproc {os.cpu_count()}")
    if a.json:
        Path(a.json).write_text(json.dumps({"size": size, "lines": lines, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

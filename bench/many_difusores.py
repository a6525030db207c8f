"""Time one run over many difusores (web checks only: no load, no upload) against the lab.

    .venv/bin/python bench/many_difusores.py [--count 100] [--workers 2] [--scenario compliant]
                                             [--prefetch auto|on|off] [--runs 1] [--json out.json]

The lab must be up with the scenario (``python -m prep_conformance.lab up --scenario compliant``, with the
same ``$PREP_LAB_DIR``). ``--count`` copies of the scenario's profile (ids ``b001`` ...) are written next
to the lab's own profiles (relative paths keep resolving) and checked in ONE ``prep-conformance run``
with ``-n --workers`` processes, limited to the network requirements that need neither load nor upload
(I.3, I.4, I.6, I.9, II.1.b, II.1.e, II.2.b, II.2.c, II.2.d.https, II.2.d.ddos; the load test and the
burst stay off: the lab profiles do not authorise load). Printed per run: wall time of the command
(interpreter start, collection and reports included), pytest's own session time, CPU seconds of the
run's processes, the load average, and the verdicts counted. The copies all point at ONE lab site, so
their purges (II.2.b) can meet one another: a purge of one copy evicting what another just cached is
a real race between copies, not between real difusores (each has its own site).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WEB = ["I.3", "I.4", "I.6", "I.9", "II.1.b", "II.1.e", "II.2.b", "II.2.c", "II.2.d.https", "II.2.d.ddos"]


def make_profiles(lab_profile: Path, count: int) -> Path:
    """``count`` copies of one lab profile, beside it (so ``../convocatoria-lab.yaml`` still resolves)."""
    out = lab_profile.parent.parent / f"profiles-bench-{count}"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.yaml"):
        old.unlink()
    text = lab_profile.read_text(encoding="utf-8")
    for i in range(1, count + 1):
        (out / f"b{i:03d}.yaml").write_text(re.sub(r"(?m)^id: .*$", f"id: b{i:03d}", text, count=1), encoding="utf-8")
    return out


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def one_run(folder: Path, workers: int, prefetch: str, requirements: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        argv = [str(ROOT / ".venv" / "bin" / "prep-conformance"), "run", "--profile", str(folder), "--out", tmp,
                "--trust-profile"]
        for r in requirements:
            argv += ["--only", r]
        if workers > 1:
            argv += ["-n", str(workers)]
        argv += ["--", f"--prep-prefetch={prefetch}"]
        load0, cpu0, t0 = os.getloadavg()[0], children_cpu(), time.perf_counter()
        cp = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=1800)
        wall = time.perf_counter() - t0
        cpu = children_cpu() - cpu0
        m = re.search(r" in ([0-9.]+)s", cp.stdout)
        doc = json.loads((Path(tmp) / "results.json").read_text())
    verdicts = collections.Counter(c["verdict"] for d in doc["difusores"] for c in d["checks"])
    by_check: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for d in doc["difusores"]:
        for c in d["checks"]:
            by_check[c["check"]][c["verdict"]] += 1
    odd = {k: dict(v) for k, v in by_check.items() if len(v) > 1}     # a check not alike on every copy
    return {"wall_s": round(wall, 2), "pytest_s": float(m.group(1)) if m else None, "cpu_s": round(cpu, 2),
            "loadavg_start": round(load0, 2), "rc": cp.returncode, "difusores": len(doc["difusores"]),
            "verdicts": dict(verdicts), "checks_not_alike": odd}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenario", default="compliant")
    ap.add_argument("--prefetch", default="auto", choices=("auto", "on", "off"),
                    help="the run's --prep-prefetch (auto: off for the lab, on loopback, when -n fills the cores)")
    ap.add_argument("--only", action="append", default=[], metavar="ID", help="requirements (default: the web set)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    from prep_conformance.lab import Lab
    src = Lab().profile_path(a.scenario)
    if not src.exists():
        print(f"no lab profile {src}: start the lab (python -m prep_conformance.lab up --scenario {a.scenario})",
              file=sys.stderr)
        return 2
    folder = make_profiles(src, a.count)
    runs = []
    for i in range(a.runs):
        r = one_run(folder, a.workers, a.prefetch, a.only or WEB)
        runs.append(r)
        print(f"run {i + 1}: {r['difusores']} difusores, -n {a.workers}, prefetch {a.prefetch}: "
              f"{r['wall_s']:.1f} s wall (pytest {r['pytest_s']} s), CPU {r['cpu_s']:.1f} s, load {r['loadavg_start']}, "
              f"verdicts {r['verdicts']}" + (f", not alike: {r['checks_not_alike']}" if r["checks_not_alike"] else ""),
              flush=True)
    if a.json:
        a.json.write_text(json.dumps({"count": a.count, "workers": a.workers, "runs": runs}, indent=1))
    return 0 if all(r["rc"] in (0, 1) for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Time a full web-check pass (II.1.e, II.2.d.https, II.1.b, I.3) on one difusor, and its parts.

    .venv/bin/python bench/web_pass.py [--profile FILE | --scenario compliant] [--runs 5] [--json out.json]

Without ``--profile`` it uses the running lab's scenario profile (``$PREP_LAB_DIR``; start the lab first:
``python -m prep_conformance.lab up --scenario compliant``). Per run: one ``pytest checks/test_caching.py
checks/test_https.py checks/test_webserver.py checks/test_public.py`` in a fresh process (interpreter start
included, no HTML), the same four requirements through ``prep-conformance run --only ...`` (every check
module collected, junit XML and HTML reports written), the sum of the checks' own durations from
results.json, and, in this
process, the sslyze scan alone (with and without the Mozilla-profile commands, and enumerating every
suite of every version: ``gate=False``) and one pinned HTTPS GET.
The machine is shared: report medians, and the load average printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prep_conformance.probes import http  # noqa: E402
from prep_conformance.probes import https as tls  # noqa: E402
from prep_conformance.profile import convocatoria_of, load_profile  # noqa: E402
from prep_conformance.trust import TRUSTED  # noqa: E402

EXTRA: list[str] = []        # more pytest options (``--prefetch`` below)
CHECKS = ["checks/test_caching.py", "checks/test_https.py", "checks/test_webserver.py", "checks/test_public.py"]


def full_pass(profile: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cp = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:locust", "--assert=plain", *CHECKS,
                             "--prep-profile", str(profile), "--prep-out", tmp, "--prep-no-html", "--prep-trust-profile", *EXTRA],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
        wall = time.perf_counter() - t0
        doc = json.loads((Path(tmp) / "results.json").read_text())
    d = doc["difusores"][0]
    by_req: dict[str, float] = {}
    for c in d["checks"]:
        if c["check"] != "manual_review":
            by_req[c["requirement"]] = by_req.get(c["requirement"], 0.0) + c["duration_s"]
    return {"wall_s": wall, "checks_s": sum(by_req.values()), "by_requirement_s": by_req,
            "verdicts": {k: v for k, v in d["requirements"].items() if k in by_req}, "rc": cp.returncode}


def cli_pass(profile: Path) -> dict:
    """The same requirements through the command a user types: every check module collected (the others
    deselected), junit XML, pytest-html and the HTML reports written."""
    cli = Path(sys.executable).with_name("prep-conformance")
    only = [x for rid in ("II.1.e", "II.2.d.https", "II.1.b", "I.3") for x in ("--only", rid)]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cp = subprocess.run([str(cli), "run", "--profile", str(profile), "--trust-profile", *only, "--out", tmp,
                             "--", *EXTRA], cwd=ROOT, capture_output=True, text=True, timeout=300)
        wall = time.perf_counter() - t0
        doc = json.loads((Path(tmp) / "results.json").read_text())
    verdicts = {k: v for k, v in doc["difusores"][0]["requirements"].items()
                if k in ("II.1.e", "II.2.d.https", "II.1.b", "I.3")}
    return {"cli_wall_s": wall, "cli_verdicts": verdicts, "cli_rc": cp.returncode}


def parts(profile: Path) -> dict:
    prof = load_profile(profile, trust=TRUSTED)   # the operator's own (or the lab's) profile
    ep = http.endpoint(prof)
    port = urlsplit(ep.https_url).port or 443
    t0 = time.perf_counter()
    full = tls.scan(ep.host, port, ep.pin, ep.ca_bundle, timeout_s=5)
    t1 = time.perf_counter()
    tls.scan(ep.host, port, ep.pin, ep.ca_bundle, timeout_s=5, mozilla=False)
    t2 = time.perf_counter()
    http.fetch_site(ep, http.main_json_url(ep, convocatoria_of(prof)))
    t3 = time.perf_counter()
    tls.scan(ep.host, port, ep.pin, ep.ca_bundle, timeout_s=5, gate=False)
    t4 = time.perf_counter()
    return {"sslyze_full_s": t1 - t0, "sslyze_no_mozilla_s": t2 - t1, "https_get_s": t3 - t2,
            "sslyze_no_gate_s": t4 - t3, "listener": full.listener}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", type=Path)
    ap.add_argument("--scenario", default="compliant")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--prefetch", default="auto", choices=("auto", "on", "off"), help="the run's --prep-prefetch")
    a = ap.parse_args()
    EXTRA.append(f"--prep-prefetch={a.prefetch}")
    profile = a.profile
    if profile is None:
        from prep_conformance.lab import Lab
        profile = Lab().profile_path(a.scenario)
        if not profile.exists():
            print(f"no lab profile {profile}: start the lab (python -m prep_conformance.lab up --scenario "
                  f"{a.scenario}) or pass --profile", file=sys.stderr)
            return 2
    runs = []
    for i in range(a.runs):
        r = full_pass(profile)
        r.update(cli_pass(profile))
        r.update(parts(profile))
        r["loadavg_1m"] = os.getloadavg()[0]
        runs.append(r)
        print(f"run {i + 1}: pass {r['wall_s']:.2f} s, prep-conformance run {r['cli_wall_s']:.2f} s "
              f"(checks {r['checks_s']:.2f} s; "
              + ", ".join(f"{k} {v:.2f}" for k, v in sorted(r['by_requirement_s'].items()))
              + f") | sslyze {r['sslyze_full_s']:.2f} s (no Mozilla cmds {r['sslyze_no_mozilla_s']:.2f} s, "
              f"every suite of every version {r['sslyze_no_gate_s']:.2f} s) | "
              f"GET {r['https_get_s'] * 1000:.0f} ms | load {r['loadavg_1m']:.2f} | {r['verdicts']}", flush=True)
    med = {k: statistics.median(r[k] for r in runs)
           for k in ("wall_s", "cli_wall_s", "checks_s", "sslyze_full_s", "sslyze_no_mozilla_s", "sslyze_no_gate_s", "https_get_s",
                     "loadavg_1m")}
    print("median: " + ", ".join(f"{k} {v:.3f}" for k, v in med.items()))
    if a.json:
        a.json.write_text(json.dumps({"profile": str(profile), "runs": runs, "median": med}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

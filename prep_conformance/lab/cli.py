"""``prep-conformance lab up|down|status|scenarios`` and ``prep-conformance demo``.

Also ``python -m prep_conformance.lab ...``. Exit codes: 0 ok; 1 a problem (a server down, a scenario
that did not get what it declares); 2 usage or lab error.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .component import LabError
from .expect import mismatches
from .manager import Lab


def _lab(args: argparse.Namespace) -> Lab:
    return Lab(args.state, port_base=args.port_base)


def print_status(st: dict) -> None:
    print(f"state:  {st['state']}")
    print(f"status: {st['status']}" + (f" (since {st.get('started_at')})" if st.get("started_at") else ""))
    if st["status"] == "down":
        return
    print(f"scenarios ({len(st.get('scenarios') or [])}): {', '.join(st.get('scenarios') or [])}")
    if st.get("skipped"):
        print(f"skipped: {st['skipped']}")
    if st.get("window"):
        print(f"lab publication window: {st['window'][0]} .. {st['window'][1]}")
    for p in st["processes"]:
        state = "running" if p["alive"] else "DEAD"
        print(f"  {p['component']:<10} {p['name']:<14} pid {p['pid']:<8} {state:<8} "
              f"children {p['children_alive']}  log {p['log']}")
    if getattr(print_status, "urls", True) and st.get("ports"):
        ca = Path(st["state"]) / "pki" / "ca.pem"
        print(f"{'scenario':<28} {'public site (front)':<58} {'edge (Varnish)':<8} origin")
        for sid in st.get("scenarios") or []:
            p = {k.split(":", 1)[1]: v for k, v in st["ports"].items() if k.split(":", 1)[0] == sid}
            host = f"{sid}.lab.prep.example"
            site = (f"https://{host}:{p['front_https']}/" if (Path(st["state"]) / "pki" / f"{sid}-front.pem").exists()
                    else f"http://{host}:{p.get('front_http')}/")
            print(f"  {sid:<26} {site:<58} {p.get('edge', '-'):<8} http://127.0.0.1:{p.get('origin_http')}/")
        first = (st.get("scenarios") or ["compliant"])[0]
        p = {k.split(":", 1)[1]: v for k, v in st["ports"].items() if k.split(":", 1)[0] == first}
        if "front_https" in p:
            print(f"try: curl -sD - -o /dev/null --cacert {ca} --resolve {first}.lab.prep.example:{p['front_https']}:127.0.0.1 "
                  f"https://{first}.lab.prep.example:{p['front_https']}/json/main.json")
    for c in st.get("components_status", []):
        print(f"  {c.get('name', '?'):<25} {'ok' if c.get('ok', True) else 'PROBLEM'}  {c.get('detail', '')}")
    for prob in st["problems"]:
        print(f"problem: {prob}")
    print("ok" if st["ok"] else "NOT OK")


def cmd_up(args: argparse.Namespace) -> int:
    lab = _lab(args)
    st = lab.up(args.scenario or None)
    print(f"profiles: {lab.profiles_dir}")
    print_status(st)
    return 0 if st["ok"] else 1


def cmd_down(args: argparse.Namespace) -> int:
    rep = _lab(args).down()
    return 1 if rep["errors"] else 0


def cmd_status(args: argparse.Namespace) -> int:
    st = _lab(args).status()
    if args.json:
        print(json.dumps(st, indent=1, default=str))
    else:
        print_status(st)
    return 0 if st["ok"] else (3 if st["status"] == "down" else 1)


def cmd_scenarios(args: argparse.Namespace) -> int:
    from .scenario import discover
    scs, problems = discover()
    for sc in scs:
        exp = ", ".join(f"{k}={v}" for k, v in sc.expect.items()) or "(all pass)"
        req = f" [needs {', '.join(sc.requires)}]" if sc.requires else ""
        print(f"{sc.id:<28} {sc.family:<12} {exp}{req}\n{'':<28} {sc.title_en}")
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    return 1 if problems else 0


def scenario_table(results: dict, lab: Lab) -> tuple[list[str], int]:
    """One line per scenario: overall verdict, the FAIL/ERROR requirements, and whether it matches its declaration."""
    by_id = {d["id"]: d for d in results.get("difusores", [])}
    expect = {s.id: dict(s.expect) for s in lab.scenarios()}
    lines = [f"{'scenario':<28} {'overall':<8} {'match':<6} failing / erroring requirements",
             "-" * 100]
    bad = 0
    for sid in sorted(by_id, key=lambda s: (s != "compliant", s)):
        d = by_id[sid]
        reqs = d.get("requirements", {})
        failing = ", ".join(f"{r}={v}" for r, v in reqs.items() if v in ("FAIL", "ERROR", "WARN")) or "-"
        mm = mismatches(expect.get(sid, {}), reqs)
        bad += bool(mm)
        lines.append(f"{sid:<28} {d.get('overall', '?'):<8} {'yes' if not mm else 'NO':<6} {failing}")
        for m in mm:
            lines.append(f"{'':<44}  ! {m}")
    return lines, bad


def cmd_demo(args: argparse.Namespace) -> int:
    """lab up, every check against every scenario, reports, the scenario × verdict table, lab down."""
    t0 = time.monotonic()
    lab = _lab(args)
    out = Path(args.out).absolute()
    code = 2
    try:
        st = lab.up(args.scenario or None)
        if not st["ok"]:
            print_status(st)
            return 2
        print(f"lab up ({st.get('up_seconds')} s); checking {len(lab.active())} scenarios ...", flush=True)
        # the lab's profiles are written by the project (absolute paths, its own convocatoria): vouched for
        cmd = [sys.executable, "-m", "prep_conformance.cli", "run", "--profile", str(lab.profiles_dir),
               "--out", str(out), "--trust-profile"]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        t1 = time.monotonic()
        # the lab's own profiles aim purges at the lab's CDN API stand-ins: the operator's consent
        run = subprocess.run(cmd, env={**os.environ, "PREP_LAB_DIR": str(lab.state), "PREP_ALLOW_API_BASE": "1"})
        print(f"checks took {time.monotonic() - t1:.1f} s (exit {run.returncode})")
        res_path = out / "results.json"
        if not res_path.exists():
            print(f"no {res_path}: the run failed before writing results", file=sys.stderr)
            return 2
        results = json.loads(res_path.read_text())
        lines, bad = scenario_table(results, lab)
        expect = {s.id: dict(s.expect) for s in lab.scenarios()}
        (out / "lab-scenarios.json").write_text(json.dumps([
            {"scenario": d["id"], "overall": d.get("overall"), "expect": expect.get(d["id"], {}),
             "mismatches": mismatches(expect.get(d["id"], {}), d.get("requirements", {}))}
            for d in results.get("difusores", [])], indent=1, ensure_ascii=False))
        (out / "lab-scenarios.txt").write_text("\n".join(lines) + "\n")
        print()
        for line in lines:
            print(line)
        print()
        print(f"report: {out / 'index.html'}")
        print(f"{len(lines) - 2 - sum(1 for l in lines if l.lstrip().startswith('!'))} scenarios, "
              f"{bad} not matching their declaration; total {time.monotonic() - t0:.0f} s")
        code = 0 if bad == 0 else 1
        return code
    finally:
        if not args.keep:
            lab.down()


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="prep-conformance lab", description="the reference lab (real servers on loopback)")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state", default=None, metavar="DIR",
                        help="state folder (default $PREP_LAB_DIR or /var/lib/prep-conformance/lab)")
    common.add_argument("--port-base", type=int, default=None, help="first port (default $PREP_LAB_PORT_BASE or 20000)")
    sub = ap.add_subparsers(dest="verb", required=True)
    up = sub.add_parser("up", parents=[common], help="start the lab (all scenarios, or --scenario ID ...)")
    up.add_argument("--scenario", action="append", default=[], metavar="ID")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", parents=[common], help="stop what up started, remove what it created")
    down.set_defaults(func=cmd_down)
    status = sub.add_parser("status", parents=[common], help="what runs (a killed server shows as DEAD)")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    scs = sub.add_parser("scenarios", parents=[common], help="list the scenarios and what each must get")
    scs.set_defaults(func=cmd_scenarios)
    demo = sub.add_parser("demo", parents=[common], help="lab up, check every scenario, reports, table, lab down")
    demo.add_argument("--out", default="reports", metavar="DIR")
    demo.add_argument("--scenario", action="append", default=[], metavar="ID")
    demo.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    demo.add_argument("-n", "--workers", type=int, default=2, help="pytest-xdist workers (default 2)")
    demo.set_defaults(func=cmd_demo)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LabError as exc:
        print(f"lab error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

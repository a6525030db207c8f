"""Every lab scenario gets exactly what it declares: its ``expect`` verdicts, and no other FAIL/ERROR.

One run of every check against every scenario's profile (``prep-conformance run``, in a subprocess,
as a user would), then one test per scenario. Scenarios are collected from ``lab/scenarios/*.py``, so
each family's scenarios are asserted here as soon as they exist.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from prep_conformance import catalog
from prep_conformance.lab import discover, mismatches
from prep_conformance.profile import load_profile

pytestmark = pytest.mark.lab
SCENARIOS = discover()[0]
RUN_TIMEOUT_S = 1500


@pytest.fixture(scope="module")
def results(lab, tmp_path_factory):
    """results.json of one run over every profile of the running lab, by difusor id."""
    out = tmp_path_factory.mktemp("scenario-run")
    cmd = [sys.executable, "-m", "prep_conformance.cli", "run", "--profile", str(lab.profiles_dir),
           "--out", str(out), "--workers", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    path = out / "results.json"
    if proc.returncode not in (0, 1) or not path.exists():
        pytest.fail(f"the run failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    keep = lab.state / "last-scenario-run"       # kept for a post-mortem (pytest rotates its tmp dirs)
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(out, keep)
    (keep / "run.log").write_text(proc.stdout[-200_000:] + "\n" + proc.stderr[-50_000:])
    return {d["id"]: d for d in json.loads(path.read_text())["difusores"]}


def test_every_scenario_has_a_valid_profile(lab):
    problems = lab.status().get("problems", [])
    assert [p for p in problems if p.startswith("profile ")] == []
    for sid in lab.active():
        prof = load_profile(lab.profile_path(sid))
        assert prof.id == sid
        assert set(prof.expect) <= set(catalog.requirement_ids()), f"{sid}: unknown requirement in expect"


def test_scenario_modules_import():
    assert discover()[1] == []


@pytest.mark.parametrize("sid", [s.id for s in SCENARIOS])
def test_scenario_gets_what_it_declares(sid, lab, results):
    if sid not in lab.active():
        pytest.skip(f"{sid} is not up in {lab.state} ({(lab.status().get('skipped') or {}).get(sid, 'not started')})")
    assert sid in results, f"{sid}: no result (was its profile valid?)"
    entry = results[sid]
    declared = dict(next(s for s in SCENARIOS if s.id == sid).expect)
    problems = mismatches(declared, entry["requirements"])
    details = [f"{c['requirement']} {c['check']}: {c['verdict']} {c['summary_en']}" for c in entry["checks"]
               if c["verdict"] in ("FAIL", "ERROR") and c["requirement"] not in declared]
    assert problems == [], "\n".join(problems + details)


def test_compliant_passes_every_automatic_check(lab, results):
    if "compliant" not in lab.active():
        pytest.skip("compliant is not up")
    reqs = results["compliant"]["requirements"]
    assert {r: v for r, v in reqs.items() if v not in ("PASS", "MANUAL", "SKIP")} == {}
    assert "PASS" in reqs.values()

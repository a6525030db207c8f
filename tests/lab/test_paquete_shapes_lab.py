"""Real paquete shapes against the real lab (nginx origin, Varnish edge): an INE-like, an OPL-like and an
all-shapes paquete served unmodified PASS I.4/I.6/I.9; one altered byte in each FAILs I.6 (and only I.6).

Run: ``.venv/bin/python -m pytest tests/lab/test_paquete_shapes_lab.py`` (root; starts the lab if down).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]
MINE = ("I.4", "I.6", "I.9")
PASSING = ("integrity", "acta_images", "corte_current", "corte_lag", "corte_stamps", "page_shows_corte")
EXPECT = {
    "shape-ine": ({}, dict.fromkeys(PASSING, "PASS")),
    "shape-opl": ({}, dict.fromkeys(PASSING, "PASS")),
    "shape-all": ({}, dict.fromkeys(PASSING, "PASS")),
    "shape-ine-altered": ({"I.6": "FAIL"}, {"integrity": "FAIL", "corte_stamps": "PASS", "corte_current": "PASS"}),
    "shape-opl-altered": ({"I.6": "FAIL"}, {"integrity": "FAIL", "acta_images": "FAIL", "corte_current": "PASS"}),
    "shape-all-altered": ({"I.6": "FAIL"}, {"integrity": "FAIL", "acta_images": "FAIL", "corte_current": "PASS"}),
}


@pytest.mark.parametrize("scenario", list(EXPECT))
def test_shape_verdicts(lab_profile, tmp_path, scenario):
    profile = lab_profile(scenario)
    cmd = [sys.executable, "-m", "pytest", "checks/test_publication.py", "-q", "-p", "no:cacheprovider",
           "-p", "no:locust", "--prep-profile", str(profile), "--prep-out", str(tmp_path), "--prep-no-html"]
    subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=300, check=False)
    d = json.loads((tmp_path / "results.json").read_text())["difusores"][0]
    want_req, want_checks = EXPECT[scenario]
    got = {r: d["requirements"][r] for r in MINE}
    checks = {c["check"]: c["verdict"] for c in d["checks"] if c["requirement"] in MINE}
    bad = [f"{r}: expected {want_req[r]}, got {got[r]}" for r in want_req if got[r] != want_req[r]]
    bad += [f"{r}: unexpected {got[r]}" for r in MINE if r not in want_req and got[r] in ("FAIL", "ERROR")]
    bad += [f"{k}: expected {v}, got {checks.get(k)}" for k, v in want_checks.items() if checks.get(k) != v]
    detail = [f"{c['verdict']} {c['requirement']} {c['check']}: {c['summary_en']}" for c in d["checks"]
              if c["requirement"] in MINE]
    assert not bad, "\n".join(bad + detail)

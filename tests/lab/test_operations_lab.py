"""II.2.c and II.2.e against the real lab: the monitor's samples, and what a difusor declares."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.rules.availability import Sample, judge_record

pytestmark = pytest.mark.lab
CLI = [sys.executable, "-m", "prep_conformance.cli"]


def monitor(profile, log, count=3):
    p = subprocess.run([*CLI, "monitor", "--profile", str(profile), "--log", str(log), "--interval", "0.2",
                        "--count", str(count)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def run(profile, out, *only):
    args = [a for rid in only for a in ("--only", rid)]
    p = subprocess.run([*CLI, "run", "--profile", str(profile), "--out", str(out), *args],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode in (0, 1), p.stdout + p.stderr
    return json.loads((out / "results.json").read_text())["difusores"][0]


def with_monitor_log(src, dst, log):
    """A copy of a lab profile elsewhere, naming the monitor log (its relative paths made absolute)."""
    doc = yaml.safe_load(src.read_text())
    doc["availability"] = {"monitor_log": str(log)}
    doc["convocatoria"] = str((src.parent / doc["convocatoria"]).resolve())
    doc["documents"] = {k: str((src.parent / v).resolve()) for k, v in doc["documents"].items()}
    dst.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return dst


def test_monitor_samples_a_live_site_and_feeds_ii_2_e(lab_profile, tmp_path):
    prof = lab_profile("compliant")
    samples = monitor(prof, tmp_path / "m.jsonl")
    # the log holds observations (status, cache headers); the rule says up/down and judges the header
    cc = load_convocatoria("iem-michoacan-2024").main_json.cache_control
    assert len(samples) == 3 and all(s["status"] == 200 and judge_record(s, cc) == (True, True) for s in samples)
    assert all(any(k.lower() == "cache-control" for k, _ in s["headers"]) for s in samples)
    d = run(with_monitor_log(prof, tmp_path / "p.yaml", tmp_path / "m.jsonl"), tmp_path / "o", "II.2.e")
    (check,) = [c for c in d["checks"] if c["requirement"] == "II.2.e"]
    # three clean samples are far from a month: honest MANUAL with the figures, not PASS
    assert check["check"] == "availability_monitor" and check["verdict"] == "MANUAL"
    assert check["evidence"]["samples"] == 3 and check["evidence"]["ratio"] == 1.0


def test_monitor_records_a_dead_site_as_down(lab_profile, tmp_path):
    samples = monitor(lab_profile("site-unreachable"), tmp_path / "m.jsonl", count=2)
    assert all(s["status"] is None and s["error"] for s in samples)
    assert [Sample.from_dict(s).ok for s in samples] == [False, False]


def test_declared_sla_below_threshold_fails(lab_profile, tmp_path):
    d = run(lab_profile("ops-sla-below"), tmp_path / "o", "II.2.e", "II.2.c")
    assert d["requirements"]["II.2.e"] == "FAIL"
    assert d["requirements"]["II.2.c"] == "MANUAL"     # declared (server-side logs), not visible on the page

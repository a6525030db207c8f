"""Nothing is hard-coded: the same lab difusor judged under an invented convocatoria gets other verdicts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

pytestmark = pytest.mark.lab


def test_thresholds_and_literals_come_from_the_convocatoria(lab_profile, tmp_path):
    src = lab_profile("compliant")
    prof = yaml.safe_load(src.read_text())
    conv = yaml.safe_load((src.parent / prof["convocatoria"]).read_text())
    conv.update(id="ople-ficticio-2027", institute="Organismo Público Local Ficticio")
    conv["thresholds"]["disk_free_gb"] = 10**6                    # a petabyte: no lab disk has it
    conv["main_json"]["cache_control"] = "private, max-age=0"    # another call's literal
    (tmp_path / "otra.yaml").write_text(yaml.safe_dump(conv, allow_unicode=True))
    prof["convocatoria"] = str(tmp_path / "otra.yaml")
    prof["documents"] = {k: str((src.parent / v).resolve()) for k, v in prof["documents"].items()}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(prof, allow_unicode=True))

    p = subprocess.run([sys.executable, "-m", "prep_conformance.cli", "run", "--profile", str(tmp_path / "p.yaml"),
                        "--out", str(tmp_path / "o"), "--only", "II.1.c", "--only", "II.1.e"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert doc["convocatoria"] == "ople-ficticio-2027"
    d = doc["difusores"][0]
    # under the IEM's call this difusor passes both (tests/lab/test_scenarios.py); here it fails both
    assert d["requirements"]["II.1.c"] == "FAIL" and d["requirements"]["II.1.e"] == "FAIL"
    disk = next(c for c in d["checks"] if c["requirement"] == "II.1.c")
    assert disk["evidence"]["threshold_bytes"] == 10**15

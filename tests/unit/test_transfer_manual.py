"""Without ``ssh:`` in the profile, II.1.a/c/d are MANUAL with the reason, through the real plugin."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_no_ssh_section_gives_manual(tmp_path):
    prof = tmp_path / "sin-ssh.yaml"
    prof.write_text(yaml.safe_dump({"id": "sin-ssh", "sites": {"test": "https://x.example/"}}))
    out = tmp_path / "out"
    cp = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "checks/test_platform.py",
                         "checks/test_disk.py", "checks/test_transfer.py", "--prep-profile", str(prof),
                         "--prep-out", str(out), "--prep-no-html"], cwd=ROOT, capture_output=True, text=True,
                        timeout=120)
    doc = json.loads((out / "results.json").read_text())
    d = doc["difusores"][0]
    assert {r: d["requirements"][r] for r in ("II.1.a", "II.1.c", "II.1.d")} == \
        {"II.1.a": "MANUAL", "II.1.c": "MANUAL", "II.1.d": "MANUAL"}, cp.stdout[-2000:]
    mine = [c for c in d["checks"] if c["requirement"] in ("II.1.a", "II.1.c", "II.1.d")]
    assert len(mine) == 3 and all("(ssh:)" in c["summary_en"] for c in mine)

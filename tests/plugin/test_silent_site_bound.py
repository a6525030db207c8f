"""A difusor whose site accepts TCP and never answers: the whole run finishes within the documented bound,
results.json holds every requirement ID, and only the pre-flight waits out a deadline (every other check
that depends on the site is ERROR at once). A check added without the pre-flight fails here."""

import json
import subprocess
import sys

from prep_conformance import catalog
from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.lab import hostile


def test_silent_site_costs_one_deadline_not_one_per_check(tmp_path):
    conv = load_convocatoria("iem-michoacan-2024")
    srv, port = hostile.serve("silent")
    try:
        prof = tmp_path / "perfil.yaml"
        prof.write_text(f"id: silencioso\nsites: {{test: 'http://silencioso.prueba.example:{port}/'}}\n"
                        "http:\n  resolve: {silencioso.prueba.example: 127.0.0.1}\n  timeout_s: 3\n",
                        encoding="utf-8")
        out = tmp_path / "out"
        proc = subprocess.run([sys.executable, "-m", "prep_conformance.cli", "run", "--profile", str(prof),
                               "--out", str(out)], capture_output=True, text=True,
                              timeout=2 * conv.fetch.difusor_bound_s)
    finally:
        srv.shutdown()
        srv.server_close()
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    (d,) = json.loads((out / "results.json").read_text())["difusores"]
    assert set(d["requirements"]) == set(catalog.requirement_ids())
    for req in ("I.3", "II.1.b", "II.1.e", "II.2.d.https"):
        assert d["requirements"][req] == "ERROR"
    slow = [(c["check"], c["duration_s"]) for c in d["checks"] if (c.get("duration_s") or 0) > 2.5]
    assert len(slow) <= 1, slow          # the pre-flight alone waits (3 s here); the rest is blocked at once
    blocked = [c for c in d["checks"] if c["requirement"] == "II.1.e" and c["verdict"] == "ERROR"]
    assert blocked and all(f"127.0.0.1:{port}" in c["summary"] and "no responde a tiempo" in c["summary"] for c in blocked)
    total = sum(c.get("duration_s") or 0 for c in d["checks"])
    assert total < conv.fetch.difusor_bound_s, total

"""Hostile servers (issue 11): each fault is found within the bound, ERROR/FAIL as declared, and named
(where, which phase, why) in both languages; results.json always holds every requirement ID.

One ``prep-conformance run`` per scenario, in a subprocess, as a user would run it against the lab's
hostile servers (``lab/hostile.py``, scenarios in ``lab/scenarios/hostile.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from prep_conformance import catalog
from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.lab import mismatches
from prep_conformance.lab.scenarios.hostile import SCENARIOS
from prep_conformance.profile import load_profile

pytestmark = pytest.mark.lab
SSH_ONLY = ("--only", "II.1.a", "--only", "II.1.c", "--only", "II.1.d")
BOUND_S = load_convocatoria("iem-michoacan-2024").fetch.difusor_bound_s


def _run(lab, sid: str, tmp_path, extra: tuple[str, ...] = ()) -> tuple[dict, float, int]:
    if sid not in lab.active():
        pytest.skip(f"{sid} is not up in {lab.state}")
    out = tmp_path / "out"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "prep_conformance.cli", "run", "--profile",
                           str(lab.profile_path(sid)), "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=4 * BOUND_S)
    took = time.monotonic() - t0
    assert (out / "results.json").exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    (d,) = json.loads((out / "results.json").read_text())["difusores"]
    assert set(d["requirements"]) == set(catalog.requirement_ids())      # every ID, always
    return d, took, proc.returncode


def _declared(sid):
    return dict(next(s for s in SCENARIOS if s.id == sid).expect)


def _summaries(d, req):
    checks = [c for c in d["checks"] if c["requirement"] == req]
    return " ".join(c["summary"] for c in checks), " ".join(c["summary_en"] for c in checks)


def _port(lab, sid):
    prof = load_profile(lab.profile_path(sid))
    return prof, (prof.ssh.port if prof.ssh else int(prof.target_url.rsplit(":", 1)[1].strip("/")))


@pytest.mark.parametrize("sid, es, en", [
    ("hostile-silent", "no responde a tiempo", "no answer in"),
    ("hostile-drip", "y seguía enviando", "still sending"),
])
def test_silent_or_dripping_site_is_blocked_once_and_named(lab, tmp_path, sid, es, en):
    d, took, rc = _run(lab, sid, tmp_path)
    assert rc == 1 and took < BOUND_S, took
    assert mismatches(_declared(sid), d["requirements"]) == []
    _, port = _port(lab, sid)
    for req in ("II.1.e", "I.6", "II.2.d.https"):
        s_es, s_en = _summaries(d, req)
        assert f"127.0.0.1:{port}" in s_es and es in s_es, s_es
        assert en in s_en, s_en
    # found once: a single check paid the deadline, the others were blocked at once
    slow = [c for c in d["checks"] if (c.get("duration_s") or 0) > 2]
    assert len(slow) <= 1, [(c["check"], c["duration_s"]) for c in slow]


def test_endless_chunked_body_is_cut_at_the_cap_and_named(lab, tmp_path):
    sid = "hostile-chunked"
    d, took, rc = _run(lab, sid, tmp_path)
    assert rc == 1 and took < BOUND_S, took
    assert mismatches(_declared(sid), d["requirements"]) == []
    s_es, s_en = _summaries(d, "I.4")
    assert "cortado en el límite de tamaño" in s_es and "cut at the size limit" in s_en


@pytest.mark.parametrize("sid, es, en", [
    ("hostile-ssh-silent", "intercambio de banner: el servidor acepta la conexión pero no envía su banner",
     "banner exchange: the server accepts the connection but sends no banner"),
    ("hostile-ssh-junk", "intercambio de banner: banner inválido", "banner exchange: invalid banner"),
    ("hostile-ssh-cut", "carga: el servidor cerró la conexión tras", "upload: the server closed the connection after"),
])
def test_ssh_faults_name_host_port_phase_and_reason(lab, tmp_path, sid, es, en):
    d, took, rc = _run(lab, sid, tmp_path, SSH_ONLY)
    assert rc == 1 and took < BOUND_S, took
    assert mismatches(_declared(sid), d["requirements"]) == []
    _, port = _port(lab, sid)
    s_es, s_en = _summaries(d, "II.1.d")
    assert f"SSH 127.0.0.1:{port}, {es}" in s_es, s_es
    assert f"SSH 127.0.0.1:{port}, {en}" in s_en, s_en
    if sid == "hostile-ssh-cut":
        assert "MB de 16.0 MB" in s_es and "MB of 16.0 MB" in s_en

"""Shared fixtures. ``lab``: the reference lab, started once per session and shared.

If a lab is already up in the same state folder (``$PREP_LAB_DIR``, default
``/var/lib/prep-conformance/lab``), it is reused and left up. A session that started the lab stops
it at the end unless another live session still uses it, or ``PREP_LAB_KEEP=1``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# The lab's profiles purge through the lab's CDN API stand-ins (``api_base``): the tests are the operator
# and consent to it (probes/purge_providers.api_base_allowed); unit tests that need refusal unset it.
os.environ.setdefault("PREP_ALLOW_API_BASE", "1")


def _lab_missing() -> str | None:
    if os.geteuid() != 0:
        return "the lab needs root"
    for exe in ("nginx", "varnishd"):
        if not (shutil.which(exe) or Path("/usr/sbin", exe).exists()):
            return f"{exe} is not installed (run bootstrap.sh)"
    return None


@pytest.fixture(scope="session")
def lab():
    """The running reference lab (``prep_conformance.lab.Lab``)."""
    why = _lab_missing()
    if why:
        pytest.skip(why)
    from prep_conformance.lab import Lab
    lab = Lab()
    lab.acquire()
    started = False
    try:
        if lab.is_up():
            missing = sorted({s.id for s in lab.scenarios()} - set(lab.active()))
            if missing:
                print(f"\nlab already up in {lab.state}; not up there: {', '.join(missing)}")
        else:
            st = lab.up(log=lambda *a: None)
            started = bool(st.get("started_now"))
        yield lab
    finally:
        others = lab.release()
        if started and not others and os.environ.get("PREP_LAB_KEEP") != "1":
            lab.down(log=lambda *a: None)


@pytest.fixture(scope="session")
def lab_profile(lab):
    """``lab_profile("compliant") -> Path`` of that scenario's profile; skips when it is not up."""

    def get(scenario_id: str) -> Path:
        if scenario_id not in lab.active():
            pytest.skip(f"lab scenario {scenario_id!r} is not up in {lab.state}")
        path = lab.profile_path(scenario_id)
        if not path.exists():
            pytest.fail(f"lab scenario {scenario_id!r} has no valid profile (see `lab status`)")
        return path

    return get

"""Lab tests: the lab's profiles are written by the project itself (absolute paths, the lab's own
convocatoria file), so the operator vouches for them: ``PREP_TRUST_PROFILE=1`` for every lab test and the
runs it starts (docs/security.md). Tests of untrusted profiles clear it themselves."""

import pytest


@pytest.fixture(autouse=True)
def _lab_profiles_are_trusted(monkeypatch):
    monkeypatch.setenv("PREP_TRUST_PROFILE", "1")

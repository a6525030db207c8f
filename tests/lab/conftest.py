"""Lab tests: the lab's profiles are written by the project itself (absolute paths, the lab's own
convocatoria file), so the operator vouches for them: ``PREP_TRUST_PROFILE=1`` for every lab test module
and the runs it starts (docs/security.md). Module scope (autouse fixtures come first within a scope), so
module fixtures that run the CLI see it too; restored after each module. Tests of untrusted profiles
clear it themselves."""

import pytest


@pytest.fixture(scope="module", autouse=True)
def _lab_profiles_are_trusted():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PREP_TRUST_PROFILE", "1")
        yield

"""II.1.a operating system, over the difusor's SSH/SFTP access."""

import pytest

from prep_conformance.rules import platform


@pytest.mark.requirement("II.1.a")
def test_operating_system(difusor, record_check):
    if difusor.profile.ssh is None:
        record_check(platform.not_configured("II.1.a", "operating_system"))
        return
    obs = difusor.observe
    record_check(platform.evaluate(obs.os(), difusor.convocatoria, obs.ssh().info))

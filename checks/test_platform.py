"""II.1.a operating system, over the difusor's SSH/SFTP access."""

import pytest

from prep_conformance.probes import ssh
from prep_conformance.rules import platform


@pytest.mark.requirement("II.1.a")
def test_operating_system(difusor, record_check):
    if difusor.profile.ssh is None:
        record_check(platform.not_configured("II.1.a", "operating_system"))
        return
    session = ssh.session_for(difusor)
    obs = difusor.once("ssh:os", lambda: ssh.observe_os(session))
    record_check(platform.evaluate(obs, difusor.convocatoria, session.info))

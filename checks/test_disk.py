"""II.1.c free disk (≥ 20 GB, GB = 10^9 B) on the upload directory, over SSH (df) or SFTP (statvfs)."""

import pytest

from prep_conformance.probes import ssh
from prep_conformance.rules import disk, platform


@pytest.mark.requirement("II.1.c")
def test_disk_free(difusor, record_check):
    if difusor.profile.ssh is None:
        record_check(platform.not_configured("II.1.c", "disk_free"))
        return
    session = ssh.session_for(difusor)
    obs = difusor.once("ssh:disk", lambda: ssh.observe_disk(session))
    record_check(disk.evaluate(obs, difusor.convocatoria))

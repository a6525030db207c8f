"""II.1.c free disk (≥ 20 GB, GB = 10^9 B) on the upload directory, over SSH (df) or SFTP (statvfs)."""

import pytest

from prep_conformance.rules import disk, platform


@pytest.mark.requirement("II.1.c")
def test_disk_free(difusor, record_check):
    if difusor.profile.ssh is None:
        record_check(platform.not_configured("II.1.c", "disk_free"))
        return
    record_check(disk.evaluate(difusor.observe.disk(), difusor.convocatoria))

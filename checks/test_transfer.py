"""II.1.d SFTP upload speed (≥ 40 MB/s, MB = 10^6 B): timed probes into scratch_dir, always removed."""

import pytest

from prep_conformance.rules import platform, transfer


@pytest.mark.requirement("II.1.d")
def test_sftp_upload_speed(difusor, record_check):
    if difusor.profile.ssh is None:
        record_check(platform.not_configured("II.1.d", "sftp_upload_speed"))
        return
    obs = difusor.observe.upload(stop_below_mb_s=transfer.stop_below_mb_s(difusor.convocatoria))
    record_check(transfer.evaluate(obs, difusor.convocatoria))

"""II.1.d SFTP upload speed (≥ 40 MB/s, MB = 10^6 B): timed probes into scratch_dir, always removed."""

import pytest

from prep_conformance.probes import sftp_upload, ssh
from prep_conformance.rules import platform, transfer


@pytest.mark.requirement("II.1.d")
def test_sftp_upload_speed(difusor, record_check):
    if difusor.profile.ssh is None:
        record_check(platform.not_configured("II.1.d", "sftp_upload_speed"))
        return
    session = ssh.session_for(difusor)
    stop = transfer.stop_below_mb_s(difusor.convocatoria)
    obs = difusor.once("ssh:upload", lambda: sftp_upload.measure(session, stop_below_mb_s=stop))
    record_check(transfer.evaluate(obs, difusor.convocatoria))

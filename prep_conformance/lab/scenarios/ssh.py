"""The SSH/SFTP lab scenarios (II.1.a, II.1.c, II.1.d): each fails or errs on the right requirement only.

``SCENARIOS[name]`` gives a description and ``expect`` (requirement → verdict for the ones it must not
pass; every other SSH requirement must PASS). ``ssh_section(lab, name)`` (in ``lab/sshd.py``, which
knows its own keys, folders and links) is the profile's ``ssh:`` mapping for that scenario. Probes are
kept small so a scenario takes seconds, yet each shaped-link round lasts about a second or more, which is enough to read a tbf-limited rate truthfully.
"""

from __future__ import annotations

from ..scenario import Scenario
from ..sshd import SECTIONS, ssh_section  # noqa: F401  (the sshd component owns the ssh: layout)


def _sc(sid: str, es: str, en: str, expect: dict[str, str] | None = None) -> Scenario:
    return Scenario(sid, es, en, expect=expect or {}, family="ssh", requires=("sshd",))


ERR = {"II.1.a": "ERROR", "II.1.c": "ERROR", "II.1.d": "ERROR"}
SCENARIOS = [
    _sc("ssh-compliant", "SSH con shell, disco grande, enlace local rápido", "Shell SSH, big disk, fast local link"),
    _sc("ssh-shaped-20", "Enlace SFTP limitado a ~20 MB/s (tbf 160mbit)", "SFTP link shaped to ~20 MB/s (tbf 160mbit)",
        {"II.1.d": "FAIL"}),
    _sc("ssh-shaped-60", "Enlace SFTP limitado a ~60 MB/s (tbf 480mbit)", "SFTP link shaped to ~60 MB/s (tbf 480mbit)"),
    _sc("ssh-small-disk", "Directorio de carga en un disco de 1 GB", "Upload dir on a 1 GB disk", {"II.1.c": "FAIL"}),
    _sc("ssh-sftp-only", "Cuenta solo SFTP en chroot (SO por banner, disco por statvfs)",
        "SFTP-only chrooted account (OS by banner, disk by statvfs)"),
    _sc("ssh-wrong-host-key", "known_hosts con otra clave de host", "known_hosts holds another host key", ERR),
    _sc("ssh-refused-key", "Clave no autorizada en el servidor", "Key not authorised on the server", ERR),
    _sc("ssh-missing-upload-dir", "El directorio de carga no existe", "The upload dir does not exist",
        {"II.1.c": "ERROR", "II.1.d": "FAIL"}),
    _sc("ssh-readonly-upload-dir", "Directorio de carga sin permiso de escritura", "Upload dir not writable",
        {"II.1.d": "FAIL"}),
]
# Not in the lab's list (their profiles need PREP_LAB_SSH_PASSPHRASE / PREP_LAB_SSH_PASSWORD set in the
# checking process):
# tests/lab/test_ssh.py runs it with the variable set.
EXTRA_SECTIONS = ("ssh-passphrase-key", "ssh-password")
KNOWN = {sc.id for sc in SCENARIOS} | set(EXTRA_SECTIONS)
assert KNOWN <= set(SECTIONS), KNOWN - set(SECTIONS)   # every scenario has its ssh: layout in lab/sshd.py

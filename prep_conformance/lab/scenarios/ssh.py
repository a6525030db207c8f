"""The SSH/SFTP lab scenarios (II.1.a, II.1.c, II.1.d): each fails or errs on the right requirement only.

``SCENARIOS[name]`` gives a description and ``expect`` (requirement → verdict for the ones it must not
pass; every other SSH requirement must PASS). ``ssh_section(lab, name)`` is the profile's ``ssh:``
mapping for that scenario. Probes are kept small so a scenario takes seconds, yet each shaped-link
round lasts about a second or more, which is enough to read a tbf-limited rate truthfully.
"""

from __future__ import annotations

from typing import Any

from ..sshd import PASSPHRASE_ENV, PASSWORD_ENV, SshdLab

from ..scenario import Scenario


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


def ssh_section(lab: SshdLab, scenario: str) -> dict[str, Any]:
    """The ``ssh:`` mapping of the scenario's profile (absolute paths into the lab's state folder)."""
    if scenario not in KNOWN:
        raise KeyError(f"unknown SSH scenario {scenario!r}; known: {', '.join(sorted(KNOWN))}")
    base = {"host": "127.0.0.1", "port": lab.port, "username": lab.shell_user,
            "key_file": lab.p("keys", "shell_ed25519"), "known_hosts": lab.p("known_hosts"), "shell": True,
            "upload_dir": f"{lab.big_dir}/prep", "timeout_s": 10, "probe_mb": 64, "rounds": 3}
    links = list(lab.links.values())
    if scenario == "ssh-shaped-20":
        base.update(host=links[0].ns_ip, port=22, probe_mb=24, rounds=3)
    elif scenario == "ssh-shaped-60":
        base.update(host=links[1].ns_ip, port=22, probe_mb=72, rounds=3)
    elif scenario == "ssh-small-disk":
        base.update(upload_dir=f"{lab.small_dir}/prep")
    elif scenario == "ssh-sftp-only":
        base.update(username=lab.sftp_user, key_file=lab.p("keys", "sftp_ed25519"), shell=False,
                    upload_dir="/upload")
    elif scenario == "ssh-passphrase-key":
        base.update(key_file=lab.p("keys", "passphrase_ed25519"), key_passphrase_env=PASSPHRASE_ENV)
    elif scenario == "ssh-password":
        base.pop("key_file")
        base.update(username=lab.password_user, password_env=PASSWORD_ENV, upload_dir=f"{lab.big_dir}/prep-password")
    elif scenario == "ssh-wrong-host-key":
        base.update(known_hosts=lab.p("known_hosts_wrong"))
    elif scenario == "ssh-refused-key":
        base.update(key_file=lab.p("keys", "refused_ed25519"))
    elif scenario == "ssh-missing-upload-dir":
        base.update(upload_dir=f"{lab.big_dir}/no-such-dir")
    elif scenario == "ssh-readonly-upload-dir":
        base.update(upload_dir=f"{lab.big_dir}/readonly")
    base.setdefault("scratch_dir", f"{base['upload_dir']}/.conformance-{scenario}")   # parallel runs apart
    return base

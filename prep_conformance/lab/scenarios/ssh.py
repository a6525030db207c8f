"""The SSH/SFTP lab scenarios (II.1.a, II.1.c, II.1.d): each fails or errs on the right requirement only.

``SCENARIOS[name]`` gives a description and ``expect`` (requirement → verdict for the ones it must not
pass; every other SSH requirement must PASS). ``ssh_section(lab, name)`` is the profile's ``ssh:``
mapping for that scenario. Probes are kept small so a scenario takes seconds, yet each shaped-link
round lasts about a second or more, which is enough to read a tbf-limited rate truthfully.
"""

from __future__ import annotations

from typing import Any

from ..sshd import LAB_PASSPHRASE, PASSPHRASE_ENV, SshdLab

SCENARIOS: dict[str, dict[str, Any]] = {
    "ssh-compliant": {"es": "SSH con shell, disco grande, enlace local rápido",
                      "en": "shell SSH, big disk, fast local link", "expect": {}},
    "ssh-shaped-20": {"es": "enlace limitado a ~20 MB/s (tbf 160mbit)", "en": "link shaped to ~20 MB/s (tbf 160mbit)",
                      "expect": {"II.1.d": "FAIL"}},
    "ssh-shaped-60": {"es": "enlace limitado a ~60 MB/s (tbf 480mbit)", "en": "link shaped to ~60 MB/s (tbf 480mbit)",
                      "expect": {}},
    "ssh-small-disk": {"es": "directorio de carga en un tmpfs de 1 GB", "en": "upload dir on a 1 GB tmpfs",
                       "expect": {"II.1.c": "FAIL"}},
    "ssh-sftp-only": {"es": "cuenta solo SFTP en chroot (SO por banner, disco por statvfs)",
                      "en": "SFTP-only chrooted account (OS by banner, disk by statvfs)", "expect": {}},
    "ssh-passphrase-key": {"es": "clave con frase (motor paramiko)", "en": "key with passphrase (paramiko engine)",
                           "expect": {}, "env": {PASSPHRASE_ENV: LAB_PASSPHRASE}},
    "ssh-wrong-host-key": {"es": "known_hosts con otra clave de host", "en": "known_hosts holds another host key",
                           "expect": {"II.1.a": "ERROR", "II.1.c": "ERROR", "II.1.d": "ERROR"}},
    "ssh-refused-key": {"es": "clave no autorizada en el servidor", "en": "key not authorised on the server",
                        "expect": {"II.1.a": "ERROR", "II.1.c": "ERROR", "II.1.d": "ERROR"}},
    "ssh-missing-upload-dir": {"es": "upload_dir no existe", "en": "upload_dir does not exist",
                               "expect": {"II.1.c": "ERROR", "II.1.d": "FAIL"}},
    "ssh-readonly-upload-dir": {"es": "upload_dir sin permiso de escritura", "en": "upload_dir not writable",
                                "expect": {"II.1.d": "FAIL"}},
}


def ssh_section(lab: SshdLab, scenario: str) -> dict[str, Any]:
    """The ``ssh:`` mapping of the scenario's profile (absolute paths into the lab's state folder)."""
    if scenario not in SCENARIOS:
        raise KeyError(f"unknown SSH scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
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
    elif scenario == "ssh-wrong-host-key":
        base.update(known_hosts=lab.p("known_hosts_wrong"))
    elif scenario == "ssh-refused-key":
        base.update(key_file=lab.p("keys", "refused_ed25519"))
    elif scenario == "ssh-missing-upload-dir":
        base.update(upload_dir=f"{lab.big_dir}/no-such-dir")
    elif scenario == "ssh-readonly-upload-dir":
        base.update(upload_dir=f"{lab.big_dir}/readonly")
    return base

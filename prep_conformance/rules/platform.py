"""II.1.a operating system: pure rules over an ``OsObservation`` (uname, ver, or the SSH banner)."""

from __future__ import annotations

import re

from ..convocatoria import Convocatoria
from dataclasses import asdict

from ..probes.ssh import OsObservation, SshInfo
from ..verdict import CheckResult, Note, Verdict, result

REQ = "II.1.a"
CHECK = "operating_system"

# uname -s values → the call's families. Anything else POSIX-like named here counts as "Unix".
_UNAME = [
    (re.compile(r"^Linux$", re.I), "Linux"),
    (re.compile(r"^FreeBSD$", re.I), "FreeBSD"),
    (re.compile(r"^(CYGWIN|MINGW|MSYS)", re.I), "Windows"),
    (re.compile(r"^(Darwin|SunOS|AIX|HP-UX|OpenBSD|NetBSD|DragonFly|GNU|Minix|QNX|illumos|UnixWare|SCO_SV)",
                re.I), "Unix"),
]

# SSH server version strings: (pattern, family, confidence). Distribution tags are fairly reliable.
_BANNER = [
    (re.compile(r"OpenSSH_for_Windows", re.I), "Windows", "medium"),
    (re.compile(r"(Serv-U|WS_FTP|Bitvise|WinSSHD|VShell|FreeSSHd|Cerberus|Syncplify)", re.I), "Windows", "medium"),
    (re.compile(r"OpenSSH\S*\s+(Debian|Ubuntu|Raspbian)", re.I), "Linux", "medium"),
    (re.compile(r"OpenSSH\S*\s+FreeBSD", re.I), "FreeBSD", "medium"),
    (re.compile(r"OpenSSH\S*\s+(NetBSD|OpenBSD)", re.I), "Unix", "medium"),
    (re.compile(r"OpenSSH", re.I), "Unix", "low"),       # portable OpenSSH: Linux, BSD or another Unix
    (re.compile(r"(dropbear|mod_sftp|ProFTPD)", re.I), "Unix", "low"),
]


def family_of_uname(uname_s: str) -> str | None:
    for pat, fam in _UNAME:
        if pat.search(uname_s.strip()):
            return fam
    return None


def family_of_banner(banner: str) -> tuple[str, str] | None:
    """(family, confidence) guessed from an SSH version string, or None."""
    for pat, fam, conf in _BANNER:
        if pat.search(banner or ""):
            return fam, conf
    return None


def not_configured(requirement: str, check: str) -> CheckResult:
    """No ``ssh:`` in the profile: the requirement needs the reviewer's evidence (MANUAL)."""
    return result(requirement, check, Verdict.MANUAL,
                  "El perfil no declara acceso SSH/SFTP (ssh:); se requiere evidencia documental.",
                  "The profile declares no SSH/SFTP access (ssh:); documentary evidence is needed.",
                  reason="ssh not configured")


def evaluate(obs: OsObservation, conv: Convocatoria, info: SshInfo | None = None) -> CheckResult:
    """PASS when the OS is one of the call's families; how sure depends on the evidence (uname > ver > banner).

    ``info`` (the connection: verified host key, cipher, auth) is added to the evidence; a host key
    recorded on first contact adds a note asking the reviewer to confirm its fingerprint.
    """
    r = _evaluate(obs, conv)
    if info is None:
        return r
    notes = list(r.notes)
    if info.host_key_status == "recorded":
        notes.append(Note("warn", f"Clave de host registrada en el primer contacto ({info.host_key_fingerprint}); "
                                  "confirme la huella con el difusor.",
                          f"Host key recorded on first contact ({info.host_key_fingerprint}); confirm the "
                          "fingerprint with the difusor."))
    return r.with_(evidence={**r.evidence, "connection": asdict(info)}, notes=tuple(notes))


def _evaluate(obs: OsObservation, conv: Convocatoria) -> CheckResult:
    allowed = list(conv.server.operating_systems)
    ev = {"banner": obs.banner, "allowed": allowed, "shell": obs.shell}
    if obs.errors:
        ev["command_errors"] = list(obs.errors)
    family, method, confidence, seen = None, None, None, None
    if obs.uname_s:
        family, method, confidence = family_of_uname(obs.uname_s), "uname", "high"
        seen = f"{obs.uname_s} {obs.uname_r or ''}".strip()
        ev.update(uname_s=obs.uname_s, uname_r=obs.uname_r)
        if family is None:
            return result(REQ, CHECK, Verdict.FAIL,
                          f"Sistema operativo «{seen}» (uname) no es {', '.join(allowed)}.",
                          f"Operating system '{seen}' (uname) is not {', '.join(allowed)}.",
                          method=method, confidence=confidence, os_family=None, **ev)
    elif obs.ver:
        seen = obs.ver
        family, method, confidence = ("Windows", "ver", "high") if "windows" in obs.ver.lower() else (None, "ver", "high")
        ev["ver"] = obs.ver
    if family is None:
        guess = family_of_banner(obs.banner)
        if guess is None:
            return result(REQ, CHECK, Verdict.MANUAL,
                          f"No se pudo determinar el sistema operativo (banner SSH «{obs.banner}»); "
                          "se requiere evidencia documental.",
                          f"The operating system could not be determined (SSH banner '{obs.banner}'); "
                          "documentary evidence is needed.", method="banner", confidence="none", **ev)
        family, confidence = guess
        method, seen = "banner", obs.banner
    ev.update(method=method, confidence=confidence, os_family=family)
    if family not in allowed:
        return result(REQ, CHECK, Verdict.FAIL,
                      f"Sistema operativo {family} ({method}: «{seen}») no es {', '.join(allowed)}.",
                      f"Operating system {family} ({method}: '{seen}') is not {', '.join(allowed)}.", **ev)
    if method == "banner":
        sure_es = {"medium": "confianza media", "low": "confianza baja"}[confidence]
        sure_en = {"medium": "medium confidence", "low": "low confidence"}[confidence]
        why_es = "cuenta solo SFTP" if not obs.shell else "las órdenes no respondieron"
        why_en = "SFTP-only account" if not obs.shell else "the commands gave no answer"
        note = Note("info" if confidence == "medium" else "warn",
                    "Deducido del banner SSH del servidor; confirme con el difusor si hay duda.",
                    "Inferred from the server's SSH banner; confirm with the difusor if in doubt.")
        return result(REQ, CHECK, Verdict.PASS if confidence == "medium" else Verdict.WARN,
                      f"Sistema operativo {family} según el banner SSH «{seen}» ({sure_es}; {why_es}).",
                      f"Operating system {family} per the SSH banner '{seen}' ({sure_en}; {why_en}).",
                      notes=[note], **ev)
    return result(REQ, CHECK, Verdict.PASS, f"Sistema operativo {family} ({method}: «{seen}»).",
                  f"Operating system {family} ({method}: '{seen}').", **ev)

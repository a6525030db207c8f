"""Hostile servers (issue 11): the faults of election night, each found in bounded time and named.

Each scenario's ``expect`` says which requirements must get which verdict; the tests also check the
reason in the summary and that the run finished within the convocatoria's ``fetch.difusor_bound_s``.
The servers are ``lab/hostile.py`` (one Python process per scenario, on loopback).
"""

from __future__ import annotations

from ..scenario import Scenario

# Everything the public site decides: blocked by the pre-flight, ERROR with its reason.
_WEB = ("I.3", "I.4", "I.6", "I.9", "II.1.b", "II.1.e", "II.2.b", "II.2.c", "II.2.d.ddos", "II.2.d.https")
_SSH = ("II.1.a", "II.1.c", "II.1.d")


def _web(sid: str, mode: str, es: str, en: str, expect: dict[str, str]) -> Scenario:
    return Scenario(sid, es, en, expect=expect, family="hostile", tls=False, requires=("hostile",),
                    options={"hostile": {"web": mode}})


def _ssh(sid: str, es: str, en: str, expect: dict[str, str], **spec) -> Scenario:
    return Scenario(sid, es, en, expect=expect, family="hostile", requires=("hostile",),   # (the lab sshd: see HostileComponent)
                    options={"hostile": spec})


SCENARIOS = [
    _web("hostile-silent", "silent", "El sitio acepta TCP y nunca responde",
         "The site accepts TCP and never answers", {r: "ERROR" for r in _WEB}),
    _web("hostile-drip", "drip", "main.json a 1 byte/s con cabeceras correctas",
         "main.json at 1 byte/s with correct headers", {r: "ERROR" for r in _WEB}),
    _web("hostile-chunked", "chunked", "Cuerpo chunked que nunca termina",
         "A chunked body that never ends",
         {"I.4": "FAIL", "I.6": "FAIL", "I.9": "FAIL", "II.2.d.https": "FAIL"}),
    _ssh("hostile-ssh-silent", "El puerto SSH acepta TCP y no envía banner",
         "The SSH port accepts TCP and sends no banner", {r: "ERROR" for r in _SSH}, ssh="silent"),
    _ssh("hostile-ssh-junk", "El puerto SSH envía basura binaria en lugar de banner",
         "The SSH port sends binary junk instead of a banner", {r: "ERROR" for r in _SSH}, ssh="junk"),
    _ssh("hostile-ssh-cut", "La conexión SFTP se corta a mitad de la carga",
         "The SFTP connection is dropped mid-upload", {"II.1.d": "ERROR"}, ssh="cut",
         cut_after=3_000_000, probe_mb=16, rounds=1, upload_engine="paramiko"),
]

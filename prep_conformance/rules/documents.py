"""Documents and application data (III.3, II.3.a.i, II.3.a.ii, I.13): pure rules over the profile and file bytes."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ..probes.documents import FileObservation
from ..profile import Profile
from ..verdict import CheckResult, Verdict, result

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _digits(s: str | None) -> int:
    return len(re.sub(r"\D", "", s or ""))


def _phone_ok(s: str | None) -> bool:
    return 8 <= _digits(s) <= 15


def sniff(head: bytes) -> str | None:
    """The format by content, not by name: pdf, png, jpeg, svg, ai (PostScript Illustrator) or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"%!PS-Adobe") and b"Illustrator" in head:
        return "ai"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<") and re.search(rb"<svg[\s>]", text[:4096]) and not text.startswith(b"<html"):
        return "svg"
    return None


def letter_of_intent(profile: Profile) -> CheckResult:
    """III.3 a–h: every datum of the letter of intent is present and well formed."""
    c = profile.contact
    problems: list[tuple[str, str, str]] = []   # (field, es, en)
    if not (profile.name or "").strip():
        problems.append(("name", "falta el nombre del medio o institución (a)", "missing outlet/institution name (a)"))
    if not (profile.entidad or "").strip():
        problems.append(("entidad", "falta la entidad (b)", "missing entidad (b)"))
    if not (c.name or "").strip():
        problems.append(("contact.name", "falta el nombre del contacto (c)", "missing contact name (c)"))
    if not EMAIL.match(c.email or ""):
        problems.append(("contact.email", f"correo del contacto inválido: {c.email!r} (d)",
                         f"invalid contact e-mail: {c.email!r} (d)"))
    if not _phone_ok(c.phone):
        problems.append(("contact.phone", f"teléfono del contacto inválido: {c.phone!r} (e)",
                         f"invalid contact phone: {c.phone!r} (e)"))
    if not _phone_ok(c.work_phone):
        problems.append(("contact.work_phone", f"teléfono de trabajo inválido: {c.work_phone!r} (f)",
                         f"invalid work phone: {c.work_phone!r} (f)"))
    if _digits(c.extension) == 0:
        problems.append(("contact.extension", "falta la extensión del teléfono de trabajo (f)",
                         "missing work-phone extension (f)"))
    try:
        ipaddress.ip_address((profile.registration_ip or "").strip())
    except ValueError:
        problems.append(("registration_ip", f"dirección IP de registro inválida: {profile.registration_ip!r} (g)",
                         f"invalid registration IP: {profile.registration_ip!r} (g)"))
    for which in ("test", "official"):
        url = getattr(profile.sites, which)
        if not url or urlsplit(url).scheme not in ("http", "https"):
            problems.append((f"sites.{which}", f"falta el sitio {'de prueba' if which == 'test' else 'oficial'} "
                             "con http o https (h)", f"missing {which} site with http or https (h)"))
    fields = {"name": profile.name, "entidad": profile.entidad, "contact": profile.contact.model_dump(),
              "registration_ip": profile.registration_ip, "sites": profile.sites.model_dump()}
    if problems:
        return result("III.3", "letter_of_intent", Verdict.FAIL,
                      "Carta de intención incompleta: " + "; ".join(p[1] for p in problems),
                      "Letter of intent incomplete: " + "; ".join(p[2] for p in problems),
                      problems=[p[0] for p in problems], data=fields)
    return result("III.3", "letter_of_intent", Verdict.PASS, "Datos a–h de la carta de intención completos.",
                  "Letter of intent data a–h complete.", data=fields)


def staff_list(profile: Profile) -> CheckResult:
    """II.3.a.ii: at least one person, each with name, role, phone and e-mail."""
    problems: list[str] = []
    for i, m in enumerate(profile.staff):
        who = m.name or f"#{i + 1}"
        if not (m.name or "").strip():
            problems.append(f"staff[{i}]: name")
        if not (m.role or "").strip():
            problems.append(f"staff[{i}] ({who}): role")
        if not _phone_ok(m.phone):
            problems.append(f"staff[{i}] ({who}): phone {m.phone!r}")
        if not EMAIL.match(m.email or ""):
            problems.append(f"staff[{i}] ({who}): email {m.email!r}")
    staff = [m.model_dump() for m in profile.staff]
    if not profile.staff:
        return result("II.3.a.ii", "staff_list", Verdict.FAIL, "No se declaró personal responsable.",
                      "No staff declared.", staff=staff)
    if problems:
        return result("II.3.a.ii", "staff_list", Verdict.FAIL,
                      "Listado de personal incompleto o inválido: " + "; ".join(problems),
                      "Staff list incomplete or invalid: " + "; ".join(problems), problems=problems, staff=staff)
    return result("II.3.a.ii", "staff_list", Verdict.PASS,
                  f"{len(staff)} persona(s) con nombre, rol, teléfono y correo.",
                  f"{len(staff)} person(s) with name, role, phone and e-mail.", staff=staff)


DIAGRAM_FORMATS = ("pdf", "png", "jpeg", "svg")
LOGO_FORMATS = ("svg", "pdf", "ai")


def document_format(requirement: str, check: str, obs: FileObservation | None, allowed: tuple[str, ...],
                    what_es: str, what_en: str) -> CheckResult:
    """The document exists and its content (not its name) is one of ``allowed``."""
    if obs is None:
        return result(requirement, check, Verdict.FAIL, f"No se declaró el {what_es} en el perfil (documents).",
                      f"No {what_en} declared in the profile (documents).")
    fmt = sniff(obs.head)
    ev = {"file": obs.name, "size_bytes": obs.size, "detected_format": fmt, "allowed": list(allowed),
          "first_bytes_hex": obs.head[:16].hex()}
    if obs.size == 0:
        return result(requirement, check, Verdict.FAIL, f"El {what_es} está vacío.", f"The {what_en} is empty.", **ev)
    if fmt in allowed:
        return result(requirement, check, Verdict.PASS, f"{what_es.capitalize()} en formato {fmt.upper()} ({obs.size} bytes).",
                      f"{what_en.capitalize()} in {fmt.upper()} format ({obs.size} bytes).", **ev)
    return result(requirement, check, Verdict.FAIL,
                  f"El {what_es} no es {'/'.join(a.upper() for a in allowed)} por su contenido "
                  f"(detectado: {fmt or 'desconocido'}).",
                  f"The {what_en} is not {'/'.join(a.upper() for a in allowed)} by content "
                  f"(detected: {fmt or 'unknown'}).", **ev)


def diagram(obs: FileObservation | None) -> CheckResult:
    return document_format("II.3.a.i", "diagram_file", obs, DIAGRAM_FORMATS, "diagrama", "diagram")


def logo(obs: FileObservation | None) -> CheckResult:
    return document_format("I.13", "logo_vector", obs, LOGO_FORMATS, "logotipo", "logo")


def application_findings(profile: Profile) -> list[CheckResult]:
    """What ``validate`` lists as would-fail, without touching the network."""
    return [letter_of_intent(profile), staff_list(profile)]

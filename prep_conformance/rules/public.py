"""I.3: results public and free — the site root and main.json answer 200 with no credentials. Pure rules.

A request chain (redirects followed by the probe, each hop observed) is judged: a 401/402/403/407,
a ``WWW-Authenticate`` challenge, or a redirect to a login/paywall page is FAIL; any other final
status than 200 is FAIL too (not available to the public); no answer at all is ERROR.
"""

from __future__ import annotations

import re
from typing import Sequence
from urllib.parse import urlsplit

from .notes import tls_note
from ..probes.http import HttpObservation
from ..verdict import CheckResult, Note, Verdict, result

REQ = "I.3"
LOGIN_PATH = re.compile(r"(log-?in|sign-?in|auth|sso|oauth|account|cuenta|acceso|iniciar|sesion|sesión|"
                        r"registro|register|paywall|suscri|subscribe|premium)", re.I)
DENIED = {401: "requiere credenciales / credentials required", 402: "pago requerido / payment required",
          403: "acceso prohibido / forbidden", 407: "requiere credenciales de proxy / proxy credentials required"}
PASSWORD_FIELD = re.compile(r"<input[^>]+type\s*=\s*[\"']?password", re.I)


def evaluate(chain: Sequence[HttpObservation], what: str, check: str = "public_access",
             what_en: str | None = None) -> CheckResult:
    """Judge one request chain (first request first, redirects after) for ``what`` (``raíz``/``main.json``)."""
    ev = {"chain": [o.to_evidence() for o in chain], "what": what}
    what_en = what_en or what
    if not chain:
        return result(REQ, check, Verdict.ERROR, f"No se hizo ninguna solicitud a {what}.",
                      f"No request was made to {what_en}.", **ev)
    last = chain[-1]
    first_url = chain[0].url
    if last.status is None:
        return result(REQ, check, Verdict.ERROR, f"Sin respuesta al pedir {what} ({last.url}): {last.error}.",
                      f"No response asking for {what_en} ({last.url}): {last.error}.", **ev)
    hops = [f"{o.status} {o.url}" for o in chain]
    ev["hops"] = hops
    for o in chain[1:]:
        path = urlsplit(o.url).path + "?" + urlsplit(o.url).query
        if LOGIN_PATH.search(path):
            return result(REQ, check, Verdict.FAIL,
                          f"{what} redirige a una página de acceso: {o.url}.",
                          f"{what_en} redirects to a login page: {o.url}.", **ev)
    challenge = [line for o in chain for line in o.raw_lines(("www-authenticate", "proxy-authenticate"))]
    if challenge:
        ev["challenge"] = challenge
    if last.status in DENIED or challenge:
        why = DENIED.get(last.status, "pide credenciales / asks for credentials")
        es, en = why.split(" / ")
        return result(REQ, check, Verdict.FAIL, f"{what} no es público: {last.status} ({es}) en {last.url}.",
                      f"{what_en} is not public: {last.status} ({en}) at {last.url}.", **ev)
    if 300 <= last.status < 400:
        return result(REQ, check, Verdict.FAIL, f"{what}: demasiadas redirecciones o sin destino ({' → '.join(hops)}).",
                      f"{what_en}: too many redirects or no target ({' → '.join(hops)}).", **ev)
    if last.status != 200:
        return result(REQ, check, Verdict.FAIL, f"{what} no está disponible: {last.status} en {last.url}.",
                      f"{what_en} is not available: {last.status} at {last.url}.", **ev)
    notes = [n for n in (tls_note(chain[0].tls_unverified),) if n]
    if len(chain) > 1:
        notes.append(Note("info", f"Se siguieron {len(chain) - 1} redirección(es): {' → '.join(hops)}.",
                          f"{len(chain) - 1} redirect(s) followed: {' → '.join(hops)}."))
    if last.body_sample and PASSWORD_FIELD.search(last.body_sample):
        notes.append(Note("warn", "La página tiene un campo de contraseña; verifique que los resultados no lo exijan.",
                          "The page has a password field; check the results do not require it."))
    return result(REQ, check, Verdict.PASS, f"{what} responde 200 sin credenciales ({first_url}).",
                  f"{what_en} answers 200 without credentials ({first_url}).", notes, **ev)


def dns_resolution(obs, pinned: str | None, cdn=None, check: str = "site_dns") -> CheckResult:
    """The site's name resolves (A or AAAA) through the profile's resolver; CNAME chain and CAA as evidence.

    A name that does not resolve is FAIL (the public cannot reach it) unless the profile pins it
    (``http.resolve``: tested before DNS points there), then WARN. A resolver timeout is ERROR.
    """
    ev = {"dns": obs.to_evidence(), "pinned_address": pinned}
    if cdn is not None:
        ev["cdn"] = cdn.to_evidence()
    if obs.error:
        return result(REQ, check, Verdict.ERROR, f"El resolvedor {obs.nameserver} no respondió por {obs.name}: "
                      f"{obs.error}.", f"The resolver {obs.nameserver} did not answer for {obs.name}: {obs.error}.",
                      **ev)
    addrs = list(obs.a) + list(obs.aaaa)
    notes = []
    if obs.cname_chain:
        notes.append(Note("info", f"Cadena CNAME: {obs.name} → {' → '.join(obs.cname_chain)}.",
                          f"CNAME chain: {obs.name} → {' → '.join(obs.cname_chain)}."))
    if obs.caa:
        notes.append(Note("info", f"CAA en {obs.caa_owner}: {'; '.join(obs.caa)}.",
                          f"CAA at {obs.caa_owner}: {'; '.join(obs.caa)}."))
    else:
        notes.append(Note("info", "Sin registros CAA: cualquier autoridad puede emitir certificados para el nombre.",
                          "No CAA records: any authority may issue certificates for the name."))
    if not addrs:
        if pinned:
            return result(REQ, check, Verdict.WARN,
                          f"{obs.name} aún no resuelve ({obs.rcode}); se probó en la dirección fijada {pinned}.",
                          f"{obs.name} does not resolve yet ({obs.rcode}); it was tested at the pinned address "
                          f"{pinned}.", notes, **ev)
        return result(REQ, check, Verdict.FAIL, f"{obs.name} no resuelve ({obs.rcode}): el público no puede llegar.",
                      f"{obs.name} does not resolve ({obs.rcode}): the public cannot reach it.", notes, **ev)
    if pinned and pinned not in addrs:
        notes.append(Note("warn", f"El DNS apunta a {', '.join(addrs)}, no a la dirección probada {pinned}.",
                          f"DNS points to {', '.join(addrs)}, not to the tested address {pinned}."))
    return result(REQ, check, Verdict.PASS, f"{obs.name} resuelve a {', '.join(addrs)}.",
                  f"{obs.name} resolves to {', '.join(addrs)}.", notes, **ev)

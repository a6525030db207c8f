"""I.3: results public and free — the site root and main.json answer 200 with no credentials. Pure rules.

A request chain (redirects followed by the probe, each hop observed) is judged: a 401/402/403/407,
a ``WWW-Authenticate`` challenge, or a redirect to a login/paywall page is FAIL; any other final
status than 200 is FAIL too (not available to the public); no answer at all is ERROR.
"""

from __future__ import annotations

import re
from typing import Sequence
from urllib.parse import urlsplit

from ..probes.http import HttpObservation
from ..verdict import CheckResult, Note, Verdict, result

REQ = "I.3"
LOGIN_PATH = re.compile(r"(log-?in|sign-?in|auth|sso|oauth|account|cuenta|acceso|iniciar|sesion|sesión|"
                        r"registro|register|paywall|suscri|subscribe|premium)", re.I)
DENIED = {401: "requiere credenciales / credentials required", 402: "pago requerido / payment required",
          403: "acceso prohibido / forbidden", 407: "requiere credenciales de proxy / proxy credentials required"}
PASSWORD_FIELD = re.compile(r"<input[^>]+type\s*=\s*[\"']?password", re.I)


def evaluate(chain: Sequence[HttpObservation], what: str, check: str = "public_access") -> CheckResult:
    """Judge one request chain (first request first, redirects after) for ``what`` (``raíz``/``main.json``)."""
    ev = {"chain": [o.to_evidence() for o in chain], "what": what}
    if not chain:
        return result(REQ, check, Verdict.ERROR, f"No se hizo ninguna solicitud a {what}.",
                      f"No request was made to {what}.", **ev)
    last = chain[-1]
    first_url = chain[0].url
    if last.status is None:
        return result(REQ, check, Verdict.ERROR, f"Sin respuesta al pedir {what} ({last.url}): {last.error}.",
                      f"No response asking for {what} ({last.url}): {last.error}.", **ev)
    hops = [f"{o.status} {o.url}" for o in chain]
    ev["hops"] = hops
    for o in chain[1:]:
        path = urlsplit(o.url).path + "?" + urlsplit(o.url).query
        if LOGIN_PATH.search(path):
            return result(REQ, check, Verdict.FAIL,
                          f"{what} redirige a una página de acceso: {o.url}.",
                          f"{what} redirects to a login page: {o.url}.", **ev)
    challenge = [line for o in chain for line in o.raw_lines(("www-authenticate", "proxy-authenticate"))]
    if challenge:
        ev["challenge"] = challenge
    if last.status in DENIED or challenge:
        why = DENIED.get(last.status, "pide credenciales / asks for credentials")
        es, en = why.split(" / ")
        return result(REQ, check, Verdict.FAIL, f"{what} no es público: {last.status} ({es}) en {last.url}.",
                      f"{what} is not public: {last.status} ({en}) at {last.url}.", **ev)
    if 300 <= last.status < 400:
        return result(REQ, check, Verdict.FAIL, f"{what}: demasiadas redirecciones o sin destino ({' → '.join(hops)}).",
                      f"{what}: too many redirects or no target ({' → '.join(hops)}).", **ev)
    if last.status != 200:
        return result(REQ, check, Verdict.FAIL, f"{what} no está disponible: {last.status} en {last.url}.",
                      f"{what} is not available: {last.status} at {last.url}.", **ev)
    notes = []
    if len(chain) > 1:
        notes.append(Note("info", f"Se siguieron {len(chain) - 1} redirección(es): {' → '.join(hops)}.",
                          f"{len(chain) - 1} redirect(s) followed: {' → '.join(hops)}."))
    if last.body_sample and PASSWORD_FIELD.search(last.body_sample):
        notes.append(Note("warn", "La página tiene un campo de contraseña; verifique que los resultados no lo exijan.",
                          "The page has a password field; check the results do not require it."))
    return result(REQ, check, Verdict.PASS, f"{what} responde 200 sin credenciales ({first_url}).",
                  f"{what} answers 200 without credentials ({first_url}).", notes, **ev)

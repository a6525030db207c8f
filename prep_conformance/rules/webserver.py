"""II.1.b: a web server (Apache, Nginx, IIS, ...) — identified from the origin's answers. Pure rules.

The ``Server`` header names it; when the banner is hidden, the body of a 404 page (each server has
its own default error page) is a weaker fingerprint (WARN: identified, but by a guess a reviewer
should confirm). A CDN banner (``Server: cloudflare``) masks the origin: MANUAL with the evidence,
never FAIL — the difusor obviously runs *a* web server; which one is what cannot be told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .notes import tls_note
from ..probes.http import HttpObservation
from ..verdict import CheckResult, Note, Verdict, result

REQ = "II.1.b"

# (id, display name, Server-header regex)
SERVERS: tuple[tuple[str, str, str], ...] = (
    ("nginx", "nginx", r"^nginx\b"),
    ("openresty", "OpenResty (nginx)", r"^openresty\b"),
    ("tengine", "Tengine (nginx)", r"^tengine\b"),
    ("apache", "Apache HTTP Server", r"^apache(?!-coyote)\b"),
    ("iis", "Microsoft IIS", r"^microsoft-iis\b"),
    ("lighttpd", "lighttpd", r"^lighttpd\b"),
    ("caddy", "Caddy", r"^caddy\b"),
    ("litespeed", "LiteSpeed", r"^(lite[- ]?speed|openlitespeed)\b"),
    ("tomcat", "Apache Tomcat", r"^apache-coyote\b"),
    ("jetty", "Jetty", r"^jetty\b"),
    ("kestrel", "Kestrel (ASP.NET)", r"^kestrel\b"),
    ("gunicorn", "gunicorn", r"^gunicorn\b"),
    ("h2o", "H2O", r"^h2o\b"),
    ("envoy", "Envoy", r"^envoy\b"),
    ("traefik", "Traefik", r"^traefik\b"),
    ("cherokee", "Cherokee", r"^cherokee\b"),
    ("node", "Node.js", r"^(node|express)\b"),
)

# Server banners that belong to a CDN or cache in front, not to the origin.
MASKING = r"^(cloudflare|akamaighost|akamainetstorage|cloudfront|amazons3|varnish|google frontend|gws|" \
          r"vercel|netlify|bunnycdn|keycdn-engine|sucuri|stackpath|ecacc|ecs|fastly|awselb|ats|squid)"

# default 404/403 pages: (id, regex over the body's first bytes)
ERROR_PAGES: tuple[tuple[str, str], ...] = (
    ("nginx", r"<hr><center>nginx(/[\d.]+)?</center>"),
    ("openresty", r"<center>openresty"),
    ("apache", r"<address>Apache(/[\d.]+)?.* Server at "),
    ("apache", r"The requested URL .*was not found on this server\."),
    ("iis", r"<h2>404 - File or directory not found\.</h2>|Server Error in '/' Application|IIS Windows Server"),
    ("lighttpd", r"^<\?xml version=\"1\.0\" encoding=\"iso-8859-1\"\?>\s*<!DOCTYPE html[^>]*>\s*<html[^>]*>\s*"
                 r"<head>\s*<title>\d{3} [^<]*</title>\s*</head>\s*<body>\s*<h1>\d{3} [^<]*</h1>\s*</body>"),
    ("litespeed", r"Proudly powered by LiteSpeed Web Server"),
)

NAMES = {sid: name for sid, name, _ in SERVERS}


@dataclass(frozen=True)
class Identification:
    """Attributes: server id (or None), display name, version (if the banner gives it), how (``server-header`` |
    ``error-page`` | ``masked`` | ``hidden``), banner (the raw Server line(s))."""

    server: str | None
    name: str | None
    version: str | None
    how: str
    banner: str | None


def identify(root: HttpObservation, not_found: HttpObservation | None = None) -> Identification:
    """Name the web server from the Server banner, else from the default error page."""
    banner = root.get("server") or (not_found.get("server") if not_found else None)
    if banner:
        b = banner.strip()
        for sid, name, rx in SERVERS:
            if re.search(rx, b, re.I):
                m = re.search(r"/\s*([0-9][\w.\-]*)", b)
                return Identification(sid, name, m.group(1) if m else None, "server-header", banner)
        if re.search(MASKING, b, re.I):
            return Identification(None, None, None, "masked", banner)
    if not_found is not None and not_found.body_sample:
        for sid, rx in ERROR_PAGES:
            if re.search(rx, not_found.body_sample, re.I | re.S):
                return Identification(sid, NAMES.get(sid, sid), None, "error-page", banner)
    return Identification(None, None, None, "hidden", banner)


def evaluate(root: HttpObservation, not_found: HttpObservation | None = None, at_origin: bool = True,
             check: str = "web_server") -> CheckResult:
    """PASS when identified by its banner, WARN by fingerprint only, MANUAL when masked or hidden."""
    ev = {"where": "origin" if at_origin else "edge", "root": root.to_evidence()}
    if not_found is not None:
        ev["not_found"] = not_found.to_evidence()
        if not_found.body_sample:
            ev["not_found_body_head"] = not_found.body_sample[:400]
    if root.status is None and (not_found is None or not_found.status is None):
        return result(REQ, check, Verdict.ERROR, f"Sin respuesta de {root.url}: {root.error}.",
                      f"No response from {root.url}: {root.error}.", **ev)
    ident = identify(root, not_found)
    ev.update(server=ident.server, name=ident.name, version=ident.version, identified_by=ident.how,
              server_lines=root.raw_lines(("server", "x-powered-by", "via")))
    notes = [n for n in (tls_note(root.tls_unverified),) if n]
    if not at_origin:
        notes.append(Note("info", "Se observó el borde (no hay http.origin en el perfil): el banner puede ser del CDN.",
                          "The edge was observed (no http.origin in the profile): the banner may be the CDN's."))
    if ident.version:
        notes.append(Note("info", f"El banner revela la versión ({ident.version}); ocultarla reduce la exposición.",
                          f"The banner reveals the version ({ident.version}); hiding it reduces exposure."))
    if ident.how == "server-header":
        return result(REQ, check, Verdict.PASS, f"Servidor web identificado: {ident.name}"
                      f"{' ' + ident.version if ident.version else ''} (Server: {ident.banner}).",
                      f"Web server identified: {ident.name}{' ' + ident.version if ident.version else ''} "
                      f"(Server: {ident.banner}).", notes, **ev)
    if ident.how == "error-page":
        return result(REQ, check, Verdict.WARN, f"Servidor web probable: {ident.name} (por su página de error; "
                      "el banner está oculto).", f"Probable web server: {ident.name} (by its error page; the "
                      "banner is hidden).", notes, **ev)
    if ident.how == "masked":
        return result(REQ, check, Verdict.MANUAL,
                      f"El CDN oculta el servidor de origen (Server: {ident.banner}); declare el servidor web o "
                      "indique http.origin en el perfil.",
                      f"The CDN masks the origin server (Server: {ident.banner}); declare the web server or give "
                      "http.origin in the profile.", notes, **ev)
    return result(REQ, check, Verdict.MANUAL,
                  "No se pudo identificar el servidor web (banner oculto, sin huella reconocible); se requiere "
                  "declaración.", "The web server could not be identified (hidden banner, no known fingerprint); "
                  "a statement is required.", notes, **ev)

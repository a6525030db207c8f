"""Web scenarios (issue 4): each breaks one thing of II.1.e, II.2.d.https, I.3, or swaps the origin's
web server (II.1.b), and must FAIL (or WARN/PASS) for that requirement and nothing else."""

from __future__ import annotations

from pathlib import Path

from ..render import template_text
from ..scenario import CertSpec, Scenario
from ..varnish import VCL_RECV

ORIGIN = template_text("origin.conf.j2")
FRONT = template_text("front.conf.j2")
CC_LINE = 'add_header Cache-Control "{{ cache_control }}" always;'
assert CC_LINE in ORIGIN, "origin.conf.j2 changed: update scenarios/web.py"

# only no-cache
ORIGIN_ONLY_NO_CACHE = ORIGIN.replace(CC_LINE, 'add_header Cache-Control "no-cache" always;')
# the right directives split over two header lines (RFC 9110 §5.3: the same field): compliant
ORIGIN_SPLIT_LINES = ORIGIN.replace(CC_LINE, 'add_header Cache-Control "no-cache" always;\n'
                                            '        add_header Cache-Control "NO-STORE,must-revalidate" always;')
# the right value plus a freshness lifetime
ORIGIN_MAX_AGE = ORIGIN.replace(CC_LINE, 'add_header Cache-Control "{{ cache_control }}, max-age=3600" always;')
# right on 200, missing on 304 (an empty value makes nginx drop the header)
ORIGIN_NO_CC_ON_304 = ORIGIN.replace(CC_LINE, "add_header Cache-Control $prep_cc_{{ sid_ }} always;")
MAP_NO_CC_ON_304 = """\
map $status $prep_cc_{{ sid_ }} { 304 ""; default "{{ cache_control }}"; }
"""

# the edge drops the origin's header on main.json and caches it anyway (5 min)
VCL_STRIP_AND_CACHE = """\
    if (bereq.url ~ "^{{ main_json_path }}") {
        unset beresp.http.Cache-Control;
        set beresp.uncacheable = false;
        set beresp.ttl = 300s;
        set beresp.grace = 0s;
        return (deliver);
    }
"""

# the header passes through untouched, but the edge caches main.json anyway (ignores no-store)
VCL_CACHE_ANYWAY = VCL_STRIP_AND_CACHE.replace("        unset beresp.http.Cache-Control;\n", "")
assert VCL_CACHE_ANYWAY != VCL_STRIP_AND_CACHE

# TLS 1.0/1.1 accepted (OpenSSL 3 needs SECLEVEL=0 for them)
PROTO_LINE = "ssl_protocols TLSv1.2 TLSv1.3;"
assert PROTO_LINE in FRONT, "front.conf.j2 changed: update scenarios/web.py"
FRONT_TLS10 = FRONT.replace(PROTO_LINE, "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n"
                                        "    ssl_ciphers DEFAULT:@SECLEVEL=0;")

# plain HTTP serves the site instead of redirecting
REDIRECT_LINE = "location / { return 301 https://{{ host }}:{{ ports.front_https }}$request_uri; }"
assert REDIRECT_LINE in FRONT, "front.conf.j2 changed: update scenarios/web.py"
FRONT_NO_REDIRECT = FRONT.replace(REDIRECT_LINE, """location / {
        limit_except GET { deny all; }
        proxy_pass http://edge_{{ sid_ }};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Proto http;
    }""")

# HTTP basic auth on the site root page only: main.json and the other files stay public
ROOT_LOCATION = "location / { try_files $uri $uri/ =404; }"
assert ROOT_LOCATION in ORIGIN, "origin.conf.j2 changed: update scenarios/web.py"
ORIGIN_BASIC_AUTH_ROOT = ORIGIN.replace(ROOT_LOCATION, """location = / {
        auth_basic "PREP (acceso restringido)";
        auth_basic_user_file {{ state }}/web/{{ sid }}.htpasswd;
    }
    """ + ROOT_LOCATION)


def _htpasswd(docroot: Path, ctx) -> None:
    """A user file for the basic-auth scenario, outside the docroot (nobody logs in: the check asks without)."""
    d = Path(ctx.state) / "web"
    d.mkdir(parents=True, exist_ok=True)
    # {SHA} of a throwaway lab value: this file guards nothing real
    (d / f"{docroot.name}.htpasswd").write_text("prep:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n")


# Varnish uses the scenario's alternative origin (altorigins component) as its backend
VCL_ALT_BACKEND = """\
backend {{ sid_ }}_alt { .host = "127.0.0.1"; .port = "{{ ports.alt_http }}"; .connect_timeout = 2s; }
"""
VCL_RECV_ALT = VCL_RECV + "    set req.backend_hint = {{ sid_ }}_alt;\n"


def _alt(server: str, title_es: str, title_en: str) -> Scenario:
    return Scenario(f"origin-{server}", title_es, title_en, family="web", expect={"II.1.b": "PASS"},
                    vcl_extra=VCL_ALT_BACKEND, vcl_recv=VCL_RECV_ALT, requires=("altorigins",),
                    options={"altorigins": {"server": server}})


SCENARIOS = [
    Scenario("cc-only-no-cache", "main.json con solo Cache-Control: no-cache",
             "main.json with only Cache-Control: no-cache",
             family="web", expect={"II.1.e": "FAIL"}, nginx_origin=ORIGIN_ONLY_NO_CACHE),
    Scenario("cc-split-lines", "Las tres directivas en dos líneas Cache-Control (válido: se unen)",
             "The three directives over two Cache-Control lines (valid: they merge)",
             family="web", expect={"II.1.e": "PASS"}, nginx_origin=ORIGIN_SPLIT_LINES),
    Scenario("cc-max-age", "main.json con el valor correcto más max-age=3600",
             "main.json with the right value plus max-age=3600",
             family="web", expect={"II.1.e": "FAIL"}, nginx_origin=ORIGIN_MAX_AGE),
    Scenario("cc-missing-on-304", "Encabezado correcto en 200 pero ausente en 304",
             "Header right on 200 but missing on 304",
             family="web", expect={"II.1.e": "FAIL"}, nginx_origin=ORIGIN_NO_CC_ON_304,
             nginx_extra=MAP_NO_CC_ON_304),
    Scenario("edge-strips-caches", "Correcto en el origen; el borde quita el encabezado y cachea main.json",
             "Right at the origin; the edge strips the header and caches main.json",
             family="web", expect={"II.1.e": "FAIL"}, vcl_backend_response=VCL_STRIP_AND_CACHE),
    Scenario("edge-caches-anyway", "El encabezado llega intacto, pero el borde cachea main.json de todos modos",
             "The header arrives intact, but the edge caches main.json anyway",
             family="web", expect={"II.1.e": "FAIL"}, vcl_backend_response=VCL_CACHE_ANYWAY),
    Scenario("cert-self-signed", "Certificado autofirmado que no está en el paquete de confianza",
             "Self-signed certificate not in the trust bundle",
             family="web", expect={"II.2.d.https": "FAIL"}, cert=CertSpec("self_signed")),
    Scenario("cert-expires-in-window", "Certificado que vence dentro de la ventana de publicación",
             "Certificate expiring inside the publication window",
             # the lab window starts 14 days after `lab up` and lasts 24 h (+24 h hold): this ends inside it
             family="web", expect={"II.2.d.https": "FAIL"}, cert=CertSpec(not_after_days=14.5)),
    Scenario("tls10-enabled", "Acepta TLS 1.0 y 1.1", "Accepts TLS 1.0 and 1.1",
             family="web", expect={"II.2.d.https": "FAIL"}, nginx_front=FRONT_TLS10),
    Scenario("no-https-redirect", "HTTP sirve el sitio sin redirigir a HTTPS",
             "Plain HTTP serves the site without redirecting to HTTPS",
             family="web", expect={"II.2.d.https": "WARN"}, nginx_front=FRONT_NO_REDIRECT),
    Scenario("basic-auth-root", "La página principal pide usuario y contraseña (HTTP basic)",
             "The site's root page asks for a user and password (HTTP basic)",
             # the page that shows the corte (I.9) and carries the analytics tag (II.2.c) is the one behind
             # the password: those checks cannot read it, which is the point of I.3
             family="web", expect={"I.3": "FAIL", "I.9": "FAIL", "II.2.c": "ERROR"},
             nginx_origin=ORIGIN_BASIC_AUTH_ROOT, mutation=_htpasswd),
    _alt("apache", "Origen Apache httpd (detrás de la CDN)", "Apache httpd origin (behind the CDN)"),
    _alt("lighttpd", "Origen lighttpd (detrás de la CDN)", "lighttpd origin (behind the CDN)"),
]

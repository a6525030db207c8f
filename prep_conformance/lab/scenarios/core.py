"""Core scenarios (issue 3): the compliant difusor and the faulty ones of the web/publication families
that need nothing but nginx and Varnish."""

from __future__ import annotations

from ..scenario import CertSpec, Scenario
from ..varnish import VCL_DELIVER, VCL_RECV

# The nginx add_header inheritance trap: Cache-Control is set at server level, but the /json/ location
# has an add_header of its own, so NONE of the server-level ones reach /json/main.json.
HEADER_TRAP_ORIGIN = """\
server {
    listen 127.0.0.1:{{ ports.origin_http }};
    listen 127.0.0.1:{{ ports.origin_https }} ssl;
    server_name {{ origin_host }} {{ host }} 127.0.0.1;
    ssl_certificate {{ origin_cert }};
    ssl_certificate_key {{ origin_key }};
    ssl_protocols TLSv1.2 TLSv1.3;
    root {{ docroot }};
    index index.html;
    access_log {{ logs }}/nginx-{{ sid }}-origin.access.log lab;

    add_header Cache-Control "{{ cache_control }}" always;   # meant for main.json ...
    location /json/ {
        add_header Access-Control-Allow-Origin "*";          # ... but this silently drops it here
    }
    location ~ /\\. { deny all; }
    location / { try_files $uri $uri/ =404; }
}
"""

# The origin is right; the edge rewrites the header of main.json (a "CDN optimisation").
EDGE_ALTERS_DELIVER = VCL_DELIVER + """\
    if (req.url ~ "^{{ main_json_path }}") {
        set resp.http.Cache-Control = "public, max-age=60";
    }
"""

# PURGE and BAN are accepted (200) but nothing is purged.
PURGE_NOOP_RECV = VCL_RECV.replace("return (purge);", 'return (synth(200, "Purged"));').replace(
    '        ban("req.http.host == " + req.http.host + " && req.url ~ ^" + req.url);\n', "")

# A certificate that does not verify is II.2.d.https's finding alone: the content checks (I.3, I.4, I.6,
# I.9, II.1.e, II.2.b ...) read the site without verification and note it, so nothing else FAILs or ERRORs.

SCENARIOS = [
    Scenario("compliant", "Difusor que cumple todo lo verificable",
             "Difusor that meets every automatically checked requirement"),
    Scenario("compliant-large", "Difusor que cumple, con un paquete realista (miles de archivos)",
             "Compliant difusor serving a realistic paquete (thousands of files, tens of MB)",
             paquete_size="realistic"),
    Scenario("header-trap", "Falta Cache-Control en main.json (trampa de herencia de add_header en nginx)",
             "Cache-Control missing on main.json (nginx add_header inheritance trap)",
             expect={"II.1.e": "FAIL"}, nginx_origin=HEADER_TRAP_ORIGIN),
    Scenario("edge-alters-header", "Encabezado correcto en el origen, alterado por la CDN",
             "Header right at the origin, altered at the edge",
             expect={"II.1.e": "FAIL"}, vcl_deliver=EDGE_ALTERS_DELIVER),
    Scenario("cert-expired", "Certificado vencido", "Expired certificate",
             expect={"II.2.d.https": "FAIL"}, cert=CertSpec("expired")),
    Scenario("cert-wrong-name", "Certificado para otro nombre", "Certificate for another name",
             expect={"II.2.d.https": "FAIL"}, cert=CertSpec("wrong_name")),
    Scenario("http-only", "Solo HTTP, sin HTTPS", "Plain HTTP only, no HTTPS",
             expect={"II.2.d.https": "FAIL"}, tls=False),
    Scenario("stale-corte", "Publica un corte atrasado (dos cortes, 40 min)",
             "Publishes a stale corte (two cortes, 40 min behind)",
             expect={"I.4": "FAIL", "I.9": "FAIL"}, corte=-2),
    Scenario("altered-file", "Un archivo del paquete publicado con un byte alterado",
             "One file of the paquete served with one byte altered",
             expect={"I.6": "FAIL"}, mutation="alter_file"),
    Scenario("site-unreachable", "El sitio público no responde (nada escucha en su puerto)",
             "The public site does not answer (nothing listens on its port)",
             expect={r: "ERROR" for r in ("I.3", "I.4", "I.6", "I.9", "II.1.b", "II.1.e", "II.2.b", "II.2.c",
                                          "II.2.d.ddos", "II.2.d.https")},
             nginx_front="# no public front: connections to the site are refused\n"),
    Scenario("purge-noop", "La purga de la CDN responde 200 pero no purga",
             "The CDN purge answers 200 but purges nothing",
             expect={"II.2.b": "FAIL"}, vcl_recv=PURGE_NOOP_RECV, profile={"cdn": {"drill": True}}),
]

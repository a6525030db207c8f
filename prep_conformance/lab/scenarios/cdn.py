"""Commercial CDN scenarios (issue 16): purges through CloudFront, Fastly, Akamai and Azure stand-ins that
drive the lab's Varnish edge, and edges that change what they serve.

The purge scenarios run the corte drill (``publication.DrillProfile``: sshd needed, bound 8 s) with the
provider's API stand-in (``lab/cdnapis.py``); the edge carries the provider's usual headers so detection
names it. Each must PASS or FAIL for its own reason:
* ``cdn-cloudfront-min-ttl``: invalidation ``InProgress`` 1.5 s then ``Completed`` and applied: II.2.b
  PASS; but the distribution's minimum TTL caches ``main.json`` despite ``no-store``: II.1.e FAIL;
* ``cdn-fastly-soft-stale``: Fastly soft purge (done on answer, per Fastly), the edge keeps serving the
  stale corte 12 s (> bound) before revalidating: II.2.b FAIL on what the public sees;
* ``cdn-akamai``: Fast Purge v3, EdgeGrid-signed, applied at once (estimate 5 s): PASS; its cache key
  ignores the query string (noted in II.2.b: ``?t=`` does not bypass the cache) (a delay here
  would show a mixed corte meanwhile: main.json is never cached, the other files are);
* ``cdn-azure-slow``: AFD purge 202 + async operation that completes after 12 s (> bound): II.2.b FAIL;
* ``cdn-injects-script``: the edge appends a script to every HTML page (Cloudflare e-mail obfuscation
  style): I.6 FAIL with the injected script named.
"""

from __future__ import annotations

from ..scenario import Scenario
from ..varnish import VCL_DELIVER, VCL_RECV
from .publication import DrillProfile, _drill_ready

STALE_S = 12            # > the drill bound (8 s), < the restore's wait (2 x bound)

CLOUDFRONT_DELIVER = """\
    if (obj.hits > 0) { set resp.http.X-Cache = "Hit from cloudfront"; } else { set resp.http.X-Cache = "Miss from cloudfront"; }
    set resp.http.Via = "1.1 3f2a.cloudfront.net (CloudFront)";
    set resp.http.X-Amz-Cf-Pop = "QRO51-P1";
    set resp.http.X-Amz-Cf-Id = "lab-" + req.xid;
"""
# CloudFront with a minimum TTL of 60 s: main.json is cached despite the origin's no-store.
MIN_TTL_BACKEND = """\
    if (bereq.url ~ "^{{ main_json_path }}" && beresp.status == 200) {
        set beresp.ttl = 60s;
        set beresp.uncacheable = false;
        return (deliver);
    }
"""
FASTLY_DELIVER = VCL_DELIVER + """\
    set resp.http.X-Served-By = "cache-qro4420-QRO";
    set resp.http.X-Timer = "S1700000000.000000,VS0,VE1";
"""
# Akamai's "ignore query string" cache key: ?t=... gets the cached object.
IGNORE_QUERY_RECV = VCL_RECV.replace('    set req.http.host = "{{ host }}";\n',
                                     '    set req.http.host = "{{ host }}";\n    set req.url = regsub(req.url, "\\?.*$", "");\n')
AKAMAI_DELIVER = VCL_DELIVER + """\
    set resp.http.Akamai-GRN = "0.5e1a3b17.1700000000.lab";
"""
AZURE_DELIVER = VCL_DELIVER + """\
    set resp.http.X-Azure-Ref = "20261201T000000Z-lab" + req.xid;
"""

# Fastly-style soft purge at the edge: SOFTPURGE marks the object stale (vmod purge); revalidation of
# this scenario's objects is abandoned, so the stale copy is served until the stand-in's hard purge.
SOFT_RECV = VCL_RECV + """\
    if (req.method == "SOFTPURGE") {
        if (client.ip !~ lab_purgers) { return (synth(403, "Forbidden")); }
        return (hash);
    }
"""
SOFT_EXTRA = """\
import purge;
sub vcl_hit {
    if (req.method == "SOFTPURGE" && req.http.host == "{{ host }}") { purge.soft(0s, 3600s); return (synth(200, "Soft purged")); }
}
sub vcl_miss {
    if (req.method == "SOFTPURGE" && req.http.host == "{{ host }}") { purge.soft(0s, 3600s); return (synth(200, "Soft purged")); }
}
sub vcl_backend_fetch {
    if (bereq.is_bgfetch && bereq.http.host == "{{ host }}") { return (abandon); }
}
"""

INJECTED = ('<script data-cfasync="false" '
            'src="/cdn-cgi/scripts/5c5dd728/cloudflare-static/email-decode.min.js"></script>')
# The public front (nginx) appends a script to every HTML answer, as an edge "feature" would.
INJECT_FRONT = """\
upstream edge_{{ sid_ }} { server 127.0.0.1:{{ ports.edge }}; keepalive 64; }
server {
    listen 127.0.0.1:{{ ports.front_http }};
    server_name {{ host }};
    access_log {{ logs }}/nginx-{{ sid }}-front.access.log lab;
    location / { return 301 https://{{ host }}:{{ ports.front_https }}$request_uri; }
}
server {
    listen 127.0.0.1:{{ ports.front_https }} ssl;
    server_name {{ host }};
    ssl_certificate {{ front_cert }};
    ssl_certificate_key {{ front_key }};
    ssl_protocols TLSv1.2 TLSv1.3;
    add_header Strict-Transport-Security "max-age=31536000" always;
    add_header CF-RAY "8e6f0c1d2a3b4c5d-QRO" always;
    access_log {{ logs }}/nginx-{{ sid }}-front.access.log lab;
    location = /cdn-cgi/inject.html {
        internal;
        default_type text/html;
        return 200 '""" + INJECTED + """\n';
    }
    location / {
        limit_except GET { deny all; }
        add_after_body /cdn-cgi/inject.html;
        proxy_pass http://edge_{{ sid_ }};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header Accept-Encoding "";
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto https;
    }
}
"""


def _drill(sid: str, provider: str, **opts) -> dict:
    return dict(family="cdn", mutation=_drill_ready, profile=DrillProfile(sid), requires=("cdnapis",),
                options={"cdnapis": {"provider": provider, **opts}})


SCENARIOS = [
    Scenario("cdn-cloudfront-min-ttl", "CloudFront (invalidación asíncrona) con TTL mínimo que guarda main.json "
             "pese a no-store", "CloudFront (asynchronous invalidation) with a minimum TTL that caches main.json "
             "despite no-store", expect={"II.1.e": "FAIL"}, vcl_deliver=CLOUDFRONT_DELIVER,
             vcl_backend_response=MIN_TTL_BACKEND, **_drill("cdn-cloudfront-min-ttl", "cloudfront", delay=1.5)),
    Scenario("cdn-fastly-soft-stale", "Fastly con purga suave: el borde sigue sirviendo el corte caducado",
             "Fastly soft purge: the edge keeps serving the stale corte", expect={"II.2.b": "FAIL"},
             vcl_recv=SOFT_RECV, vcl_extra=SOFT_EXTRA, vcl_deliver=FASTLY_DELIVER,
             **_drill("cdn-fastly-soft-stale", "fastly", soft=True, stale=STALE_S)),
    Scenario("cdn-akamai", "Akamai Fast Purge v3 firmado con EdgeGrid (estimación del proveedor: 5 s)",
             "Akamai Fast Purge v3 signed with EdgeGrid (the provider's estimate: 5 s)", vcl_deliver=AKAMAI_DELIVER,
             vcl_recv=IGNORE_QUERY_RECV,
             **_drill("cdn-akamai", "akamai", delay=0, estimated=5)),
    Scenario("cdn-azure-slow", "Azure Front Door: purga aceptada (202) que termina después del límite",
             "Azure Front Door: purge accepted (202) that completes after the bound", expect={"II.2.b": "FAIL"},
             vcl_deliver=AZURE_DELIVER, **_drill("cdn-azure-slow", "azure", delay=STALE_S)),
    Scenario("cdn-injects-script", "El borde inyecta un script en cada página HTML (como la ofuscación de correos "
             "de Cloudflare)", "The edge injects a script into every HTML page (like Cloudflare's e-mail "
             "obfuscation)", expect={"I.6": "FAIL"}, family="cdn", nginx_front=INJECT_FRONT),
]

"""Load scenarios (issue 7): II.2.a under load, main.json under load (II.1.e), II.2.d.ddos signals.

Loads stay small (tens of users for ~10 s) so the demo and CI stay fast; each scenario's profile sets
``load.authorized: true`` with its own users/duration/think time. All use the tiny paquete so the other
families' checks (integrity, freshness) make few requests and stay clear of the limits set here.

* ``load-compliant``: the default topology (front -> Varnish -> origin) holds the load: PASS.
* ``load-weak-origin``: main.json is no-store, so every visitor's poll crosses the edge to the origin
  (as on election night), and the origin accepts 10 requests/s (burst 30, then 503): II.2.a FAIL only.
  Static files are cached at the edge as usual, so the other checks' few requests stay within the limit.
* ``load-edge-microcache``: the edge honours no-store at rest but keeps main.json 2 s ("micro-caching",
  a common way to survive traffic): under load most answers are HITs. Declared requirement: II.1.e
  (main.json must not be stored by any cache; the load check ``main_json_not_cached_under_load`` sees it).
* ``load-rate-limited``: the front limits each client to 20 requests/s (burst 40) and answers 429 with
  ``Retry-After``: a DDoS containment signal (II.2.d.ddos stays MANUAL: no DDoS provider in front).
* ``load-waf-front``: the same limiter behind a front that presents itself as Cloudflare (``CF-RAY``),
  a stand-in for a CDN/WAF with DDoS protection: protected front + containment = II.2.d.ddos PASS.
* ``load-relaxed``: the healthy topology, but the profile asks fewer users and a looser p95 than its
  convocatoria: met, yet only WARN ("cumple con umbrales relajados por el perfil: …").

The load sizes are those of lab-scale convocatorias (``convocatoria-lab-carga*.yaml``, written at ``lab
up`` beside the lab convocatoria, with their own id), so the profiles override nothing but
``authorized`` and stay clean PASSes where the site holds.
"""

from __future__ import annotations

from ..render import template_text
from ..scenario import Scenario
from ..varnish import VCL_BACKEND_RESPONSE

# The lab's load is lab-scale, and it is the lab convocatoria's own (a copy with its own id), not a
# profile override: a profile that asks less than its convocatoria is judged at best WARN (issue 10).
# 30 users ramped over 3 s (a handshake storm of 30 TLS sessions at once costs ~1 s on 2 shared cores);
# latency limits a little above the institute's so a busy CI machine does not flip the compliant verdict.
LAB_LOAD = {"users": 30, "spawn_rate": 10, "duration_s": 10, "poll_min_s": 0.5, "poll_max_s": 1.5,
            "p95_ms": 1500, "p99_ms": 4000}
# fewer visitors where a limiter sits in front: they stay under 20 requests/s, the burst does not
GENTLE_LOAD = {"users": 6, "spawn_rate": 6, "duration_s": 10, "poll_min_s": 1.5, "poll_max_s": 3}
CONVOCATORIAS = {"convocatoria-lab-carga.yaml": ("lab-carga", LAB_LOAD),
                 "convocatoria-lab-carga-suave.yaml": ("lab-carga-suave", GENTLE_LOAD)}
_SMALL_LOAD = {"authorized": True}
_GENTLE_LOAD = {"authorized": True}


def _lab_load_convocatorias(docroot, ctx) -> None:
    """Write the lab-scale load convocatorias beside the lab convocatoria (same window and thresholds)."""
    from pathlib import Path

    import yaml
    base = yaml.safe_load(Path(ctx.convocatoria_path).read_text(encoding="utf-8"))
    for name, (cid, load) in CONVOCATORIAS.items():
        doc = {**base, "id": cid, "institute": f"{base['institute']} (laboratorio: carga a escala)"}
        doc["load"] = {**base.get("load", {}), **load}
        (Path(ctx.state) / name).write_text(
            f"# LAB COPY of {base['id']} with a lab-scale load (issue 10): its own id, so it is the reference.\n"
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _profile(load: dict, gentle: bool = False) -> dict:
    conv = "convocatoria-lab-carga-suave.yaml" if gentle else "convocatoria-lab-carga.yaml"
    return {"convocatoria": f"../{conv}", "load": dict(load)}

# ---- the weak origin: 10 r/s per client, burst 30, then 503 (nginx's default limit status)
WEAK_LIMIT_ZONE = "limit_req_zone $binary_remote_addr zone={{ sid_ }}_tiny:1m rate=10r/s;\n"
WEAK_ORIGIN = template_text("origin.conf.j2").replace(
    "    root {{ docroot }};\n",
    "    root {{ docroot }};\n    limit_req zone={{ sid_ }}_tiny burst=30 nodelay;\n", 1)

# ---- the micro-caching edge: main.json kept 2 s whatever its Cache-Control says
MICROCACHE_BACKEND_RESPONSE = VCL_BACKEND_RESPONSE + """\
    if (bereq.url ~ "^{{ main_json_path }}") {
        set beresp.ttl = 2s;
        set beresp.grace = 0s;
        set beresp.uncacheable = false;
        return (deliver);
    }
"""

# ---- a rate-limiting front: 20 r/s per client, burst 40, then 429 with Retry-After
RL_ZONE = "limit_req_zone $binary_remote_addr zone={{ sid_ }}_rl:1m rate=20r/s;\n"
_RL_LOCATION = """\
    location @{{ sid_ }}_429 {
        add_header Retry-After 2 always;
        default_type text/plain;
        return 429 "Demasiadas peticiones / Too many requests\\n";
    }
    location / {
        limit_req zone={{ sid_ }}_rl burst=40 nodelay;
        limit_req_status 429;
        error_page 429 = @{{ sid_ }}_429;
"""
_FRONT = template_text("front.conf.j2")
RL_FRONT = _FRONT.replace("    location / {\n        limit_except GET", _RL_LOCATION + "        limit_except GET", 1)
# CF-RAY at server level, next to the template's own add_header lines (a location-level add_header would
# silently drop them: the nginx inheritance trap); the 429 location repeats it since it has its own.
WAF_FRONT = RL_FRONT.replace(
    "    ssl_protocols TLSv1.2 TLSv1.3;\n",
    "    ssl_protocols TLSv1.2 TLSv1.3;\n    add_header CF-RAY \"lab0{{ ports.edge }}-MEX\" always;\n", 1).replace(
    "        add_header Retry-After 2 always;\n",
    "        add_header Retry-After 2 always;\n        add_header CF-RAY \"lab0{{ ports.edge }}-MEX\" always;\n", 1)

SCENARIOS = [
    Scenario("load-compliant", "Sitio que soporta la carga de la noche de la elección (escala de laboratorio)",
             "Site that holds election-night load (lab scale)", family="load", paquete_size="tiny",
             mutation=_lab_load_convocatorias, profile=_profile(_SMALL_LOAD)),
    Scenario("load-weak-origin", "main.json (no-store) llega al origen en cada consulta; el origen admite 10/s",
             "main.json (no-store) reaches the origin on every poll; the origin accepts 10 requests/s", family="load", paquete_size="tiny",
             expect={"II.2.a": "FAIL"}, nginx_extra=WEAK_LIMIT_ZONE, nginx_origin=WEAK_ORIGIN,
             mutation=_lab_load_convocatorias, profile=_profile(_SMALL_LOAD)),
    Scenario("load-edge-microcache", "El borde guarda main.json 2 s pese a no-store (micro-caché bajo carga)",
             "The edge keeps main.json 2 s despite no-store (micro-caching under load)", family="load",
             paquete_size="tiny", expect={"II.1.e": "FAIL"}, vcl_backend_response=MICROCACHE_BACKEND_RESPONSE,
             mutation=_lab_load_convocatorias, profile=_profile(_SMALL_LOAD)),
    Scenario("load-rate-limited", "Frente con limitación de tasa (429 + Retry-After)",
             "Rate-limiting front (429 + Retry-After)", family="load", paquete_size="tiny",
             expect={"II.2.d.ddos": "MANUAL"}, nginx_extra=RL_ZONE, nginx_front=RL_FRONT,
             mutation=_lab_load_convocatorias, profile=_profile(_GENTLE_LOAD, gentle=True)),
    Scenario("load-waf-front", "Frente tipo CDN/WAF con protección DDoS y limitación de tasa",
             "CDN/WAF-like front with DDoS protection and rate limiting", family="load", paquete_size="tiny",
             expect={"II.2.d.ddos": "PASS"}, nginx_extra=RL_ZONE, nginx_front=WAF_FRONT,
             mutation=_lab_load_convocatorias, profile=_profile(_GENTLE_LOAD, gentle=True)),
    Scenario("load-relaxed", "Sitio sano, pero el perfil pide menos usuarios y un p95 más holgado que su convocatoria",
             "Healthy site, but the profile asks fewer users and a looser p95 than its convocatoria", family="load",
             paquete_size="tiny", expect={"II.2.a": "WARN"}, mutation=_lab_load_convocatorias,
             profile=_profile({"authorized": True, "users": 10, "p95_ms": 5000})),
]

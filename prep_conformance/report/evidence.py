"""Shapes results.json data for the report templates (pure; no HTML here).

- the headline state of a difusor and the display state of each requirement ("No verificado");
- the consolidated list of documents to request, each with its acceptance criterion;
- the evidence kind of a check (one template partial per kind under ``templates/evidence/``);
- response headers annotated one by one (as REDbot does);
- text cleaned for the reader: developer text (exception reprs, Python sets, "(s)" plurals) rewritten.
- chart geometry (numbers only: the SVG is drawn by the templates).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from .. import cache_status, catalog
from .i18n import fmt_datetime

# ---------------------------------------------------------------- states


def not_verified(c: Mapping[str, Any]) -> bool:
    """A SKIP that means "not authorised or not configured" (the check could have run), not "does not apply"."""
    return c.get("verdict") == "SKIP" and bool((c.get("evidence") or {}).get("not_verified"))


def requirement_state(d: Mapping[str, Any], rid: str) -> str:
    """The requirement's verdict as shown: the six verdicts, plus ``NOT_VERIFIED`` for a SKIP whose checks
    were all skipped for lack of authorisation or configuration (results.json keeps ``SKIP``)."""
    v = d.get("requirements", {}).get(rid, "SKIP")
    if v == "SKIP":
        checks = [c for c in d.get("checks", []) if c.get("requirement") == rid]
        if checks and any(not_verified(c) for c in checks) and all(
                c.get("verdict") == "SKIP" for c in checks) and not any(
                c.get("check") == "not_selected" for c in checks):
            return "NOT_VERIFIED"
    return v


def headline(d: Mapping[str, Any]) -> str:
    """``cumple`` only with no FAIL, no ERROR, no MANUAL left and nothing unverified."""
    states = {requirement_state(d, rid) for rid in catalog.requirement_ids()}
    if "FAIL" in states:
        return "no_cumple"
    if "ERROR" in states:
        return "no_evaluable"
    if "MANUAL" in states:
        return "pendiente"
    if "NOT_VERIFIED" in states:
        return "no_verificado"
    return "cumple"


def pending_items(d: Mapping[str, Any], lang: str = "es") -> list[dict[str, Any]]:
    """One row per requirement still waiting for a document (MANUAL, or ERROR/NOT_VERIFIED that a document
    can settle), with what to request and its acceptance criterion (catalog.yaml's manual evidence)."""
    rows = []
    for r in catalog.requirements():
        s = requirement_state(d, r.id)
        if s in ("MANUAL", "NOT_VERIFIED"):
            rows.append({"id": r.id, "title": r.title(lang), "state": s, "section": r.section,
                         "document": r.manual_evidence(lang), "criterion": criterion(r, lang)})
    return rows


def criterion(r: Any, lang: str) -> str:
    """The acceptance criterion: what the document must show for the requirement to be met."""
    crit = getattr(r, f"acceptance_{'en' if lang == 'en' else 'es'}", "") or ""
    if crit:
        return crit
    how = r.how(lang)
    if lang == "en":
        return f"It is accepted when it shows that: {how[0].lower() + how[1:] if how else r.title(lang)}"
    return f"Se acepta si demuestra que: {how[0].lower() + how[1:] if how else r.title(lang)}"


# ---------------------------------------------------------------- text for the reader

_ERR_PATTERNS = [
    (re.compile(r"\b\w*(ConnectionError|MaxRetryError|NewConnectionError)\b.*?(Connection refused|Errno 111)[^.;)]*\)*",
                re.S), {"es": "conexión rechazada (nada escucha en esa dirección y puerto)",
                        "en": "connection refused (nothing listens at that address and port)"}),
    (re.compile(r"\b\w*ConnectionError: HTTPS?ConnectionPool\(host='([^']+)', port=(\d+)\)[^;]*", re.S),
     {"es": r"error de conexión con \1:\2", "en": r"connection error with \1:\2"}),
    (re.compile(r"\b\w*(ConnectTimeout|ReadTimeout|Timeout|TimeoutError)\b[^;]*", re.S),
     {"es": "tiempo de espera agotado", "en": "timed out"}),
    (re.compile(r"\b\w*SSLError\b[^;]*", re.S),
     {"es": "error en el saludo TLS", "en": "TLS handshake error"}),
    (re.compile(r"\(1, '\[SSL: CERTIFICATE_VERIFY_FAILED\] certificate verify failed: ([^(']*)\([^)]*\)'\)"),
     {"es": r"(la verificación del certificado falló: \1)", "en": r"(certificate verify failed: \1)"}),
    (re.compile(r"\b(NameResolutionError|gaierror)\b[^;]*", re.S),
     {"es": "el nombre no se pudo resolver", "en": "the name could not be resolved"}),
]
_PYSET = re.compile(r"\{('[^'{}]*'(?:,\s*'[^'{}]*')*)\}|\[('[^'\[\]]*'(?:,\s*'[^'\[\]]*')*)\]")
_ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)")
_PLURAL_ES = re.compile(r"(\d+(?:[.,]\d+)?)|([A-Za-zÁÉÍÓÚáéíóúñÑü]+)\((s|es)\)")


def _fix_plurals(text: str) -> str:
    """``3 ronda(s)`` → ``3 rondas``; ``1 ruta(s) distinta(s)`` → ``1 ruta distinta``."""
    last = [None]

    def sub(m: re.Match) -> str:
        if m.group(1) is not None:
            try:
                last[0] = float(m.group(1).replace(",", "."))
            except ValueError:
                last[0] = None
            return m.group(1)
        word, suffix = m.group(2), m.group(3)
        return word if last[0] == 1 else word + suffix
    return _PLURAL_ES.sub(sub, text)


def clean(text: str, lang: str = "es") -> str:
    """Developer text rewritten for the reader: exception reprs, Python sets/lists of names, "(s)"."""
    if not text:
        return ""
    lang = "en" if lang == "en" else "es"
    for rx, repl in _ERR_PATTERNS:
        text = rx.sub(lambda m, r=repl[lang]: m.expand(r), text)
    text = _ISO.sub(lambda m: fmt_datetime(m.group(0), lang), text)
    if lang == "es":
        for en_name, es_name in {**STORE_LABELS_ES, **SSL_REASONS_ES}.items():
            text = text.replace(en_name, es_name)
    text = _PYSET.sub(lambda m: ", ".join(x.strip().strip("'") for x in (m.group(1) or m.group(2)).split(",")), text)
    return _fix_plurals(text)


def _split_bilingual(text: str, lang: str) -> str:
    """``"es … / en …"`` (a pytest.skip reason written in both languages) → the half of ``lang``."""
    if " / " in text:
        es, _, en = text.partition(" / ")
        return en if lang == "en" else es
    return text


def text(c: Mapping[str, Any], lang: str = "es") -> str:
    """A check's summary in the report's language, cleaned."""
    if lang == "en":
        t = c.get("summary_en") or c.get("summary") or ""
    else:
        t = c.get("summary") or ""
    if c.get("summary_en") == c.get("summary"):
        t = _split_bilingual(t, lang)
    return clean(t, lang)


def note_text(n: Mapping[str, Any], lang: str = "es") -> str:
    t = (n.get("text_en") or n.get("text") or "") if lang == "en" else (n.get("text") or "")
    return clean(t, lang)


def cell_reason(d: Mapping[str, Any], rid: str, lang: str = "es") -> str:
    """The one line behind a matrix cell: the worst check's summary, or the reviewer's decision."""
    dec = (d.get("decisions") or {}).get(rid)
    v = d.get("requirements", {}).get(rid, "SKIP")
    worst_c = next((c for c in d.get("checks", []) if c.get("requirement") == rid and c.get("verdict") == v), None)
    if worst_c is None:
        worst_c = next((c for c in d.get("checks", []) if c.get("requirement") == rid), None)
    line = text(worst_c, lang) if worst_c else ""
    if dec:
        who = dec.get("by", "")
        line = (f"Reviewer's decision ({who}): {dec.get('decision')}. " if lang == "en"
                else f"Decisión del revisor ({who}): {dec.get('decision')}. ") + line
    return line


# ---------------------------------------------------------------- evidence kinds

# Evidence written before charts moved to the report (rules then put SVG text into evidence): never shown.
LEGACY_CHART_KEYS = ("chart_svg",)


def plain(evidence: Mapping[str, Any] | None) -> dict[str, Any]:
    """The evidence as data (the raw-JSON annex, pytest-html): without legacy chart markup."""
    return {k: v for k, v in (evidence or {}).items() if k not in LEGACY_CHART_KEYS}


def kind_of(c: Mapping[str, Any]) -> list[str]:
    """The partials that lay out this check's evidence (``templates/evidence/_<kind>.html.j2``), in order.

    Another family adds a kind here and a partial there; ``generic`` (a key/value table) is the fallback."""
    ev = c.get("evidence") or {}
    kinds: list[str] = []
    if ev.get("thresholds"):
        kinds.append("thresholds")
    if isinstance(ev.get("response"), Mapping) or isinstance(ev.get("first"), Mapping) or (
            isinstance(ev.get("edge"), list) and ev["edge"] and isinstance(ev["edge"][0], Mapping)
            and "status_line" in ev["edge"][0]):
        kinds.append("http")
    chain, trust = ev.get("chain"), ev.get("trust")
    if (isinstance(chain, list) and chain and isinstance(chain[0], Mapping) and "subject" in chain[0]) or (
            isinstance(trust, list) and trust and isinstance(trust[0], Mapping) and "store" in trust[0]):
        kinds.append("tls")
    if any(isinstance(x, Mapping) and (x.get("diff") or x.get("served_excerpt")) for x in _listish(ev, "altered")):
        kinds.append("diff")
    if isinstance(ev.get("rounds"), list) and ev["rounds"]:
        kinds.append("upload")
    if isinstance(ev.get("polls"), list) and ev["polls"]:
        kinds.append("drill")
    if isinstance(ev.get("series"), list) and ev.get("series_columns"):
        kinds.append("load")
    kinds.append("generic")
    return kinds


def _listish(ev: Mapping[str, Any], key: str) -> list:
    v = ev.get(key)
    return v if isinstance(v, list) else []


HANDLED = {
    "http": ("response", "first", "edge", "origin"),
    "tls": ("chain", "trust"),
    "upload": ("rounds",),
    "drill": ("polls",),
    "load": ("series", "series_columns"),
    "thresholds": ("thresholds",),
}


def generic_items(ev: Mapping[str, Any], kinds: Iterable[str], lang: str = "es") -> list[tuple[str, Any]]:
    """The evidence keys no specific partial laid out, as (key, value) pairs for the generic table."""
    done = {k for kind in kinds for k in HANDLED.get(kind, ())}
    return [(k, v) for k, v in in_lang(ev, lang) if k not in done and k not in LEGACY_CHART_KEYS
            and k != "not_verified"]


def in_lang(m: Mapping[str, Any] | None, lang: str = "es") -> list[tuple[str, Any]]:
    """A mapping's items in one language: of a pair ``reason``/``reason_en`` (or ``error``/``error_es``) the
    report's language is shown, under the plain key; the other is left out."""
    m = m or {}
    out = []
    for k, v in m.items():
        if not isinstance(k, str):
            out.append((k, v))
            continue
        if k.endswith(("_en", "_es")) and k[:-3] in m:
            continue                                  # shown under its plain key
        if lang == "en" and f"{k}_en" in m:
            v = m[f"{k}_en"]
        elif lang != "en" and f"{k}_es" in m:
            v = m[f"{k}_es"]
        out.append((k, v))
    return out


def is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def scalar_list(v: Any) -> bool:
    return isinstance(v, list) and all(is_scalar(x) for x in v)


def table_rows(v: Any) -> tuple[list[str], list[list[Any]]] | None:
    """A list of flat dicts → (columns, rows); else None."""
    if not (isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v)):
        return None
    cols: list[str] = []
    for x in v:
        for k, val in x.items():
            if k not in cols and is_scalar(val):
                cols.append(k)
    if not cols:
        return None
    return cols, [[x.get(k) for k in cols] for x in v]


def http_exchanges(ev: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    out = []
    for key in ("response", "first", "origin"):
        if isinstance(ev.get(key), Mapping):
            out.append((key, ev[key]))
    for i, x in enumerate(_listish(ev, "edge")):
        if isinstance(x, Mapping) and "status_line" in x:
            out.append((f"edge#{i + 1}", x))
    return out


# REDbot-style readings of response headers: name → (es, en); value-dependent ones below.
HEADER_NOTES = {
    "cache-control": ("Instrucciones de caché para navegadores y CDN.", "Caching instructions for browsers and CDNs."),
    "age": ("Segundos que la respuesta lleva en una caché.", "Seconds the response has spent in a cache."),
    "x-cache": ("Resultado de la caché del borde (HIT: servida desde la caché).",
                "Edge cache outcome (HIT: served from the cache)."),
    "via": ("Intermediarios (proxy o CDN) por los que pasó la respuesta.", "Intermediaries (proxy or CDN) it went through."),
    "server": ("Software del servidor que respondió.", "The software of the server that answered."),
    "expires": ("Fecha tras la cual la respuesta se considera vencida.", "Date after which the response is stale."),
    "pragma": ("Directiva antigua de HTTP/1.0 (no-cache).", "Legacy HTTP/1.0 directive (no-cache)."),
    "etag": ("Identificador de versión: permite validaciones condicionales.", "Version tag: allows conditional requests."),
    "last-modified": ("Fecha de última modificación: permite validaciones condicionales.",
                      "Last modification date: allows conditional requests."),
    "content-type": ("Tipo de contenido.", "Content type."),
    "content-length": ("Tamaño del cuerpo en bytes.", "Body size in bytes."),
    "location": ("Destino de la redirección.", "Redirect target."),
    "strict-transport-security": ("HSTS: el navegador usará solo HTTPS durante max-age segundos.",
                                  "HSTS: the browser will use HTTPS only for max-age seconds."),
    "date": ("Fecha y hora del servidor.", "The server's date and time."),
    "x-varnish": ("Identificadores de Varnish (dos: respuesta servida de la caché).",
                  "Varnish transaction ids (two: served from the cache)."),
    "cf-cache-status": ("Resultado de la caché de Cloudflare.", "Cloudflare cache outcome."),
    "x-served-by": ("Nodo del CDN que respondió.", "The CDN node that answered."),
    "vary": ("Encabezados de la solicitud que cambian la respuesta.", "Request headers the response varies on."),
    "set-cookie": ("Cookie enviada al navegador.", "A cookie set in the browser."),
    "www-authenticate": ("El servidor pide credenciales.", "The server asks for credentials."),
    "retry-after": ("Tiempo a esperar antes de reintentar.", "Time to wait before retrying."),
    "connection": ("Manejo de la conexión (keep-alive: se reutiliza).", "Connection handling (keep-alive: reused)."),
    "accept-ranges": ("Acepta descargas parciales por rangos de bytes.", "Accepts partial downloads by byte ranges."),
    "content-encoding": ("Compresión del cuerpo.", "Body compression."),
    "transfer-encoding": ("Envío del cuerpo por partes.", "The body is sent in chunks."),
}
CC_DIRECTIVES = {
    "no-cache": ("revalidar antes de usar", "revalidate before use"),
    "no-store": ("no guardar en ninguna caché", "never store in any cache"),
    "must-revalidate": ("no servir vencida", "never serve stale"),
    "public": ("cualquier caché puede guardarla", "any cache may store it"),
    "private": ("solo la caché del navegador", "only the browser's cache"),
    "max-age": ("vigencia en segundos", "freshness lifetime in seconds"),
    "s-maxage": ("vigencia en cachés compartidas (CDN)", "lifetime in shared caches (CDN)"),
}


def header_rows(lines: Iterable[str] | None, lang: str = "es") -> list[dict[str, str]]:
    """``["Cache-Control: max-age=60", ...]`` → rows {name, value, note, level} with a reading per header."""
    i = 1 if lang == "en" else 0
    rows = []
    for line in lines or []:
        name, _, value = str(line).partition(":")
        name, value = name.strip(), value.strip()
        low = name.lower()
        note = HEADER_NOTES.get(low, ("", ""))[i]
        level = ""
        if low == "cache-control":
            parts = []
            for d in (p.strip() for p in value.split(",") if p.strip()):
                key = d.split("=")[0].strip().lower()
                if key in CC_DIRECTIVES:
                    parts.append(f"{d}: {CC_DIRECTIVES[key][i]}")
            if parts:
                note = "; ".join(parts) + "."
        elif low in cache_status.STATUS_HEADERS and cache_status.value_outcome(low, value) == cache_status.HIT:
            note = ("Servida desde la caché del borde, no desde el origen." if i == 0
                    else "Served from the edge cache, not from the origin.")
            level = "bad"
        elif low == "age" and (cache_status.age_seconds(value) or 0) > 0:
            note = (f"Lleva {value} s en caché: no es una respuesta fresca del origen." if i == 0
                    else f"It has been cached for {value} s: not a fresh answer from the origin.")
            level = "bad"
        rows.append({"name": name, "value": value, "note": note, "level": level})
    return rows


# ---------------------------------------------------------------- charts (geometry only)

def bars(values: list[float], limit: float | None, width: int = 420, height: int = 150, pad: int = 34) -> dict:
    """Bar geometry for a small chart with a threshold line (upload rounds)."""
    vals = [float(v or 0) for v in values]
    top = max(vals + ([limit] if limit else []) + [1.0]) * 1.15
    n = max(1, len(vals))
    inner_w, inner_h = width - 2 * pad, height - 2 * pad + 10
    bw = inner_w / n * 0.6
    out = []
    for k, v in enumerate(vals):
        h = inner_h * v / top
        x = pad + inner_w / n * k + (inner_w / n - bw) / 2
        out.append({"x": round(x, 1), "y": round(pad + inner_h - h, 1), "w": round(bw, 1), "h": round(h, 1),
                    "v": v, "label": k + 1, "below": limit is not None and v < limit})
    ly = None if limit is None else round(pad + inner_h - inner_h * limit / top, 1)
    return {"w": width, "h": height, "pad": pad, "base": pad + inner_h, "bars": out, "limit_y": ly,
            "limit": limit, "top": top}


def line(points: list[tuple[float, float]], limit: float | None, width: int = 520, height: int = 170,
         pad: int = 40) -> dict:
    """Polyline geometry (x, y in data units → pixels) with an optional threshold line."""
    pts = [(float(x), float(y)) for x, y in points if x is not None and y is not None]
    if not pts:
        return {"w": width, "h": height, "points": "", "limit_y": None, "xmax": 0, "ymax": 0, "pad": pad,
                "base": height - pad}
    xmax = max(p[0] for p in pts) or 1.0
    ymax = (max([p[1] for p in pts] + ([limit] if limit else [])) or 1.0) * 1.15
    iw, ih = width - 2 * pad, height - 2 * pad

    def px(x: float, y: float) -> str:
        return f"{pad + iw * x / xmax:.1f},{pad + ih - ih * y / ymax:.1f}"
    ly = None if limit is None else round(pad + ih - ih * limit / ymax, 1)
    return {"w": width, "h": height, "pad": pad, "base": pad + ih, "points": " ".join(px(x, y) for x, y in pts),
            "limit_y": ly, "limit": limit, "xmax": xmax, "ymax": ymax}


def column(series: list[list], columns: list[str], name: str) -> list[tuple[float, float]]:
    if name not in columns or "t_s" not in columns:
        return []
    i, t = columns.index(name), columns.index("t_s")
    return [(row[t], row[i]) for row in series if len(row) > max(i, t)]


# ---------------------------------------------------------------- labels for evidence keys

KEY_LABELS_ES = {
    "url": "URL", "method": "método", "status": "estado", "status_line": "línea de estado", "headers": "encabezados",
    "error": "error", "errors": "errores", "body_sha256": "SHA-256 del cuerpo",
    "body_bytes": "tamaño del cuerpo (bytes)", "connected_to": "conectado a", "required": "valor exigido",
    "response": "respuesta", "first": "primera respuesta", "edge": "borde", "origin": "origen",
    "where": "dónde", "secuencia": "secuencia", "old_files": "archivos con bytes anteriores",
    "absent_files": "archivos ausentes", "path": "ruta", "expected": "esperado", "served": "servido",
    "size": "tamaño (bytes)", "files": "archivos", "served_ok": "servidos idénticos", "missing": "ausentes",
    "altered": "alterados", "extra": "sobrantes", "unfetched": "no obtenidos", "missing_count": "ausentes",
    "altered_count": "alterados", "extra_count": "sobrantes", "unfetched_count": "no obtenidos",
    "base_url": "sitio", "paquete": "paquete", "workers": "conexiones simultáneas",
    "corte_served": "corte servido", "corte_paquete": "corte del paquete", "bytes": "bytes", "seconds": "segundos",
    "mb_s": "MB/s", "rounds": "rondas", "engine": "motor", "cipher": "cifrado", "probe_bytes": "tamaño de la prueba (bytes)",
    "median_mb_s": "mediana (MB/s)", "threshold_mb_s": "umbral (MB/s)", "client_limited": "límite del cliente",
    "p95_ms": "latencia p95 (ms)", "p99_ms": "latencia p99 (ms)", "p50_ms": "latencia p50 (ms)", "rps": "solicitudes por segundo",
    "failures_s": "fallas por segundo", "error_rate": "tasa de error", "requests": "solicitudes", "failures": "fallas",
    "settings": "parámetros", "endpoints": "rutas", "name": "nombre", "max_ms": "máximo (ms)", "users": "usuarios",
    "duration_s": "duración (s)", "spawn_rate": "usuarios nuevos por segundo", "min_rps": "mínimo de solicitudes por segundo",
    "max_error_rate": "tasa de error máxima", "command": "comando", "artifacts": "archivos generados",
    "tls_verified": "certificado verificado", "endpoint": "punto de conexión", "address": "dirección",
    "chain": "cadena", "trust": "confianza", "custom_ca_file": "CA propia del perfil", "hostname_matches": "el nombre coincide",
    "protocols": "protocolos", "weak_ciphers": "cifrados débiles aceptados", "vulnerabilities": "vulnerabilidades",
    "listener": "servicio en el puerto", "reason": "motivo", "detail": "detalle", "details": "detalles",
    "free_bytes": "bytes libres", "free_gb": "GB libres", "threshold_gb": "umbral (GB)", "total_bytes": "bytes totales",
    "os": "sistema operativo", "banner": "banner", "server": "servidor", "provider": "proveedor",
    "declared": "declarado", "evidence": "evidencia", "file": "archivo", "format": "formato", "sha256": "SHA-256",
    "drill": "simulacro", "site": "sitio", "corte_before": "corte previo", "corte_uploaded": "corte cargado",
    "changed_files": "archivos cambiados", "changed_count": "archivos cambiados", "upload_dir": "directorio de carga",
    "uploaded_bytes": "bytes cargados", "upload_s": "tiempo de carga (s)", "purge": "purga",
    "fresh_after_s": "fresco tras (s)", "origin_fresh_after_s": "origen fresco tras (s)",
    "upload_to_purge_s": "de la carga a la purga (s)", "poll_interval_s": "intervalo de consulta (s)",
    "fresh_after_upload_s": "fresco tras la carga (s)", "polls_total": "consultas", "bound_s": "límite (s)",
    "stale_polls_after_purge": "consultas viejas tras la purga", "mixed_polls": "consultas con estado mezclado",
    "restore": "restauración", "ok": "correcto", "differences": "diferencias", "lingering": "restos",
    "waited_s": "espera (s)", "files_restored": "archivos restaurados", "files_removed": "archivos retirados",
    "detected": "detectado", "signals": "señales", "cname_chain": "cadena CNAME", "statuses": "estados",
    "exception": "excepción", "scan_errors": "errores del escaneo", "not_before": "válido desde",
    "not_after": "válido hasta", "subject": "sujeto", "issuer": "emisor", "sans": "nombres", "serial": "serie",
    "key": "llave", "self_signed": "autofirmado", "signature_hash": "hash de firma", "https_url": "URL HTTPS",
    "samples": "muestras", "availability": "disponibilidad", "sla": "SLA", "period_days": "periodo (días)",
    "staff": "personal", "role": "rol", "phone": "teléfono", "email": "correo", "missing_fields": "campos faltantes",
    "problems": "problemas", "value": "valor", "unit": "unidad", "section": "apartado", "source": "fuente",
    "convocatoria_value": "valor de la convocatoria", "profile_key": "clave del perfil", "relaxed": "relajado",
    "age": "Age", "x_cache": "X-Cache", "t_s": "t (s)", "dur_s": "duración (s)", "index": "ronda",
    "log_tail": "final de la bitácora", "failures_top": "fallas más frecuentes", "occurrences": "ocurrencias",
    "series": "serie", "what": "qué", "hops": "saltos", "pinned_address": "dirección fijada",
    "kind": "tipo", "ddos_protection": "protección DDoS", "providers": "proveedores", "csv_files": "archivos CSV",
    "actas_checked": "actas revisadas", "mismatched": "no coinciden", "mismatched_count": "no coinciden",
    "outside_manifest": "fuera del manifiesto", "outside_manifest_count": "fuera del manifiesto",
    "cache_hit_lines": "líneas de acierto de caché", "cache_control_lines": "líneas Cache-Control",
    "merged": "valor combinado", "directives": "directivas", "qualified": "con calificador",
    "contradicting": "contradictorias", "max_lag_min": "retraso máximo (min)", "lag_min": "retraso (min)",
    "max_lag_cortes": "retraso máximo (cortes)", "lag_cortes": "retraso (cortes)", "corte_files": "archivos del corte",
    "absent": "ausentes", "absent_count": "ausentes", "csv_corte_lines": "línea de corte en los CSV",
    "variant": "variante", "avg_ms": "promedio (ms)", "measured_s": "medido (s)", "workers_seen": "trabajadores vistos",
    "recovered_after_s": "recuperado tras (s)", "connection": "conexión", "data_files": "archivos de datos",
    "rows_without_code": "filas sin código", "zip_names": "archivos del ZIP", "served_corte": "corte servido",
    "date_found": "fecha encontrada", "size_bytes": "tamaño (bytes)", "detected_format": "formato detectado",
    "host_key_status": "estado de la llave del servidor", "not_found": "no encontrado",
    "not_found_body_head": "inicio del cuerpo no encontrado", "threshold_bytes": "umbral (bytes)",
    "round_budget_s": "tiempo máximo por ronda (s)", "rounds_ok": "rondas correctas", "target_count": "objetivos",
    "headers_before": "encabezados antes", "page": "página", "threshold": "umbral", "declared_sla": "SLA declarado",
    "test": "prueba", "official": "oficial", "sites": "sitios", "registration_ip": "IP de registro",
    "work_phone": "teléfono de trabajo", "extension": "extensión", "contact": "contacto", "entidad": "entidad", "series_columns": "columnas", "remote_worker_command": "comando del trabajador remoto",
    # issue 16: purges through the CDNs' APIs, their two timelines, edges that rewrite pages
    "timeline": "cronología", "upload_to_purge_accepted_s": "de la carga a la purga aceptada (s)",
    "purge_accepted": "purga aceptada", "completion_signal": "señal de término del proveedor",
    "provider_reported_complete_s": "el proveedor la reportó completa (s)",
    "provider_estimate_s": "estimación del proveedor (s)", "first_fresh_answer_s": "primera respuesta fresca (s)",
    "stale_after_provider_complete": "respuestas viejas tras el término reportado", "completion": "consultas de término",
    "completion_state": "estado de término", "reported_complete_after_s": "reportada completa tras (s)",
    "estimated_s": "estimación (s)", "purge_ids": "ids de purga", "not_sent": "no enviada", "accepted": "aceptada",
    "targets": "objetivos", "elapsed_s": "duración (s)", "state": "estado",
    "first_miss_after_s": "primer fallo de caché tras (s)", "edge_cache_control": "caché del borde (CDN-/Surrogate-Control)",
    "pages": "páginas", "origin_compared": "origen comparado", "added_scripts": "scripts añadidos",
    "removed_scripts": "scripts quitados", "size_delta": "diferencia de tamaño (bytes)", "edge_status": "estado en el borde",
    "edge_sha256": "SHA-256 en el borde", "origin_sha256": "SHA-256 en el origen", "expected_sha256": "SHA-256 esperado",
    "min_version": "versión mínima", "legacy_ciphers_accepted": "cifrados aceptados en versiones obsoletas",
    "refused_in_one_handshake": "rechazadas con todas sus suites ofrecidas en un saludo",
    # keys every family writes that the reports showed as they are (a Spanish reader read English)
    "after": "después", "before": "antes", "age_max_s": "Age máximo (s)", "algorithm": "algoritmo",
    "algorithms": "algoritmos", "allowed": "permitidos", "allowed_methods": "métodos permitidos",
    "answered": "respondidas", "ask_for": "qué solicitar", "attempted": "intentadas", "auth": "autenticación",
    "avail_bytes": "bytes disponibles", "avail_gb": "GB disponibles", "avail_gib": "GiB disponibles",
    "avg_time_on_site_s": "tiempo promedio en el sitio (s)", "bad_json": "JSON inválido", "blocked_by": "bloqueado por",
    "body_cut": "cuerpo cortado", "bots": "bots", "built_with_js": "construida con JavaScript", "burst": "ráfaga",
    "caa_owner": "dueño del registro CAA", "cache_control": "Cache-Control", "cache_control_seen": "Cache-Control visto",
    "cache_hits": "aciertos de caché", "canonical": "nombre canónico", "capped": "limitados",
    "ccs_injection": "inyección CCS", "cdn": "CDN", "challenge": "desafío", "challenges": "desafíos",
    "cleanup": "limpieza", "client_ceiling_mb_s": "techo del cliente (MB/s)", "client_cpu_s": "CPU del cliente (s)",
    "client_cpu_share": "fracción de CPU del cliente", "client_renegotiation_dos": "DoS por renegociación del cliente",
    "compression": "compresión", "concurrency": "concurrencia", "confidence": "confianza",
    "connect_s": "conexión (s)", "corte_iso": "corte (ISO 8601)",
    "csv_without_corte_line_in_paquete": "CSV sin línea de corte en el paquete", "data": "datos",
    "days_left": "días restantes", "deadline": "fecha límite", "deadline_source": "origen de la fecha límite",
    "detection": "detección", "disk_full": "disco lleno", "dns": "DNS", "document": "documento",
    "document_kind": "tipo de documento", "effect": "efecto", "end_to_end_mb_s": "de punta a punta (MB/s)",
    "excerpt": "extracto", "expected_cache_control": "Cache-Control esperado", "expected_keys": "claves esperadas",
    "expected_min_attempts": "intentos mínimos esperados", "expected_secuencia": "secuencia esperada",
    "expiry_warn_days": "aviso de vencimiento (días)", "f_bavail": "bloques disponibles (f_bavail)",
    "f_bfree": "bloques libres (f_bfree)", "f_blocks": "bloques (f_blocks)", "f_bsize": "tamaño de bloque (f_bsize)",
    "f_frsize": "tamaño de fragmento (f_frsize)", "fallback": "alternativa usada", "fingerprint": "huella",
    "first_bytes_hex": "primeros bytes (hex)", "first_limited_at": "primera limitación tras (respuestas)",
    "first_with_query": "primera con parámetro", "front": "frente", "headers_after": "encabezados después",
    "heartbleed": "Heartbleed", "hit_examples": "ejemplos de acierto", "hits": "visitas", "host": "servidor",
    "host_key_fingerprint": "huella de la llave del servidor", "host_key_type": "tipo de llave del servidor",
    "hsts_lines": "líneas HSTS", "human": "humanos", "identified_by": "identificado por",
    "idle_timeout_s": "tiempo de inactividad (s)", "image": "imagen", "insecure_renegotiation": "renegociación insegura",
    "items": "elementos", "json_loaded_by_scripts": "JSON cargado por scripts", "known_hosts": "known_hosts",
    "last": "último", "leftover": "restos", "limit": "límite", "limited": "limitadas",
    "limited_headers": "encabezados de la limitación", "login_s": "inicio de sesión (s)", "main_json": "main.json",
    "main_json_polls": "consultas de main.json", "malformed_lines": "líneas mal formadas", "max_age_s": "max-age (s)",
    "min_served_ratio": "fracción servida mínima", "nameserver": "servidor DNS", "not_judged": "no evaluados",
    "now": "ahora", "ok_200": "respuestas 200", "os_family": "familia de sistema operativo",
    "page_views": "páginas vistas", "pages_consulted": "páginas consultadas",
    "paquete_inconsistent": "incongruentes con el paquete", "parts": "partes", "period": "periodo",
    "phase": "fase", "plain": "HTTP sin cifrar", "planned": "planeadas", "poll": "consulta", "port": "puerto",
    "ports_closed": "puertos cerrados", "presented_key": "llave presentada", "publication_end": "fin de la publicación",
    "publication_start": "inicio de la publicación", "query_cache_key": "parámetro en la llave de caché",
    "raw": "salida original", "rcode": "código de respuesta DNS", "received": "recibido",
    "relaxed_by_profile": "relajado por el perfil", "remote_workers": "trabajadores remotos", "removed": "retirados",
    "responses": "respuestas", "retry_after": "Retry-After", "robot": "ROBOT", "robot_result": "resultado ROBOT",
    "root": "raíz", "run": "ejecutada", "scratch_dir": "directorio de trabajo",
    "scratch_note": "nota del directorio de trabajo", "scratch_removed": "directorio de trabajo retirado",
    "scripts": "scripts", "second_with_query": "segunda con parámetro", "secuencia_seen": "secuencia vista",
    "secuencia_source": "origen de la secuencia", "selftest": "autoprueba", "sent": "enviadas",
    "served_ratio": "fracción servida", "served_sha256": "SHA-256 servido", "server_banner": "banner del servidor",
    "server_lines": "líneas Server", "sessions": "sesiones", "setup": "preparación", "setup_detail": "detalle de la preparación",
    "share": "fracción", "shell": "shell", "signal": "señal", "stopped_early": "detenida antes",
    "supports_secure_renegotiation": "admite renegociación segura", "text": "texto", "think_time_s": "tiempo de lectura (s)",
    "thresholds": "umbrales", "time_found": "hora encontrada", "time_on_site": "tiempo en el sitio",
    "tls_unverified": "certificado no verificado", "today": "hoy", "top_pages": "páginas más vistas", "total": "total",
    "type": "tipo", "uname_r": "uname -r", "uname_s": "uname -s", "unhinted_5xx": "5xx sin indicación",
    "unique_visitors_daily_sum": "visitantes únicos (suma diaria)", "unique_visitors_period": "visitantes únicos (periodo)",
    "unknown_codes": "códigos desconocidos", "user": "usuario", "username": "usuario", "verified": "verificado",
    "version": "versión", "views": "vistas", "visitors": "visitantes", "wall_s": "tiempo real (s)",
    "weights": "pesos", "why_no_drill": "por qué sin simulacro", "store": "almacén", "op": "operación",
    "request_headers": "encabezados enviados", "csv": "CSV",
}
STORE_LABELS_ES = {"Supplied CA file": "CA del perfil (ca_bundle)"}
# OpenSSL's reasons as a Spanish reader reads them (the original stays in the evidence)
SSL_REASONS_ES = {"certificate verify failed": "la verificación del certificado falló",
                  "self-signed certificate": "certificado autofirmado", "certificate has expired": "certificado vencido",
                  "unable to get local issuer certificate": "no se encontró el emisor en los almacenes de confianza",
                  "Hostname mismatch": "el nombre no coincide"}


def key_label(key: Any, lang: str = "es") -> str:
    """An evidence key as a reader sees it (Spanish glossary; English keys read as words)."""
    k = str(key)
    if "#" in k:   # "edge#2": the second answer at the edge
        base, _, n = k.partition("#")
        return f"{key_label(base, lang)} {n}"
    if lang != "en":
        return KEY_LABELS_ES.get(k, k)
    return k.replace("_", " ") if k.islower() else k


def store_label(store: str, lang: str = "es") -> str:
    return STORE_LABELS_ES.get(store, store) if lang != "en" else store


def metric_failed(ev: Mapping[str, Any], name: str) -> bool:
    """Did this load metric miss its limit (the chart heading is then marked)?"""
    th = ((ev.get("settings") or {}).get("thresholds") or {})
    val = ev.get(name)
    try:
        if name in ("p95_ms", "p99_ms"):
            return val is not None and th.get(name) is not None and float(val) > float(th[name])
        if name == "rps":
            return val is not None and th.get("min_rps") is not None and float(val) < float(th["min_rps"])
    except (TypeError, ValueError):
        return False
    return False


def section_quote(sections: Mapping[str, str] | None, section: str) -> tuple[str, str] | None:
    """The call's literal sentence for ``section`` (``II.2.d.https`` falls back to ``II.2.d``)."""
    sec = str(section or "").strip()
    while sec and sections:
        if sec in sections:
            return sec, sections[sec]
        if "." not in sec:
            break
        sec = sec.rsplit(".", 1)[0]
    return None


def unit_label(unit: str | None, lang: str = "es") -> str:
    """A threshold's unit in the report's language (the convocatoria writes them in Spanish)."""
    from ..thresholds import UNITS_EN
    if not unit:
        return ""
    return UNITS_EN.get(unit, unit) if lang == "en" else unit


def threshold_label(name: str, lang: str = "es") -> str:
    """A threshold's name as issue 10's ``thresholds.SPECS`` labels it (else the evidence glossary)."""
    try:
        from ..thresholds import SPECS
        spec = SPECS.get(name)
        if spec is not None:
            return spec.label_en if lang == "en" else spec.label_es
    except ImportError:
        pass
    return key_label(name, lang)


def field_changes(diff: list[Mapping[str, Any]], sep: str = ",") -> list[dict[str, Any]]:
    """For a CSV line diff: each replaced line's changed fields (column name when a context line of the
    diff looks like the header), e.g. ``{"line": 6, "column": "PAZ", "expected": "74", "served": "75"}``."""
    def fields(text: str) -> list[str]:
        import csv
        try:
            return next(csv.reader([text], delimiter=sep))
        except (StopIteration, csv.Error):
            return text.split(sep)
    header: list[str] | None = None
    for row in diff:
        f = fields(row.get("text", ""))
        if row.get("op") == " " and len(f) > 2 and all(x and not any(ch.isdigit() for ch in x) for x in f[:3]):
            header = f
            break
    out = []
    rows = list(diff)
    for a, b in zip(rows, rows[1:]):
        if a.get("op") == "-" and b.get("op") == "+":
            fa, fb = fields(a.get("text", "")), fields(b.get("text", ""))
            if len(fa) != len(fb) or len(fa) < 2:
                continue
            for i, (x, y) in enumerate(zip(fa, fb)):
                if x != y:
                    name = header[i] if header and i < len(header) else f"#{i + 1}"
                    out.append({"line": a.get("line"), "column": name, "expected": x, "served": y})
    return out[:20]


def error_rate_points(series: list[list], columns: list[str]) -> list[tuple[float, float]]:
    """Failures per second over requests per second, per sample: the error rate over time (a fraction)."""
    rps, fails = column(series, columns, "rps"), column(series, columns, "failures_s")
    return [(t, (f / r) if r else 0.0) for (t, r), (_, f) in zip(rps, fails)]


def load_metrics(ev: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The load charts to draw, each with its limit, the failing ones first."""
    th = ((ev.get("settings") or {}).get("thresholds") or {})
    cols, series = ev.get("series_columns") or [], ev.get("series") or []
    rows = [
        {"name": "error_rate", "limit": th.get("max_error_rate"), "unit": "", "points": error_rate_points(series, cols),
         "failed": _gt(ev.get("error_rate"), th.get("max_error_rate"))},
        {"name": "p95_ms", "limit": th.get("p95_ms"), "unit": "ms", "points": column(series, cols, "p95_ms"),
         "failed": _gt(ev.get("p95_ms"), th.get("p95_ms"))},
        {"name": "p99_ms", "limit": th.get("p99_ms"), "unit": "ms", "points": column(series, cols, "p99_ms"),
         "failed": _gt(ev.get("p99_ms"), th.get("p99_ms"))},
        {"name": "rps", "limit": th.get("min_rps"), "unit": "peticiones/s", "points": column(series, cols, "rps"),
         "failed": _gt(th.get("min_rps"), ev.get("rps"))},
    ]
    rows = [r for r in rows if r["points"]]
    return sorted(rows, key=lambda r: not r["failed"])


def _gt(a: Any, b: Any) -> bool:
    try:
        return a is not None and b is not None and float(a) > float(b)
    except (TypeError, ValueError):
        return False


def req_section(rid: str) -> str:
    try:
        return catalog.get(rid).section
    except KeyError:
        return ""

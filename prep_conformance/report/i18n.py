"""Report labels in Spanish (default) and English; dates as a Mexican reader writes them; plurals;
check titles in the language of the report."""

from __future__ import annotations

import datetime as dt
from typing import Any

LABELS = {
    "es": {
        "matrix": "Matriz de cumplimiento", "difusor": "Difusor", "overall": "Resultado",
        "assessment": "Informe técnico de verificación", "profile": "Perfil", "tool": "Herramienta",
        "run": "Ejecución", "target": "Sitio verificado", "convocatoria": "Convocatoria",
        "requirement": "Requisito", "requirements": "Requisitos", "verdict": "Veredicto",
        "checks": "Verificaciones", "evidence": "Evidencia", "how": "Cómo se verifica",
        "pinned": "fijada por el operador (--convocatoria)", "trust_profiles": "Confianza en los perfiles",
        "trust_levels": {"trusted": "perfiles de confianza (el operador responde por ellos)",
                         "untrusted": "perfiles no confiables (sin comandos, secretos ni rutas externas)"},
        "manual": "Evidencia documental a revisar", "notes": "Notas", "filter": "Filtrar",
        "show": "Mostrar", "legend": "Leyenda", "summary": "Resumen", "back": "Volver a la matriz",
        "duration": "Duración", "finding": "Hallazgo", "chart": "Gráfica", "generated": "Generado por",
        "page": "Página", "of": "de", "all": "todos", "total": "Total",
        "raw": "Datos completos de la evidencia (JSON)", "annex": "Anexo: datos completos de la evidencia",
        "context": "Contexto de la medición", "host": "Equipo que midió", "public_ip": "Dirección pública vista",
        "started": "Inicio", "finished": "Fin", "conv_digest": "Huella SHA-256 de la convocatoria",
        "threshold": "Umbral", "source": "Fuente", "value": "Valor", "key": "Clave",
        "section": "Apartado", "literal": "Texto de la convocatoria", "override": "Ajuste del perfil",
        "conv_value": "Valor de la convocatoria", "relaxed": "relajado por el perfil",
        "from_conv": "convocatoria", "from_profile": "perfil",
        "provenance": "Procedencia del umbral",
        "pending": "Documentos a solicitar", "pending_none": "No hay documentos pendientes.",
        "acceptance": "Criterio de aceptación", "not_verified_list": "Requisitos no verificados",
        "decision": "Decisión del revisor", "decisions": "Decisiones del revisor", "tool_verdict": "Veredicto de la herramienta",
        "final_verdict": "Veredicto final", "by": "Revisor", "at": "Fecha", "justification": "Justificación",
        "evidence_received": "Evidencia recibida", "expires": "Vigencia", "expired": "vencida: no se aplica",
        "request": "Solicitud", "response": "Respuesta", "header": "Encabezado", "meaning": "Lectura",
        "status": "Estado", "url": "URL", "connected_to": "Conectado a", "elapsed": "Tiempo",
        "chain": "Cadena de certificados", "subject": "Sujeto", "issuer": "Emisor", "valid_from": "Válido desde",
        "valid_to": "Válido hasta", "names": "Nombres", "key_alg": "Llave", "trust": "Confianza por almacén",
        "store": "Almacén", "trusted": "confía", "untrusted": "no confía", "diff": "Diferencias por línea",
        "expected": "Esperado (paquete)", "served": "Servido", "line": "Línea", "rounds": "Rondas de carga",
        "round": "Ronda", "rate": "Velocidad", "polls": "Consultas tras la purga", "time": "Momento",
        "event": "Evento", "limit": "Límite", "measured": "Medido", "metric": "Métrica",
        "no_checks": "Sin verificaciones.", "reason": "Motivo", "verdict_filter": "Veredicto",
        "req_filter": "Requisito", "column": "Columna", "yes": "sí", "no": "no", "counts": "Totales",
        "headline": {"cumple": "Cumple", "no_cumple": "No cumple", "no_evaluable": "No evaluable",
                     "pendiente": "Pendiente de revisión documental", "no_verificado": "Pendiente: requisitos no verificados"},
        "headline_help": {
            "cumple": "todos los requisitos medidos cumplen y no hay documentos pendientes",
            "no_cumple": "al menos un requisito medido no cumple",
            "no_evaluable": "al menos un requisito no se pudo evaluar",
            "pendiente": "falta revisar documentos (ver la lista de documentos a solicitar)",
            "no_verificado": "hay requisitos que no se verificaron (no autorizados o no configurados)"},
        "verdict_names": {"PASS": "Cumple", "FAIL": "No cumple", "WARN": "Cumple con riesgo",
                          "ERROR": "No evaluable", "SKIP": "No aplica", "MANUAL": "Revisión documental",
                          "NOT_VERIFIED": "No verificado"},
        "verdict_help": {
            "PASS": "medido y cumple", "FAIL": "medido y no cumple",
            "WARN": "cumple, con un riesgo que el revisor debe ver",
            "ERROR": "no se pudo evaluar (inalcanzable, credenciales rechazadas, tiempo agotado)",
            "SKIP": "no aplica",
            "MANUAL": "requiere evidencia documental",
            "NOT_VERIFIED": "no se verificó: no autorizado o no configurado en el perfil"},
    },
    "en": {
        "matrix": "Conformance matrix", "difusor": "Difusor", "overall": "Overall",
        "assessment": "Technical verification report", "profile": "Profile", "tool": "Tool", "run": "Run",
        "target": "Site checked", "convocatoria": "Call", "requirement": "Requirement",
        "requirements": "Requirements", "verdict": "Verdict", "checks": "Checks", "evidence": "Evidence",
        "how": "How it is verified", "manual": "Documentary evidence to review", "notes": "Notes",
        "filter": "Filter", "show": "Show", "legend": "Legend", "summary": "Summary",
        "back": "Back to the matrix", "duration": "Duration", "finding": "Finding", "chart": "Chart",
        "generated": "Generated by", "page": "Page", "of": "of", "all": "all", "total": "Total",
        "raw": "Complete evidence data (JSON)", "annex": "Annex: complete evidence data",
        "context": "Measurement context", "host": "Checking machine", "public_ip": "Public address seen",
        "started": "Start", "finished": "End", "conv_digest": "SHA-256 of the call file",
        "threshold": "Threshold", "source": "Source", "value": "Value", "key": "Key",
        "section": "Section", "literal": "Text of the call", "override": "Profile override",
        "conv_value": "Value in the call", "relaxed": "relaxed by the profile",
        "from_conv": "call", "from_profile": "profile",
        "provenance": "Where the threshold comes from",
        "pending": "Documents to request", "pending_none": "No documents pending.",
        "acceptance": "Acceptance criterion", "not_verified_list": "Requirements not verified",
        "decision": "Reviewer's decision", "decisions": "Reviewer's decisions", "tool_verdict": "Tool's verdict",
        "final_verdict": "Final verdict", "by": "Reviewer", "at": "Date", "justification": "Justification",
        "evidence_received": "Evidence received", "expires": "Valid until", "expired": "expired: not applied",
        "request": "Request", "response": "Response", "header": "Header", "meaning": "Reading",
        "status": "Status", "url": "URL", "connected_to": "Connected to", "elapsed": "Time",
        "chain": "Certificate chain", "subject": "Subject", "issuer": "Issuer", "valid_from": "Valid from",
        "valid_to": "Valid until", "names": "Names", "key_alg": "Key", "trust": "Trust per store",
        "store": "Store", "trusted": "trusts", "untrusted": "does not trust", "diff": "Line differences",
        "expected": "Expected (package)", "served": "Served", "line": "Line", "rounds": "Upload rounds",
        "round": "Round", "rate": "Rate", "polls": "Polls after the purge", "time": "Time",
        "event": "Event", "limit": "Limit", "measured": "Measured", "metric": "Metric",
        "no_checks": "No checks.", "reason": "Reason", "verdict_filter": "Verdict",
        "req_filter": "Requirement", "column": "Column", "yes": "yes", "no": "no", "counts": "Totals",
        "headline": {"cumple": "Compliant", "no_cumple": "Not compliant", "no_evaluable": "Could not be evaluated",
                     "pendiente": "Pending documentary review", "no_verificado": "Pending: requirements not verified"},
        "headline_help": {
            "cumple": "every measured requirement is met and no document is pending",
            "no_cumple": "at least one measured requirement is not met",
            "no_evaluable": "at least one requirement could not be evaluated",
            "pendiente": "documents remain to be reviewed (see the documents to request)",
            "no_verificado": "some requirements were not verified (not authorised or not configured)"},
        "pinned": "pinned by the operator (--convocatoria)", "trust_profiles": "Trust in the profiles",
        "trust_levels": {"trusted": "trusted profiles (the operator vouches for them)",
                         "untrusted": "untrusted profiles (no commands, secrets or outside paths)"},
        "verdict_names": {"PASS": "Pass", "FAIL": "Fail", "WARN": "Pass with risk", "ERROR": "Could not evaluate",
                          "SKIP": "Not applicable", "MANUAL": "Documentary review", "NOT_VERIFIED": "Not verified"},
        "verdict_help": {
            "PASS": "measured and met", "FAIL": "measured and not met",
            "WARN": "met, with a risk a reviewer should see",
            "ERROR": "could not be evaluated (unreachable, refused credentials, timeout)",
            "SKIP": "not applicable",
            "MANUAL": "needs documentary evidence",
            "NOT_VERIFIED": "not verified: not authorised or not configured in the profile"},
    },
}

from ..dates import MONTHS_EN, MONTHS_ES  # noqa: E402  (one list for every module)


def plural(n: int | float, one: str, many: str) -> str:
    """``plural(3, "archivo", "archivos")`` → ``3 archivos``; never "archivo(s)"."""
    return f"{n} {one if n == 1 else many}"


def _offset_label(offset: dt.timedelta | None) -> str:
    if offset is None:
        return ""
    minutes = int(offset.total_seconds() // 60)
    sign = "−" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return "UTC" if minutes == 0 else f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def parse_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, (int, float)) and value > 10**8:
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t


def fmt_datetime(value: Any, lang: str = "es", offset_min: int | None = None, with_date: bool = True) -> str:
    """``2024-06-03T02:00:00+00:00`` → ``2 de junio de 2024, 20:00 h (UTC−6)`` in the call's offset.

    A value that is not a date is returned as text."""
    t = parse_time(value)
    if t is None:
        return "" if value in (None, "") else str(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    if offset_min is not None:
        t = t.astimezone(dt.timezone(dt.timedelta(minutes=offset_min)))
    zone = _offset_label(t.utcoffset())
    sec = f":{t.second:02d}" if t.second and not with_date else ""
    if lang == "en":
        clock = f"{t.hour:02d}:{t.minute:02d}{sec}"
        return (f"{t.day} {MONTHS_EN[t.month - 1]} {t.year}, {clock} ({zone})" if with_date
                else f"{clock} ({zone})")
    clock = f"{t.hour:02d}:{t.minute:02d}{sec} h"
    return (f"{t.day} de {MONTHS_ES[t.month - 1]} de {t.year}, {clock} ({zone})" if with_date
            else f"{clock} ({zone})")


def fmt_date(value: Any, lang: str = "es") -> str:
    """``2024-06-15`` → ``15 de junio de 2024``."""
    try:
        d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    if lang == "en":
        return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"
    return f"{d.day} de {MONTHS_ES[d.month - 1]} de {d.year}"


# Check function names → titles. Variants (after the bracket) are translated word by word.
CHECK_TITLES = {
    # the election-night watch (report --watch-db)
    "watch_publication_window": ("Publicación disponible en la ventana (vigilancia)",
                                 "Publication available in the window (watch)"),
    "watch_latest_corte": ("Corte vigente a lo largo de la noche (vigilancia)", "Latest corte through the night (watch)"),
    "watch_availability": ("Disponibilidad medida en la noche (vigilancia)", "Availability measured on the night (watch)"),
    "watch_integrity": ("Archivos íntegros durante la noche (vigilancia)", "Unmodified files through the night (watch)"),
    "watch_cache_control": ("Cache-Control durante la noche (vigilancia)", "Cache-Control through the night (watch)"),
    "public_access": ("Acceso público sin credenciales", "Public access without credentials"),
    "web_server": ("Servidor web en el origen", "Web server at the origin"),
    "site_dns": ("Resolución DNS del sitio", "Site DNS resolution"),
    "main_json_cache_control": ("Cache-Control de main.json", "Cache-Control of main.json"),
    "main_json_not_cached": ("main.json no se sirve desde caché", "main.json not served from cache"),
    "main_json_not_cached_under_load": ("main.json no se cachea bajo carga", "main.json not cached under load"),
    "main_json_under_load": ("main.json bajo carga", "main.json under load"),
    "load_thresholds": ("Prueba de carga contra umbrales", "Load test against thresholds"),
    "https_certificate": ("Certificado y cadena de confianza", "Certificate and chain of trust"),
    "https_certificate_validity": ("Vigencia del certificado en la ventana de publicación",
                                   "Certificate validity through the publication window"),
    "https_protocols": ("Versiones de TLS aceptadas", "Accepted TLS versions"),
    "https_vulnerabilities": ("Vulnerabilidades de TLS", "TLS vulnerabilities"),
    "https_redirect": ("Redirección de HTTP a HTTPS", "HTTP to HTTPS redirect"),
    "https_hsts": ("Encabezado HSTS", "HSTS header"),
    "cdn_present": ("CDN delante del sitio", "CDN in front of the site"),
    "cdn_purge": ("Purga de la caché del CDN", "CDN cache purge"),
    "ddos_signals": ("Señales de protección DDoS", "DDoS protection signals"),
    "disk_free": ("Espacio libre en disco", "Free disk space"),
    "sftp_upload_speed": ("Velocidad de carga SFTP", "SFTP upload speed"),
    "operating_system": ("Sistema operativo", "Operating system"),
    "integrity": ("Integridad de los archivos publicados", "Integrity of the published files"),
    "acta_images": ("Imágenes de actas contra su código de integridad", "Acta images against their integrity code"),
    "corte_current": ("Corte vigente publicado", "Current corte published"),
    "corte_lag": ("Retraso del corte", "Corte lag"),
    "corte_stamps": ("Fecha y hora del corte en main.json, CSV y ZIP", "Corte date and time in main.json, CSV and ZIP"),
    "page_shows_corte": ("La página muestra la fecha y hora del corte", "The page shows the corte's date and time"),
    "analytics_detected": ("Estadísticas de visitantes", "Visitor statistics"),
    "access_log_statistics": ("Estadísticas de las bitácoras de acceso", "Access-log statistics"),
    "availability_declared": ("Disponibilidad declarada (SLA)", "Declared availability (SLA)"),
    "availability_monitor": ("Disponibilidad medida por el monitor", "Availability measured by the monitor"),
    "corte_drill": ("Simulacro de corte: carga, purga y contenido fresco", "Corte drill: upload, purge, fresh content"),
    "corte_drill_publication": ("Simulacro de corte: publicación completa", "Corte drill: complete publication"),
    "edge_rewrites_html": ("Páginas sin reescritura en el borde", "Pages not rewritten at the edge"),
    "memoria_tecnica": ("Memoria técnica entregada", "Memoria técnica delivered"),
    "availability": ("Disponibilidad mensual", "Monthly availability"),
    "diagram_file": ("Diagrama del servicio", "Service diagram"),
    "logo_vector": ("Logotipo en formato vectorial", "Logo in vector format"),
    "staff_list": ("Listado de personal", "Staff list"),
    "letter_of_intent": ("Datos de la carta de intención", "Letter of intent data"),
    "manual_review": ("Revisión documental", "Documentary review"),
    "not_selected": ("No seleccionado en esta ejecución", "Not selected in this run"),
}
VARIANT_WORDS = {
    "es": {"edge": "borde", "origin": "origen", "conditional": "condicional", "http": "HTTP", "root": "inicio",
           "main_json": "main.json", "GET": "GET", "HEAD": "HEAD", "https": "HTTPS"},
    "en": {"edge": "edge", "origin": "origin", "conditional": "conditional", "http": "HTTP", "root": "root",
           "main_json": "main.json", "GET": "GET", "HEAD": "HEAD", "https": "HTTPS"},
}


def check_title(name: str, lang: str = "es") -> str:
    """``main_json_cache_control[edge-GET]`` → ``Cache-Control de main.json (borde, GET)``; an unknown name
    is shown as it is."""
    base, _, variant = name.partition("[")
    titles = CHECK_TITLES.get(base)
    if not titles:
        return name
    title = titles[1] if lang == "en" else titles[0]
    variant = variant.rstrip("]")
    if variant:
        words = VARIANT_WORDS["en" if lang == "en" else "es"]
        title += " (" + ", ".join(words.get(w, w) for w in variant.split("-")) + ")"
    return title

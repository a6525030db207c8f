"""II.2.c visitor statistics: an analytics mechanism detected on the landing page, or declared.

What the convocatoria asks (visitors, pages, pages consulted, time on site) is what every mainstream web
analytics tool records, so detecting one on the page is strong evidence. Server-side analytics (access-log
analysers) cannot be seen from outside: a declaration with its evidence goes to MANUAL review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..verdict import CheckResult, Note, Verdict, result

# (tool, pattern over the page HTML and the URLs of its scripts)
SIGNATURES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(p, re.I)) for name, p in (
    ("Google Analytics", r"googletagmanager\.com/gtag/js|google-analytics\.com/(analytics|ga)\.js|gtag\(\s*['\"]config['\"]"),
    ("Google Tag Manager", r"googletagmanager\.com/gtm\.js|GTM-[A-Z0-9]{4,}"),
    ("Matomo", r"matomo\.(js|php)|piwik\.(js|php)|_paq\.push"),
    ("Plausible", r"plausible\.io/js|data-domain=[^>]*plausible|/js/plausible"),
    ("Cloudflare Web Analytics", r"static\.cloudflareinsights\.com/beacon|data-cf-beacon"),
    ("Adobe Analytics", r"AppMeasurement|omtrdc\.net|s_code\.js"),
    ("Comscore", r"scorecardresearch\.com"),
    ("Chartbeat", r"static\.chartbeat\.com"),
    ("Microsoft Clarity", r"clarity\.ms/tag"),
    ("Yandex Metrica", r"mc\.yandex\.ru/metrika"),
    ("Umami", r"umami\.(js|is)|data-website-id="),
    ("Fathom", r"cdn\.usefathom\.com"),
    ("GoatCounter", r"gc\.zgo\.at/count\.js|data-goatcounter"),
    ("Parse.ly", r"cdn\.parsely\.com|parsely-cfg"),
))


@dataclass(frozen=True)
class PageObservation:
    """The landing page as served. Attributes: url, status (None if no answer), html (text, possibly
    truncated), script_urls (every ``<script src>``), error (transport fault)."""

    url: str
    status: int | None
    html: str = ""
    script_urls: tuple[str, ...] = ()
    error: str | None = None

    @classmethod
    def of(cls, o) -> "PageObservation":
        """From the last hop of the landing page (an ``HttpObservation`` with its HTML kept as sample)."""
        return cls(o.url, o.status, o.body_sample, (), o.error)


@dataclass(frozen=True)
class Declared:
    """What the profile's ``analytics:`` declares. Attributes: provider, evidence (file name or None)."""

    provider: str | None
    evidence: str | None


def detect(page: PageObservation) -> list[dict[str, str]]:
    """Every known analytics tool found, with the text that matched."""
    hay = page.html + "\n" + "\n".join(page.script_urls)
    found = []
    for name, rx in SIGNATURES:
        m = rx.search(hay)
        if m:
            found.append({"tool": name, "match": m.group(0)[:120]})
    return found


def evaluate(page: PageObservation | None, declared: Declared | None) -> CheckResult:
    """PASS when a tool is seen on the page; MANUAL when only declared or nothing seen; ERROR when the page
    could not be read (nothing could be detected)."""
    decl = {"provider": declared.provider, "evidence": declared.evidence} if declared else None
    if page is None or page.status is None or page.error:
        why = (page.error if page else None) or "sin respuesta"
        return result("II.2.c", "analytics_detected", Verdict.ERROR,
                      f"No se pudo leer la página para detectar analítica: {why}",
                      f"Could not read the page to detect analytics: {why}",
                      url=page.url if page else None, declared=decl)
    if page.status != 200:
        return result("II.2.c", "analytics_detected", Verdict.ERROR,
                      f"La página respondió {page.status}; no se pudo buscar analítica.",
                      f"The page answered {page.status}; analytics could not be looked for.",
                      url=page.url, status=page.status, declared=decl)
    found = detect(page)
    if found:
        tools = ", ".join(f["tool"] for f in found)
        return result("II.2.c", "analytics_detected", Verdict.PASS,
                      f"Analítica detectada en la página: {tools}.", f"Analytics detected on the page: {tools}.",
                      url=page.url, detected=found, declared=decl)
    if declared and declared.provider:
        return result("II.2.c", "analytics_detected", Verdict.MANUAL,
                      f"Analítica declarada ({declared.provider}) pero no visible en la página (¿del lado del "
                      "servidor?); revisar la evidencia declarada.",
                      f"Analytics declared ({declared.provider}) but not visible on the page (server-side?); "
                      "review the declared evidence.", url=page.url, detected=[], declared=decl,
                      notes=[Note("info", "Las herramientas del lado del servidor (p. ej. análisis de bitácoras) no "
                                          "se ven desde fuera.", "Server-side tools (e.g. log analysers) cannot "
                                          "be seen from outside.")])
    return result("II.2.c", "analytics_detected", Verdict.MANUAL,
                  "No se detectó ni se declaró analítica; pedir captura con visitantes, páginas consultadas y "
                  "tiempo de permanencia.",
                  "No analytics detected or declared; ask for a screenshot with visitors, pages consulted and "
                  "time on site.", url=page.url, detected=[], declared=None)


# -- II.2.c from the difusor's own access logs (``analytics.access_logs``) ----------------------------------

ITEMS = {  # the four things II.2.c asks to record, and the figure that shows each
    "visitors": ("visitantes", "visitors"),
    "pages": ("páginas vistas", "page views"),
    "pages_consulted": ("páginas consultadas (cuáles)", "pages consulted (which)"),
    "time_on_site": ("tiempo de permanencia", "time on site"),
}


def log_items(figures: dict) -> dict[str, bool]:
    """Which of II.2.c's four items the logs' figures establish."""
    return {"visitors": figures["visitors"]["unique_period"] > 0,
            "pages": figures["page_views"] > 0,
            "pages_consulted": bool(figures["top_pages"]),
            "time_on_site": figures["sessions"]["count"] > 0 and figures["sessions"]["avg_duration_s"] is not None}


def evaluate_logs(figures: dict | None, error: str | None = None) -> CheckResult:
    """PASS when the four items can be computed from the logs (figures as evidence); FAIL when the logs
    were read but an item cannot be computed; ERROR when the logs could not be read."""
    name = "access_log_statistics"
    if figures is None:
        return result("II.2.c", name, Verdict.ERROR, f"No se pudieron leer las bitácoras de acceso: {error}",
                      f"The access logs could not be read: {error}")
    items = log_items(figures)
    s = figures["sessions"]
    ev = {"items": items, "requests": figures["requests"], "unique_visitors_daily_sum":
          figures["visitors"]["unique_daily_sum"], "unique_visitors_period": figures["visitors"]["unique_period"],
          "page_views": figures["page_views"], "main_json_polls": figures["polls"],
          "top_pages": figures["top_pages"][:5], "sessions": s["count"], "avg_time_on_site_s": s["avg_duration_s"],
          "idle_timeout_s": figures["definitions"]["idle_timeout_s"], "period": figures["period"],
          "files": figures.get("files"), "malformed_lines": figures.get("malformed_lines")}
    missing = [k for k, ok in items.items() if not ok]
    if missing:
        rq = figures["requests"]
        return result("II.2.c", name, Verdict.FAIL,
                      "Las bitácoras no permiten calcular: " + ", ".join(ITEMS[k][0] for k in missing) +
                      f" ({rq['total']} peticiones, {rq['bots']} de robots; {figures['page_views']} páginas vistas).",
                      "The logs do not allow computing: " + ", ".join(ITEMS[k][1] for k in missing) +
                      f" ({rq['total']} requests, {rq['bots']} by bots; {figures['page_views']} page views).", **ev)
    avg = s["avg_duration_s"]
    return result("II.2.c", name, Verdict.PASS,
                  f"Las bitácoras registran {figures['visitors']['unique_period']} visitantes, "
                  f"{figures['page_views']} páginas vistas de {figures['distinct_pages']} páginas distintas y "
                  f"un tiempo promedio de permanencia de {avg:.0f} s.",
                  f"The logs record {figures['visitors']['unique_period']} visitors, {figures['page_views']} page "
                  f"views over {figures['distinct_pages']} distinct pages and an average time on site of "
                  f"{avg:.0f} s.", **ev)


def as_signal(r: CheckResult) -> CheckResult:
    """With access logs the snippet detection is a signal only: a detection stays PASS, anything else
    is shown as SKIP (the verdict comes from the logs)."""
    if r.verdict is Verdict.PASS:
        return r
    return r.with_(verdict=Verdict.SKIP,
                   summary="Señal: " + r.summary + " El veredicto lo dan las bitácoras de acceso.",
                   summary_en="Signal: " + (r.summary_en or r.summary) + " The verdict comes from the access logs.")

"""II.2.d.ddos: DDoS detection and containment, judged from signals. Pure: no I/O.

A harness on one machine cannot prove that a site survives a distributed attack, and must not try.
What it can see: a CDN/WAF that sells DDoS protection in front (``rules.cdn_detect``), and whether a
short, bounded burst from one client is contained (429, or 503 with ``Retry-After``, or a challenge).
Both together are strong evidence (PASS); anything less is MANUAL with the signals listed and what the
reviewer must ask for. A burst that got no answer at all is ERROR.
"""

from __future__ import annotations

from ..probes.ddos import BurstObservation
from ..verdict import CheckResult, Verdict, result

ASK_FOR_ES = [
    "contrato o factura vigente del servicio anti-DDoS/CDN/WAF (proveedor, plan, cobertura en la ventana de publicación)",
    "configuración de limitación de tasa y reglas WAF aplicadas al sitio del PREP (captura o exportación)",
    "procedimiento de detección y contención de DDoS: monitoreo, umbrales de alerta, responsables y escalamiento",
    "evidencia de pruebas o incidentes mitigados (reportes del proveedor) y protección del origen (solo acepta tráfico del CDN)",
]
ASK_FOR_EN = [
    "current contract or invoice of the anti-DDoS/CDN/WAF service (provider, plan, coverage over the publication window)",
    "rate-limiting configuration and WAF rules applied to the PREP site (screenshot or export)",
    "DDoS detection and containment procedure: monitoring, alert thresholds, people in charge, escalation",
    "evidence of tests or mitigated incidents (provider reports) and origin protection (accepts CDN traffic only)",
]


def evaluate(burst: BurstObservation | None, detection=None, burst_not_run: tuple[str, str] | None = None,
             check: str = "ddos_signals") -> CheckResult:
    """Signals -> verdict. ``detection``: a ``cdn_detect.CdnDetection`` (or None); ``burst_not_run``: (es, en) why."""
    sig_es: list[str] = []
    sig_en: list[str] = []
    ev: dict = {"ask_for": ASK_FOR_ES, "ask_for_en": ASK_FOR_EN}
    protected_front = False
    if detection is not None and getattr(detection, "detected", False):
        ev["front"] = detection.to_evidence()
        if detection.ddos_protection:
            protected_front = True
            sig_es.append(f"{detection.name} al frente (ofrece protección DDoS/WAF)")
            sig_en.append(f"{detection.name} in front (offers DDoS/WAF protection)")
        else:
            sig_es.append(f"{detection.name} al frente (caché; sin protección DDoS conocida)")
            sig_en.append(f"{detection.name} in front (a cache; no known DDoS protection)")
    else:
        ev["front"] = None
    contained = False
    if burst is None:
        why = burst_not_run or ("no se ejecutó", "not run")
        ev["burst"] = {"run": False, "reason": why[0], "reason_en": why[1]}
        sig_es.append(why[0])
        sig_en.append(why[1])
    else:
        ev["burst"] = {"run": True, **burst.to_evidence()}
        if burst.sent and burst.answered == 0:
            return result("II.2.d.ddos", check, Verdict.ERROR,
                          f"Ninguna de las {burst.sent} peticiones de la ráfaga obtuvo respuesta "
                          f"({', '.join(f'{k}: {v}' for k, v in burst.errors.items())}): no se puede evaluar.",
                          f"None of the {burst.sent} burst requests got an answer "
                          f"({', '.join(f'{k}: {v}' for k, v in burst.errors.items())}): cannot evaluate.", **ev)
        if burst.limited:
            contained = True
            ra = f", Retry-After {', '.join(burst.retry_after)}" if burst.retry_after else ""
            codes = ", ".join(f"{k}×{v}" for k, v in sorted(burst.statuses.items()))
            sig_es.append(f"limitación de tasa: {burst.limited} respuestas limitadas desde la petición "
                          f"{burst.first_limited_at} de la ráfaga ({codes}{ra})")
            sig_en.append(f"rate limiting: {burst.limited} limited answers from request {burst.first_limited_at} "
                          f"of the burst ({codes}{ra})")
        if burst.challenges:
            contained = True
            sig_es.append("desafío (challenge) del WAF/CDN: " + ", ".join(burst.challenges))
            sig_en.append("WAF/CDN challenge: " + ", ".join(burst.challenges))
        if burst.errors and burst.answered:
            sig_es.append(f"conexiones rechazadas o cortadas durante la ráfaga ({dict(burst.errors)}): posible "
                          "límite de conexiones (señal débil)")
            sig_en.append(f"connections refused or reset during the burst ({dict(burst.errors)}): possible "
                          "connection limiting (weak signal)")
        unhinted = burst.unhinted_5xx
        if unhinted > 0:
            sig_es.append(f"{unhinted} respuestas 5xx sin Retry-After: sobrecarga o límite sin indicación de "
                          "reintento (señal débil)")
            sig_en.append(f"{unhinted} 5xx answers without Retry-After: overload or a limit without a retry "
                          "hint (weak signal)")
        elif not burst.limited and not burst.challenges:
            sig_es.append(f"sin limitación ante {burst.answered} peticiones en {burst.elapsed_s:.1f} s desde un cliente")
            sig_en.append(f"no limiting for {burst.answered} requests in {burst.elapsed_s:.1f} s from one client")
    ev["signals"], ev["signals_en"] = sig_es, sig_en
    listed_es = "; ".join(sig_es) or "ninguna señal"
    listed_en = "; ".join(sig_en) or "no signal"
    if protected_front and contained:
        return result("II.2.d.ddos", "ddos_signals", Verdict.PASS,
                      f"Protección DDoS al frente y contención observada: {listed_es}.",
                      f"DDoS protection in front and containment observed: {listed_en}.", **ev)
    return result("II.2.d.ddos", check, Verdict.MANUAL,
                  f"Señales: {listed_es}. Solicitar: contrato anti-DDoS/WAF, configuración de limitación de "
                  "tasa y procedimiento de contención.",
                  f"Signals: {listed_en}. Ask for: anti-DDoS/WAF contract, rate-limiting configuration and "
                  "containment procedure.", **ev)

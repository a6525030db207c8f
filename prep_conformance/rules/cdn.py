"""II.2.b: a CDN in front, with a cache purge that works. Pure: no I/O.

Two ways to judge: the corte drill (a new corte uploaded, purged, timed until the public site serves
it, against ``convocatoria.purge.fresh_within_s``), or without it, CDN detection plus a purge request
(accepted? did it evict a cached object?). A purge that is merely *accepted* proves little: the
summary says so and the verdict never exceeds what was seen.
"""

from __future__ import annotations

from typing import Any

from .notes import tls_note
from ..convocatoria import Convocatoria
from ..thresholds import uses
from ..probes.cdn_drill import DrillObservation
from ..probes.cdn import PurgeEffect, PurgeObservation
from ..report.i18n import plural
from ..verdict import CheckResult, Note, Verdict, result
from .cdn_detect import CdnDetection

REQ = "II.2.b"


def _det_ev(det: CdnDetection | None) -> dict[str, Any]:
    return det.to_evidence() if det is not None else {"provider": None}


def _query_key_notes(qk: dict[str, Any] | None) -> list[Note]:
    """What a cache-busting visitor gets, from ``purge.query_cache_key`` (information, not a verdict)."""
    key = (qk or {}).get("key")
    if key == "ignores-query":
        return [Note("info", "La clave de caché del borde ignora la cadena de consulta: un visitante que añade "
                     "?t=… recibe el mismo objeto en caché (no evita una copia vieja; solo la purga la renueva).",
                     "The edge's cache key ignores the query string: a visitor adding ?t=… gets the same cached "
                     "object (it does not bypass a stale copy; only a purge renews it).")]
    if key == "includes-query":
        return [Note("info", "La clave de caché del borde incluye la cadena de consulta: cada ?t=… nuevo llega al "
                     "origen (evita la caché, y suma carga al origen la noche de la elección).",
                     "The edge's cache key includes the query string: every new ?t=… reaches the origin (it "
                     "bypasses the cache, and adds origin load on election night).")]
    return []


EDGE_DIRECTIVE_HEADERS = ("cdn-cache-control", "cloudflare-cdn-cache-control", "surrogate-control", "edge-control")


def edge_directive_notes(main_json_headers) -> list[Note]:
    """main.json told to the CDN as cacheable (``CDN-Cache-Control``/``Surrogate-Control: max-age=60``) while
    browsers read ``no-store``: the edge obeys the former (RFC 9213), so visitors may get an old corte."""
    from .caching import parse_cache_control
    pairs = main_json_headers.items() if hasattr(main_json_headers, "items") else (main_json_headers or ())
    lines = [(str(k), str(v)) for k, v in pairs if str(k).lower() in EDGE_DIRECTIVE_HEADERS]
    granting = []
    for k, v in lines:
        for d in parse_cache_control(v):
            age = d.value if d.name in ("max-age", "s-maxage") else None
            if (age is not None and age.isdigit() and int(age) > 0) or d.name in ("public", "stale-while-revalidate",
                                                                                  "stale-if-error"):
                granting.append(f"{k}: {v}")
                break
    if not granting:
        return []
    return [Note("warn", f"main.json lleva instrucciones de caché para el CDN ({'; '.join(granting)}): el borde las "
                 "obedece aunque Cache-Control diga no-store a los navegadores; los visitantes pueden recibir un corte "
                 "viejo.", f"main.json carries caching instructions for the CDN ({'; '.join(granting)}): the edge obeys "
                 "them even though Cache-Control says no-store to browsers; visitors may get an old corte.")]


def presence(det: CdnDetection | None, query_key: dict[str, Any] | None = None,
             main_json_headers=None) -> CheckResult:
    """A CDN or cache is seen in front of the site (headers, CNAME chain); absence of signals is not proof.
    ``query_key`` (``purge.query_cache_key``) adds what a cache-busting visitor gets, as a note."""
    ev: dict[str, Any] = {"detection": _det_ev(det)}
    if query_key is not None:
        ev["query_cache_key"] = query_key
    extra = _query_key_notes(query_key) + edge_directive_notes(main_json_headers)
    if det is None or not det.detected:
        return result(REQ, "cdn_present", Verdict.MANUAL,
                      "No se detectó CDN ni caché por cabeceras o CNAME; solicite el contrato o la consola del CDN.",
                      "No CDN or cache detected from headers or CNAME; ask for the CDN contract or console.",
                      notes=extra, **ev)
    kind_es = "servicio CDN" if det.is_cdn_service else "caché propia"
    kind_en = "CDN service" if det.is_cdn_service else "self-run cache"
    notes = ([] if det.is_cdn_service else [Note(
        "warn", "Una caché propia no da por sí sola la distribución geográfica de un servicio CDN.",
        "A self-run cache alone does not give a CDN service's geographic distribution.")]) + extra
    return result(REQ, "cdn_present", Verdict.PASS,
                  f"Delante del sitio: {det.name} ({kind_es}); {len(det.signals)} señal(es).",
                  f"In front of the site: {det.name} ({kind_en}); {len(det.signals)} signal(s).",
                  notes=notes, **ev)


def _provider_es_en(p: PurgeObservation | None) -> tuple[str, str]:
    """What the provider said about completion, in words (empty when it was not asked)."""
    if p is None or p.completion_signal is None or not p.accepted:
        return "", ""
    if p.completion_signal == "none":
        return ("; el proveedor la da por hecha al responder",
                "; the provider treats it as done on answer")
    if p.completion_signal == "estimate":
        if p.estimated_s is None:
            return "; el proveedor no dio estimación", "; the provider gave no estimate"
        return (f"; estimación del proveedor: {p.estimated_s:g} s", f"; provider's estimate: {p.estimated_s:g} s")
    if p.reported_complete_after_s is not None:
        return (f"; el proveedor la reportó completa a los {p.reported_complete_after_s:.3f} s",
                f"; the provider reported it complete after {p.reported_complete_after_s:.3f} s")
    last = p.completion[-1] if p.completion else None
    return (f"; el proveedor no la reportó completa ({last.detail if last else 'sin consultas'})",
            f"; the provider did not report it complete ({last.detail if last else 'not polled'})")


def timeline(p: PurgeObservation | None, first_fresh_s: float | None, upload_to_purge_s: float | None = None
             ) -> dict[str, Any]:
    """The two timelines, from the purge's answer: what the provider said, what the public got."""
    return {"upload_to_purge_accepted_s": upload_to_purge_s,
            "purge_accepted": bool(p and p.accepted),
            "completion_signal": p.completion_signal if p else None,
            "provider_reported_complete_s": p.reported_complete_after_s if p else None,
            "provider_estimate_s": p.estimated_s if p else None,
            "first_fresh_answer_s": first_fresh_s}


def _es_en(text: str) -> tuple[str, str]:
    """A probe's "español / English" reason as its two halves (the same text twice when not bilingual)."""
    es, sep, en = text.partition(" / ")
    return (es, en) if sep else (text, text)


def _not_sent(p: PurgeObservation, notes, ev: dict[str, Any]) -> CheckResult:
    es, en = _es_en(p.not_sent or "")
    return result(REQ, "cdn_purge", Verdict.ERROR, f"No se envió la purga ({p.method}): {es}",
                  f"The purge ({p.method}) was not sent: {en}", notes=notes, **ev)


def purge_without_drill(purge: PurgeObservation | None, effect: PurgeEffect | None,
                        det: CdnDetection | None, why_no_drill: str) -> CheckResult:
    """Without the drill: the configured purge must be accepted and, when measurable, evict an object."""
    check = "cdn_purge"
    why_es, why_en = _es_en(why_no_drill)
    ev: dict[str, Any] = {"drill": False, "why_no_drill": why_es, "why_no_drill_en": why_en, "detection": _det_ev(det),
                          "purge": purge.to_evidence() if purge else None,
                          "effect": effect.to_evidence() if effect else None}
    tls_notes = [n for n in [tls_note(effect.tls_unverified if effect is not None else None)] if n]
    if purge is None and effect is not None and effect.error:
        return result(REQ, check, Verdict.ERROR, f"No se pudo consultar el sitio para medir la purga: {effect.error}",
                      f"Could not query the site to measure the purge: {effect.error}", notes=tls_notes, **ev)
    if purge is None:
        return result(REQ, check, Verdict.MANUAL,
                      "El perfil no configura la purga (cdn.purge): solicite el procedimiento de purga del caché y "
                      "evidencia de su uso (consola, API, bitácora) con el tiempo hasta contenido fresco.",
                      "The profile configures no purge (cdn.purge): ask for the cache purge procedure and evidence "
                      "of its use (console, API, log) with the time until fresh content.", notes=tls_notes, **ev)
    if effect is not None:
        ev["timeline"] = timeline(purge, effect.first_miss_after_s)
    if purge.not_sent:
        return _not_sent(purge, tls_notes, ev)
    if purge.error:
        return result(REQ, check, Verdict.ERROR, f"La solicitud de purga ({purge.method}) no obtuvo respuesta: "
                      f"{purge.error}", f"The purge request ({purge.method}) got no answer: {purge.error}",
                      notes=tls_notes, **ev)
    if not purge.accepted:
        return result(REQ, check, Verdict.FAIL,
                      f"La purga ({purge.method}) fue rechazada: estado {list(purge.statuses)} {purge.detail}",
                      f"The purge ({purge.method}) was refused: status {list(purge.statuses)} {purge.detail}",
                      notes=tls_notes, **ev)
    prov_es, prov_en = _provider_es_en(purge)
    if effect is not None and effect.measurable and effect.evicted is False:
        waited_es = f" tras {effect.waited_s:.1f} s de observación" if effect.waited_s >= 1 else ""
        waited_en = f" after watching it {effect.waited_s:.1f} s" if effect.waited_s >= 1 else ""
        return result(REQ, check, Verdict.FAIL,
                      f"La purga ({purge.method}) respondió {list(purge.statuses)}{prov_es}, pero no desalojó "
                      f"/{effect.path}: seguía en caché antes ({effect.before}) y después ({effect.after}){waited_es}.",
                      f"The purge ({purge.method}) answered {list(purge.statuses)}{prov_en}, but did not evict "
                      f"/{effect.path}: cached before ({effect.before}) and after ({effect.after}){waited_en}.",
                      notes=tls_notes, **ev)
    note = Note("info", f"Sin simulacro de corte ({why_es}): no se midió el tiempo hasta contenido fresco.",
                f"No corte drill ({why_en}): time to fresh content not measured.")
    if effect is not None and effect.evicted:
        at_es = f" a los {effect.first_miss_after_s:.2f} s" if effect.first_miss_after_s else ""
        at_en = f" after {effect.first_miss_after_s:.2f} s" if effect.first_miss_after_s else ""
        txt_es = f"desalojó /{effect.path}{at_es} (caché {effect.before} → {effect.after}){prov_es}"
        txt_en = f"evicted /{effect.path}{at_en} (cache {effect.before} → {effect.after}){prov_en}"
        if effect.renewed:
            txt_es = (f"desalojó /{effect.path}{at_es} (después de la purga la caché sirvió otra copia, guardada "
                      f"de nuevo por otra solicitud){prov_es}")
            txt_en = (f"evicted /{effect.path}{at_en} (after the purge the cache served another copy, stored "
                      f"again by another request){prov_en}")
    else:
        txt_es = "efecto no medible (el objeto no estaba en caché)" + prov_es
        txt_en = "effect not measurable (the object was not cached)" + prov_en
    verdict = Verdict.PASS if det is not None and det.detected else Verdict.WARN
    return result(REQ, check, verdict,
                  f"Purga ({purge.method}) aceptada {list(purge.statuses)}; {txt_es}."
                  + ("" if verdict is Verdict.PASS else " No se detectó CDN delante del sitio."),
                  f"Purge ({purge.method}) accepted {list(purge.statuses)}; {txt_en}."
                  + ("" if verdict is Verdict.PASS else " No CDN detected in front of the site."),
                  notes=[note] + tls_notes, **ev)


def _drill_ev(obs: DrillObservation) -> dict[str, Any]:
    polls = [{"t_s": p.t_s, "dur_s": p.dur_s, "where": p.where, "status": p.status, "secuencia": p.secuencia,
              "age": p.age, "x_cache": p.x_cache, "old_files": p.old_files, "absent_files": p.absent_files,
              "error": p.error} for p in obs.polls]
    r = obs.restore
    return {"drill": True, "site": obs.site_url, "corte_before": obs.old_secuencia, "corte_uploaded": obs.new_secuencia,
            "changed_files": list(obs.changed[:50]), "changed_count": len(obs.changed),
            "upload_dir": obs.upload_dir, "uploaded_bytes": obs.uploaded_bytes, "upload_s": obs.upload_s,
            "purge": obs.purge.to_evidence() if obs.purge else None,
            "fresh_after_s": obs.fresh_after_s, "origin_fresh_after_s": obs.origin_fresh_after_s,
            "upload_to_purge_s": obs.upload_to_purge_s, "poll_interval_s": obs.poll_interval_s,
            "fresh_after_upload_s": (None if obs.fresh_after_s is None or obs.upload_to_purge_s is None
                                     else round(obs.fresh_after_s + obs.upload_to_purge_s, 4)),
            "polls_total": obs.polls_total,
            "timeline": {**timeline(obs.purge, obs.fresh_after_s, obs.upload_to_purge_s),
                         "stale_after_provider_complete": _stale_after_complete(obs)},
            "bound_s": obs.bound_s, "stale_polls_after_purge": obs.stale_after_purge,
            "mixed_polls": obs.mixed_polls, "polls": polls, "error": obs.error,
            "restore": None if r is None else {
                "ok": r.ok, "differences": list(r.differences), "lingering": list(r.lingering),
                "waited_s": r.waited_s, "files_restored": r.files_restored, "files_removed": r.files_removed,
                "purge": r.purge.to_evidence() if r.purge else None, "error": r.error}}


def _stale_after_complete(obs: DrillObservation) -> int:
    """Public answers with the previous corte, or a mixed one, once the provider reported the purge done."""
    done = obs.purge.reported_complete_after_s if obs.purge is not None else None
    if done is None:
        return 0
    return sum(1 for p in obs.polls if p.where == "edge" and p.t_s >= done
               and (p.secuencia == obs.old_secuencia or p.mixed))


def _provider_notes(obs: DrillObservation) -> list[Note]:
    n = _stale_after_complete(obs)
    if not n:
        return []
    return [Note("warn", f"El proveedor reportó la purga completa a los {obs.purge.reported_complete_after_s:.3f} s "
                 f"({obs.purge.method}), pero el público siguió recibiendo contenido del corte anterior en "
                 f"{plural(n, 'consulta posterior', 'consultas posteriores')} "
                 "(p. ej. una purga suave que sigue sirviendo contenido caducado): el veredicto se basa "
                 "en lo que ve el público.",
                 f"The provider reported the purge complete after {obs.purge.reported_complete_after_s:.3f} s "
                 f"({obs.purge.method}), yet the public still got content of the previous corte in "
                 f"{plural(n, 'later poll', 'later polls')} (e.g. "
                 "a soft purge still serving stale content): the verdict rests on what the public sees.")]


def _restore_notes(obs: DrillObservation) -> list[Note]:
    r = obs.restore
    if r is None:
        return [Note("bad", "No consta la restauración del sitio tras el simulacro.",
                     "The site's restoration after the drill is not recorded.")]
    if r.error or not r.ok:
        return [Note("bad", f"El sitio NO quedó como estaba antes del simulacro: {r.error or ''} "
                     f"{len(r.differences)} ruta(s) distinta(s). Revíselo.",
                     f"The site was NOT left as it was before the drill: {r.error or ''} "
                     f"{len(r.differences)} path(s) differ. Check it.")]
    notes = [Note("info", f"Sitio restaurado: {r.files_restored} archivo(s) repuestos, {r.files_removed} retirados; "
                  "sirve lo mismo que antes.",
                  f"Site restored: {r.files_restored} file(s) put back, {r.files_removed} removed; it serves "
                  "what it served before.")]
    if r.lingering:
        notes.append(Note("warn", f"El CDN sigue sirviendo {len(r.lingering)} archivo(s) del corte de prueba "
                          f"({', '.join(r.lingering[:3])}).",
                          f"The CDN still serves {len(r.lingering)} file(s) of the drill corte "
                          f"({', '.join(r.lingering[:3])}).", ))
    return notes


def never_reached_origin(obs: DrillObservation) -> bool:
    """The uploaded corte never showed at the origin: the upload folder is not what the site serves."""
    return (obs.error is None and obs.fresh_after_s is None and obs.origin_checked
            and obs.origin_fresh_after_s is None and obs.purge is not None and not obs.purge.error)


def _published(obs: DrillObservation) -> list[CheckResult]:
    """I.4 PASS when the origin served the uploaded corte (only known with ``http.origin``)."""
    if not obs.origin_checked or obs.origin_fresh_after_s is None:
        return []
    return [result("I.4", "corte_drill_publication", Verdict.PASS,
                   f"El corte {obs.new_secuencia} subido por SFTP a {obs.upload_dir} apareció en el origen "
                   f"({obs.origin_fresh_after_s:.3f} s tras la purga).",
                   f"Corte {obs.new_secuencia} uploaded over SFTP into {obs.upload_dir} showed at the origin "
                   f"({obs.origin_fresh_after_s:.3f} s after the purge).",
                   upload_dir=obs.upload_dir, origin_fresh_after_s=obs.origin_fresh_after_s)]


@uses("fresh_within_s")
def drill(obs: DrillObservation, conv: Convocatoria, det: CdnDetection | None = None) -> list[CheckResult]:
    """The corte drill's verdicts: II.2.b ``corte_drill`` and I.4 ``corte_drill_publication`` (did the
    upload reach the origin). When it never did, only the I.4 FAIL is returned: the purge cannot be
    timed, and the caller judges II.2.b without the drill."""
    ev = {**_drill_ev(obs), "detection": _det_ev(det)}
    notes = _restore_notes(obs) + _provider_notes(obs)
    tls = tls_note(obs.tls_unverified)
    if tls is not None:
        notes.append(tls)
        ev["tls_unverified"] = obs.tls_unverified
    bound = conv.purge.fresh_within_s
    restore_bad = obs.restore is None or not obs.restore.ok
    out: list[CheckResult] = []
    if obs.error:
        out.append(result(REQ, "corte_drill", Verdict.ERROR, f"El simulacro se interrumpió: {obs.error}",
                          f"The drill stopped: {obs.error}", notes=notes, **ev))
        return out
    if obs.purge is not None and obs.purge.not_sent:
        es, en = _es_en(obs.purge.not_sent)
        out.append(result(REQ, "corte_drill", Verdict.ERROR, f"No se envió la purga ({obs.purge.method}): {es}",
                          f"The purge ({obs.purge.method}) was not sent: {en}", notes=notes, **ev))
        return out
    if obs.purge is not None and obs.purge.error:
        out.append(result(REQ, "corte_drill", Verdict.ERROR,
                          f"La purga no obtuvo respuesta: {obs.purge.error}",
                          f"The purge got no answer: {obs.purge.error}", notes=notes, **ev))
        return out
    seq = obs.new_secuencia
    if obs.fresh_after_s is not None:
        mixed = obs.mixed_polls
        v = Verdict.PASS if obs.fresh_after_s <= bound and not mixed and not restore_bad else Verdict.WARN
        if obs.fresh_after_s > bound:
            v = Verdict.FAIL
        extra_es = f"; {mixed} consulta(s) con estado mixto" if mixed else ""
        extra_en = f"; {mixed} poll(s) saw a mixed state" if mixed else ""
        out.append(result(REQ, "corte_drill", v,
                          f"Corte {seq} subido por SFTP, purga {obs.purge.method if obs.purge else '?'} "
                          f"{'aceptada' if obs.purge and obs.purge.accepted else 'no aceptada'}"
                          f"{_provider_es_en(obs.purge)[0]}; el público recibió contenido fresco "
                          f"a los {obs.fresh_after_s:.3f} s (límite {bound:g} s){extra_es}.",
                          f"Corte {seq} uploaded over SFTP, {obs.purge.method if obs.purge else '?'} purge "
                          f"{'accepted' if obs.purge and obs.purge.accepted else 'not accepted'}"
                          f"{_provider_es_en(obs.purge)[1]}; the public got fresh content "
                          f"after {obs.fresh_after_s:.3f} s (bound {bound:g} s){extra_en}.", notes=notes, **ev))
        out.extend(_published(obs))
        return out
    last = next((p for p in reversed(obs.polls) if p.where == "edge"), None)
    last_es = (f"última respuesta: corte {last.secuencia}, {last.old_files} archivo(s) viejos, "
               f"{last.absent_files} ausente(s)") if last else "sin respuestas"
    last_en = (f"last answer: corte {last.secuencia}, {last.old_files} old file(s), {last.absent_files} absent"
               if last else "no answers")
    if never_reached_origin(obs):
        # The CDN is not to blame: II.2.b is judged without the drill by the caller (see checks/test_cdn.py).
        out.append(result("I.4", "corte_drill_publication", Verdict.FAIL,
                          f"El corte {seq} subido por SFTP a {obs.upload_dir} nunca apareció en el origen en "
                          f"{bound:g} s: lo que el Instituto sube no es lo que el sitio publica.",
                          f"Corte {seq} uploaded over SFTP into {obs.upload_dir} never appeared at the origin within "
                          f"{bound:g} s: what the institute uploads is not what the site publishes.",
                          notes=notes, **ev))
        return out
    out.extend(_published(obs))
    out.append(result(REQ, "corte_drill", Verdict.FAIL,
                      f"Tras subir el corte {seq} y purgar ({obs.purge.method if obs.purge else '?'}, "
                      f"{'aceptada' if obs.purge and obs.purge.accepted else 'rechazada'}"
                      f"{_provider_es_en(obs.purge)[0]}), el sitio no sirvió el "
                      f"corte completo en {bound:g} s ({obs.stale_after_purge} respuesta(s) con el corte anterior; "
                      f"{last_es}).",
                      f"After uploading corte {seq} and purging ({obs.purge.method if obs.purge else '?'}, "
                      f"{'accepted' if obs.purge and obs.purge.accepted else 'refused'}"
                      f"{_provider_es_en(obs.purge)[1]}), the site did not serve the "
                      f"whole corte within {bound:g} s ({obs.stale_after_purge} answer(s) with the previous corte; "
                      f"{last_en}).", notes=notes, **ev))
    return out


def why_no_drill(profile) -> str | None:
    """None when the corte drill may run; else the reason (Spanish / English in one line)."""
    if not profile.cdn.drill:
        return "cdn.drill no habilitado / cdn.drill not enabled"
    if profile.target != "test":
        return "el simulacro solo corre contra el sitio de prueba / the drill runs only against the test site"
    missing = [k for k, v in (("ssh", profile.ssh), ("package", profile.package), ("cdn.purge", profile.cdn.purge))
               if v is None]
    if missing:
        return f"faltan en el perfil / missing in the profile: {', '.join(missing)}"
    return None

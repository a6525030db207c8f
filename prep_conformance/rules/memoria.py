"""II.4 memoria técnica: due date, the three parts, and the incident list against the institute's watch.

Before the convocatoria's deadline (``calendar.memoria_deadline``) the requirement is not yet due: SKIP with
the date. After it, the delivered memoria (``documents.memoria``) is read: this tool's own PDF carries its
data as an attachment and is compared exactly; any other PDF (or HTML) is searched as text: a heading for
each part, and each watch incident's start time (HH:MM in the convocatoria's time zone, ±2 min).
An incident the watch saw that the memoria omits is a FAIL, listed. What cannot be read is MANUAL.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from ..dates import MONTHS_ES
from ..probes.memoria import MemoriaObservation
from ..verdict import CheckResult, Note, Verdict, result

PARTS = {
    "a": ("reporte de incidencias", "incident report", re.compile(r"incidencia|incidente|incident", re.I)),
    "b": ("estadísticas de visitas", "visit statistics",
          re.compile(r"estadistica|visitante|visitas|visitors|statistics", re.I)),
    "c": ("análisis y conclusiones", "analysis and conclusions",
          re.compile(r"conclusion|analisis|analysis", re.I)),
}
MATCH_WINDOW_S = 600      # a watch incident and a memoria incident are the same when their starts are this close
TEXT_SLACK_MIN = 2        # a start time written in the text may be off by this many minutes


@dataclass(frozen=True)
class WatchIncident:
    watch_id: int
    kind: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    duration_s: float | None


@dataclass(frozen=True)
class Due:
    today: dt.date
    deadline: dt.date | None
    source: str = "calendar.memoria_deadline"
    extra: dict = field(default_factory=dict)


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).lower()


def _fmt_date_es(d: dt.date) -> str:
    return f"{d.day} de {MONTHS_ES[d.month - 1]} de {d.year}"


def _inc_ev(i: WatchIncident, tz: dt.tzinfo) -> dict:
    return {"watch_id": i.watch_id, "kind": i.kind, "started_at": i.started_at.astimezone(tz).isoformat(),
            "ended_at": i.ended_at.astimezone(tz).isoformat() if i.ended_at else None, "duration_s": i.duration_s}


def parts_present(obs: MemoriaObservation) -> dict[str, bool]:
    """Which of II.4's three parts the memoria has."""
    if obs.data is not None:
        d = obs.data
        concl = d.get("conclusions") or {}
        return {"a": isinstance(d.get("incidents"), list), "b": bool(d.get("stats")),
                "c": bool(d.get("facts")) and any((concl.get(k) or "").strip() for k in
                                                  ("patterns", "improvements", "conclusions"))}
    text = _fold(obs.text)
    return {k: bool(rx.search(text)) for k, (_, _, rx) in PARTS.items()}


def omitted(obs: MemoriaObservation, watch: list[WatchIncident], tz: dt.tzinfo) -> list[WatchIncident]:
    """The watch's incidents that the memoria does not list."""
    if obs.data is not None:
        listed = obs.data.get("incidents") or []
        ids = {i.get("watch_id") for i in listed if i.get("watch_id") is not None}
        starts = []
        for i in listed:
            try:
                starts.append((dt.datetime.fromisoformat(i["started_at"]), i.get("kind")))
            except (KeyError, TypeError, ValueError):
                continue
        return [w for w in watch if w.watch_id not in ids and not any(
            abs((s - w.started_at).total_seconds()) <= MATCH_WINDOW_S and (k in (None, w.kind)) for s, k in starts)]
    out = []
    for w in watch:
        t = w.started_at.astimezone(tz)
        found = False
        for d in range(-TEXT_SLACK_MIN, TEXT_SLACK_MIN + 1):
            u = t + dt.timedelta(minutes=d)
            if re.search(rf"(?<!\d){u.hour:d}:{u.minute:02d}(?!\d)|(?<!\d){u.hour:02d}:{u.minute:02d}(?!\d)",
                         obs.text):
                found = True
                break
        if not found:
            out.append(w)
    return out


def evaluate(due: Due, obs: MemoriaObservation | None, watch: list[WatchIncident] | None,
             tz: dt.tzinfo) -> CheckResult:
    """SKIP before the deadline; then PASS / FAIL / MANUAL as the module says."""
    name = "memoria_tecnica"
    ev = {"today": due.today.isoformat(), "deadline": due.deadline.isoformat() if due.deadline else None,
          "deadline_source": due.source}
    if due.deadline is None:
        return result("II.4", name, Verdict.MANUAL,
                      "La convocatoria no fija fecha de entrega de la memoria técnica; revisarla a mano.",
                      "The convocatoria sets no deadline for the memoria técnica; review it by hand.", **ev)
    if due.today <= due.deadline:
        return result("II.4", name, Verdict.SKIP,
                      f"Aún no vence: la memoria técnica se entrega a más tardar el {_fmt_date_es(due.deadline)}.",
                      f"Not yet due: the memoria técnica is due by {due.deadline.isoformat()}.", **ev)
    if obs is None:
        return result("II.4", name, Verdict.MANUAL,
                      "El perfil no indica la memoria entregada (documents.memoria); leer la memoria recibida: "
                      "reporte de incidencias, estadísticas de visitas, análisis y conclusiones.",
                      "The profile names no delivered memoria (documents.memoria); read the memoria received: "
                      "incident report, visit statistics, analysis and conclusions.", **ev)
    ev.update(document=obs.name, document_kind=obs.kind, pages=obs.pages)
    if obs.error or (obs.data is None and len(obs.text.strip()) < 200):
        why = obs.error or "sin texto extraíble (¿escaneada?)"
        why_en = obs.error or "no extractable text (scanned?)"
        return result("II.4", name, Verdict.MANUAL,
                      f"No se pudo leer la memoria ({why}); leerla a mano: reporte de incidencias con fecha, hora, "
                      "duración, causa, impacto y medidas; estadísticas de visitas; análisis y conclusiones.",
                      f"The memoria could not be read ({why_en}); read it by hand: incident report with date, "
                      "time, duration, cause, impact and measures; visit statistics; analysis and conclusions.", **ev)
    parts = parts_present(obs)
    ev["parts"] = parts
    missing = [k for k, ok in parts.items() if not ok]
    gone = omitted(obs, watch, tz) if watch is not None else []
    if watch is not None:
        ev["watch_incidents"] = len(watch)
        ev["omitted"] = [_inc_ev(w, tz) for w in gone]
        ev["compared_by"] = "attachment" if obs.data is not None else "text (HH:MM ±2 min)"
    if missing or gone:
        es, en = [], []
        if missing:
            es.append("A la memoria técnica le falta " + ", ".join(f"{k}) {PARTS[k][0]}" for k in missing))
            en.append("The memoria técnica lacks " + ", ".join(f"{k}) {PARTS[k][1]}" for k in missing))
        if gone:
            n = len(gone)
            listed = ", ".join(w.started_at.astimezone(tz).strftime("%d/%m %H:%M") + " " + w.kind for w in gone)
            es.append(("además omite" if missing else "La memoria técnica omite") +
                      f" {n} incidencia{'s' if n != 1 else ''} que la vigilancia del instituto registró ({listed})")
            en.append(("it also omits" if missing else "The memoria técnica omits") +
                      f" {n} incident{'s' if n != 1 else ''} the institute's watch recorded ({listed})")
        return result("II.4", name, Verdict.FAIL, "; ".join(es) + ".", "; ".join(en) + ".", **ev)
    note = Note("info", "Las conclusiones son texto del difusor: leerlas.",
                "The conclusions are the difusor's own text: read them.")
    if watch is None:
        return result("II.4", name, Verdict.MANUAL,
                      "La memoria tiene las tres partes; falta contrastar sus incidencias con la vigilancia del "
                      "instituto (run --watch-db).",
                      "The memoria has the three parts; its incidents are still to be compared with the "
                      "institute's watch (run --watch-db).", notes=[note], **ev)
    n = len(watch)
    es = ("la vigilancia no registró incidencias" if n == 0 else "lista la incidencia que registró la vigilancia"
          if n == 1 else f"lista las {n} incidencias que registró la vigilancia")
    en = ("the watch recorded no incident" if n == 0 else "it lists the incident the watch recorded" if n == 1
          else f"it lists the {n} incidents the watch recorded")
    return result("II.4", name, Verdict.PASS, f"La memoria tiene las tres partes y {es}.",
                  f"The memoria has the three parts and {en}.", notes=[note], **ev)

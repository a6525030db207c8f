"""Incidents from samples, with hysteresis. Pure: no I/O, no clock.

An incident of a kind opens after ``n_open`` consecutive samples that are bad for that kind and closes
after ``n_close`` consecutive good ones, so one lost packet is not an outage. Its start is the time of
the first bad sample of the run that opened it, its end the time of the first good sample of the run
that closed it: both are within one poll interval of the real change. A sample that cannot tell (the
site is down, so its corte is unknown) neither opens nor closes anything of that kind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

KINDS = ("down", "http_error", "stale", "altered", "missing", "cache_control", "tls")

LABELS = {
    "down": ("Sin respuesta", "Down (no answer)"),
    "http_error": ("Respuestas de error HTTP", "HTTP error answers"),
    "stale": ("Corte desactualizado", "Stale corte"),
    "altered": ("Archivo alterado", "Altered file"),
    "missing": ("Archivo faltante", "Missing file"),
    "cache_control": ("Cache-Control incorrecto", "Wrong Cache-Control"),
    "tls": ("Certificado inválido", "Invalid certificate"),
}


@dataclass(frozen=True)
class Incident:
    """One incident. Attributes: difusor, kind, started_at/ended_at (epoch seconds; ended_at None while
    open), first_evidence/last_evidence (JSON-serialisable dicts), id (the store's row id, once stored),
    samples (bad samples seen)."""

    difusor: str
    kind: str
    started_at: float
    ended_at: float | None = None
    first_evidence: Mapping[str, Any] = field(default_factory=dict)
    last_evidence: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
    samples: int = 0

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_at is None else max(0.0, self.ended_at - self.started_at)

    @property
    def open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class Event:
    """``open`` | ``update`` | ``close`` of an incident (the incident as it is after the event)."""

    action: str
    incident: Incident


class Tracker:
    """Hysteresis per kind for one difusor; ``feed`` samples in time order, get events back."""

    def __init__(self, difusor: str, n_open: int = 2, n_close: int = 2, open_incidents: Iterable[Incident] = ()):
        if n_open < 1 or n_close < 1:
            raise ValueError("n_open and n_close must be at least 1")
        self.difusor, self.n_open, self.n_close = difusor, n_open, n_close
        self.open: dict[str, Incident] = {i.kind: i for i in open_incidents}
        self._bad: dict[str, tuple[int, float, Mapping[str, Any]]] = {}
        self._good: dict[str, tuple[int, float]] = {}

    def feed(self, sample) -> list[Event]:
        events = []
        for kind in KINDS:
            bad = sample.flags.get(kind)
            if bad is None:
                continue
            ev = sample.evidence(kind)
            if bad:
                self._good.pop(kind, None)
                if kind in self.open:
                    inc = replace(self.open[kind], last_evidence=ev, samples=self.open[kind].samples + 1)
                    self.open[kind] = inc
                    events.append(Event("update", inc))
                    continue
                n, first_t, first_ev = self._bad.get(kind, (0, sample.t, ev))
                n += 1
                if n >= self.n_open:
                    self._bad.pop(kind, None)
                    inc = Incident(self.difusor, kind, first_t, None, first_ev, ev, samples=n)
                    self.open[kind] = inc
                    events.append(Event("open", inc))
                else:
                    self._bad[kind] = (n, first_t, first_ev)
            else:
                self._bad.pop(kind, None)
                if kind not in self.open:
                    continue
                n, first_t = self._good.get(kind, (0, sample.t))
                n += 1
                if n >= self.n_close:
                    self._good.pop(kind, None)
                    inc = replace(self.open.pop(kind), ended_at=first_t)
                    events.append(Event("close", inc))
                else:
                    self._good[kind] = (n, first_t)
        return events

    def set_id(self, kind: str, incident_id: int) -> None:
        if kind in self.open:
            self.open[kind] = replace(self.open[kind], id=incident_id)


def derive(samples: Iterable, n_open: int = 2, n_close: int = 2) -> list[Incident]:
    """Every incident of one difusor's samples (time order), closed ones and those still open."""
    trackers: dict[str, Tracker] = {}
    closed: list[Incident] = []
    for s in sorted(samples, key=lambda s: s.t):
        tr = trackers.setdefault(s.difusor, Tracker(s.difusor, n_open, n_close))
        closed += [e.incident for e in tr.feed(s) if e.action == "close"]
    still = [i for tr in trackers.values() for i in tr.open.values()]
    return sorted(closed + still, key=lambda i: (i.started_at, i.kind))


# ---------------------------------------------------------------------------------------------- text

from ..dates import MONTHS_ES as MESES  # noqa: E402  (one list for every module)


def tz_label(tz: dt.tzinfo) -> str:
    off = dt.datetime.now(tz).utcoffset() or dt.timedelta()
    mins = int(off.total_seconds() // 60)
    sign = "−" if mins < 0 else "+"
    h, m = divmod(abs(mins), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def fmt_when(t: float, tz: dt.tzinfo, lang: str = "es", seconds: bool = True) -> str:
    """``2 de junio de 2024, 20:00:05 h (UTC−6)`` / ``2 June 2024, 20:00:05 (UTC−6)``."""
    d = dt.datetime.fromtimestamp(t, tz)
    hm = f"{d:%H:%M:%S}" if seconds else f"{d:%H:%M}"
    if lang == "es":
        return f"{d.day} de {MESES[d.month - 1]} de {d.year}, {hm} h ({tz_label(tz)})"
    return f"{d.day} {d:%B} {d.year}, {hm} ({tz_label(tz)})"


def fmt_duration(s: float | None, lang: str = "es") -> str:
    if s is None:
        return "en curso" if lang == "es" else "ongoing"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    parts = ([f"{h} h"] if h else []) + ([f"{m} min"] if m else []) + ([f"{sec} s"] if sec or not (h or m) else [])
    return " ".join(parts)


ERROR_KINDS = {"connect": ("conexión rechazada", "connection refused"),
               "timeout": ("sin respuesta a tiempo", "no answer in time"),
               "deadline": ("main.json no terminó de llegar a tiempo", "main.json did not finish arriving in time"),
               "tls": ("falla de TLS", "TLS failure"), "protocol": ("respuesta HTTP inválida", "invalid HTTP answer"),
               "too_large": ("main.json excede el tamaño máximo", "main.json exceeds the size limit")}


def _tls_es(reason: str) -> str:
    from ..report.evidence import SSL_REASONS_ES
    for en, es in SSL_REASONS_ES.items():
        reason = reason.replace(en, es)
    return reason


def _detail(kind: str, ev: Mapping[str, Any], lang: str) -> str:
    es = lang == "es"
    if kind == "down":
        words = ERROR_KINDS.get(ev.get("error_kind") or "")
        return words[0 if es else 1] if words else ("sin respuesta" if es else "no answer")
    if kind == "http_error":
        words = ERROR_KINDS.get(ev.get("error_kind") or "")
        return f"HTTP {ev.get('status')}" + (f", {words[0 if es else 1]}" if words else "")
    if kind == "stale":
        return (f"sirve el corte {ev.get('secuencia')} cuando el más reciente es el {ev.get('ref_secuencia')}"
                if es else f"serves corte {ev.get('secuencia')} while the newest is {ev.get('ref_secuencia')}")
    if kind in ("altered", "missing"):
        files = sorted((ev.get("integrity") or {}).get(kind) or {})
        shown = ", ".join(files[:3]) + (" …" if len(files) > 3 else "")
        return (f"corte {ev.get('secuencia')}: {shown}")
    if kind == "cache_control":
        v = ev.get("cache_control")
        return (f"Cache-Control: {v}" if v else ("sin encabezado Cache-Control" if es else "no Cache-Control header"))
    if kind == "tls":
        reason = ev.get("tls_error") or ""
        return _tls_es(reason) if es else reason
    return ""


def summaries(inc: Incident, tz: dt.tzinfo) -> tuple[str, str]:
    """One line each in Spanish and English a reviewer reads."""
    out = []
    for lang, idx in (("es", 0), ("en", 1)):
        label = LABELS.get(inc.kind, (inc.kind, inc.kind))[idx]
        since = fmt_when(inc.started_at, tz, lang)
        detail = _detail(inc.kind, inc.first_evidence, lang)
        if lang == "es":
            tail = (f"desde {since}, en curso" if inc.open
                    else f"desde {since}, durante {fmt_duration(inc.duration_s, lang)}")
        else:
            tail = (f"since {since}, ongoing" if inc.open
                    else f"from {since}, for {fmt_duration(inc.duration_s, lang)}")
        out.append(f"{label} {tail}" + (f" ({detail})" if detail else ""))
    return out[0], out[1]

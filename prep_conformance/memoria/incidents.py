"""II.4 (a): the incidents of the night, from the institute's watch db, merged with the difusor's notes.

The watch (``prep-conformance watch --db``) records what it saw, never why. The difusor adds why in a
small YAML file (``--incidents``); the memoria never invents a cause: an incident without a note says
"causa no declarada".

    incidents:
      - watch_id: 3                              # the incident's id in the watch db, or ...
        started_at: 2024-06-02T22:41:00-06:00    # ... its start (matched within match_window_s, same kind if given)
        kind: down                               # optional
        root_cause: Se agotó el disco del origen.
        impact: Sitio sin respuesta 7 minutos.
        measures: Se amplió el volumen y se activó la alerta de disco.
      - started_at: 2024-06-03T01:10:00-06:00    # an incident the watch did not see: the difusor's own
        ended_at: 2024-06-03T01:14:00-06:00
        summary: Purga del CDN tardía
        root_cause: ...
    conclusions:                                 # II.4 (c), written by the difusor (optional)
      patterns: ...
      improvements: ...
      conclusions: ...
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..yamlsource import load_yaml, validate

KINDS = ("down", "http_error", "stale", "altered", "missing", "cache_control", "tls")
MATCH_WINDOW_S = 600


@dataclass(frozen=True)
class Incident:
    """One incident as the memoria shows it. ``source``: ``watch`` (seen by the institute's watch),
    ``difusor`` (declared only by the difusor)."""

    source: str
    kind: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    duration_s: float | None
    summary_es: str = ""
    summary_en: str = ""
    watch_id: int | None = None
    root_cause: str | None = None
    impact: str | None = None
    measures: str | None = None
    first_evidence: str | None = None
    last_evidence: str | None = None
    traffic: dict = field(default_factory=dict)     # requests during the incident vs the usual (stats)


def _parse_ts(s: str | None) -> dt.datetime | None:
    if not s:
        return None
    t = dt.datetime.fromisoformat(str(s).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


class WatchDbError(Exception):
    pass


def read_watch_db(path: str | Path, difusor: str) -> list[Incident]:
    """The difusor's incidents in a watch db (read-only; the watch may still be writing it)."""
    p = Path(path)
    if not p.is_file():
        raise WatchDbError(f"{p.name}: no existe / not found")
    try:
        con = sqlite3.connect(f"file:{p}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute(
                "SELECT id, kind, started_at, ended_at, duration_s, first_evidence, last_evidence, summary_es, "
                "summary_en FROM incidents WHERE difusor = ? ORDER BY started_at, id", (difusor,)).fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise WatchDbError(f"{p.name}: {exc}") from None
    out = []
    for r in rows:
        start, end = _parse_ts(r[2]), _parse_ts(r[3])
        dur = r[4] if r[4] is not None else ((end - start).total_seconds() if end and start else None)
        out.append(Incident("watch", r[1], start, end, dur, r[7] or "", r[8] or "", watch_id=r[0],
                            first_evidence=r[5], last_evidence=r[6]))
    return out


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    watch_id: int | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    kind: str | None = None
    summary: str | None = None
    root_cause: str | None = None
    impact: str | None = None
    measures: str | None = None

    @field_validator("started_at", "ended_at")
    @classmethod
    def _aware(cls, v):
        if v is not None and v.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2024-06-02T22:41:00-06:00")
        return v

    @field_validator("kind")
    @classmethod
    def _kind(cls, v):
        if v is not None and v not in KINDS:
            raise ValueError(f"unknown kind {v!r}; known: {', '.join(KINDS)}")
        return v


class Conclusions(BaseModel):
    """II.4 (c) in the difusor's own words (the tool writes no prose: it shows the computed facts beside)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    patterns: str | None = None        # patrones y tendencias
    improvements: str | None = None    # áreas de mejora
    conclusions: str | None = None     # conclusiones y recomendaciones


class Notes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    match_window_s: float = Field(MATCH_WINDOW_S, gt=0, le=86400)
    incidents: list[Note] = []
    conclusions: Conclusions = Conclusions()


def load_notes(path: str | Path) -> Notes:
    """The difusor's notes; raises ``SourceErrors`` (file, line, key) when malformed."""
    return validate(load_yaml(Path(path)), Notes)  # type: ignore[return-value]


def merge(watch: list[Incident], notes: Notes | None) -> tuple[list[Incident], list[str]]:
    """Attach each note to its watch incident (by ``watch_id``, else by start within the window and kind);
    notes that match none become the difusor's own incidents. Returns the incidents by start and the
    problems found (a note naming a watch id that does not exist, a note with no start)."""
    merged = list(watch)
    problems: list[str] = []
    used: set[int] = set()
    for i, n in enumerate(notes.incidents if notes else [], 1):
        idx = None
        if n.watch_id is not None:
            idx = next((k for k, w in enumerate(merged) if w.source == "watch" and w.watch_id == n.watch_id), None)
            if idx is None:
                problems.append(f"incidents[{i}]: watch_id {n.watch_id} no está en la vigilancia / not in the watch db")
                continue
        elif n.started_at is not None:
            cands = [(abs((w.started_at - n.started_at).total_seconds()), k) for k, w in enumerate(merged)
                     if w.source == "watch" and k not in used and (n.kind is None or n.kind == w.kind)
                     and abs((w.started_at - n.started_at).total_seconds()) <= notes.match_window_s]
            idx = min(cands)[1] if cands else None
        else:
            problems.append(f"incidents[{i}]: sin watch_id ni started_at / neither watch_id nor started_at")
            continue
        if idx is not None:
            used.add(idx)
            merged[idx] = replace(merged[idx], root_cause=n.root_cause, impact=n.impact, measures=n.measures)
        else:
            dur = (n.ended_at - n.started_at).total_seconds() if n.ended_at else None
            merged.append(Incident("difusor", n.kind, n.started_at, n.ended_at, dur, n.summary or "",
                                   n.summary or "", root_cause=n.root_cause, impact=n.impact, measures=n.measures))
    merged.sort(key=lambda x: x.started_at)
    return merged, problems


def traffic_during(incidents: list[Incident], per_minute: dict[int, int], offset_s: float) -> list[Incident]:
    """For each closed incident: requests per minute during it against the log's median minute (incidents
    against traffic). ``per_minute`` is keyed by local minute number, as the aggregator keeps it."""
    if not per_minute:
        return incidents
    counts = sorted(per_minute.values())
    median = counts[len(counts) // 2]
    out = []
    for inc in incidents:
        end = inc.ended_at or inc.started_at
        m0 = int((inc.started_at.timestamp() + offset_s) // 60)
        m1 = int((end.timestamp() + offset_s) // 60)
        mins = max(1, m1 - m0 + 1)
        reqs = sum(per_minute.get(m, 0) for m in range(m0, m0 + mins)) if mins <= 7 * 1440 else None
        out.append(replace(inc, traffic={"requests": reqs, "per_min": round(reqs / mins, 1) if reqs is not None
                                         else None, "median_per_min": median}))
    return out

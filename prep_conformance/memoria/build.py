"""Assemble the memoria's data: the profile and convocatoria, the logs' figures, the incidents, the facts."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import __version__
from . import geo as geo_mod
from .incidents import Incident, Notes, merge, read_watch_db, traffic_during
from .logs import ReadStats, read_logs
from .stats import Aggregator

IDLE_TIMEOUT_S = 1800


def convocatoria_tz(conv) -> dt.tzinfo:
    """The convocatoria's time zone: the offset of its publication window (UTC−6 for Michoacán)."""
    return conv.publication.start.tzinfo or dt.timezone.utc


def memoria_deadline(conv) -> dt.date | None:
    """II.4's deadline from the convocatoria's calendar (``memoria_deadline``; ``memoria_tecnica`` too)."""
    return conv.calendar.get("memoria_deadline") or conv.calendar.get("memoria_tecnica")


def as_of_date(value: str | None, tz: dt.tzinfo) -> dt.date:
    """"Today" for date-bound requirements: the given date, else ``$PREP_AS_OF``, else the current date in the
    convocatoria's time zone. Accepts ``YYYY-MM-DD`` or an ISO date-time (raises ValueError otherwise)."""
    import os
    value = value or os.environ.get("PREP_AS_OF") or None
    if not value:
        return dt.datetime.now(tz).date()
    v = value.strip()
    if len(v) == 10:
        return dt.date.fromisoformat(v)
    t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    return (t.astimezone(tz) if t.tzinfo else t).date()


def log_stats(paths: list[Path], conv, idle_timeout_s: float = IDLE_TIMEOUT_S, fmt: str | None = None,
              with_geo: bool = True) -> tuple[dict, Aggregator]:
    """Figures of the logs (streamed) and the aggregator (its per-minute counters serve the analysis)."""
    rs = ReadStats()
    agg = Aggregator(convocatoria_tz(conv), conv.main_json.path, idle_timeout_s,
                     geo_mod.load() if with_geo else None)
    agg.feed(read_logs(paths, fmt, rs))
    figures = agg.result()
    figures["files"] = rs.files
    figures["malformed_lines"] = rs.malformed
    return figures, agg


def _inc_dict(i: Incident, n: int, tz: dt.tzinfo) -> dict:
    d = asdict(i)
    d["n"] = n
    d["started_at"] = i.started_at.astimezone(tz).isoformat(timespec="seconds")
    d["ended_at"] = i.ended_at.astimezone(tz).isoformat(timespec="seconds") if i.ended_at else None
    return d


def _window(conv, figures: dict | None, incidents: list[dict], tz) -> dict:
    """The publication window of the convocatoria; when the logs and incidents lie outside it (a test, a
    drill), the span they cover."""
    start, end = conv.publication.start.astimezone(tz), conv.publication.end.astimezone(tz)
    times = [dt.datetime.fromisoformat(x) for x in
             ([figures["period"]["first"], figures["period"]["last"]] if figures and figures["period"]["first"]
              else []) + [i["started_at"] for i in incidents] + [i["ended_at"] for i in incidents if i["ended_at"]]]
    if times and not any(start <= t <= end for t in times):
        start, end = min(times), max(times)
        if end == start:
            end = start + dt.timedelta(hours=1)
    return {"start": start.isoformat(timespec="seconds"), "end": end.isoformat(timespec="seconds"),
            "is_publication": start == conv.publication.start}


def facts(figures: dict | None, incidents: list[dict]) -> dict:
    """The computed facts shown beside the conclusions (numbers only: the difusor writes the prose)."""
    f: dict[str, Any] = {"incidents": len(incidents),
                         "incidents_watch": sum(1 for i in incidents if i["source"] == "watch"),
                         "incidents_without_cause": sum(1 for i in incidents if not i.get("root_cause")),
                         "downtime_s": sum(i["duration_s"] or 0 for i in incidents if i.get("kind") == "down"),
                         "open_incidents": sum(1 for i in incidents if not i.get("ended_at"))}
    if figures:
        req = figures["requests"]["total"]
        f.update({
            "peak_hour": figures.get("peak_hour"), "peak_minute": figures.get("peak_minute"),
            "bots_share": round(figures["requests"]["bots"] / req, 4) if req else None,
            "errors_5xx": figures["errors_5xx"],
            "errors_5xx_share": round(figures["errors_5xx"] / req, 4) if req else None,
            "polls_per_page_view": round(figures["polls"] / figures["page_views"], 1) if figures["page_views"] else None,
            "incidents_above_median_traffic": sum(
                1 for i in incidents if i.get("traffic", {}).get("per_min") is not None
                and i["traffic"]["per_min"] > i["traffic"]["median_per_min"]),
        })
    return f


def memoria_doc(profile, conv, log_paths: list[Path], watch_db: Path | None = None, notes: Notes | None = None,
                idle_timeout_s: float = IDLE_TIMEOUT_S, fmt: str | None = None) -> dict:
    """Everything the memoria shows, as plain data (also written as memoria.json and embedded in the PDF)."""
    tz = convocatoria_tz(conv)
    figures, agg = log_stats(log_paths, conv, idle_timeout_s, fmt) if log_paths else (None, None)
    watch = read_watch_db(watch_db, profile.id) if watch_db else []
    merged, problems = merge(watch, notes)
    if agg is not None:
        merged = traffic_during(merged, agg.per_minute, agg._offset)
    incs = [_inc_dict(i, n, tz) for n, i in enumerate(merged, 1)]
    deadline = memoria_deadline(conv)
    return {
        "schema": "prep-conformance/memoria/1",
        "tool": {"name": "prep-conformance", "version": __version__},
        "generated_at": dt.datetime.now(tz).isoformat(timespec="seconds"),
        "difusor": {"id": profile.id, "name": profile.name or profile.id, "site": profile.target_url},
        "convocatoria": {"id": conv.id, "institute": conv.institute,
                         "deadline": deadline.isoformat() if deadline else None},
        "window": _window(conv, figures, incs, tz),
        "sources": {"logs": figures["files"] if figures else [], "watch_db": watch_db.name if watch_db else None,
                    "notes": bool(notes)},
        "stats": figures,
        "incidents": incs,
        "incident_problems": problems,
        "facts": facts(figures, incs),
        "conclusions": (notes.conclusions.model_dump() if notes else
                        {"patterns": None, "improvements": None, "conclusions": None}),
    }

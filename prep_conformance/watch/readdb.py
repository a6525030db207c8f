"""Reading watch dbs (read-only, safe while a watcher writes): samples, incidents, runs, per difusor.

Several dbs (vantage points) merge: runs, samples and incidents are kept with the db they came from;
availability is accounted per db and a difusor's merged figures take, for each moment, the best
evidence any vantage point had (up if any saw it up), so one watcher's own network trouble is not
counted against the difusor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import availability
from .store import connect_ro


@dataclass
class DbData:
    """One db. Attributes: path, meta, runs [(t_start, t_end)], difusores {id: (name, target)},
    samples {id: [(t, up, lag_s, secuencia, stale)]}, incidents {id: [dict]}, reference [(secuencia, t)]."""

    path: str
    meta: dict[str, Any]
    runs: list[tuple[float, float]]
    difusores: dict[str, tuple[str, str]]
    samples: dict[str, list[tuple[float, bool, float | None, int | None, bool | None]]] = field(default_factory=dict)
    incidents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    reference: list[tuple[int, float]] = field(default_factory=list)

    @property
    def window(self) -> tuple[float, float]:
        return float(self.meta.get("window_start", 0)), float(self.meta.get("window_end", 0))

    @property
    def max_gap_s(self) -> float:
        return float(self.meta.get("max_gap_s") or 3 * float(self.meta.get("interval_s", 60)))


def read_db(path: str | Path) -> DbData:
    db = connect_ro(path)
    try:
        meta = {r["key"]: json.loads(r["value"]) for r in db.execute("SELECT key, value FROM meta")}
        runs = [(r["t_start"], r["t_end"]) for r in db.execute("SELECT t_start, t_end FROM runs ORDER BY t_start")]
        difs = {r["id"]: (r["name"], r["target"]) for r in db.execute("SELECT id, name, target FROM difusores")}
        data = DbData(str(path), meta, runs, difs)
        for r in db.execute("SELECT difusor, t, up, lag_s, secuencia, flags FROM samples ORDER BY difusor, t"):
            flags = json.loads(r["flags"] or "{}")
            data.samples.setdefault(r["difusor"], []).append(
                (r["t"], bool(r["up"]), r["lag_s"], r["secuencia"], flags.get("stale")))
        for r in db.execute("SELECT * FROM incidents ORDER BY t_start"):
            d = {k: r[k] for k in r.keys()}
            for k in ("first_evidence", "last_evidence"):
                d[k] = json.loads(d[k]) if d[k] else None
            data.incidents.setdefault(r["difusor"], []).append(d)
        data.reference = [(r["secuencia"], r["first_seen"]) for r in
                          db.execute("SELECT secuencia, first_seen FROM reference ORDER BY secuencia")]
        return data
    finally:
        db.close()


def accounting(data: DbData, difusor: str, until: float | None = None) -> availability.Accounting:
    """Availability of one difusor in one db, over the db's window, up to ``until`` (default: the last run's end)."""
    end = until if until is not None else max((b for _, b in data.runs), default=data.window[0])
    samples = [(t, up) for t, up, *_ in data.samples.get(difusor, [])]
    return availability.account(samples, data.runs, data.window, end, data.max_gap_s,
                                float(data.meta.get("threshold", 0.999)))

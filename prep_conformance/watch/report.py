"""``report --watch-db``: the night's verdicts, incidents and timeline added to results.json.

Each difusor watched gets the rules of ``rules.watch`` (I.2, time-weighted I.9 and II.2.e, plus I.6 and
II.1.e when the night showed incidents of those kinds) and a ``watch`` entry the report templates lay
out: the accounting, the incident list (from every vantage point, each named) and the timeline series
(availability segments and corte lag, as fractions of the window, for the template to draw).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Mapping

from .. import catalog
from ..results import SCHEMA, difusor_entry
from ..rules.watch import WatchFigures, evaluate_all
from ..verdict import worst
from . import availability
from .incidents import LABELS
from .readdb import DbData, read_db

LAG_POINTS = 240


def _window(dbs: list[DbData]) -> tuple[float, float, float]:
    ws = min(d.window[0] for d in dbs)
    we = max(d.window[1] for d in dbs)
    until = max((b for d in dbs for _, b in d.runs), default=ws)
    return ws, we, min(until, we)


def figures(dbs: list[DbData], difusor: str) -> tuple[WatchFigures, dict[str, Any]]:
    """The merged figures of one difusor and the data its report section shows."""
    ws, we, until = _window(dbs)
    have = [d for d in dbs if difusor in d.samples]
    avail_spans, fresh_spans, lag_pts, incs = [], [], [], []
    for d in have:
        ss = d.samples[difusor]
        avail_spans.append(availability.spans([(t, up) for t, up, *_ in ss], d.runs, d.max_gap_s, ws, until))
        fresh_spans.append(availability.spans([(t, None if st is None else not st) for t, _, _, _, st in ss],
                                              d.runs, d.max_gap_s, ws, until))
        lag_pts += [(t, lag) for t, _, lag, _, _ in ss if lag is not None and ws <= t <= until]
    for d in dbs:
        for i in d.incidents.get(difusor, []):
            incs.append({**{k: i[k] for k in ("kind", "started_at", "ended_at", "duration_s", "summary_es",
                                              "summary_en", "t_start", "t_end")},
                         "label_es": LABELS.get(i["kind"], (i["kind"],) * 2)[0],
                         "label_en": LABELS.get(i["kind"], (i["kind"],) * 2)[1],
                         "vantage": os.path.basename(d.path)})
    incs.sort(key=lambda i: (i["t_start"] or 0, i["kind"]))
    av = availability.combine(avail_spans, ws, until) if have else []
    fr = availability.combine(fresh_spans, ws, until) if have else []
    at, ft = availability.totals(av), availability.totals(fr)
    if not have:
        at["unknown"] = max(0.0, until - ws)
    meta = dbs[0].meta
    n = sum(1 for d in have for t, *_ in d.samples[difusor] if ws <= t <= until)
    f = WatchFigures(ws, we, until, n, len(have),
                     at["good"], at["bad"], at["unknown"], ft["good"], ft["bad"],
                     float(meta.get("threshold", 0.999)), float(meta.get("tolerance_s", 1200)), tuple(incs))
    span = max(we - ws, 1e-9)
    tl = {"availability": [[round((a - ws) / span, 5), round((b - ws) / span, 5),
                            {"good": "up", "bad": "down"}.get(st, "unknown")] for a, b, st in av],
          "until": round((until - ws) / span, 5)}
    if lag_pts:
        buckets: dict[int, float] = {}
        for t, lag in lag_pts:
            k = min(LAG_POINTS - 1, int((t - ws) / span * LAG_POINTS))
            buckets[k] = max(buckets.get(k, 0.0), lag)
        top = max(max(buckets.values()), f.tolerance_s * 1.25, 1.0)
        tl["lag"] = [[round((k + 0.5) / LAG_POINTS, 5), round(v / top, 4)] for k, v in sorted(buckets.items())]
        tl["lag_max_s"] = round(top, 1)
        tl["tolerance_y"] = round(f.tolerance_s / top, 4)
    offset = dt.timedelta(seconds=float(meta.get("utc_offset_s", 0)))
    tz = dt.timezone(offset)
    fmt = "%d/%m %H:%M" if span >= 4 * 3600 else "%H:%M" if span >= 600 else "%H:%M:%S"
    tl["ticks"] = [[round(k / 4, 3), dt.datetime.fromtimestamp(ws + span * k / 4, tz).strftime(fmt),
                    ("start", "middle", "middle", "middle", "end")[k]] for k in range(5)]
    data = {"vantage_points": [os.path.basename(d.path) for d in have],
            "window": {"start": dt.datetime.fromtimestamp(ws, tz).isoformat(),
                       "end": dt.datetime.fromtimestamp(we, tz).isoformat(),
                       "until": dt.datetime.fromtimestamp(until, tz).isoformat()},
            "accounting": {**f.evidence(), "fresh_s": round(f.fresh_s, 1), "stale_s": round(f.stale_s, 1)},
            "incidents": incs, "timeline": tl}
    return f, data


def _bare_entry(difusor: str, name: str, target: str) -> dict[str, Any]:
    """A difusor that only the watch knows: every requirement MANUAL until its checks are added."""
    shim = SimpleNamespace(id=difusor, name=name, target_url=target, source="", digest="")
    entry = difusor_entry(shim, [], None)          # type: ignore[arg-type]
    entry.pop("profile", None)
    return entry


def add_checks(entry: dict[str, Any], checks: Iterable) -> None:
    """Put the watch's checks into a difusor entry: they replace the MANUAL placeholder of a requirement
    that had no check, and each requirement is again the worst of its checks."""
    new = [c.to_dict() for c in checks]
    covered = {c["requirement"] for c in new}
    kept = [c for c in entry.get("checks", [])
            if not (c["requirement"] in covered and c["check"] in ("manual_review", "not_selected"))]
    ids = catalog.requirement_ids()
    entry["checks"] = sorted(kept + new, key=lambda c: (ids.index(c["requirement"]) if c["requirement"] in ids
                                                         else len(ids), c["check"]))
    reqs = dict(entry.get("requirements", {}))
    for rid in covered:
        reqs[rid] = worst(c["verdict"] for c in entry["checks"] if c["requirement"] == rid).value
    entry["requirements"] = reqs
    entry["overall"] = worst(reqs.values()).value


def apply(doc: Mapping[str, Any] | None, db_paths: list[str | Path], lang: str = "es") -> dict[str, Any]:
    """``doc`` (a results document, or None) with every watched difusor's night added."""
    dbs = [read_db(p) for p in db_paths]
    ws, we, until = _window(dbs)
    if doc is None:
        from .. import __version__
        started = min((a for d in dbs for a, _ in d.runs), default=ws)
        offset = dt.timezone(dt.timedelta(seconds=float(dbs[0].meta.get("utc_offset_s", 0))))
        doc = {"schema": SCHEMA, "tool": {"name": "prep-conformance", "version": __version__},
               "started_at": dt.datetime.fromtimestamp(started, offset).isoformat(timespec="seconds"),
               "finished_at": dt.datetime.fromtimestamp(until, offset).isoformat(timespec="seconds"),
               "convocatoria": dbs[0].meta.get("convocatoria", ""), "lang": lang, "difusores": []}
    out = dict(doc)
    entries = {d["id"]: dict(d) for d in out.get("difusores", [])}
    watched: dict[str, tuple[str, str]] = {}
    for d in dbs:
        for did, (name, target) in d.difusores.items():
            watched.setdefault(did, (name, target))
    for did, (name, target) in watched.items():
        entry = entries.get(did) or _bare_entry(did, name, target)
        f, data = figures(dbs, did)
        add_checks(entry, evaluate_all(f))
        entry["watch"] = data
        entries[did] = entry
    out["difusores"] = [entries[k] for k in sorted(entries)]
    out["watch"] = {"dbs": [os.path.basename(d.path) for d in dbs], "convocatoria": dbs[0].meta.get("convocatoria"),
                    "references": sorted({str(d.meta.get("reference", "")) for d in dbs})}
    return out

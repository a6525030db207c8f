"""Merge several runs' results.json into one document (``prep-conformance report DIR...``)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..results import SCHEMA


def merge_runs(docs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Later runs win per difusor id; the time span covers every run."""
    docs = [d for d in docs]
    for d in docs:
        if d.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document: {d.get('schema')!r}")
    if not docs:
        raise ValueError("no results to merge")
    by_id: dict[str, Any] = {}
    for d in sorted(docs, key=lambda d: d.get("finished_at", "")):
        for dif in d["difusores"]:
            by_id[dif["id"]] = dif
    convs = sorted({d.get("convocatoria", "") for d in docs})
    shas = sorted({(dif.get("convocatoria") or {}).get("sha256", "") for dif in by_id.values()
                   if isinstance(dif.get("convocatoria"), Mapping)} - {""})
    latest = sorted(docs, key=lambda d: d.get("finished_at", ""))[-1]
    # measurement context and the convocatoria's data (quotes, offset, digest) of the latest run
    carried = {k: latest[k] for k in ("context", "convocatoria_info", "convocatoria_sha256") if k in latest}
    return {**carried,
        "schema": SCHEMA,
        "tool": docs[-1]["tool"],
        "started_at": min(d.get("started_at", "") for d in docs),
        "finished_at": max(d.get("finished_at", "") for d in docs),
        "convocatoria": ", ".join(c for c in convs if c),
        **({"convocatoria_sha256": ", ".join(shas)} if shas else {}),
        "lang": docs[-1].get("lang", "es"),
        "merged_from": len(docs),
        "difusores": [by_id[k] for k in sorted(by_id)],
    }

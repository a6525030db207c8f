"""A live-state snapshot of N difusores, for board tests."""

from __future__ import annotations

import datetime as dt

TZ = dt.timezone(dt.timedelta(hours=-6))
NOW = 1717380000.0 + 3600


def snapshot(n=100):
    rows = []
    for i in range(n):
        state = ("ok", "stale", "down", "altered", "cache_control")[i % 5]
        opened = [] if state == "ok" else [{"kind": state, "since": NOW - 90,
                                            "summary": (f"resumen {i}", f"summary {i}")}]
        rows.append({"id": f"difusor-{i:03d}", "name": f"Medio {i}", "target": "https://x.example/", "state": state,
                     "since": NOW - 90, "secuencia": 7, "corte_iso": "2024-06-02T22:00:00-06:00",
                     "lag_s": 1500.0 if state == "stale" else 0.0, "latency_s": 0.05, "status": 200,
                     "up": state != "down", "error": None, "last_poll": NOW - 3, "polls": 10, "failed": 0,
                     "up_s": 3000.0, "down_s": 30.0 if state == "down" else 0.0, "open": opened,
                     "incidents_total": {}, "observed": state, "observed_at": NOW - 90,
                     "availability": 0.99 if state == "down" else 1.0, "unknown_s": 0.0})
    return {"now": NOW, "started": NOW - 3600, "window": [NOW - 3600, NOW + 86400], "until": NOW + 86400,
            "interval_s": 60, "threshold": 0.999, "tolerance_s": 1200, "ref_secuencia": 7,
            "ref_published": NOW - 600, "polls_total": 1000, "rows": rows}

"""Chart geometry for the reports: numbers in (the evidence's series), pixel coordinates out.

The SVG itself is drawn by the templates (``templates/evidence/_load_overview.html.j2``); rules only put
series and thresholds into evidence. Labels are the template's (one language per report).
"""

from __future__ import annotations

from typing import Any, Mapping

from .evidence import column

# one colour per line, as the report's legend shows them
COLORS = {"rps": "#1f77b4", "failures_s": "#d62728", "users": "#7f7f7f",
          "p50_ms": "#2ca02c", "p95_ms": "#ff7f0e", "p99_ms": "#9467bd"}


def _nice_max(v: float) -> float:
    """The axis top: the next of 1, 2, 2.5, 5, 10 times a power of ten at or above ``v``."""
    if v <= 0:
        return 1.0
    for m in (1, 2, 2.5, 5, 10):
        mag = 10 ** (len(str(int(v))) - 1)
        if v <= m * mag:
            return float(m * mag)
    return float(v)


def _fmt(v: float) -> str:
    return f"{v:g}" if v < 1000 else f"{v / 1000:g}k"


def load_overview(ev: Mapping[str, Any], width: int = 640) -> dict[str, Any] | None:
    """Two panels over the run's time: requests/s, failures/s and users; then p50/p95/p99 latency with
    the convocatoria's limits (dashed). None when the evidence carries no series."""
    cols, series = ev.get("series_columns") or [], ev.get("series") or []
    lines_of = {name: column(series, cols, name) for name in COLORS}
    if not lines_of["rps"] and not lines_of["p95_ms"]:
        return None
    th = (ev.get("settings") or {}).get("thresholds") or {}
    ml, pw, ph, gap = 52, width - 52 - 12, 130, 44
    tmax = max((t for pts in lines_of.values() for t, _ in pts), default=0.0) or 1.0

    def x(t: float) -> float:
        return round(t / tmax * pw, 1)

    def panel(top: int, label: str, names: tuple[str, ...], limits: list[tuple[Any, str, str]]) -> dict:
        vals = [v for n in names for _, v in lines_of[n] if v is not None]
        vals += [float(v) for v, _, _ in limits if v is not None]
        ymax = _nice_max(max(vals) if vals else 1.0)

        def y(v: float) -> float:
            return round(ph - min(float(v), ymax) / ymax * ph, 1)
        return {"top": top, "label": label,
                "lines": [{"name": n, "color": COLORS[n],
                           "points": " ".join(f"{x(t)},{y(v)}" for t, v in lines_of[n] if v is not None)}
                          for n in names],
                "yticks": [{"y": y(ymax * i / 4), "text": _fmt(ymax * i / 4)} for i in range(5)],
                "limits": [{"y": y(v), "color": COLORS[n], "name": n, "value": float(v)}
                           for v, n, _ in limits if v]}

    p1 = panel(20, "throughput", ("rps", "failures_s", "users"), [(th.get("min_rps"), "rps", "min")])
    p2 = panel(20 + ph + gap, "latency", ("p50_ms", "p95_ms", "p99_ms"),
               [(th.get("p95_ms"), "p95_ms", "max"), (th.get("p99_ms"), "p99_ms", "max")])
    step = next(st for st in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1e9) if tmax / st <= 8)
    xticks = [{"x": x(i * step), "text": f"{i * step:g}"} for i in range(int(tmax // step) + 1)]
    return {"w": width, "h": 20 + 2 * (ph + gap) + 10, "ml": ml, "pw": pw, "ph": ph, "panels": [p1, p2],
            "xticks": xticks}

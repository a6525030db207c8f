"""A self-contained SVG chart of a load run: requests/s and failures/s, then p50/p95/p99 latency, over time.

Pure: series in, SVG text out (a jinja2 template with autoescape, no scripts, no external resources), so
the dictamen can inline it (``evidence["chart_svg"]``) and the HTML stays one file.
"""

from __future__ import annotations

from typing import Sequence

from jinja2 import Environment

from ..probes.load import SeriesPoint

_TEMPLATE = """<svg xmlns="http://www.w3.org/2000/svg" width="{{ w }}" height="{{ h }}" viewBox="0 0 {{ w }} {{ h }}" \
font-family="sans-serif" font-size="11" role="img" aria-label="{{ title }}">
<title>{{ title }}</title>
<rect width="{{ w }}" height="{{ h }}" fill="#ffffff"/>
{% for p in panels %}
<g transform="translate({{ ml }},{{ p.top }})">
<text x="0" y="-6" font-weight="bold">{{ p.label }}</text>
<rect width="{{ pw }}" height="{{ ph }}" fill="none" stroke="#999"/>
{% for t in p.yticks %}<line x1="0" x2="{{ pw }}" y1="{{ t.y }}" y2="{{ t.y }}" stroke="#eee"/>\
<text x="-4" y="{{ t.y + 4 }}" text-anchor="end">{{ t.text }}</text>
{% endfor %}{% for t in xticks %}<text x="{{ t.x }}" y="{{ ph + 14 }}" text-anchor="middle">{{ t.text }}</text>
{% endfor %}{% for l in p.limits %}<line x1="0" x2="{{ pw }}" y1="{{ l.y }}" y2="{{ l.y }}" stroke="{{ l.color }}" \
stroke-dasharray="5,4"/><text x="{{ pw - 2 }}" y="{{ l.y - 3 }}" text-anchor="end" fill="{{ l.color }}">{{ l.text }}</text>
{% endfor %}{% for s in p.lines %}<polyline fill="none" stroke="{{ s.color }}" stroke-width="1.6" points="{{ s.points }}"/>
{% endfor %}{% for s in p.lines %}<rect x="{{ 8 + loop.index0 * 150 }}" y="6" width="10" height="3" fill="{{ s.color }}"/>\
<text x="{{ 22 + loop.index0 * 150 }}" y="11">{{ s.name }}</text>
{% endfor %}</g>
{% endfor %}<text x="{{ ml + pw / 2 }}" y="{{ h - 4 }}" text-anchor="middle">{{ xlabel }}</text>
</svg>"""

_ENV = Environment(autoescape=True, trim_blocks=False)


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    for m in (1, 2, 2.5, 5, 10):
        mag = 10 ** (len(str(int(v))) - 1)
        if v <= m * mag:
            return float(m * mag)
    return float(v)


def _fmt(v: float) -> str:
    return f"{v:g}" if v < 1000 else f"{v / 1000:g}k"


def render(series: Sequence[SeriesPoint], p95_limit_ms: float | None = None, p99_limit_ms: float | None = None,
           min_rps: float | None = None, lang: str = "both", width: int = 640) -> str:
    """The chart as an SVG string ('' when there is no series); ``lang``: es, en or both (one report, two languages)."""
    pts = [p for p in series]
    if not pts:
        return ""
    def t(es_text: str, en_text: str) -> str:
        return {"es": es_text, "en": en_text}.get(lang, f"{es_text} / {en_text}")
    ml, pw, ph, gap = 52, width - 52 - 12, 130, 44
    h = 20 + 2 * (ph + gap) + 10
    tmax = max(p.t for p in pts) or 1.0

    def x(t: float) -> float:
        return round(t / tmax * pw, 1)

    def panel(top, label, lines, limits):
        vals = [v for _, _, ys in lines for v in ys if v is not None] + [l[0] for l in limits if l[0] is not None]
        ymax = _nice_max(max(vals) if vals else 1.0)

        def y(v: float) -> float:
            return round(ph - min(v, ymax) / ymax * ph, 1)

        out_lines = []
        for name, color, ys in lines:
            coords = " ".join(f"{x(p.t)},{y(v)}" for p, v in zip(pts, ys) if v is not None)
            out_lines.append({"name": name, "color": color, "points": coords})
        return {"top": top, "label": label, "lines": out_lines,
                "yticks": [{"y": y(ymax * i / 4), "text": _fmt(ymax * i / 4)} for i in range(5)],
                "limits": [{"y": y(v), "color": c, "text": t} for v, c, t in limits if v is not None]}

    rps = [p.rps for p in pts]
    fails = [p.fails_s for p in pts]
    users = [float(p.users) for p in pts]
    p1 = panel(20, t("peticiones por segundo · usuarios", "requests per second · users"),
               [("req/s", "#1f77b4", rps), (t("fallos/s", "failures/s"), "#d62728", fails),
                (t("usuarios", "users"), "#7f7f7f", users)],
               [(min_rps, "#1f77b4", f"min {min_rps:g}/s" if min_rps else "")])
    p2 = panel(20 + ph + gap, t("latencia (ms), ventana móvil", "latency (ms), moving window"),
               [("p50", "#2ca02c", [p.p50_ms for p in pts]), ("p95", "#ff7f0e", [p.p95_ms for p in pts]),
                ("p99", "#9467bd", [p.p99_ms for p in pts])],
               [(p95_limit_ms, "#ff7f0e", f"p95 ≤ {p95_limit_ms:g}" if p95_limit_ms else ""),
                (p99_limit_ms, "#9467bd", f"p99 ≤ {p99_limit_ms:g}" if p99_limit_ms else "")])
    step = next(st for st in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1e9) if tmax / st <= 8)
    xticks = [{"x": x(i * step), "text": f"{i * step:g}"} for i in range(int(tmax // step) + 1)]
    return _ENV.from_string(_TEMPLATE).render(
        w=width, h=h, ml=ml, pw=pw, ph=ph, panels=[p1, p2], xticks=xticks,
        title=t("Prueba de carga", "Load test"), xlabel=t("segundos", "seconds"))

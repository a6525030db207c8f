"""The memoria técnica as a self-contained HTML and a PDF (WeasyPrint), laid out by a jinja2 template.

Python only computes the data and the charts' geometry (bars, ticks, shaded incidents); the template draws
the SVG. The PDF carries ``memoria.json`` (the figures and the incident list) as an attachment, so the
institute's II.4 check reads the tool's own memoria exactly, not by scraping its text.
"""

from __future__ import annotations

import datetime as dt
import gettext
import json
import math
from pathlib import Path
from typing import Any


SCHEMA = "prep-conformance/memoria/1"
ATTACHMENT = "memoria.json"

from ..dates import MONTHS_EN, MONTHS_ES  # noqa: E402  (one list for every module)
from ..templating import environment  # noqa: E402


def _offset_label(t: dt.datetime) -> str:
    off = t.utcoffset() or dt.timedelta(0)
    mins = int(off.total_seconds() // 60)
    sign = "−" if mins < 0 else "+"
    h, m = divmod(abs(mins), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "") if mins else "UTC"


def fmt_datetime(v: str | dt.datetime | None, lang: str = "es", tz: dt.tzinfo | None = None,
                 with_date: bool = True) -> str:
    """"2 de junio de 2024, 20:00 h (UTC−6)" / "2 June 2024, 20:00 (UTC−6)"."""
    if v is None or v == "":
        return "—"
    t = dt.datetime.fromisoformat(v) if isinstance(v, str) else v
    if tz is not None:
        t = t.astimezone(tz)
    hm = t.strftime("%H:%M")
    if not with_date:
        return f"{hm} h" if lang == "es" else hm
    if lang == "es":
        return f"{t.day} de {MONTHS_ES[t.month - 1]} de {t.year}, {hm} h ({_offset_label(t)})"
    return f"{t.day} {MONTHS_EN[t.month - 1]} {t.year}, {hm} ({_offset_label(t)})"


def fmt_duration(s: float | None, lang: str = "es") -> str:
    if s is None:
        return "en curso" if lang == "es" else "ongoing"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h} h {m:02d} min"
    if m:
        return f"{m} min {sec:02d} s"
    return f"{sec} s"


def fmt_int(n: int | float | None, lang: str = "es") -> str:
    if n is None:
        return "—"
    if isinstance(n, float) and not n.is_integer():
        s = f"{n:,.1f}"
    else:
        s = f"{int(n):,}"
    return s   # Mexico writes 1,234.5 as English does


def fmt_pct(x: float | None, lang: str = "es") -> str:
    if x is None:
        return "—"
    return f"{100 * x:.1f} %"


def country_name(code: str, english: str, lang: str) -> str:
    """The country's name in the report's language (pycountry's ISO 3166 translations)."""
    if code == "--":
        return "Red privada o local" if lang == "es" else "Private or local network"
    if code == "??":
        return "Desconocido" if lang == "es" else "Unknown"
    try:
        import pycountry
        c = pycountry.countries.get(alpha_2=code)
        if c is None:
            return english or code
        if lang == "es":
            return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"]).gettext(c.name)
        return c.name
    except Exception:
        return english or code


# -- chart geometry --------------------------------------------------------------------------------------

def traffic_chart(series: dict, incidents: list[dict], lang: str, width: int = 760, height: int = 230) -> dict:
    """Bars of requests per bucket (people's page views darker), 5xx marks, incidents shaded."""
    pts = series.get("points") or []
    left, right, top, bottom = 56, 10, 10, 40
    pw, ph = width - left - right, height - top - bottom
    if not pts:
        return {"width": width, "height": height, "empty": True}
    ymax = max(p["requests"] for p in pts) or 1
    nice = max(math.ceil(_nice(ymax / 4)), 1) * 4          # four steps of a round, whole number of requests
    n = len(pts)
    bw = pw / n
    t0 = dt.datetime.fromisoformat(pts[0]["at"])
    bucket = dt.timedelta(minutes=series["bucket_min"])
    t1 = t0 + bucket * n
    span = (t1 - t0).total_seconds()

    def x_of(t: dt.datetime) -> float:
        return left + pw * min(max((t - t0).total_seconds() / span, 0), 1)

    bars = []
    for i, p in enumerate(pts):
        x = left + i * bw
        h_all = ph * p["requests"] / nice
        h_pages = ph * p["page_views"] / nice
        bars.append({"x": round(x, 2), "w": round(max(bw - 0.5, 0.5), 2), "y_all": round(top + ph - h_all, 2),
                     "h_all": round(h_all, 2), "y_pages": round(top + ph - h_pages, 2), "h_pages": round(h_pages, 2),
                     "errors": p["errors"], "title": f"{p['at'][11:16]} {p['requests']}"})
    yticks = [{"y": round(top + ph - ph * v / nice, 2), "label": fmt_int(v, lang)} for v in _ticks(nice)]
    every = max(1, n // 8)
    xticks = [{"x": round(left + i * bw, 2), "label": pts[i]["at"][11:16],
               "day": pts[i]["at"][8:10] + "/" + pts[i]["at"][5:7]} for i in range(0, n, every)]
    shades = []
    for inc in incidents:
        s = dt.datetime.fromisoformat(inc["started_at"])
        e = dt.datetime.fromisoformat(inc["ended_at"]) if inc.get("ended_at") else t1
        if e < t0 or s > t1:
            continue
        x0, x1 = x_of(s), x_of(e)
        shades.append({"x": round(x0, 2), "w": round(max(x1 - x0, 2), 2), "label": inc.get("n")})
    return {"width": width, "height": height, "left": left, "top": top, "pw": pw, "ph": ph, "bars": bars,
            "yticks": yticks, "xticks": xticks, "shades": shades, "empty": False}


def bars_chart(rows: list[tuple[str, float]], lang: str, width: int = 760, row_h: int = 22) -> dict:
    """Horizontal bars (top pages, countries)."""
    label_w, right = 260, 70
    vmax = max((v for _, v in rows), default=0) or 1
    out = []
    for i, (label, v) in enumerate(rows):
        out.append({"y": i * row_h, "label": label if len(label) <= 40 else label[:37] + "…",
                    "w": round((width - label_w - right) * v / vmax, 2), "value": fmt_int(v, lang)})
    return {"width": width, "height": max(row_h * len(rows), row_h), "label_w": label_w, "rows": out,
            "row_h": row_h}


def timeline_chart(incidents: list[dict], start: dt.datetime, end: dt.datetime, lang: str,
                   width: int = 760) -> dict:
    """One lane per incident kind over the window; each incident a bar."""
    kinds = sorted({i.get("kind") or "-" for i in incidents})
    left, right, lane = 110, 10, 24
    pw = width - left - right
    span = max((end - start).total_seconds(), 1)

    def x_of(t: dt.datetime) -> float:
        return left + pw * min(max((t - start).total_seconds() / span, 0), 1)

    bars = []
    for inc in incidents:
        s = dt.datetime.fromisoformat(inc["started_at"])
        e = dt.datetime.fromisoformat(inc["ended_at"]) if inc.get("ended_at") else end
        y = kinds.index(inc.get("kind") or "-") * lane
        bars.append({"x": round(x_of(s), 2), "w": round(max(x_of(e) - x_of(s), 3), 2), "y": y + 4,
                     "h": lane - 8, "n": inc["n"], "source": inc["source"]})
    ticks = []
    for k in range(0, 9):
        t = start + (end - start) * k / 8
        ticks.append({"x": round(x_of(t), 2), "label": t.strftime("%H:%M"), "day": t.strftime("%d/%m")})
    return {"width": width, "height": lane * max(len(kinds), 1) + 34, "left": left, "pw": pw, "lane": lane,
            "kinds": [{"kind": k, "y": i * lane} for i, k in enumerate(kinds)], "bars": bars, "ticks": ticks,
            "axis_y": lane * max(len(kinds), 1)}


def _nice(v: float) -> float:
    if v <= 0:
        return 1
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= m * e:
            return m * e
    return 10 * e


def _ticks(top: float) -> list[float]:
    return [top * k / 4 for k in range(5)]


# -- document ---------------------------------------------------------------------------------------------

_ENV = environment("prep_conformance.memoria")


def render_html(doc: dict[str, Any], lang: str = "es") -> str:
    """The memoria (``doc`` as ``build.memoria_doc`` makes it) as one self-contained HTML page."""
    from .i18n import LABELS
    tz = dt.datetime.fromisoformat(doc["window"]["start"]).tzinfo
    L = LABELS["en" if lang == "en" else "es"]
    env = _ENV.overlay()
    env.filters["dt"] = lambda v, date=True: fmt_datetime(v, lang, tz, date)
    env.filters["dur"] = lambda v: fmt_duration(v, lang)
    env.filters["num"] = lambda v: fmt_int(v, lang)
    env.filters["pct"] = lambda v: fmt_pct(v, lang)
    st = doc.get("stats") or {}
    incs = doc.get("incidents", [])
    charts = {
        "traffic": traffic_chart(st.get("series", {}), incs, lang) if st else None,
        "pages": bars_chart([(p["path"], p["views"]) for p in st.get("top_pages", [])], lang) if st else None,
        "countries": bars_chart([(country_name(c["code"], c["name"], lang), c["visitors"])
                                 for c in st.get("countries", [])[:10]], lang) if st else None,
        "timeline": timeline_chart(incs, dt.datetime.fromisoformat(doc["window"]["start"]),
                                   dt.datetime.fromisoformat(doc["window"]["end"]), lang) if incs else None,
    }
    countries = [{**c, "label": country_name(c["code"], c["name"], lang)} for c in st.get("countries", [])]
    return env.get_template("memoria.html.j2").render(doc=doc, st=st, L=L, lang=lang, charts=charts,
                                                      countries=countries, en=lang == "en")


def write(doc: dict[str, Any], out: Path, lang: str = "es", pdf: bool = True) -> dict[str, Path]:
    """memoria.html, memoria.json and (unless ``pdf`` is false) memoria.pdf in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    html = render_html(doc, lang)
    paths = {"html": out / "memoria.html", "json": out / "memoria.json"}
    paths["html"].write_text(html, encoding="utf-8")
    data = json.dumps(doc, ensure_ascii=False, indent=1)
    paths["json"].write_text(data, encoding="utf-8")
    if pdf:
        import weasyprint
        paths["pdf"] = out / "memoria.pdf"
        att = weasyprint.Attachment(string=data, name=ATTACHMENT, base_url=str(out),
                                    description="prep-conformance memoria (datos)")
        weasyprint.HTML(string=html, base_url=str(out)).write_pdf(paths["pdf"], attachments=[att])
    return paths

"""Render the matrix (index.html) and one dictamen per difusor (<id>.html) from results.json data.

Python here only shapes data (dates in the call's time zone, plurals, headline states, the evidence
kind of each check, header notes); every piece of HTML is in ``templates/`` (one partial per evidence
kind under ``templates/evidence/``). ``print_mode`` renders the same document for paper (WeasyPrint):
every piece of evidence in full, the raw JSON in an annex, no navigation.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Mapping

from markupsafe import Markup

from .. import catalog
from ..templating import environment
from ..verdict import SEVERITY_ORDER
from . import charts
from . import evidence as evk
from .i18n import LABELS, check_title, fmt_date, fmt_datetime, plural

def _css_string(value: Any) -> Markup:
    """Text safe inside a CSS string literal in a <style> element (page footers)."""
    s = " ".join(str(value).split())
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ").replace(">", "\\3E ")
    return Markup(s)


_ENV = environment("prep_conformance.report")
_ENV.filters["tojson_pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=2, default=str)
_ENV.filters["plain_evidence"] = evk.plain
_ENV.filters["css_string"] = _css_string
_ENV.globals["plural"] = plural
# the matrix cells: one symbol per verdict (the legend and each cell's tooltip name it)
_ENV.globals["SYM"] = {"PASS": "✓", "FAIL": "✗", "ERROR": "⚠", "MANUAL": "✎", "WARN": "!", "SKIP": "–",
                       "NOT_VERIFIED": "?"}
_ENV.filters["listing"] = lambda v: ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else ("" if v in (None, 0) else str(v))
# ``difs|map("attr_state", rid)``: each difusor's display state of one requirement (column totals)
_ENV.filters["headline_state"] = lambda d: evk.headline(d)
_ENV.filters["attr_state"] = lambda d, rid: evk.requirement_state(d, rid)


def conv_info(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What the reports need from the convocatoria: its UTC offset, sections' literal sentences, digest.

    results.json carries it (``convocatoria_info``) since this version; an older one falls back to the
    bundled file of the same id."""
    info = dict(doc.get("convocatoria_info") or {})
    if not info.get("sections") or "utc_offset_min" not in info:
        ids = [c.strip() for c in str(doc.get("convocatoria", "")).split(",") if c.strip()]
        try:
            from ..convocatoria import bundled_ids, load_convocatoria
            if ids and ids[0] in bundled_ids():
                c = load_convocatoria(ids[0])
                if not info.get("sections"):
                    info["sections"] = dict(c.sections)
                off = c.publication.start.utcoffset()
                info.setdefault("utc_offset_min", int(off.total_seconds() // 60) if off is not None else None)
                info.setdefault("institute", c.institute)
                info.setdefault("agreement", c.agreement)
        except Exception:   # a report is still written without the quotes
            pass
    return info


def _sha(doc: Mapping[str, Any]) -> str | None:
    """The convocatoria file's SHA-256 when results.json carries it (``convocatoria_sha256``, or a
    ``sha256`` inside any ``convocatoria*`` object)."""
    import re as _re
    hexa = _re.compile(r"^[0-9a-f]{64}$")
    for key, value in doc.items():
        if not str(key).startswith("convocatoria"):
            continue
        if isinstance(value, str) and hexa.match(value):
            return value
        if isinstance(value, Mapping):
            for k in ("sha256", "digest"):
                v = value.get(k)
                if isinstance(v, str) and hexa.match(v.split(":")[-1]):
                    return v.split(":")[-1]
    return None


def _context(doc: Mapping[str, Any], lang: str, print_mode: bool = False) -> dict[str, Any]:
    lang = "en" if lang == "en" else "es"
    info = conv_info(doc)
    off = info.get("utc_offset_min")
    L = LABELS[lang]

    def when(value: Any, with_date: bool = True) -> str:
        return fmt_datetime(value, lang, off, with_date=with_date)

    def state(d: Mapping[str, Any]) -> str:
        return evk.headline(d)

    return {"doc": doc, "lang": lang, "requirements": catalog.requirements(), "en": lang == "en",
            "L": L, "verdicts": [v.value for v in SEVERITY_ORDER], "charts": charts,
            "print_mode": print_mode, "when": when, "conv": info, "conv_sha256": _sha(doc),
            "headline": state, "req_state": evk.requirement_state, "pending": evk.pending_items,
            "kind_of": evk.kind_of, "ev": evk, "check_title": lambda name: check_title(name, lang),
            "text": lambda c: evk.text(c, lang), "note_text": lambda n: evk.note_text(n, lang),
            "headers_table": lambda lines: evk.header_rows(lines, lang),
            "cell_reason": lambda d, rid: evk.cell_reason(d, rid, lang),
            "day": lambda v: fmt_date(v, lang)}


def render_index(doc: Mapping[str, Any], lang: str = "es", print_mode: bool = False) -> str:
    return _ENV.get_template("index.html.j2").render(**_context(doc, lang, print_mode))


def render_dictamen(doc: Mapping[str, Any], difusor: Mapping[str, Any], lang: str = "es",
                    print_mode: bool = False) -> str:
    return _ENV.get_template("dictamen.html.j2").render(difusor=difusor, **_context(doc, lang, print_mode))


def render_run(doc: Mapping[str, Any], out_dir: str | Path, lang: str = "es") -> Path:
    """Write index.html and <id>.html for every difusor; returns the index path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for d in doc.get("difusores", []):
        (out / f"{d['id']}.html").write_text(render_dictamen(doc, d, lang), encoding="utf-8")
    index = out / "index.html"
    index.write_text(render_index(doc, lang), encoding="utf-8")
    return index


def render_pdfs(doc: Mapping[str, Any], out_dir: str | Path, lang: str = "es") -> list[Path]:
    """One PDF per dictamen (``<id>.pdf``) and one for the matrix (``index.pdf``), by WeasyPrint from the
    print rendering of the same templates. Returns the paths written."""
    from .pdf import html_to_pdf
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for d in doc.get("difusores", []):
        path = out / f"{d['id']}.pdf"
        html_to_pdf(render_dictamen(doc, d, lang, print_mode=True), path, base_url=str(out))
        written.append(path)
    path = out / "index.pdf"
    html_to_pdf(render_index(doc, lang, print_mode=True), path, base_url=str(out))
    written.append(path)
    return written


def safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text)


_ENV.filters["safe_id"] = safe_id

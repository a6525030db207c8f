"""Render the matrix (index.html) and one dictamen per difusor (<id>.html) from results.json data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import jinja2

from .. import catalog
from ..verdict import SEVERITY_ORDER
from .i18n import LABELS

# Evidence keys that hold a chart (SVG text made by our own code from numbers): shown as an image, not as JSON.
CHART_KEYS = ("chart_svg",)


def _svg_data_uri(svg: str) -> str:
    """An <img> data URI: self-contained, and an SVG in <img> can run no script."""
    import base64
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _plain_evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (evidence or {}).items() if k not in CHART_KEYS}

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("prep_conformance.report", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
    trim_blocks=True, lstrip_blocks=True,
)
_ENV.filters["tojson_pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=2, default=str)
_ENV.filters["svg_data_uri"] = lambda v: _svg_data_uri(v)
_ENV.filters["plain_evidence"] = lambda v: _plain_evidence(v)


def _context(doc: Mapping[str, Any], lang: str) -> dict[str, Any]:
    return {"doc": doc, "lang": lang, "requirements": catalog.requirements(), "en": lang == "en",
            "L": LABELS["en" if lang == "en" else "es"], "verdicts": [v.value for v in SEVERITY_ORDER],
            "chart_keys": CHART_KEYS}


def render_index(doc: Mapping[str, Any], lang: str = "es") -> str:
    return _ENV.get_template("index.html.j2").render(**_context(doc, lang))


def render_dictamen(doc: Mapping[str, Any], difusor: Mapping[str, Any], lang: str = "es") -> str:
    return _ENV.get_template("dictamen.html.j2").render(difusor=difusor, **_context(doc, lang))


def render_run(doc: Mapping[str, Any], out_dir: str | Path, lang: str = "es") -> Path:
    """Write index.html and <id>.html for every difusor; returns the index path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for d in doc.get("difusores", []):
        (out / f"{d['id']}.html").write_text(render_dictamen(doc, d, lang), encoding="utf-8")
    index = out / "index.html"
    index.write_text(render_index(doc, lang), encoding="utf-8")
    return index

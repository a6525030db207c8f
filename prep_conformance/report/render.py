"""Render the matrix (index.html) and one dictamen per difusor (<id>.html) from results.json data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import jinja2

from .. import catalog

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("prep_conformance.report", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
    trim_blocks=True, lstrip_blocks=True,
)
_ENV.filters["tojson_pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=2, default=str)


def _context(doc: Mapping[str, Any], lang: str) -> dict[str, Any]:
    return {"doc": doc, "lang": lang, "requirements": catalog.requirements(), "en": lang == "en"}


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

"""results.json → HTML: data laid out by jinja2 templates (autoescape on), self-contained."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .render import render_run, render_index, render_dictamen

__all__ = ["render_run", "render_index", "render_dictamen"]

"""results.json → HTML: data laid out by jinja2 templates (autoescape on), self-contained.

The renderers load on first use: rules and checks import ``report.i18n`` and ``report.evidence`` and need
neither jinja2 nor the templates."""

from __future__ import annotations

from typing import Any

__all__ = ["render_run", "render_index", "render_dictamen"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import render
        return getattr(render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

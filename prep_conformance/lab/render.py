"""Jinja2 rendering of the lab's configs (nginx, VCL); placeholders are listed in lab/README.md."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

import jinja2

if TYPE_CHECKING:
    from .component import Context
    from .scenario import Scenario

# {{ }} and {% %} do not clash with nginx's or VCL's single braces and $variables.
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


def template_text(name: str) -> str:
    return resources.files("prep_conformance.lab").joinpath("templates", name).read_text(encoding="utf-8")


def render(text: str, **values: Any) -> str:
    return _ENV.from_string(text).render(**values)


def scenario_vars(ctx: "Context", sc: "Scenario") -> dict[str, Any]:
    """The placeholders every scenario template may use."""
    from ..convocatoria import load_convocatoria
    conv = load_convocatoria(ctx.convocatoria_path)
    ports = ctx.ports_of(sc.id)
    return {
        "sid": sc.id, "sid_": sc.id.replace("-", "_"), "scenario": sc,
        "host": ctx.host(sc.id), "origin_host": f"{sc.id}-origin.{ctx.host(sc.id).split('.', 1)[1]}",
        "ports": ports, "lab_ports": ctx.ports_of("lab"),
        "docroot": str(ctx.docroot(sc.id)), "state": str(ctx.state), "logs": str(ctx.logs),
        "run_dir": str(ctx.run_dir), "ca": str(ctx.ca.cert_path),
        "front_cert": str(ctx.state / "pki" / f"{sc.id}-front.pem"),
        "front_key": str(ctx.state / "pki" / f"{sc.id}-front.key"),
        "origin_cert": str(ctx.state / "pki" / f"{sc.id}-origin.pem"),
        "origin_key": str(ctx.state / "pki" / f"{sc.id}-origin.key"),
        "main_json_path": conv.main_json.path, "cache_control": conv.main_json.cache_control,
    }

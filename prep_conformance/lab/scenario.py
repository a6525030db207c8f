"""Lab scenarios: one difusor each, compliant or faulty on purpose, collected from ``lab/scenarios/*.py``.

A check that has never been seen to fail proves nothing: every faulty scenario declares in ``expect``
which requirements must get which verdict; every other requirement must not be FAIL or ERROR.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


@dataclass(frozen=True)
class CertSpec:
    """The certificate a scenario's public HTTPS front presents (issued by the lab CA unless self-signed).

    Attributes:
        kind: ``valid`` | ``expired`` | ``wrong_name`` | ``self_signed``.
        names: DNS names in the SAN; default the scenario's host (``wrong_name``: ``otro.lab.prep.example``).
        not_after_days: validity end, in days from ``lab up`` (default 365; ``expired``: -2).
        not_after: an absolute end (aware datetime); wins over ``not_after_days``.
        not_before_days: validity start, in days from ``lab up`` (default -1).
        key: ``ec`` (P-256) or ``rsa`` (2048).
    """

    kind: str = "valid"
    names: tuple[str, ...] = ()
    not_after_days: float | None = None
    not_after: dt.datetime | None = None
    not_before_days: float = -1
    key: str = "ec"

    def __post_init__(self) -> None:
        if self.kind not in ("valid", "expired", "wrong_name", "self_signed"):
            raise ValueError(f"CertSpec.kind: unknown {self.kind!r}")


@dataclass(frozen=True)
class Scenario:
    """One lab difusor.

    Attributes:
        id: slug; also the profile id and the host ``<id>.lab.prep.example``.
        title_es, title_en: one line saying what is (wrong) with it.
        expect: requirement ID → verdict it must get (``FAIL``, ``ERROR``, ``WARN``...); every other
            requirement must not be FAIL/ERROR.
        family: who owns it (``core``, ``web``, ``ssh``, ``publication``, ``load``).
        corte: which corte of the lab paquete the origin serves: ``None`` the newest (the one the
            profile's ``package:`` names), ``-1`` the one before, a positive int that secuencia.
        mutation: applied to the scenario's own docroot copy after it is filled: ``"alter_file"``
            (one byte of one CSV) or a callable ``fn(docroot: Path, ctx) -> None``.
        paquete_size: ``tiny`` | ``small`` | ``realistic``; ``None`` the lab's default (``small``).
        tls: ``False`` for a plain-HTTP-only site (no HTTPS front at all).
        cert: the public certificate (see ``CertSpec``).
        nginx_front, nginx_origin: jinja2 templates of nginx ``server {}`` blocks replacing the defaults
            (``templates/front.conf.j2``, ``templates/origin.conf.j2``); placeholders in lab/README.md.
        nginx_extra: more server blocks (templated) appended to this scenario's nginx file.
        vcl_recv, vcl_backend_response, vcl_deliver: VCL bodies replacing this scenario's defaults
            (``varnish.VCL_RECV`` ... ; compose as ``varnish.VCL_DELIVER + "..."``).
        vcl_extra: top-level VCL (e.g. a backend); prefix every name with the scenario id.
        profile: deep-merged into the generated profile (a ``None`` value deletes the key).
        requires: component names the scenario needs (``sshd``, ``dns``...); without them it is not started.
        options: free-form per-component settings, e.g. ``{"sshd": {"rate_mb_s": 20}}``.
    """

    id: str
    title_es: str
    title_en: str
    expect: Mapping[str, str] = field(default_factory=dict)
    family: str = "core"
    corte: int | None = None
    mutation: str | Callable[[Path, Any], None] | None = None
    paquete_size: str | None = None
    tls: bool = True
    cert: CertSpec = CertSpec()
    nginx_front: str | None = None
    nginx_origin: str | None = None
    nginx_extra: str = ""
    vcl_recv: str | None = None
    vcl_backend_response: str | None = None
    vcl_deliver: str | None = None
    vcl_extra: str = ""
    profile: Mapping[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not SLUG.match(self.id):
            raise ValueError(f"scenario id must be a slug (a-z, 0-9, '-', ≤ 41 chars): {self.id!r}")
        if self.paquete_size not in (None, "tiny", "small", "realistic"):
            raise ValueError(f"{self.id}: paquete_size {self.paquete_size!r}")
        bad = {k: v for k, v in self.expect.items()
               if v not in ("PASS", "FAIL", "WARN", "ERROR", "SKIP", "MANUAL")}
        if bad:
            raise ValueError(f"{self.id}: expect has unknown verdicts {bad}")


def discover(package: str = "prep_conformance.lab.scenarios") -> tuple[list[Scenario], list[str]]:
    """Every ``SCENARIOS`` list of every module in the package (``core`` first), and import problems.

    A module that fails to import is reported, not fatal: one engineer's broken file does not stop
    the lab for the others.
    """
    pkg = importlib.import_module(package)
    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))
    names.sort(key=lambda n: (n != "core", n))
    found: list[Scenario] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for name in names:
        try:
            mod = importlib.import_module(f"{package}.{name}")
        except Exception as exc:  # noqa: BLE001 - reported to the user
            problems.append(f"scenarios/{name}.py: {type(exc).__name__}: {exc}")
            continue
        for sc in getattr(mod, "SCENARIOS", []):
            if not isinstance(sc, Scenario):
                problems.append(f"scenarios/{name}.py: not a Scenario: {sc!r}")
            elif sc.id in seen:
                problems.append(f"scenarios/{name}.py: duplicate scenario id {sc.id!r} (also in {seen[sc.id]})")
            else:
                seen[sc.id] = f"scenarios/{name}.py"
                found.append(sc)
    return found, problems


def deep_merge(base: dict, over: Mapping) -> dict:
    """``over`` into a copy of ``base``: dicts merge, everything else replaces, ``None`` deletes."""
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out

"""The lab's pluggable components: a tiny base class and the context every component gets.

nginx and Varnish are built in; ``sshd``, ``dns`` and ``altorigins`` are optional modules in this
package, loaded when they exist (each exports ``COMPONENT`` or ``COMPONENTS``). Everything a component
starts or creates goes through the context (``spawn``, ``register``), so ``lab down`` can stop and
remove it by record even after a partial ``up`` or when the component's own ``stop`` fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import procs

if TYPE_CHECKING:
    from .ca import CA
    from .scenario import CertSpec, Scenario

DOMAIN = "lab.prep.example"


class LabError(Exception):
    """A lab problem a person can act on (port taken, server refused its config, missing binary)."""


class Component:
    """Base class: override what you need. Methods are called in this order by ``lab up``:
    ``plan`` (allocate ports with ``ctx.port``), ``start``; by ``lab down``: ``stop``.

    Attributes:
        name: unique, short (``nginx``, ``varnish``, ``sshd``...).
        order: start order (lower first); ``stop`` runs in reverse.
    """

    name: str = "component"
    order: int = 50

    def available(self) -> str | None:
        """``None`` when usable here, else why not (e.g. "sshd not installed"): the lab then skips it."""
        return None

    def plan(self, ctx: "Context") -> None:
        """Allocate ports (``ctx.port(scenario_id, name)``) for the scenarios this component serves."""

    def start(self, ctx: "Context") -> None:
        """Write configs, create resources (``ctx.register`` first), start processes (``ctx.spawn``)."""

    def stop(self, ctx: "Context") -> None:
        """Undo what ``start`` did beyond processes and registered resources (both are handled by the lab)."""

    def status(self, ctx: "Context") -> list[dict[str, Any]]:
        """Extra health lines; processes spawned through ``ctx`` are reported by the lab already."""
        return []

    def profile_for(self, scenario: "Scenario", ctx: "Context") -> dict[str, Any]:
        """Profile keys this component contributes for ``scenario`` (deep-merged; scenario overrides win)."""
        return {}


@dataclass
class Context:
    """What a component sees: paths, scenarios, ports, the CA, and recorders for processes and resources.

    Its record (ports, processes, resources, ``data``) is saved to ``<state>/lab.json`` at every change.
    """

    state: Path
    scenarios: list["Scenario"]
    ca: "CA"
    window: tuple[dt.datetime, dt.datetime]
    convocatoria_path: Path
    paquete_dirs: dict[str, list[Path]]            # size -> corte folders, oldest first
    port_base: int
    record: dict[str, Any] = field(default_factory=dict)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    def __post_init__(self) -> None:
        for k, v in (("ports", {}), ("procs", []), ("resources", []), ("data", {})):
            self.record.setdefault(k, v)

    # ------------------------------------------------------------------ names and paths
    @staticmethod
    def host(sid: str) -> str:
        return f"{sid}.{DOMAIN}"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state / "run"

    def docroot(self, sid: str) -> Path:
        """The folder the scenario's nginx origin serves (its own copy of a corte)."""
        return self.state / "www" / sid

    def scenario(self, sid: str) -> "Scenario":
        return next(s for s in self.scenarios if s.id == sid)

    def package_dir(self, sc: "Scenario") -> Path:
        """The newest corte folder of the scenario's paquete size: what its profile's ``package:`` names."""
        return self.paquete_dirs[sc.paquete_size or "small"][-1]

    def data(self, component: str) -> dict[str, Any]:
        """A component's own persisted notes (saved with the record)."""
        return self.record["data"].setdefault(component, {})

    # ------------------------------------------------------------------ ports
    def port(self, sid: str, name: str) -> int:
        """A loopback TCP port for (scenario or ``"lab"``, name): allocated once, deterministic, recorded."""
        key = f"{sid}:{name}"
        ports = self.record["ports"]
        if key not in ports:
            ports[key] = self.port_base + len(ports)
        return ports[key]

    def ports_of(self, sid: str) -> dict[str, int]:
        return {k.split(":", 1)[1]: v for k, v in self.record["ports"].items() if k.split(":", 1)[0] == sid}

    # ------------------------------------------------------------------ certificates
    def cert(self, name: str, spec: "CertSpec | None" = None, names: tuple[str, ...] = ()) -> tuple[Path, Path]:
        """Issue (or reuse) ``<state>/pki/<name>.pem`` and ``.key`` from the lab CA per ``spec``."""
        from .scenario import CertSpec
        return self.ca.issue(name, spec or CertSpec(), names, now=self.now)

    # ------------------------------------------------------------------ processes and resources
    def spawn(self, component: str, name: str, argv: list[str], *, ports: list[int] = (), timeout: float = 15,
              env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
        """Start a foreground server, log to ``logs/<name>.log``, record its PID, wait for ``ports``.

        Raises ``LabError`` with the log's tail when it exits or does not listen in time.
        """
        log = self.logs / f"{name}.log"
        p = procs.spawn(list(argv), log, env=env, cwd=cwd)
        self.record["procs"].append({"component": component, "name": name, "pid": p.pid,
                                     "start": procs.start_time(p.pid), "argv": list(argv), "log": str(log),
                                     "children": []})
        self.save()
        closed = procs.wait_listening(list(ports), timeout, p) if ports else []
        if p.poll() is not None or closed:
            why = f"exited with {p.returncode}" if p.poll() is not None else f"not listening on {closed}"
            raise LabError(f"{name} {why}; log {log}:\n{procs.tail(log)}")
        self.refresh_children()
        return p.pid

    def refresh_children(self) -> None:
        """Record the current descendants (nginx workers, Varnish child) of every live spawned process."""
        for rec in self.record["procs"]:
            if procs.alive(rec["pid"], rec["start"]):
                known = {c["pid"] for c in rec["children"]}
                for c in procs.children(rec["pid"]):
                    if c not in known:
                        rec["children"].append({"pid": c, "start": procs.start_time(c)})
        self.save()

    def register(self, component: str, kind: str, value: str, **extra: Any) -> None:
        """Record a resource BEFORE creating it, so ``down`` removes it even after a crash.

        Kinds the lab knows how to remove: ``netns`` (``ip netns del``), ``link`` (``ip link del``),
        ``mount`` (``umount -l``), ``user`` (``userdel -r``), ``group`` (``groupdel``), ``path`` (rm -rf,
        only inside the state folder), ``command`` (``extra["undo"]``, an argv list, run as is).
        """
        self.record["resources"].append({"component": component, "kind": kind, "value": value, **extra})
        self.save()

    def run(self, argv: list[str], timeout: float = 30, check: bool = True) -> subprocess.CompletedProcess:
        """Run a short command (``ip``, ``tc``, ``useradd``...); a failure is a ``LabError`` with its stderr."""
        try:
            cp = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LabError(f"{' '.join(argv)}: {exc}") from None
        if check and cp.returncode != 0:
            raise LabError(f"{' '.join(argv)} failed ({cp.returncode}): {cp.stderr.strip() or cp.stdout.strip()}")
        return cp

    def save(self) -> None:
        path = self.state / "lab.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.record, indent=1, default=str))
        os.replace(tmp, path)

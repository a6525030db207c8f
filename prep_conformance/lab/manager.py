"""The lab: scenarios in, real servers up on loopback, one profile per scenario out; and back down.

Everything lives in one state folder (default ``/var/lib/prep-conformance/lab``, env ``PREP_LAB_DIR``):
``lab.json`` (ports, PIDs, resources: what ``down`` undoes), ``logs/``, ``pki/``, ``paquete/``, ``www/``,
``nginx/``, ``varnish/``, ``docs/``, ``profiles/<scenario>.yaml`` and ``convocatoria-lab.yaml``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import importlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import yaml

from .. import paquete
from ..convocatoria import bundled_dir
from . import procs
from .ca import CA
from .component import Component, Context, LabError
from .docs import write_documents
from .nginx import Nginx
from .scenario import Scenario, deep_merge, discover
from .varnish import Varnish

DEFAULT_STATE = "/var/lib/prep-conformance/lab"
DEFAULT_PORT_BASE = 20000
OPTIONAL_COMPONENTS = ("sshd", "dns", "altorigins", "cdnapis", "hostile")
SIZES = {"tiny": dict(paquete.TINY), "small": {"actas": 40, "image_bytes": 4000}, "realistic": dict(paquete.REALISTIC)}
CORTES = 3                 # the lab paquete: cortes 1..3; profiles deliver the newest (3)
WINDOW_DELAY_DAYS = 14     # the lab's publication window starts this long after `lab up`
TZ = paquete.TZ


def default_state_dir() -> Path:
    return Path(os.environ.get("PREP_LAB_DIR") or DEFAULT_STATE)


def load_components() -> tuple[list[Component], list[str]]:
    """nginx and Varnish, plus the optional component modules that exist and import; and the problems met."""
    comps: list[Component] = [Nginx(), Varnish()]
    problems: list[str] = []
    skip = {s.strip() for s in os.environ.get("PREP_LAB_SKIP_COMPONENTS", "").split(",") if s.strip()}
    for mod_name in OPTIONAL_COMPONENTS:
        full = f"{__package__}.{mod_name}"
        try:
            mod = importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:
                problems.append(f"lab/{mod_name}.py: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - one broken component must not stop the lab
            problems.append(f"lab/{mod_name}.py: {type(exc).__name__}: {exc}")
            continue
        found = getattr(mod, "COMPONENTS", None) or ([mod.COMPONENT] if hasattr(mod, "COMPONENT") else [])
        comps.extend(c for c in found if isinstance(c, Component))
    comps = [c for c in comps if c.name not in skip]
    comps.sort(key=lambda c: c.order)
    return comps, problems


def lab_convocatoria(now: dt.datetime) -> dict[str, Any]:
    """The bundled iem-michoacan-2024 with its publication window moved into the future (same length)."""
    with bundled_dir().joinpath("iem-michoacan-2024.yaml").open(encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    pub = doc["publication"]
    start0, end0 = (v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v))
                    for v in (pub["start"], pub["end"]))
    day = (now.astimezone(TZ) + dt.timedelta(days=WINDOW_DELAY_DAYS)).date()
    start = dt.datetime.combine(day, start0.astimezone(TZ).timetz())
    pub["start"] = start.isoformat()
    pub["end"] = (start + (end0 - start0)).isoformat()
    return doc


def _profile_base(sc: Scenario, ctx: Context) -> dict[str, Any]:
    return {
        "id": sc.id,
        "name": f"Laboratorio: {sc.title_es}",
        "kind": "medio",
        "entidad": "Michoacán",
        "convocatoria": "../convocatoria-lab.yaml",
        "contact": {"name": "Ana Laboratorio Pérez", "email": "ana.lab@medio-lab.example", "phone": "443 555 0101",
                    "work_phone": "443 555 0102", "extension": "125"},
        "registration_ip": "203.0.113.10",
        "sites": {},
        "target": "test",
        "staff": [{"name": "Ana Laboratorio Pérez", "role": "Coordinación técnica", "phone": "443 555 0101",
                   "email": "ana.lab@medio-lab.example"},
                  {"name": "Bruno Ficticio Ruiz", "role": "Administración de servidores", "phone": "443 555 0103",
                   "email": "bruno.lab@medio-lab.example"}],
        "documents": {"diagram": "../docs/diagrama.pdf", "logo": "../docs/logo.svg"},
        "http": {},
        "cdn": {"drill": False},
        "load": {"authorized": False},
        "package": str(ctx.package_dir(sc)),
        "expect": dict(sc.expect),
    }


class Lab:
    """The reference lab. ``Lab().up()``, ``.status()``, ``.down()``, ``.profile_path(id)``, ``.scenarios()``."""

    def __init__(self, state_dir: str | Path | None = None, *, port_base: int | None = None):
        self.state = Path(state_dir) if state_dir else default_state_dir()
        self.state = self.state.expanduser().absolute()
        env_base = os.environ.get("PREP_LAB_PORT_BASE")
        self.port_base = port_base or (int(env_base) if env_base else DEFAULT_PORT_BASE)

    # ------------------------------------------------------------------ queries
    def scenarios(self) -> list[Scenario]:
        """Every scenario of every module in ``lab/scenarios/`` (whether up or not)."""
        return discover()[0]

    def scenario(self, sid: str) -> Scenario:
        for sc in self.scenarios():
            if sc.id == sid:
                return sc
        raise LabError(f"no scenario {sid!r}")

    @property
    def profiles_dir(self) -> Path:
        return self.state / "profiles"

    def profile_path(self, scenario_id: str) -> Path:
        return self.profiles_dir / f"{scenario_id}.yaml"

    def record(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.state / "lab.json").read_text())
        except (OSError, ValueError):
            return None

    def active(self) -> list[str]:
        """The scenario ids the running lab serves (empty when down)."""
        rec = self.record()
        return list(rec.get("scenarios", [])) if rec and rec.get("status") == "up" else []

    def is_up(self) -> bool:
        rec = self.record()
        return bool(rec and rec.get("status") == "up" and self._dead(rec) == [])

    @staticmethod
    def _dead(rec: dict[str, Any]) -> list[str]:
        return [p["name"] for p in rec.get("procs", []) if not procs.alive(p["pid"], p.get("start"))]

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.state.mkdir(parents=True, exist_ok=True)
        with open(self.state / ".lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ up
    def up(self, scenarios: list[str] | None = None, log=print) -> dict[str, Any]:
        """Start the lab (all scenarios, or these ids). Harmless when already up with them."""
        with self._lock():
            rec = self.record()
            if rec is not None:   # up, or left behind by a crashed/partial up: never lose its records
                dead = self._dead(rec)
                running = set(rec.get("scenarios", []))
                if rec.get("status") == "up" and not dead:
                    missing = sorted(set(scenarios or []) - running)
                    if missing:
                        raise LabError(f"the lab in {self.state} is up without {', '.join(missing)}; "
                                       f"run `lab down` first (or use another --state)")
                    log(f"lab already up in {self.state} ({len(running)} scenarios)")
                    return self.status()
                log(f"lab in {self.state} is broken ({', '.join(dead) or 'partial start'}): cleaning up first")
                self._down_locked(log)
            return self._up_locked(scenarios, log)

    def _select(self, wanted: list[str] | None, comps: list[Component]) -> tuple[list[Scenario], dict[str, str]]:
        allsc, problems = discover()
        if problems and wanted is None:
            for p in problems:
                print(f"warning: {p}")
        by_id = {s.id: s for s in allsc}
        if wanted:
            unknown = [w for w in wanted if w not in by_id]
            if unknown:
                raise LabError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(by_id)}")
            chosen = [by_id[w] for w in wanted]
        else:
            chosen = allsc
        names = {c.name for c in comps}
        skipped = {s.id: f"needs {', '.join(r for r in s.requires if r not in names)}" for s in chosen
                   if any(r not in names for r in s.requires)}
        if wanted and skipped:
            raise LabError(f"cannot start: {skipped}")
        return [s for s in chosen if s.id not in skipped], skipped

    def _up_locked(self, wanted: list[str] | None, log) -> dict[str, Any]:
        t0 = time.monotonic()
        comps, comp_problems = load_components()
        for p in comp_problems:
            log(f"warning: {p}")
        unusable = {c.name: c.available() for c in comps if c.available()}
        for name, why in unusable.items():
            if name in ("nginx", "varnish"):
                raise LabError(f"{why} (run bootstrap.sh)")
            log(f"warning: component {name} skipped: {why}")
        comps = [c for c in comps if c.name not in unusable]
        chosen, skipped = self._select(wanted, comps)
        if not chosen:
            raise LabError("no scenario to start")
        for d in ("logs", "run", "pki", "docs", "profiles", "www"):
            (self.state / d).mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.timezone.utc)
        conv = lab_convocatoria(now)
        conv_path = self.state / "convocatoria-lab.yaml"
        conv_path.write_text("# LAB COPY of iem-michoacan-2024: publication window moved into the future "
                             f"(lab up at {now.isoformat(timespec='seconds')}); everything else identical.\n"
                             + yaml.safe_dump(conv, sort_keys=False, allow_unicode=True), encoding="utf-8")
        window = (dt.datetime.fromisoformat(conv["publication"]["start"]),
                  dt.datetime.fromisoformat(conv["publication"]["end"]))
        sizes = sorted({s.paquete_size or "small" for s in chosen})
        pq_dirs = {size: self._paquete(size) for size in sizes}
        write_documents(self.state / "docs")
        ctx = Context(self.state, chosen, CA(self.state / "pki"), window, conv_path, pq_dirs, self.port_base,
                      record={"status": "starting", "state": str(self.state), "started_at": now.isoformat(),
                              "scenarios": [s.id for s in chosen], "skipped": skipped,
                              "components": [c.name for c in comps], "window": [w.isoformat() for w in window]},
                      now=now)
        ctx.save()
        try:
            for c in comps:
                c.plan(ctx)
            taken = [(k, p) for k, p in ctx.record["ports"].items() if not procs.port_free(p)]
            if taken:
                lines = "; ".join(f"{p} ({k}) held by {procs.port_holder(p)}" for k, p in taken[:8])
                raise LabError(f"port(s) already taken: {lines}. Stop what holds them, or choose another base "
                               f"with PREP_LAB_PORT_BASE (now {self.port_base}).")
            ctx.save()
            for sc in chosen:
                self._docroot(ctx, sc)
            self._profiles(ctx, comps)
            for c in comps:
                log(f"starting {c.name} ...")
                c.start(ctx)
        except BaseException:
            ctx.record["status"] = "failed"
            ctx.save()
            log("start failed: stopping what was started")
            self._down_locked(lambda *_: None)
            raise
        ctx.refresh_children()
        ctx.record["status"] = "up"
        ctx.record["up_seconds"] = round(time.monotonic() - t0, 2)
        ctx.save()
        log(f"lab up in {self.state}: {len(chosen)} scenarios in {ctx.record['up_seconds']} s"
            + (f"; skipped {skipped}" if skipped else ""))
        return {**self.status(), "started_now": True}

    def _paquete(self, size: str) -> list[Path]:
        """The lab paquete of a size (cortes 1..CORTES), generated once and reused while its parameters hold."""
        base = self.state / "paquete" / size
        params = {"cortes": CORTES, "seed": 0, **SIZES[size], "generator": 1}
        stamp = base / "params.json"
        dirs = [base / paquete.corte_dirname(i) for i in range(1, CORTES + 1)]
        try:
            if json.loads(stamp.read_text()) == params and all((d / paquete.MANIFEST).exists() for d in dirs):
                return dirs
        except (OSError, ValueError):
            pass
        if base.exists():
            shutil.rmtree(base)
        base.mkdir(parents=True)
        dirs = paquete.generate_series(base, CORTES, seed=0, **SIZES[size])
        stamp.write_text(json.dumps(params))
        return dirs

    def _docroot(self, ctx: Context, sc: Scenario) -> Path:
        """The scenario's own copy of the corte it serves (acta images hard-linked for the realistic size)."""
        cortes = ctx.paquete_dirs[sc.paquete_size or "small"]
        if sc.corte is None:
            src = cortes[-1]
        elif sc.corte < 0:
            src = cortes[max(0, len(cortes) - 1 + sc.corte)]
        else:
            src = cortes[min(sc.corte, len(cortes)) - 1]
        dst = ctx.docroot(sc.id)
        if dst.exists():
            shutil.rmtree(dst)
        link = (sc.paquete_size or "small") == "realistic"

        def copy(s: str, d: str) -> None:
            if link and "/actas/" in s:
                os.link(s, d)
            else:
                shutil.copy2(s, d)
        shutil.copytree(src, dst, copy_function=copy)
        if sc.mutation == "alter_file":
            paquete.alter_file(dst)
        elif callable(sc.mutation):
            sc.mutation(dst, ctx)
        elif sc.mutation is not None:
            raise LabError(f"{sc.id}: unknown mutation {sc.mutation!r}")
        return dst

    def _profiles(self, ctx: Context, comps: list[Component]) -> None:
        from ..profile import load_profile
        from ..trust import TRUSTED
        from ..yamlsource import SourceErrors
        bad_dir = self.state / "profiles-invalid"
        for d in (self.profiles_dir, bad_dir):
            if d.exists():
                shutil.rmtree(d)
        self.profiles_dir.mkdir(parents=True)
        problems = {}
        for sc in ctx.scenarios:
            doc = _profile_base(sc, ctx)
            for c in comps:
                doc = deep_merge(doc, c.profile_for(sc, ctx) or {})
            doc = deep_merge(doc, sc.profile)
            path = self.profile_path(sc.id)
            path.write_text(f"# Lab scenario {sc.id} ({sc.family}): {sc.title_en}\n"
                            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
            try:
                load_profile(path, trust=TRUSTED)     # the lab wrote it: the project vouches for it
            except SourceErrors as exc:
                bad_dir.mkdir(exist_ok=True)
                shutil.move(str(path), bad_dir / path.name)
                problems[sc.id] = [str(e) for e in exc.errors]
        ctx.record["profile_problems"] = problems
        ctx.save()

    # ------------------------------------------------------------------ down
    def down(self, log=print) -> dict[str, Any]:
        """Stop exactly what ``up`` started (by PID), remove what it created; safe after a partial ``up``."""
        with self._lock():
            return self._down_locked(log)

    def _down_locked(self, log) -> dict[str, Any]:
        rec = self.record()
        if rec is None:
            log(f"lab in {self.state} is not up")
            return {"stopped": [], "removed": [], "errors": []}
        report: dict[str, Any] = {"stopped": [], "removed": [], "errors": []}
        comps, _ = load_components()
        allsc = {s.id: s for s in discover()[0]}
        ctx = None
        try:
            ctx = Context(self.state, [allsc[s] for s in rec.get("scenarios", []) if s in allsc],
                          CA(self.state / "pki"), (dt.datetime.now(dt.timezone.utc),) * 2,
                          self.state / "convocatoria-lab.yaml", {}, self.port_base, record=rec)
        except Exception as exc:  # noqa: BLE001
            report["errors"].append(f"context: {exc}")
        used = set(rec.get("components", []))
        for c in reversed(comps):
            if c.name in used and ctx is not None:
                try:
                    c.stop(ctx)
                except Exception as exc:  # noqa: BLE001 - keep cleaning
                    report["errors"].append(f"{c.name}.stop: {type(exc).__name__}: {exc}")
        for p in reversed(rec.get("procs", [])):
            targets = [(p["pid"], p.get("start"))] + [(c["pid"], c.get("start")) for c in p.get("children", [])]
            if procs.alive(p["pid"], p.get("start")):
                targets += [(c, procs.start_time(c)) for c in procs.children(p["pid"])]
            targets = list(dict.fromkeys(targets))
            hit = procs.terminate(targets)
            if hit:
                report["stopped"].append(f"{p['name']} (pid {', '.join(map(str, hit))})")
            still = [pid for pid, st in targets if procs.alive(pid, st)]
            if still:
                report["errors"].append(f"{p['name']}: still running: {still}")
        for r in reversed(rec.get("resources", [])):
            try:
                if self._remove(r):
                    report["removed"].append(f"{r['kind']} {r['value']}")
            except Exception as exc:  # noqa: BLE001
                report["errors"].append(f"{r['kind']} {r['value']}: {exc}")
        rec["status"] = "down"
        rec["stopped_at"] = dt.datetime.now(dt.timezone.utc).isoformat()
        rec["down_report"] = report
        (self.state / "lab.last.json").write_text(json.dumps(rec, indent=1, default=str))
        (self.state / "lab.json").unlink(missing_ok=True)
        for line in report["stopped"]:
            log(f"stopped {line}")
        for line in report["removed"]:
            log(f"removed {line}")
        for line in report["errors"]:
            log(f"error: {line}")
        log(f"lab in {self.state} is down")
        return report

    def _remove(self, r: dict[str, Any]) -> bool:
        """Remove one registered resource; True when something was removed."""
        kind, value = r["kind"], r["value"]

        def run(argv: list[str]) -> bool:
            cp = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            return cp.returncode == 0

        if kind == "netns":
            return Path(f"/run/netns/{value}").exists() and run(["ip", "netns", "del", value])
        if kind == "link":
            return run(["ip", "link", "del", value])
        if kind == "mount":
            mounted = any(line.split()[1] == value for line in Path("/proc/mounts").read_text().splitlines())
            return mounted and run(["umount", "-l", value])
        if kind == "user":
            if not run(["id", value]):
                return False
            run(["userdel", "-r", value])      # non-zero when e.g. no mail spool: judge by the result
            if run(["id", value]):
                raise LabError(f"userdel {value} failed")
            return True
        if kind == "group":
            return run(["getent", "group", value]) and run(["groupdel", value])
        if kind == "path":
            p = Path(value).resolve()
            if self.state.resolve() not in p.parents:
                raise LabError(f"refusing to remove {p}: outside the state folder")
            if p.exists():
                shutil.rmtree(p) if p.is_dir() else p.unlink()
                return True
            return False
        if kind == "command":
            return run(list(r["undo"]))
        raise LabError(f"unknown resource kind {kind!r}")

    # ------------------------------------------------------------------ leases
    def acquire(self) -> None:
        """Say this process uses the lab (test sessions share one lab; the last one out may stop it)."""
        d = self.state / "leases"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{os.getpid()}-{procs.start_time(os.getpid())}").touch()

    def release(self) -> int:
        """Drop this process's lease; returns how many other live processes still use the lab."""
        d = self.state / "leases"
        (d / f"{os.getpid()}-{procs.start_time(os.getpid())}").unlink(missing_ok=True)
        live = 0
        for f in d.glob("*-*") if d.exists() else []:
            pid, _, start = f.name.partition("-")
            if pid.isdigit() and procs.alive(int(pid), int(start) if start.isdigit() else None):
                live += 1
            else:
                f.unlink(missing_ok=True)
        return live

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        """What runs: every recorded process alive or dead (a ``kill -9`` shows here), ports, problems."""
        rec = self.record()
        out: dict[str, Any] = {"state": str(self.state), "status": "down", "ok": False, "processes": [],
                               "scenarios": [], "problems": []}
        if rec is None:
            last = self.state / "lab.last.json"
            if last.exists():
                out["last"] = json.loads(last.read_text()).get("stopped_at")
            return out
        out.update({k: rec.get(k) for k in ("status", "started_at", "scenarios", "skipped", "window",
                                            "components", "up_seconds")})
        for p in rec.get("procs", []):
            alive = procs.alive(p["pid"], p.get("start"))
            kids = [c for c in p.get("children", []) if procs.alive(c["pid"], c.get("start"))]
            out["processes"].append({"component": p["component"], "name": p["name"], "pid": p["pid"],
                                     "alive": alive, "children_alive": len(kids), "log": p["log"]})
            if not alive:
                out["problems"].append(f"{p['name']} (pid {p['pid']}) is not running; see {p['log']}")
        for sid, errs in (rec.get("profile_problems") or {}).items():
            out["problems"].append(f"profile {sid} is invalid: {'; '.join(errs)}")
        out["ports"] = rec.get("ports", {})
        out["resources"] = rec.get("resources", [])
        comps, comp_problems = load_components()
        out["problems"] += comp_problems
        if rec.get("status") == "up":
            allsc = {s.id: s for s in discover()[0]}
            ctx = Context(self.state, [allsc[s] for s in rec.get("scenarios", []) if s in allsc], CA(self.state / "pki"),
                          (dt.datetime.now(dt.timezone.utc),) * 2, self.state / "convocatoria-lab.yaml", {},
                          self.port_base, record=json.loads(json.dumps(rec)))
            ctx.save = lambda: None  # status never writes
            for c in comps:
                if c.name in (rec.get("components") or []):
                    try:
                        extra = c.status(ctx) or []
                    except Exception as exc:  # noqa: BLE001
                        extra = [{"name": c.name, "ok": False, "detail": f"status failed: {exc}"}]
                    out.setdefault("components_status", []).extend(extra)
                    out["problems"] += [f"{e.get('name', c.name)}: {e.get('detail', '')}" for e in extra
                                        if e.get("ok") is False]
        out["ok"] = rec.get("status") == "up" and not out["problems"]
        return out

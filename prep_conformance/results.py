"""results.json (CONTRACT §6): built from check results, written once, secrets and local paths scrubbed."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

from . import __version__, catalog
from .profile import Profile
from .verdict import CheckResult, Verdict, aggregate_requirements, overall

SCHEMA = "prep-conformance/results/1"


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def secret_values(profiles: Iterable[Profile]) -> list[str]:
    """The values of every secret the profiles name, to be scrubbed from any output."""
    names: set[str] = set()
    for p in profiles:
        if p.ssh:
            names.update(n for n in (p.ssh.key_passphrase_env, p.ssh.password_env) if n)
        if p.cdn.purge and p.cdn.purge.token_env:
            names.add(p.cdn.purge.token_env)
    from .trust import secret_values as granted      # a trust-file grant may map a name to another variable
    return sorted({v for v in granted(profiles, sorted(names)) if len(v) >= 4}, key=len, reverse=True)


def local_paths(profiles: Iterable[Profile], out_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """Paths of the checking machine and the short names shown instead: a report says ``corte-0003`` or
    ``known_hosts``, never where those files sit on the reviewer's disk."""
    pairs: dict[str, str] = {}

    def add(path: str | Path | None, shown: str | None = None) -> None:
        if path:
            full = os.path.abspath(os.path.expanduser(str(path)))
            if len(full) > 4:
                pairs[full] = shown if shown is not None else os.path.basename(full.rstrip("/"))

    for p in profiles:
        add(p.base_dir, "<perfil>")
        add(p.package)
        add(p.http.ca_bundle)
        add(p.documents.diagram)
        add(p.documents.logo)
        if p.ssh:
            add(p.ssh.known_hosts)
            add(p.ssh.key_file)
        for extra in (p.analytics, p.availability):
            add(getattr(extra, "evidence", None))
        add(getattr(p.availability, "monitor_log", None))
    if out_dir is not None:
        add(out_dir, "<out>")
    add(sys.executable, "python")
    add(sys.prefix, "<venv>")
    add(os.path.dirname(os.path.abspath(__file__)), "prep_conformance")
    from importlib import resources
    add(str(resources.files("prep_conformance.checks")), "checks")
    add(os.getcwd(), ".")
    add(os.path.expanduser("~"), "~")
    return list(pairs.items())


def redactions(profiles: Iterable[Profile], out_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """What every output is scrubbed of: secret values (→ ``***``) and local paths (→ short names),
    longest first so a file inside a folder keeps its own name."""
    profiles = list(profiles)
    pairs = [(s, "***") for s in secret_values(profiles)] + local_paths(profiles, out_dir)
    return sorted(pairs, key=lambda kv: len(kv[0]), reverse=True)


def scrub(obj: Any, pairs: list[tuple[str, str]]) -> Any:
    """Apply ``redactions`` to every string nested anywhere in ``obj``."""
    if not pairs:
        return obj
    if isinstance(obj, str):
        for old, new in pairs:
            if old in obj:
                obj = obj.replace(old, new)
        return obj
    if isinstance(obj, Mapping):
        return {scrub(k, pairs): scrub(v, pairs) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub(v, pairs) for v in obj]
    return obj


def _order(r: CheckResult) -> tuple:
    ids = catalog.requirement_ids()
    return (ids.index(r.requirement) if r.requirement in ids else len(ids), r.check)


def difusor_entry(profile: Profile, results: list[CheckResult], selected: set[str] | None,
                  convocatoria: Any = None) -> dict[str, Any]:
    ids = catalog.requirement_ids()
    absent = {rid: Verdict.SKIP for rid in ids if selected is not None and rid not in selected}
    reqs = aggregate_requirements(results, ids, absent)
    checks = [r.to_dict() for r in sorted(results, key=_order)]
    # A requirement with no check at all is MANUAL, and the report says what to look at.
    for rid, v in reqs.items():
        if v is Verdict.MANUAL and not any(r.requirement == rid for r in results):
            req = catalog.get(rid)
            checks.append(CheckResult(rid, "manual_review", Verdict.MANUAL,
                                      f"Sin verificación automática; revisar: {req.manual_evidence_es}",
                                      f"No automatic check; review: {req.manual_evidence_en}").to_dict())
        elif v is Verdict.SKIP and selected is not None and rid not in selected:
            checks.append(CheckResult(rid, "not_selected", Verdict.SKIP,
                                      "No seleccionado en esta ejecución (--only).",
                                      "Not selected in this run (--only).").to_dict())
    checks.sort(key=lambda c: (ids.index(c["requirement"]) if c["requirement"] in ids else len(ids), c["check"]))
    return {
        "id": profile.id,
        "name": profile.name or profile.id,
        "target": profile.target_url,
        "profile": {"file": os.path.basename(profile.source), "sha256": profile.digest},
        **({"convocatoria": convocatoria.identity()} if convocatoria is not None else {}),
        "overall": overall(reqs).value,
        "requirements": {k: v.value for k, v in reqs.items()},
        "checks": checks,
    }


def measurement_context() -> dict[str, Any]:
    """Where the measurements were taken from: the checking machine's host name (a 19 MB/s upload may be
    the reviewer's own link)."""
    import platform
    import socket
    return {"host": socket.gethostname(), "platform": platform.platform(terse=True),
            "python": platform.python_version()}


def convocatoria_info(conv: Any) -> dict[str, Any]:
    """What a report needs from the convocatoria without reloading it: institute, agreement, the UTC offset
    its dates are written in, and the literal sentence of each section."""
    off = conv.publication.start.utcoffset()
    return {"id": conv.id, "institute": conv.institute, "agreement": conv.agreement,
            "utc_offset_min": int(off.total_seconds() // 60) if off is not None else None,
            "sections": dict(getattr(conv, "sections", {}) or {}),
            **({"sha256": conv.sha256} if getattr(conv, "sha256", "") else {})}


def build(profiles: list[Profile], results: Mapping[str, list[CheckResult]], started_at: str,
          finished_at: str | None = None, selected: Iterable[str] | None = None,
          convocatoria: str | None = None, lang: str = "es", out_dir: str | Path | None = None,
          conv: Any = None, convocatorias: Mapping[str, Any] | None = None,
          trust: Mapping[str, Any] | None = None, pinned: Any = None) -> dict[str, Any]:
    """``conv``: the convocatoria whose texts the reports quote; ``convocatorias``: each difusor's (its id
    and SHA-256 go into the document); ``pinned``: the operator's ``--convocatoria``; ``trust``:
    ``Trust.describe()``."""
    sel = set(selected) if selected else None
    convs = dict(convocatorias or {})
    idents = sorted({(c.id, c.sha256) for c in convs.values()})
    doc = {
        "schema": SCHEMA,
        "tool": {"name": "prep-conformance", "version": __version__},
        "started_at": started_at,
        "finished_at": finished_at or _now(),
        "convocatoria": convocatoria or (profiles[0].convocatoria if profiles else ""),
        **({"convocatoria_sha256": ", ".join(h for _, h in idents)} if idents else {}),
        **({"convocatoria_pinned": pinned.identity()} if pinned is not None else {}),
        **({"trust": dict(trust)} if trust is not None else {}),
        "lang": lang,
        "difusores": [difusor_entry(p, list(results.get(p.id, [])), sel, convs.get(p.id)) for p in profiles],
    }
    doc["context"] = measurement_context()
    if conv is not None:
        doc["convocatoria_info"] = convocatoria_info(conv)
    return scrub(doc, redactions(profiles, out_dir))


def write(doc: Mapping[str, Any], out_dir: str | Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def exit_code(doc: Mapping[str, Any]) -> int:
    """0 when every difusor is compliant (no FAIL, no ERROR), else 1 (CONTRACT §5)."""
    bad = {"FAIL", "ERROR"}
    return 1 if any(set(d["requirements"].values()) & bad for d in doc["difusores"]) else 0

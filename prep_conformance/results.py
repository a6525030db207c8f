"""results.json (CONTRACT §6): built from check results, written once, secrets scrubbed."""

from __future__ import annotations

import datetime as dt
import json
import os
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
    return sorted({os.environ[n] for n in names if os.environ.get(n) and len(os.environ[n]) >= 4}, key=len,
                  reverse=True)


def scrub(obj: Any, secrets: list[str]) -> Any:
    """Replace every secret value in strings nested anywhere in ``obj`` with ``***``."""
    if not secrets:
        return obj
    if isinstance(obj, str):
        for s in secrets:
            obj = obj.replace(s, "***")
        return obj
    if isinstance(obj, Mapping):
        return {scrub(k, secrets): scrub(v, secrets) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub(v, secrets) for v in obj]
    return obj


def _order(r: CheckResult) -> tuple:
    ids = catalog.requirement_ids()
    return (ids.index(r.requirement) if r.requirement in ids else len(ids), r.check)


def difusor_entry(profile: Profile, results: list[CheckResult], selected: set[str] | None) -> dict[str, Any]:
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
        "overall": overall(reqs).value,
        "requirements": {k: v.value for k, v in reqs.items()},
        "checks": checks,
    }


def build(profiles: list[Profile], results: Mapping[str, list[CheckResult]], started_at: str,
          finished_at: str | None = None, selected: Iterable[str] | None = None,
          convocatoria: str | None = None, lang: str = "es") -> dict[str, Any]:
    sel = set(selected) if selected else None
    doc = {
        "schema": SCHEMA,
        "tool": {"name": "prep-conformance", "version": __version__},
        "started_at": started_at,
        "finished_at": finished_at or _now(),
        "convocatoria": convocatoria or (profiles[0].convocatoria if profiles else ""),
        "lang": lang,
        "difusores": [difusor_entry(p, list(results.get(p.id, [])), sel) for p in profiles],
    }
    return scrub(doc, secret_values(profiles))


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

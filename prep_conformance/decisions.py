"""Reviewers' decisions (sign-offs): a YAML file beside the profiles that records, per difusor and
requirement, a reviewer's "cumple" / "no cumple" with who, when, why and the evidence received.

A requirement's final verdict becomes PASS or FAIL only through a recorded decision; the tool's own
verdict stays in results.json (``tool_requirements``) and beside the decision in every report.
Errors name file, line and key, as profile errors do (``yamlsource``).
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any, Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import catalog
from .verdict import Verdict, worst
from .yamlsource import SourceError, SourceErrors, load_yaml, validate

DECISION_VERDICT = {"cumple": Verdict.PASS, "no cumple": Verdict.FAIL}


class Decision(BaseModel):
    """One reviewer's decision on one requirement of one difusor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    difusor: str = Field(min_length=1)
    requirement: str
    decision: str
    by: str = Field(min_length=1)                 # who decided (name and role)
    at: dt.datetime                                # when (with its UTC offset)
    justification: str = Field(min_length=1)
    evidence: list[str] = Field(min_length=1)     # the documents received and read
    expires: dt.date | None = None                 # after this day the decision no longer applies

    @field_validator("requirement")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in catalog.requirement_ids():
            raise ValueError(f"unknown requirement ID {v!r} / requisito desconocido; "
                             f"known: {', '.join(catalog.requirement_ids())}")
        return v

    @field_validator("decision")
    @classmethod
    def _decision(cls, v: str) -> str:
        norm = " ".join(str(v).lower().replace("_", " ").split())
        if norm not in DECISION_VERDICT:
            raise ValueError("must be 'cumple' or 'no cumple' / debe ser 'cumple' o 'no cumple'")
        return norm

    @field_validator("at")
    @classmethod
    def _aware(cls, v: dt.datetime) -> dt.datetime:
        if v.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2024-05-20T12:00:00-06:00 / falta el desfase UTC")
        return v

    @property
    def verdict(self) -> Verdict:
        return DECISION_VERDICT[self.decision]

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires


class DecisionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decisions: list[Decision] = []

    @model_validator(mode="after")
    def _unique(self) -> "DecisionsFile":
        seen: set[tuple[str, str]] = set()
        for d in self.decisions:
            key = (d.difusor, d.requirement)
            if key in seen:
                raise ValueError(f"two decisions for {d.difusor} {d.requirement} / dos decisiones para el mismo requisito")
            seen.add(key)
        return self


def load_decisions(path: str | Path) -> list[Decision]:
    """Parse and validate a decisions file; every problem is a SourceError with its line."""
    doc = load_yaml(Path(path))
    parsed = validate(doc, DecisionsFile)
    return list(parsed.decisions)  # type: ignore[attr-defined]


def _entry(d: Decision, tool_verdict: str, today: dt.date) -> dict[str, Any]:
    expired = d.expired(today)
    return {"requirement": d.requirement, "decision": d.decision, "verdict": d.verdict.value,
            "by": d.by, "at": d.at.isoformat(), "justification": d.justification,
            "evidence": list(d.evidence), "expires": d.expires.isoformat() if d.expires else None,
            "expired": expired, "applied": not expired, "tool_verdict": tool_verdict}


def apply_decisions(doc: Mapping[str, Any], decisions: Iterable[Decision],
                    today: dt.date | None = None) -> dict[str, Any]:
    """A copy of ``doc`` where each difusor keeps the tool's verdicts in ``tool_requirements`` /
    ``tool_overall`` and carries its ``decisions``; ``requirements`` and ``overall`` are final.

    Idempotent: a document that already went through it starts again from the tool's verdicts."""
    today = today or dt.date.today()
    by_dif: dict[str, list[Decision]] = {}
    for d in decisions:
        by_dif.setdefault(d.difusor, []).append(d)
    out = copy.deepcopy(dict(doc))
    for dif in out.get("difusores", []):
        tool = dict(dif.get("tool_requirements") or dif["requirements"])
        final = dict(tool)
        entries = {}
        for d in by_dif.get(dif["id"], []):
            e = _entry(d, tool.get(d.requirement, "MANUAL"), today)
            entries[d.requirement] = e
            if e["applied"]:
                final[d.requirement] = e["verdict"]
        if entries or "tool_requirements" in dif:
            dif["tool_requirements"] = tool
            dif["tool_overall"] = dif.get("tool_overall") or dif["overall"]
            dif["decisions"] = entries
            dif["requirements"] = final
            dif["overall"] = worst(final.values()).value
    return out


def unknown_difusores(doc: Mapping[str, Any], decisions: Iterable[Decision]) -> list[str]:
    ids = {d["id"] for d in doc.get("difusores", [])}
    return sorted({d.difusor for d in decisions if d.difusor not in ids})


__all__ = ["Decision", "load_decisions", "apply_decisions", "unknown_difusores", "SourceErrors", "SourceError"]

"""Verdicts, check results and their aggregation (CONTRACT §2). Pure: no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, asdict
from typing import Any, Iterable, Mapping


class Verdict(str, enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"
    ERROR = "ERROR"
    SKIP = "SKIP"
    MANUAL = "MANUAL"

    def __str__(self) -> str:  # templates and JSON see plain strings
        return self.value


# Worst first: a requirement's verdict is the worst of its checks.
SEVERITY_ORDER = (Verdict.FAIL, Verdict.ERROR, Verdict.MANUAL, Verdict.WARN, Verdict.PASS, Verdict.SKIP)
_RANK = {v: i for i, v in enumerate(SEVERITY_ORDER)}


def worst(verdicts: Iterable[Verdict | str], default: Verdict = Verdict.SKIP) -> Verdict:
    """The worst verdict in the contract's order FAIL > ERROR > MANUAL > WARN > PASS > SKIP."""
    vs = [Verdict(v) for v in verdicts]
    return min(vs, key=_RANK.__getitem__) if vs else default


def is_compliant(verdict: Verdict | str) -> bool:
    """A difusor is compliant when no requirement is FAIL or ERROR (CONTRACT §5)."""
    return Verdict(verdict) not in (Verdict.FAIL, Verdict.ERROR)


@dataclass(frozen=True)
class Note:
    """An advisory note (REDbot-style): shown to the reviewer, never changes the verdict.

    Attributes:
        level: ``info``, ``warn`` or ``bad``.
        text: Spanish text; ``text_en`` the English one (falls back to ``text``).
    """

    level: str
    text: str
    text_en: str = ""


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one difusor, with the evidence behind it.

    Attributes:
        requirement: the requirement ID it verifies (CONTRACT §1).
        check: the check's name, with its variant in brackets (``main_json_cache_control[edge-GET]``).
        verdict: one of the six verdicts.
        summary: one line, in Spanish, that a person reads; ``summary_en`` the English line.
        evidence: what was observed (raw header lines, numbers, dates), JSON-serialisable.
        notes: advisory notes.
        duration_s: time the check took; started_at/finished_at: when (ISO 8601), set by the plugin.
    """

    requirement: str
    check: str
    verdict: Verdict
    summary: str
    summary_en: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[Note, ...] = ()
    duration_s: float = 0.0
    started_at: str = ""     # wall-clock start and end of the check (ISO 8601 with offset)
    finished_at: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", Verdict(self.verdict))
        object.__setattr__(self, "notes", tuple(n if isinstance(n, Note) else Note(**n) for n in self.notes))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = self.verdict.value
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CheckResult":
        return cls(**{**d, "notes": tuple(Note(**n) for n in d.get("notes", ()))})

    def with_(self, **changes: Any) -> "CheckResult":
        return CheckResult(**{**self.__dict__, **changes})


def result(requirement: str, check: str, verdict: Verdict | str, summary: str, summary_en: str = "",
           notes: Iterable[Note] = (), **evidence: Any) -> CheckResult:
    """Shorthand for rules: ``result("II.1.c", "disk_free", Verdict.PASS, "...", "...", free_bytes=...)``."""
    return CheckResult(requirement, check, Verdict(verdict), summary, summary_en, dict(evidence), tuple(notes))


def aggregate_requirements(results: Iterable[CheckResult], requirement_ids: Iterable[str],
                           absent: Mapping[str, Verdict] | None = None) -> dict[str, Verdict]:
    """Per requirement, the worst verdict of its checks; IDs with no check get ``absent[id]`` (default MANUAL)."""
    by_req: dict[str, list[Verdict]] = {}
    for r in results:
        by_req.setdefault(r.requirement, []).append(r.verdict)
    absent = absent or {}
    return {rid: worst(by_req[rid]) if rid in by_req else absent.get(rid, Verdict.MANUAL)
            for rid in requirement_ids}


def overall(requirements: Mapping[str, Verdict]) -> Verdict:
    """A difusor's overall verdict: the worst of its requirements."""
    return worst(requirements.values())

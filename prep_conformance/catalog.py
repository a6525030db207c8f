"""The requirement catalog: every ID of the contract, with titles and manual evidence, as data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Requirement:
    """One requirement of the convocatoria.

    Attributes:
        id: stable ID (CONTRACT §1), e.g. ``II.1.e``.
        section: the convocatoria section(s) it comes from.
        family: the check family (one module under ``rules/`` and ``checks/``).
        title_es, title_en: short titles.
        manual_evidence_es, manual_evidence_en: what a reviewer must look at when it is MANUAL.
        how_es, how_en: how the harness verifies it (shown in the dictamen).
    """

    id: str
    section: str
    family: str
    title_es: str
    title_en: str
    manual_evidence_es: str
    manual_evidence_en: str
    how_es: str = ""
    how_en: str = ""
    acceptance_es: str = ""     # what a document must show for the requirement to be met (the dictamen's list)
    acceptance_en: str = ""

    def title(self, lang: str = "es") -> str:
        return self.title_en if lang == "en" else self.title_es

    def how(self, lang: str = "es") -> str:
        return self.how_en if lang == "en" else self.how_es

    def acceptance(self, lang: str = "es") -> str:
        return self.acceptance_en if lang == "en" else self.acceptance_es

    def manual_evidence(self, lang: str = "es") -> str:
        return self.manual_evidence_en if lang == "en" else self.manual_evidence_es


@lru_cache(maxsize=1)
def requirements() -> tuple[Requirement, ...]:
    """All requirements, in the contract's order."""
    text = resources.files("prep_conformance").joinpath("catalog.yaml").read_text(encoding="utf-8")
    return tuple(Requirement(**{k: str(v) for k, v in row.items()}) for row in yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def requirement_ids() -> tuple[str, ...]:
    return tuple(r.id for r in requirements())


def get(requirement_id: str) -> Requirement:
    for r in requirements():
        if r.id == requirement_id:
            return r
    raise KeyError(f"unknown requirement ID {requirement_id!r}; known: {', '.join(requirement_ids())}")

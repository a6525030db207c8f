"""A one-screen matrix of difusores × requirements for the terminal."""

from __future__ import annotations

from typing import Any, Mapping

from .. import catalog

SHORT = {"PASS": "ok", "FAIL": "FAIL", "WARN": "warn", "ERROR": "ERR", "SKIP": "-", "MANUAL": "man"}


def matrix_lines(doc: Mapping[str, Any], lang: str = "es") -> list[str]:
    ids = list(catalog.requirement_ids())
    difs = doc.get("difusores", [])
    if not difs:
        return ["(no difusores)"]
    w = max(12, *(len(d["id"]) for d in difs))
    widths = [max(len(i), 4) for i in ids]
    head = "difusor".ljust(w) + " | " + " ".join(i.ljust(wd) for i, wd in zip(ids, widths)) + " | overall"
    lines = [head, "-" * len(head)]
    for d in difs:
        cells = " ".join(SHORT.get(d["requirements"].get(i, ""), "?").ljust(wd) for i, wd in zip(ids, widths))
        lines.append(d["id"].ljust(w) + " | " + cells + " | " + d["overall"])
    lines.append("ok=PASS warn=WARN man=MANUAL -=SKIP ERR=ERROR")
    return lines


def problem_lines(doc: Mapping[str, Any], lang: str = "es", width: int = 160) -> list[str]:
    """One line per FAIL/ERROR check: what a person fixes first."""
    out = []
    for d in doc.get("difusores", []):
        for c in d["checks"]:
            if c["verdict"] in ("FAIL", "ERROR"):
                text = (c.get("summary_en") or c["summary"]) if lang == "en" else c["summary"]
                line = f"{c['verdict']:5} {d['id']} {c['requirement']} {c['check']}: {text}"
                out.append(line if len(line) <= width else line[: width - 1] + "…")
    return out

"""Does a scenario get what it declares? Pure: used by the scenario test and the demo table."""

from __future__ import annotations

from typing import Mapping

BAD = ("FAIL", "ERROR")


def mismatches(expect: Mapping[str, str], requirements: Mapping[str, str]) -> list[str]:
    """Each declared requirement must have exactly its verdict; every other one must not be FAIL/ERROR."""
    out = []
    for rid, want in expect.items():
        got = requirements.get(rid, "absent")
        if got != want:
            out.append(f"{rid}: expected {want}, got {got}")
    for rid, got in requirements.items():
        if rid not in expect and got in BAD:
            out.append(f"{rid}: unexpected {got}")
    return out

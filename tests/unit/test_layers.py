"""The layers stay apart: probes observe (and import no rules), rules judge (and do no I/O), the lab's sshd
component and its scenarios import each other one way only."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "prep_conformance"
IO_MODULES = {"os", "subprocess", "socket", "requests", "urllib3", "paramiko", "ssl", "shutil", "tempfile",
              "sqlite3", "http", "urllib.request", "time"}


def _imports(path: Path) -> list[tuple[str, int]]:
    """(module, level) of every import in the file, nested ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, 0) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.module or "", node.level))
    return out


def test_no_probe_imports_a_rule():
    bad = [f"{p.name}: {m}" for p in sorted((PKG / "probes").glob("*.py")) for m, level in _imports(p)
           if (level >= 2 and m.split(".")[0] == "rules") or m.startswith("prep_conformance.rules")]
    assert not bad, bad


def test_no_rule_does_io():
    bad = []
    for p in sorted((PKG / "rules").glob("*.py")):
        bad += [f"{p.name}: import {m}" for m, level in _imports(p) if level == 0 and m in IO_MODULES]
        tree = ast.parse(p.read_text(encoding="utf-8"))
        bad += [f"{p.name}:{n.lineno}: open()" for n in ast.walk(tree)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "open"]
    assert not bad, bad


def test_the_lab_sshd_component_does_not_import_its_scenarios():
    assert not [m for m, _ in _imports(PKG / "lab" / "sshd.py") if "scenarios" in m]

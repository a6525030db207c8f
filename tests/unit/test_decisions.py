"""Reviewers' decisions: validated with file:line errors; a MANUAL becomes PASS/FAIL only through one."""

import datetime as dt

import pytest

from prep_conformance import catalog
from prep_conformance.decisions import apply_decisions, load_decisions
from prep_conformance.yamlsource import SourceErrors

GOOD = """\
decisions:
  - difusor: medio-ejemplo
    requirement: II.2.e
    decision: cumple
    by: "Ing. Ana Pérez, DEOE"
    at: 2024-05-20T12:00:00-06:00
    justification: "El contrato del proveedor garantiza 99.95 % mensual."
    evidence: ["Contrato de nivel de servicio (PDF, 3 páginas)"]
  - difusor: medio-ejemplo
    requirement: II.3.a.i
    decision: no cumple
    by: "Ing. Ana Pérez, DEOE"
    at: 2024-05-20T12:10:00-06:00
    justification: "El diagrama no muestra el CDN."
    evidence: ["diagrama.pdf"]
    expires: 2024-05-21
"""


def _doc():
    reqs = {rid: "PASS" for rid in catalog.requirement_ids()}
    reqs["II.2.e"] = "MANUAL"
    return {"schema": "prep-conformance/results/1", "difusores": [
        {"id": "medio-ejemplo", "name": "Medio", "overall": "MANUAL", "requirements": reqs, "checks": []}]}


def test_valid_file_turns_manual_into_pass_and_keeps_tool_verdict(tmp_path):
    f = tmp_path / "decisiones.yaml"
    f.write_text(GOOD, encoding="utf-8")
    decs = load_decisions(f)
    out = apply_decisions(_doc(), decs, today=dt.date(2024, 5, 20))
    d = out["difusores"][0]
    assert d["requirements"]["II.2.e"] == "PASS"
    assert d["tool_requirements"]["II.2.e"] == "MANUAL"
    assert d["decisions"]["II.2.e"]["by"] == "Ing. Ana Pérez, DEOE"
    assert d["requirements"]["II.3.a.i"] == "FAIL" and d["overall"] == "FAIL"
    assert d["tool_overall"] == "MANUAL"
    # idempotent: applying again starts from the tool's verdicts
    again = apply_decisions(out, decs, today=dt.date(2024, 5, 20))
    assert again["difusores"][0]["requirements"] == d["requirements"]


def test_expired_decision_is_shown_not_applied(tmp_path):
    f = tmp_path / "d.yaml"
    f.write_text(GOOD, encoding="utf-8")
    out = apply_decisions(_doc(), load_decisions(f), today=dt.date(2024, 6, 1))
    d = out["difusores"][0]
    assert d["decisions"]["II.3.a.i"]["expired"] is True
    assert d["requirements"]["II.3.a.i"] == "PASS"   # the tool's own verdict stays


def test_errors_name_file_line_and_key(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(GOOD.replace("decision: cumple", "decision: quizá").replace("requirement: II.3.a.i",
                                                                               "requirement: II.9.z")
                 .replace("    at: 2024-05-20T12:00:00-06:00", "    at: 2024-05-20T12:00:00"), encoding="utf-8")
    with pytest.raises(SourceErrors) as exc:
        load_decisions(f)
    text = "\n".join(str(e) for e in exc.value.errors)
    assert f"{f}:4: decisions.0.decision" in text
    assert f"{f}:6: decisions.0.at" in text
    assert f"{f}:10: decisions.1.requirement" in text


def test_unknown_key_and_missing_who(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(GOOD.replace('    by: "Ing. Ana Pérez, DEOE"\n    at: 2024-05-20T12:00:00-06:00\n', "    at: 2024-05-20T12:00:00-06:00\n    firma: x\n", 1),
                 encoding="utf-8")
    with pytest.raises(SourceErrors) as exc:
        load_decisions(f)
    text = "\n".join(str(e) for e in exc.value.errors)
    assert "decisions.0.by" in text and "decisions.0.firma" in text

"""An interrupted run (Ctrl-C, SIGTERM) still writes every requirement ID, and what never ran is ERROR."""

from prep_conformance.plugin import RunState, _mark_interrupted
from prep_conformance.verdict import CheckResult, Verdict


def test_requirements_whose_checks_never_ran_are_error():
    st = RunState([], {}, None, "es", None, "2026-12-01T00:00:00+00:00")
    st.collected = {"d": {"II.1.e", "I.6", "I.13"}}
    st.results = {"d": [CheckResult("I.13", "logo_vector", Verdict.PASS, "ok", "ok")]}
    _mark_interrupted(st)
    got = {r.requirement: r for r in st.results["d"]}
    assert got["I.13"].verdict is Verdict.PASS
    assert got["II.1.e"].verdict is Verdict.ERROR and got["I.6"].check == "interrupted"
    assert "interrumpió" in got["I.6"].summary and "interrupted" in got["I.6"].summary_en

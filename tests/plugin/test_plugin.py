"""The pytest plugin and the CLI end to end, on document checks (no network) and tiny check modules."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prep_conformance import catalog

DATA = Path(__file__).resolve().parents[1] / "data"
CLI = [sys.executable, "-m", "prep_conformance.cli"]


def run_cli(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def docs_only(*extra):
    """Only the document checks: they need no network, so these tests stay fast and self-contained."""
    return ["--only", "III.3", "--only", "II.3.a.ii", "--only", "II.3.a.i", "--only", "I.13", *extra]


def strip_times(doc):
    doc = json.loads(json.dumps(doc))
    doc.pop("started_at"), doc.pop("finished_at")
    for d in doc["difusores"]:
        for c in d["checks"]:
            c.pop("duration_s")
            c.pop("started_at", None), c.pop("finished_at", None)
    return doc


def test_run_writes_every_output_with_every_requirement(tmp_path):
    out = tmp_path / "out"
    p = run_cli("run", "--profile", DATA / "docs_ok.yaml", "--profile", DATA / "docs_bad.yaml", "--out", out,
                *docs_only())
    assert p.returncode == 1, p.stdout + p.stderr
    doc = json.loads((out / "results.json").read_text())
    assert doc["schema"] == "prep-conformance/results/1" and doc["tool"]["name"] == "prep-conformance"
    assert [d["id"] for d in doc["difusores"]] == ["medio-ejemplo", "medio-incompleto"]
    for d in doc["difusores"]:
        assert list(d["requirements"]) == list(catalog.requirement_ids())
        for c in d["checks"]:
            assert set(c) >= {"requirement", "check", "verdict", "summary", "evidence", "duration_s"}
    ok, bad = doc["difusores"]
    assert ok["overall"] == "SKIP" or ok["overall"] in ("PASS", "MANUAL", "WARN")
    assert ok["requirements"]["III.3"] == "PASS" and ok["requirements"]["II.1.e"] == "SKIP"
    assert bad["requirements"]["III.3"] == "FAIL" and bad["overall"] == "FAIL"
    for name in ("index.html", "medio-ejemplo.html", "medio-incompleto.html", "junit.xml", "pytest.html"):
        assert (out / name).stat().st_size > 0, name
    assert "Matriz de cumplimiento" in (out / "index.html").read_text()
    for f in out.iterdir():     # no path of the checking machine in any output file
        text = f.read_text(errors="replace")
        assert str(DATA.parents[1]) not in text and str(tmp_path) not in text, f.name
    assert "Carta de intención incompleta" in (out / "medio-incompleto.html").read_text()


def test_english_reports(tmp_path):
    p = run_cli("run", "--profile", DATA / "docs_ok.yaml", "--out", tmp_path, "--lang", "en", *docs_only())
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Conformance matrix" in (tmp_path / "index.html").read_text()
    assert "Letter of intent data a–h complete" in (tmp_path / "medio-ejemplo.html").read_text()


def test_profile_error_stops_before_any_check(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nsites: {test: https://x.example/}\nunknown_key: 1\n")
    p = run_cli("run", "--profile", bad, "--profile", DATA / "docs_ok.yaml", "--out", tmp_path / "o")
    assert p.returncode == 2
    assert f"{bad}:3: unknown_key: unknown key" in p.stderr
    assert not (tmp_path / "o" / "results.json").exists()
    assert "Traceback" not in p.stderr


def test_validate_lists_profile_errors_and_findings(tmp_path):
    p = run_cli("validate", DATA / "docs_bad.yaml")
    assert p.returncode == 0 and "would fail III.3" in p.stdout and "would fail II.3.a.ii" in p.stdout
    p = run_cli("validate", tmp_path / "nope.yaml")
    assert p.returncode == 2 and "nope.yaml" in p.stderr


def test_init_writes_a_profile_that_validates(tmp_path):
    p = run_cli("init", tmp_path / "perfil.yaml")
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "perfil.yaml").read_text()
    assert "# Perfil de difusor" in text
    p = run_cli("validate", tmp_path / "perfil.yaml")
    assert p.returncode == 0 and "would fail" not in p.stdout, p.stdout + p.stderr


def test_xdist_gives_the_same_results_as_serial(tmp_path):
    args = ["--profile", DATA / "docs_ok.yaml", "--profile", DATA / "docs_bad.yaml", *docs_only()]
    a = run_cli("run", *args, "--out", tmp_path / "serial")
    b = run_cli("run", *args, "--out", tmp_path / "xdist", "-n", "2")
    assert a.returncode == b.returncode == 1, b.stdout + b.stderr
    sa = strip_times(json.loads((tmp_path / "serial" / "results.json").read_text()))
    sb = strip_times(json.loads((tmp_path / "xdist" / "results.json").read_text()))
    assert sa["difusores"] == sb["difusores"]


def test_report_merges_runs(tmp_path):
    run_cli("run", "--profile", DATA / "docs_ok.yaml", "--out", tmp_path / "a", *docs_only())
    run_cli("run", "--profile", DATA / "docs_bad.yaml", "--out", tmp_path / "b", *docs_only())
    p = run_cli("report", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "m")
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "m" / "results.json").read_text())
    assert [d["id"] for d in doc["difusores"]] == ["medio-ejemplo", "medio-incompleto"]
    assert (tmp_path / "m" / "medio-incompleto.html").exists()


CHECKS = '''
import os
import pytest
from prep_conformance.verdict import result
from prep_conformance.errors import CheckError

@pytest.mark.requirement("II.1.c")
def test_crashes(difusor, record_check):
    raise RuntimeError("socket went away")

@pytest.mark.requirement("II.1.d")
def test_cannot_evaluate(difusor, record_check):
    raise CheckError("no se pudo conectar", "could not connect", host="h")

@pytest.mark.requirement("II.1.a")
def test_records_nothing(difusor, record_check):
    pass

@pytest.mark.requirement("I.3")
def test_skips(difusor, record_check):
    pytest.skip("no configurado")

@pytest.mark.requirement("II.1.e")
def test_fails_with_secret_in_evidence(difusor, record_check):
    record_check(result("II.1.e", "leaky", "FAIL", "x", "x", seen=difusor.profile.env_secret("LAB_SECRET_PW"),
                        kh=difusor.profile.ssh.known_hosts, cwd=os.getcwd() + "/out/x.csv"))

@pytest.fixture(scope="session")
def connection(difusor):
    return difusor.once("conn", lambda: (_ for _ in ()).throw(CheckError("host inalcanzable", "host unreachable")))

@pytest.mark.requirement("II.1.c")
@pytest.mark.parametrize("n", [1, 2])
def test_blocked(difusor, record_check, connection, n):
    pass
'''

PROFILE = """id: uno
sites: {test: https://x.example/}
ssh: {host: 127.0.0.1, username: u, password_env: LAB_SECRET_PW, known_hosts: kh, upload_dir: /srv}
"""


def test_outcomes_map_to_verdicts_and_secrets_never_reach_output(pytester):
    pytester.makepyfile(test_checks=CHECKS)
    (pytester.path / "kh").write_text("")
    (pytester.path / "p.yaml").write_text(PROFILE)
    secret = "s3cr3t-hunter2-value"
    pytester._monkeypatch.setenv("LAB_SECRET_PW", secret)
    res = pytester.runpytest_subprocess("-p", "no:locust", "--prep-profile", "p.yaml", "--prep-out", "out",
                                        "--prep-trust-profile", "--junitxml", "out/junit.xml", "--html", "out/pytest.html",
                                        "--self-contained-html", "-o", "junit_family=xunit1")
    assert res.ret == 1
    doc = json.loads((pytester.path / "out" / "results.json").read_text())
    checks = {c["check"]: c for c in doc["difusores"][0]["checks"]}
    assert checks["crashes"]["verdict"] == "ERROR" and "socket went away" in checks["crashes"]["summary"]
    assert checks["cannot_evaluate"]["verdict"] == "ERROR" and checks["cannot_evaluate"]["evidence"] == {"host": "h"}
    assert checks["records_nothing"]["verdict"] == "ERROR"
    assert checks["skips"]["verdict"] == "SKIP" and "no configurado" in checks["skips"]["summary"]
    assert checks["blocked[1]"]["verdict"] == "ERROR" and "host inalcanzable" in checks["blocked[1]"]["summary"]
    assert checks["blocked[2]"]["verdict"] == "ERROR" and "host inalcanzable" in checks["blocked[2]"]["summary"]
    assert doc["difusores"][0]["requirements"]["II.2.c"] == "MANUAL"
    for f in (pytester.path / "out").iterdir():
        assert secret not in f.read_text(errors="replace"), f.name
    # no path of the checking machine in the verdicts: short names instead
    leaky = checks["leaky"]["evidence"]
    assert leaky["kh"] == "kh" and leaky["cwd"] == "<out>/x.csv", leaky
    for name in ("results.json", "index.html", "uno.html"):
        assert str(pytester.path) not in (pytester.path / "out" / name).read_text(), name
    assert secret not in res.stdout.str() + res.stderr.str()


def test_selection_by_requirement(pytester):
    pytester.makepyfile(test_checks=CHECKS)
    (pytester.path / "kh").write_text("")
    (pytester.path / "p.yaml").write_text(PROFILE)
    pytester._monkeypatch.setenv("LAB_SECRET_PW", "x")
    for sel in (["--only", "II.1.d"], ["-m", "req_II_1_d"], ["-k", "II.1.d"]):
        res = pytester.runpytest_subprocess("-p", "no:locust", "--prep-profile", "p.yaml", "--prep-out", "o", *sel)
        res.assert_outcomes(failed=1, deselected=6) if sel[0] != "--only" else res.assert_outcomes(failed=1)


GROUPED = '''
import os, pytest
from prep_conformance.verdict import result

@pytest.mark.requirement("II.1.c")
@pytest.mark.parametrize("n", range(6))
def test_where(difusor, record_check, n):
    record_check(result("II.1.c", "where", "PASS", "x", "x", worker=os.environ.get("PYTEST_XDIST_WORKER")))
'''


def test_xdist_keeps_a_difusors_checks_on_one_worker(pytester):
    pytester.makepyfile(test_grouped=GROUPED)
    for name in ("uno", "dos", "tres"):
        (pytester.path / f"{name}.yaml").write_text(f"id: {name}\nsites: {{test: https://x.example/}}\n")
    res = pytester.runpytest_subprocess("-p", "no:locust", "--prep-profile", ".", "--prep-out", "o",
                                        "-n", "2", "--dist", "loadgroup")
    res.assert_outcomes(passed=18)
    doc = json.loads((pytester.path / "o" / "results.json").read_text())
    for d in doc["difusores"]:
        workers = {c["evidence"]["worker"] for c in d["checks"] if c["check"].startswith("where")}
        assert len(workers) == 1, (d["id"], workers)


def test_check_names_drop_dashed_difusor_ids(pytester):
    pytester.makepyfile(test_names='''
import pytest
from prep_conformance.verdict import result

@pytest.mark.requirement("II.1.e")
@pytest.mark.parametrize("variant", ["edge-GET", "origin-HEAD"])
def test_named(difusor, record_check, variant):
    raise RuntimeError("boom")

@pytest.mark.requirement("II.2.a")
def test_skipped(difusor, record_check):
    pytest.skip("no autorizado")
''')
    (pytester.path / "p.yaml").write_text("id: load-compliant\nsites: {test: https://x.example/}\n")
    res = pytester.runpytest_subprocess("-p", "no:locust", "--prep-profile", "p.yaml", "--prep-out", "o")
    doc = json.loads((pytester.path / "o" / "results.json").read_text())
    names = sorted(c["check"] for c in doc["difusores"][0]["checks"] if c["requirement"] in ("II.1.e", "II.2.a"))
    assert names == ["named[edge-GET]", "named[origin-HEAD]", "skipped"]


def test_report_with_decisions_turns_manual_into_pass_with_the_reviewers_name(tmp_path):
    """`report --decisions`: the final verdict follows the decision, the tool's stays beside it; a bad file
    is a usage error with file:line."""
    src = Path(__file__).resolve().parents[1] / "data" / "report" / "lab-results.json"
    runs = tmp_path / "run"
    runs.mkdir()
    (runs / "results.json").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    dec = tmp_path / "decisiones.yaml"
    dec.write_text("decisions:\n  - difusor: compliant\n    requirement: II.2.e\n    decision: cumple\n"
                   "    by: Mtra. Lucía Ortega (DEOE)\n    at: 2024-05-20T12:00:00-06:00\n"
                   "    justification: SLA del proveedor con 99.95 % mensual.\n"
                   "    evidence: [SLA firmado (PDF)]\n", encoding="utf-8")
    p = run_cli("report", runs, "--out", tmp_path / "out", "--decisions", dec)
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    d = next(x for x in doc["difusores"] if x["id"] == "compliant")
    assert d["tool_requirements"]["II.2.e"] == "MANUAL" and d["requirements"]["II.2.e"] == "PASS"
    html = (tmp_path / "out" / "compliant.html").read_text()
    assert "Mtra. Lucía Ortega (DEOE)" in html and "Decisión del revisor" in html
    assert "✎" in (tmp_path / "out" / "index.html").read_text()
    dec.write_text(dec.read_text().replace("decision: cumple", "decision: tal vez"), encoding="utf-8")
    p = run_cli("report", runs, "--out", tmp_path / "out2", "--decisions", dec)
    assert p.returncode == 2 and f"{dec}:4: decisions.0.decision" in p.stderr


def test_run_pdf_writes_one_pdf_per_difusor_and_the_matrix(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "out"
    p = run_cli("run", "--profile", DATA / "docs_ok.yaml", "--out", out, "--pdf", *docs_only("--only", "II.2.a"))
    assert p.returncode in (0, 1), p.stdout + p.stderr
    assert (out / "index.pdf").exists()
    text = "\n".join(pg.extract_text() or "" for pg in pypdf.PdfReader(str(out / "medio-ejemplo.pdf")).pages)
    assert "Informe técnico de verificación" in text
    # II.2.a: the load test without authorisation is "No verificado", never "No aplica"
    html = (out / "medio-ejemplo.html").read_text()
    assert "No verificado" in html

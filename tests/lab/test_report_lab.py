"""The informe of real lab runs: no English in the Spanish report and no Spanish in the English one
(the scanner of tests/unit/test_report_language.py), the altered CSV's changed field on the page, the
edge's cached answer (X-Cache: HIT) read header by header, the unauthorised load test "No verificado"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_report_language import data_strings, foreign_words

pytestmark = pytest.mark.lab

SCENARIOS = ("compliant", "pub-altered-csv", "edge-caches-anyway")


@pytest.fixture(scope="module")
def run(lab_profile, tmp_path_factory):
    out = tmp_path_factory.mktemp("informe")
    args = [a for s in SCENARIOS for a in ("--profile", str(lab_profile(s)))]
    p = subprocess.run([sys.executable, "-m", "prep_conformance.cli", "run", *args, "--out", str(out / "es")],
                       capture_output=True, text=True, timeout=900)
    assert (out / "es" / "results.json").exists(), p.stdout[-3000:] + p.stderr[-3000:]
    p = subprocess.run([sys.executable, "-m", "prep_conformance.cli", "report", str(out / "es"), "--lang", "en",
                        "--out", str(out / "en")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return out


@pytest.mark.parametrize("lang", ["es", "en"])
def test_lab_informe_has_no_word_of_the_other_language(run, lang):
    doc = json.loads((run / lang / "results.json").read_text(encoding="utf-8"))
    data = data_strings(doc)
    problems = {}
    for page in [run / lang / "index.html", *(run / lang / f"{s}.html" for s in SCENARIOS)]:
        found = foreign_words(page.read_text(encoding="utf-8"), lang, data)
        if found:
            problems[page.name] = found
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)[:4000]


def test_lab_informe_shows_the_proving_evidence(run):
    altered = (run / "es" / "pub-altered-csv.html").read_text(encoding="utf-8")
    assert "Diferencias por línea" in altered and "<th>Columna</th>" in altered
    cached = (run / "es" / "edge-caches-anyway.html").read_text(encoding="utf-8")
    assert "Servida desde la caché del borde" in cached
    compliant = (run / "es" / "compliant.html").read_text(encoding="utf-8")
    assert "No verificado" in compliant and "No aplica</span> Prueba de carga" not in compliant
    assert "Pendiente de revisión documental" in compliant   # MANUAL left: never "Cumple"

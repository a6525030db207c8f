"""The Informe técnico de verificación and the matrix as PDF (WeasyPrint), read back with pypdf: the FAIL's
proving evidence is on paper, every page names the difusor and the run, the matrix is landscape, no
navigation, and a reviewer's decision shows with the reviewer's name."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

pypdf = pytest.importorskip("pypdf")

from prep_conformance.decisions import Decision, apply_decisions  # noqa: E402
from prep_conformance.report.render import render_pdfs  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "report" / "lab-results.json"


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    doc = json.loads(DATA.read_text(encoding="utf-8"))
    doc["difusores"] = [d for d in doc["difusores"] if d["id"] == "edge-caches-anyway"]
    dec = Decision(difusor="edge-caches-anyway", requirement="II.2.e", decision="cumple",
                   by="Ing. Ana Pérez Reyes (DEOE)", at=dt.datetime(2024, 5, 20, 12, 0,
                                                                    tzinfo=dt.timezone(dt.timedelta(hours=-6))),
                   justification="SLA del proveedor con 99.95 % mensual.", evidence=["SLA firmado (PDF)"])
    doc = apply_decisions(doc, [dec], today=dt.date(2024, 5, 20))
    out = tmp_path_factory.mktemp("pdf")
    written = render_pdfs(doc, out, "es")
    return {p.name: pypdf.PdfReader(str(p)) for p in written}


def _pages(reader) -> list[str]:
    return [p.extract_text() or "" for p in reader.pages]


def test_dictamen_pdf_carries_the_failing_evidence_and_footers(pdfs):
    pages = _pages(pdfs["edge-caches-anyway.pdf"])
    text = "\n".join(pages)
    assert "Informe técnico de verificación" in text
    assert "No cumple" in text
    assert "X-Cache" in text and "HIT" in text            # the answer that proves the edge caches main.json
    assert "Servida desde la caché del borde" in text      # ... read header by header
    assert "Anexo" in text                                 # the raw JSON, printed in full
    assert "Volver a la matriz" not in text                # no navigation on paper
    assert "Ing. Ana Pérez Reyes (DEOE)" in text           # the reviewer's decision, by name
    assert len(pages) > 2
    for i, page in enumerate(pages, 1):
        flat = " ".join(page.split())
        assert "edge-caches-anyway" in flat, f"page {i} has no footer naming the difusor"
        assert f"Página {i} de {len(pages)}" in flat


def test_matrix_pdf_is_landscape(pdfs):
    reader = pdfs["index.pdf"]
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)
    assert "Matriz de cumplimiento" in _pages(reader)[0]

from pathlib import Path

from prep_conformance.probes.documents import observe_file
from prep_conformance.profile import load_profile
from prep_conformance.rules import documents
from prep_conformance.rules.documents import FileObservation, sniff
from prep_conformance.verdict import Verdict

DATA = Path(__file__).resolve().parents[1] / "data"


def test_sniff_by_content_not_name():
    assert sniff(b"%PDF-1.7\n") == "pdf"
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "png"
    assert sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>') == "svg"
    assert sniff(b"%!PS-Adobe-3.0\n%%Creator: Adobe Illustrator(R) 24") == "ai"
    assert sniff(b"<html><body>svg</body></html>") is None
    assert sniff(b"GIF89a") is None


def test_good_profile_passes_documents():
    p = load_profile(DATA / "docs_ok.yaml")
    assert documents.letter_of_intent(p).verdict is Verdict.PASS
    assert documents.staff_list(p).verdict is Verdict.PASS
    assert documents.diagram(observe_file(p.documents.diagram)).verdict is Verdict.PASS
    assert documents.logo(observe_file(p.documents.logo)).verdict is Verdict.PASS


def test_bad_profile_fails_with_reasons():
    p = load_profile(DATA / "docs_bad.yaml")
    loi = documents.letter_of_intent(p)
    assert loi.verdict is Verdict.FAIL
    assert set(loi.evidence["problems"]) >= {"contact.email", "contact.phone", "contact.extension", "sites.official"}
    staff = documents.staff_list(p)
    assert staff.verdict is Verdict.FAIL and "role" in staff.summary
    # a PNG name holding text is not a vector logo; an SVG diagram is fine
    assert documents.logo(observe_file(p.documents.logo)).verdict is Verdict.FAIL
    assert documents.diagram(observe_file(p.documents.diagram)).verdict is Verdict.PASS


def test_missing_declarations_fail():
    assert documents.diagram(None).verdict is Verdict.FAIL
    assert documents.logo(FileObservation("logo.svg", 0, b"")).verdict is Verdict.FAIL

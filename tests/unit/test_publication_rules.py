"""Publication rules (I.4, I.6, I.9) on hand-built observations: no network."""

from __future__ import annotations

import hashlib
import json

import pytest

from prep_conformance import paquete
from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes.publication import CorteRef, PaqueteRef, PublicationObservation, ServedFile
from prep_conformance.rules import publication as rules
from prep_conformance.verdict import Verdict

BASE = "https://prep.example/"
CONV = load_convocatoria("iem-michoacan-2024")


def _ref(files: dict[str, bytes], source="corte") -> PaqueteRef:
    manifest = paquete.parse_manifest(files[paquete.MANIFEST].decode())
    doc = json.loads(files[paquete.MAIN_JSON])
    texts = {p: b for p, b in files.items() if p.endswith((".json", ".csv", ".html"))}
    return PaqueteRef(source, manifest, CorteRef.from_doc(doc), texts)


def _served(files: dict[str, bytes], *, drop=(), alter: dict[str, bytes] | None = None,
            status: dict[str, int] | None = None) -> dict[str, ServedFile]:
    out = {}
    for rel, data in files.items():
        if rel == paquete.MANIFEST:
            continue
        data = (alter or {}).get(rel, data)
        st = (status or {}).get(rel, 404 if rel in drop else 200)
        out[rel] = ServedFile.of(rel, BASE + rel, st, hashlib.sha256(data).hexdigest() if st == 200 else None,
                              len(data), None, data if rel.endswith((".json", ".csv", ".html", ".js")) else None)
    return out


def _obs(newest: dict[str, bytes], served_files: dict[str, bytes] | None = None, reference=None, extra=None,
         **kw) -> PublicationObservation:
    served = _served(served_files or newest, **kw)
    main = served.get(paquete.MAIN_JSON)
    return PublicationObservation(BASE, _ref(newest), served, CorteRef.from_doc(main.json() if main else None),
                                  reference, extra or {}, 0.1, 4)


@pytest.fixture(scope="module")
def c7():
    return paquete.corte_files(7)


@pytest.fixture(scope="module")
def c6():
    return paquete.corte_files(6)


def test_all_identical_passes(c7):
    obs = _obs(c7)
    assert rules.integrity(obs).verdict is Verdict.PASS
    assert rules.acta_images(obs).verdict is Verdict.PASS
    assert rules.corte_current(obs, CONV).verdict is Verdict.PASS
    assert rules.corte_lag(obs, CONV).verdict is Verdict.PASS
    assert rules.corte_stamps(obs).verdict is Verdict.PASS


def test_altered_csv_fails_integrity_only(c7):
    rel = next(p for p in c7 if p.startswith("csv/"))
    obs = _obs(c7, alter={rel: c7[rel].replace(b"\r\n", b"\n")})
    r = rules.integrity(obs)
    assert r.verdict is Verdict.FAIL
    assert r.evidence["altered"][0]["path"] == rel
    assert r.evidence["altered"][0]["expected"] == hashlib.sha256(c7[rel]).hexdigest()
    assert rules.corte_current(obs, CONV).verdict is Verdict.PASS
    assert rules.corte_stamps(obs).verdict is Verdict.PASS


def test_missing_acta_image(c7):
    img = sorted(p for p in c7 if p.startswith("actas/"))[0]
    obs = _obs(c7, drop=(img,))
    r = rules.integrity(obs)
    assert r.verdict is Verdict.FAIL and r.evidence["missing"][0]["path"] == img
    a = rules.acta_images(obs)
    assert a.verdict is Verdict.FAIL and a.evidence["missing"][0]["image"] == img
    c = rules.corte_current(obs, CONV)          # every file of the corte (CONTRACT §1), images too
    assert c.verdict is Verdict.FAIL and c.evidence["absent"] == [{"path": img, "status": 404, "error": None}]
    assert img in c.summary and "falta 1 de sus" in c.summary


def test_missing_page_asset_fails_i4_and_i6(c7):
    obs = _obs(c7, drop=("assets/app.js",))
    c = rules.corte_current(obs, CONV)
    assert c.verdict is Verdict.FAIL and "assets/app.js (HTTP 404)" in c.summary_en
    assert c.evidence["absent_count"] == 1
    i = rules.integrity(obs)
    assert i.verdict is Verdict.FAIL and i.evidence["missing"][0]["path"] == "assets/app.js"


def test_missing_zip_fails_corte_current(c7):
    z = next(p for p in c7 if p.endswith(".zip"))
    c = rules.corte_current(_obs(c7, drop=(z,)), CONV)
    assert c.verdict is Verdict.FAIL and c.evidence["absent"][0]["path"] == z


def test_acta_image_swapped(c7):
    imgs = sorted(p for p in c7 if p.startswith("actas/"))
    obs = _obs(c7, alter={imgs[0]: c7[imgs[1]]})
    a = rules.acta_images(obs)
    assert a.verdict is Verdict.FAIL
    assert a.evidence["mismatched"][0]["image"] == imgs[0]


def test_stale_corte_with_its_paquete(c7, c6):
    obs = _obs(c7, served_files=c6, reference=_ref(c6, "corte-6"))
    assert rules.integrity(obs).verdict is Verdict.PASS          # served exactly corte 6 as delivered
    r = rules.corte_current(obs, CONV)
    assert r.verdict is Verdict.FAIL and r.evidence["lag_cortes"] == 1
    assert rules.corte_lag(obs, CONV).verdict is Verdict.PASS     # 20 min ≤ max_lag_min
    assert rules.corte_stamps(obs).verdict is Verdict.PASS


def test_stale_corte_without_its_paquete_is_error(c7, c6):
    obs = _obs(c7, served_files=c6)
    assert rules.integrity(obs).verdict is Verdict.ERROR


def test_two_cortes_behind_fails_lag(c7):
    c5 = paquete.corte_files(5)
    obs = _obs(c7, served_files=c5, reference=_ref(c5))
    r = rules.corte_lag(obs, CONV)
    assert r.verdict is Verdict.FAIL and r.evidence["lag_min"] == 40


def test_main_json_missing(c7):
    obs = _obs(c7, drop=(paquete.MAIN_JSON,))
    assert rules.corte_current(obs, CONV).verdict is Verdict.FAIL
    assert rules.corte_stamps(obs).verdict is Verdict.FAIL


def test_main_json_unreachable_is_error(c7):
    served = _served(c7)
    served[paquete.MAIN_JSON] = ServedFile.of(paquete.MAIN_JSON, BASE, None, error="ConnectTimeout")
    obs = PublicationObservation(BASE, _ref(c7), served, CorteRef.from_doc(None), None, {}, 0.1, 4)
    assert rules.corte_current(obs, CONV).verdict is Verdict.ERROR
    assert rules.integrity(obs).verdict is Verdict.ERROR


def test_extra_named_file(c7):
    extra = {"csv/EXTRA.csv": ServedFile.of("csv/EXTRA.csv", BASE + "csv/EXTRA.csv", 200, "ab" * 32, 10)}
    r = rules.integrity(_obs(c7, extra=extra))
    assert r.verdict is Verdict.FAIL and r.evidence["extra"][0]["path"] == "csv/EXTRA.csv"


def test_csv_corte_line_disagrees(c7):
    rel = next(p for p in c7 if p.startswith("csv/"))
    lines = c7[rel].split(b"\r\n")
    lines[1] = b"02/06/2024 21:00 (UTC-6)"
    obs = _obs(c7, alter={rel: b"\r\n".join(lines)})
    r = rules.corte_stamps(obs)
    assert r.verdict is Verdict.FAIL and rel in r.summary_en


def test_ultimo_corte_disagrees_with_iso(c7):
    doc = json.loads(c7[paquete.MAIN_JSON])
    doc["ultimoCorte"]["hora"] = "23:59"
    obs = _obs(c7, alter={paquete.MAIN_JSON: json.dumps(doc).encode()})
    assert rules.corte_stamps(obs).verdict is Verdict.FAIL


def _page(html: str, url=BASE) -> ServedFile:
    b = html.encode()
    return ServedFile.of("/", url, 200, hashlib.sha256(b).hexdigest(), len(b), None, b)


def test_page_shows_corte_in_html(c7):
    obs = _obs(c7)
    r = rules.page_shows_corte(obs, _page(c7["index.html"].decode()))
    assert r.verdict is Verdict.PASS, r.summary_en


def test_page_spanish_date(c7):
    obs = _obs(c7)
    t = paquete.corte_time(7)
    html = f"<p>Corte del {t.day} de junio de {t.year}, {t:%H:%M} horas</p>"
    assert rules.page_shows_corte(obs, _page(html)).verdict is Verdict.PASS


def test_page_built_by_js_from_main_json(c7):
    obs = _obs(c7)
    js = ServedFile.of("assets/app.js", BASE + "assets/app.js", 200, "0" * 64, 10, None,
                    b"fetch('json/main.json').then(r => r.json())")
    r = rules.page_shows_corte(obs, _page('<div id="c"></div><script src="assets/app.js"></script>'),
                               {BASE + "assets/app.js": js})
    assert r.verdict is Verdict.PASS and r.evidence["built_with_js"] is True


def test_page_without_corte_fails(c7):
    obs = _obs(c7)
    r = rules.page_shows_corte(obs, _page("<h1>Resultados</h1><p>Consulte aquí.</p><script>var x=1</script>"))
    assert r.verdict is Verdict.FAIL


def test_page_with_other_corte_fails(c7):
    obs = _obs(c7)
    assert rules.page_shows_corte(obs, _page("<p>Corte: 02/06/2024 20:00</p>")).verdict is Verdict.FAIL


def test_page_unreachable_is_error(c7):
    page = ServedFile.of("/", BASE, None, error="ConnectionError")
    assert rules.page_shows_corte(_obs(c7), page).verdict is Verdict.ERROR


def test_ultimo_corte_datetime():
    d = rules.ultimo_corte_datetime({"fecha": "02/06/2024", "hora": "22:20", "zona": "UTC-6"})
    assert d.isoformat() == "2024-06-02T22:20:00-06:00"
    assert rules.ultimo_corte_datetime({"fecha": "x"}) is None


def test_unverified_certificate_adds_a_note_not_a_verdict(c7):
    """Content read without certificate verification: same verdicts, plus the advisory note (es + en)."""
    import dataclasses
    why = "certificate verify failed: self-signed certificate"
    plain, unverified = _obs(c7), dataclasses.replace(_obs(c7), tls_unverified=why)
    page = _page(c7["index.html"].decode())
    for rule in (rules.integrity, rules.acta_images, rules.corte_stamps,
                 lambda o: rules.corte_current(o, CONV), lambda o: rules.corte_lag(o, CONV),
                 lambda o: rules.page_shows_corte(o, page)):
        a, b = rule(plain), rule(unverified)
        assert a.verdict is b.verdict is Verdict.PASS
        assert not any("II.2.d.https" in n.text for n in a.notes)
        note = b.notes[-1]
        assert note.level == "warn" and why in note.text and why in note.text_en
        assert "II.2.d.https" in note.text and "sin verificarlo" in note.text and "without verifying" in note.text_en
        assert b.evidence["tls_unverified"] == why
    # the page alone read unverified (its own fetch) is noted too
    r = rules.page_shows_corte(plain, dataclasses.replace(page, tls_unverified=why))
    assert r.verdict is Verdict.PASS and why in r.notes[-1].text_en

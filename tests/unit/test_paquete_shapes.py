"""Real paquete shapes (BOM, ``\\r``, Latin-1, blank rows, catalogues without a corte line, nested ZIPs,
MD5 and N/A integrity codes, JSON counts as text): each generated variant, loaded as a real paquete and
served byte-identical, PASSes the publication rules; one altered byte FAILs I.6. No network."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest

from prep_conformance import paquete
from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes.publication import CorteRef, PaqueteRef, PublicationObservation, ServedFile
from prep_conformance.rules import publication as rules
from prep_conformance.verdict import Verdict

BASE = "https://prep.example/"
CONV = load_convocatoria("iem-michoacan-2024")
SHAPES = ["bom", "cr", "latin1", "blank-rows", "nospace", "quoted", "catalogo", "nested-zip", "md5",
          "json-strings", "ine", "opl", "all"]


def _load(tmp_path, variant, secuencia=7):
    files = paquete.corte_files(secuencia, variant=variant)
    root = paquete.write_files(tmp_path / f"v-{variant}", files)
    return files, PaqueteRef.from_paquete(paquete.load_paquete(root))


def _obs(ref: PaqueteRef, files: dict[str, bytes], alter=None, drop=()) -> PublicationObservation:
    served = {}
    for rel, data in files.items():
        if rel == paquete.MANIFEST:
            continue
        data = (alter or {}).get(rel, data)
        st = 404 if rel in drop else 200
        served[rel] = ServedFile.of(rel, BASE + rel, st, hashlib.sha256(data).hexdigest() if st == 200 else None,
                                 len(data), None, data if rel.endswith((".json", ".csv", ".html", ".js", ".txt")) else None)
    return PublicationObservation(BASE, ref, served, CorteRef.from_doc(served[paquete.MAIN_JSON].json()), None, {},
                                  0.1, 4)


def _all(obs):
    return {r.check: r for r in (rules.integrity(obs), rules.acta_images(obs), rules.corte_current(obs, CONV),
                                 rules.corte_lag(obs, CONV), rules.corte_stamps(obs))}


@pytest.mark.parametrize("variant", SHAPES)
def test_compliant_shape_passes(tmp_path, variant):
    files, ref = _load(tmp_path, variant)
    got = {k: r.verdict.value for k, r in _all(_obs(ref, files)).items()}
    assert got == {"integrity": "PASS", "acta_images": "PASS", "corte_current": "PASS", "corte_lag": "PASS",
                   "corte_stamps": "PASS"}, {k: r.summary_en for k, r in _all(_obs(ref, files)).items()}


@pytest.mark.parametrize("variant", SHAPES)
def test_altered_byte_fails_integrity(tmp_path, variant):
    files, ref = _load(tmp_path, variant)
    rel = sorted(p for p in files if p.startswith("csv/") and "CANDIDATURAS" not in p)[0]
    data = bytearray(files[rel])
    i = max(j for j, b in enumerate(data) if chr(b).isdigit())
    data[i] = ord("0") + (data[i] - ord("0") + 1) % 10
    r = rules.integrity(_obs(ref, files, alter={rel: bytes(data)}))
    assert r.verdict is Verdict.FAIL and r.evidence["altered"][0]["path"] == rel


def test_csv_readers_find_headers_by_content():
    for variant in ("bom,cr,blank-rows", "latin1,nospace", "quoted"):
        files = paquete.corte_files(7, variant=variant)
        t = paquete.read_csv_table(files["csv/MICH_AYUN_2024.csv"])
        assert t.kind == "actas" and t.header[0] == "CLAVE_CASILLA"
        assert paquete.corte_line_datetime(t.corte_line).isoformat() == "2024-06-02T22:00:00-06:00"
        assert all(paquete.clean_cell(r[0])[:2] == "16" for r in t.rows)
    assert paquete.decode_text(paquete.corte_files(7, variant="latin1")["csv/MICH_AYUN_2024.csv"])[1] == "cp1252"
    assert paquete.decode_text(paquete.corte_files(7, variant="bom")["csv/MICH_AYUN_2024.csv"])[1] == "utf-8-sig"
    cat = paquete.read_csv_table(paquete.corte_files(7, variant="catalogo")["csv/MICH_AYUN_CANDIDATURAS_2024.csv"])
    assert cat.kind == "catalogo" and cat.corte_line is None


def test_integrity_codes_and_counts():
    assert paquete.integrity_code("'" + "a" * 64 + "'") == ("sha256", "A" * 64)
    assert paquete.integrity_code("b" * 32) == ("md5", "B" * 32)
    for none in ("N/A", "-", "", " n/a "):
        assert paquete.integrity_code(none) == (None, None)
    assert paquete.integrity_code("XYZ")[0] == "unknown"
    assert [paquete.vote_count(v) for v in ("1,234", "1 234", 12, "-", "N/A", True)] == [1234, 1234, 12, None, None, None]
    doc = json.loads(paquete.corte_files(7, variant="json-strings")[paquete.MAIN_JSON])
    assert all(isinstance(v["total"], str) for v in doc["votos"]) and "," in doc["totalVotos"]
    assert paquete.main_json_corte({"secuencia": "7", "ultimoCorte": {"fecha": "02/06/2024", "hora": "22:00",
                                                                      "zona": "UTC-6"}})[0] == 7


def test_md5_image_swapped_fails(tmp_path):
    files, ref = _load(tmp_path, "md5")
    assert ref.md5
    imgs = sorted(p for p in files if p.startswith("actas/"))
    a = rules.acta_images(_obs(ref, files, alter={imgs[0]: files[imgs[1]]}))
    assert a.verdict is Verdict.FAIL and a.evidence["mismatched"][0]["algorithm"] == "md5"
    ok = rules.acta_images(_obs(ref, files))
    assert ok.evidence["algorithms"] == ["md5"] and ok.evidence["rows_without_code"] == 2


def test_corte_line_removed_where_the_paquete_has_one_fails(tmp_path):
    files, ref = _load(tmp_path, "ine")
    rel = "csv/MICH_AYUN_2024.csv"
    lines = files[rel].split(b"\r")
    served = b"\r".join(lines[:1] + lines[2:])
    r = rules.corte_stamps(_obs(ref, files, alter={rel: served}))
    assert r.verdict is Verdict.FAIL and rel in r.summary_en
    # the catalogue has none in the paquete: never demanded
    ok = rules.corte_stamps(_obs(ref, files))
    assert set(ok.evidence["csv_without_corte_line_in_paquete"]) == {
        "csv/MICH_AYUN_CANDIDATURAS_2024.csv", "csv/MICH_DIP_LOC_CANDIDATURAS_2024.csv"}


def test_nested_zip_archive_loads(tmp_path):
    root = paquete.generate_corte(tmp_path, 7, variant="ine")
    inner = paquete.pack(root, tmp_path / "20240602_2200_PREP_MICH_corte.zip")
    outer = tmp_path / "entrega.zip"
    with zipfile.ZipFile(outer, "w") as z:
        z.write(inner, inner.name)
        z.writestr("LEEME.txt", "Paquete de difusión\r\n")
    pq = paquete.load_paquete(outer, tmp_path / "x")
    assert pq.secuencia == 7 and not pq.verify()
    # the corte's own ZIP holds per-election ZIPs and a LEEME.txt
    with zipfile.ZipFile(root / "20240602_2200_PREP_MICH.zip") as z:
        names = z.namelist()
    assert "LEEME.txt" in names and sum(n.endswith(".zip") for n in names) == 2


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown variant"):
        paquete.parse_variant("bom,utf16")
    assert paquete.main(["generate", "/nonexistent-never", "--variant", "nope"]) == 2


def test_manifest_with_bom_crlf_and_dot_paths(tmp_path):
    files = paquete.corte_files(7)
    man = files[paquete.MANIFEST].decode().replace("  ", "  ./").replace("\n", "\r\n")
    files = {**files, paquete.MANIFEST: b"\xef\xbb\xbf" + man.encode()}
    root = paquete.write_files(tmp_path / "m", files)
    pq = paquete.load_paquete(root)
    assert paquete.MAIN_JSON in pq.manifest and not pq.verify()


def test_other_delimiters_and_iso_corte_lines():
    text = ("PRESIDENCIA MUNICIPAL|DATOS FICTICIOS\r\n2024-06-02 22:20 (UTC-06:00)\r\n"
            "CLAVE_CASILLA|CLAVE_ACTA|CODIGO_INTEGRIDAD|RUTA_IMAGEN\r\n'160100B0100'|A1|N/A|-\r\n")
    t = paquete.read_csv_table(text.encode("latin-1"))
    assert t.kind == "actas" and t.header == ["CLAVE_CASILLA", "CLAVE_ACTA", "CODIGO_INTEGRIDAD", "RUTA_IMAGEN"]
    assert paquete.corte_line_datetime(t.corte_line).isoformat() == "2024-06-02T22:20:00-06:00"


def test_image_named_by_file_name_only_and_images_the_paquete_lacks(tmp_path):
    files, ref = _load(tmp_path, "standard")
    rel = "csv/MICH_AYUN_2024.csv"
    # the CSV names images by bare file name (matched to the one file of that name), and one the paquete lacks
    data = files[rel].replace(b",actas/", b",")
    lines = data.split(b"\r\n")
    i = next(j for j, ln in enumerate(lines) if ln.endswith(b".png"))
    lines[i] = lines[i][: lines[i].rindex(b",") + 1] + b"actas/NO_EXISTE.png"
    data = b"\r\n".join(lines)
    files2 = {**files, rel: data}
    manifest = {p: hashlib.sha256(b).hexdigest() for p, b in files2.items() if p != paquete.MANIFEST}
    ref2 = PaqueteRef(ref.source, manifest, ref.corte, {**ref.texts, rel: data})
    a = rules.acta_images(_obs(ref2, files2))
    assert a.verdict is Verdict.PASS, a.summary_en
    assert a.evidence["outside_manifest_count"] == 1 and any("not in the paquete" in n.text_en for n in a.notes)


def test_older_corte_found_by_the_date_in_its_archive_name(tmp_path):
    from prep_conformance.probes.publication import find_corte
    newest = paquete.generate_corte(tmp_path / "entregas", 7, variant="ine")
    older = paquete.generate_corte(tmp_path / "tmp", 6, variant="ine")
    paquete.pack(older, tmp_path / "entregas" / "20240602_2140_PREP_MICH.zip")
    found = find_corte(newest, 6, paquete.corte_time(6))
    assert found is not None and found.secuencia == 6
    assert find_corte(newest, 6) is None            # without the date the name says nothing

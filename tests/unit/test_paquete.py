"""The synthetic paquete: deterministic, manifest-complete, CSV layout as the PREP publishes it."""

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile

from pathlib import Path

import pytest

from prep_conformance import paquete


def test_corte_times_every_20_minutes():
    assert paquete.corte_time(1) == dt.datetime.fromisoformat("2024-06-02T20:00:00-06:00")
    assert paquete.corte_time(8).isoformat() == "2024-06-02T22:20:00-06:00"
    assert paquete.corte_label(paquete.corte_time(8)) == "02/06/2024 22:20 (UTC-6)"
    assert paquete.zip_name(paquete.corte_time(8)) == "20240602_2220_PREP_MICH.zip"
    with pytest.raises(ValueError):
        paquete.corte_time(0)


def test_deterministic():
    a = paquete.corte_files(5, actas=4, image_bytes=300, seed=1)
    b = paquete.corte_files(5, actas=4, image_bytes=300, seed=1)
    assert a == b
    assert paquete.corte_files(5, actas=4, image_bytes=300, seed=2) != a


def test_manifest_covers_every_file_but_itself():
    files = paquete.corte_files(3)
    man = paquete.parse_manifest(files[paquete.MANIFEST].decode())
    assert set(man) == set(files) - {paquete.MANIFEST}
    for rel, digest in man.items():
        assert hashlib.sha256(files[rel]).hexdigest() == digest


def test_main_json_contract_fields():
    files = paquete.corte_files(8)
    doc = json.loads(files["json/main.json"])
    assert doc["secuencia"] == 8
    assert doc["corte_iso"] == "2024-06-02T22:20:00-06:00"
    assert doc["ultimoCorte"] == {"fecha": "02/06/2024", "hora": "22:20", "zona": "UTC-6"}
    listed = {f["ruta"] for f in doc["archivos"]}
    assert listed == set(files) - {"json/main.json", paquete.MANIFEST}
    assert 'id="corte">Corte: 02/06/2024 22:20 (UTC-6)<' in files["index.html"].decode()


def test_csv_layout_and_integrity_codes():
    files = paquete.corte_files(8, actas=6)
    text = files["csv/MICH_AYUN_2024.csv"].decode()
    lines = text.split("\r\n")
    assert "AYUNTAMIENTOS" in lines[0]
    assert lines[1] == "02/06/2024 22:20 (UTC-6)"
    rows = list(csv.reader(io.StringIO("\r\n".join(lines[2:]))))
    assert rows[0][0] == "ACTAS_ESPERADAS" and len(rows[1]) == len(rows[0])
    header = rows[2]
    assert header[0] == "CLAVE_CASILLA" and "CODIGO_INTEGRIDAD" in header and "FECHA_HORA_ACOPIO" in header
    actas = [dict(zip(header, r)) for r in rows[3:] if r]
    assert len(actas) == 3
    for a in actas:
        img = files[a["RUTA_IMAGEN"]]
        assert img.startswith(b"\x89PNG\r\n\x1a\n")
        assert a["CODIGO_INTEGRIDAD"] == hashlib.sha256(img).hexdigest().upper()
        acopio = dt.datetime.strptime(a["FECHA_HORA_ACOPIO"], "%d/%m/%Y %H:%M:%S")
        assert acopio <= dt.datetime(2024, 6, 2, 22, 20)


def test_zip_holds_the_csvs():
    files = paquete.corte_files(2)
    with zipfile.ZipFile(io.BytesIO(files["20240602_2020_PREP_MICH.zip"])) as z:
        assert sorted(z.namelist()) == ["MICH_AYUN_2024.csv", "MICH_DIP_LOC_2024.csv"]
        assert z.read("MICH_AYUN_2024.csv") == files["csv/MICH_AYUN_2024.csv"]


def test_image_size_knob():
    img = paquete.acta_image("X", 20_000)
    assert 19_000 < len(img) < 21_000


def test_series_and_load(tmp_path):
    dirs = paquete.generate_series(tmp_path, 3)
    assert [d.name for d in dirs] == ["corte-0001", "corte-0002", "corte-0003"]
    pq = paquete.load_paquete(dirs[-1])
    assert pq.secuencia == 3 and pq.corte.isoformat() == "2024-06-02T20:40:00-06:00"
    assert pq.verify() == {}
    assert paquete.read_manifest(dirs[-1]) == dict(pq.manifest)
    with pytest.raises(TypeError):
        pq.main_json["secuencia"] = 9  # frozen


@pytest.mark.parametrize("ext", ["tar.gz", "zip"])
def test_load_archive(tmp_path, ext):
    d = paquete.generate_corte(tmp_path / "src", 4)
    arc = paquete.pack(d, tmp_path / f"p.{ext}")
    pq = paquete.load_paquete(arc, extract_to=tmp_path / "x")
    assert pq.secuencia == 4 and pq.verify() == {}


def test_archive_extracted_to_a_temp_dir_is_removed_at_exit(tmp_path):
    import subprocess
    import sys
    arc = paquete.pack(paquete.generate_corte(tmp_path / "src", 2), tmp_path / "p.tar.gz")
    code = ("import sys; from prep_conformance import paquete; "
            f"pq = paquete.load_paquete({str(arc)!r}); print(pq.root); sys.exit(0 if pq.root.exists() else 3)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    root = Path(p.stdout.strip())
    temp = next(d for d in (root, *root.parents) if d.name.startswith("paquete-"))
    assert not temp.exists()


def test_alter_file_detected(tmp_path):
    d = paquete.generate_corte(tmp_path, 2)
    rel = paquete.alter_file(d)
    assert rel.startswith("csv/")
    assert paquete.load_paquete(d).verify() == {rel: "sha256 mismatch"}


def test_bad_manifest_line():
    with pytest.raises(ValueError):
        paquete.parse_manifest("nothex  a.txt\n")
    with pytest.raises(ValueError):
        paquete.parse_manifest("0" * 64 + "  ../etc/passwd\n")


def test_cli_generate_and_verify(tmp_path, capsys):
    assert paquete.main(["generate", str(tmp_path), "--cortes", "2", "--actas", "2"]) == 0
    assert paquete.main(["verify", str(tmp_path / "corte-0002")]) == 0
    paquete.alter_file(tmp_path / "corte-0002", "index.html")
    assert paquete.main(["verify", str(tmp_path / "corte-0002")]) == 1


def test_realistic_size_is_tens_of_mb_and_thousands_of_files():
    files = paquete.corte_files(3, **paquete.REALISTIC)
    assert len(files) > 2000
    assert 20e6 < sum(map(len, files.values())) < 100e6

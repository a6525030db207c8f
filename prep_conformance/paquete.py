"""The synthetic paquete de difusión (CONTRACT §4, DESIGN "The paquete de difusión").

The real format is not public; this one follows what INE/OPL PREP publications of 2018–2024 show:
a folder per corte with a single-page site, ``json/main.json``, CSV files (election line, corte line,
summary header and row, one row per acta with ``CODIGO_INTEGRIDAD`` = uppercase SHA-256 of the acta
image), acta images, a ZIP ``YYYYMMDD_HHMM_PREP_<X>.zip`` of the CSVs, and ``MANIFEST.sha256``.

Everything is deterministic: the same ``(secuencia, actas, image_bytes, seed)`` gives the same bytes,
so tests can compare hashes across runs. Parties, places and people are fictitious.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import datetime as dt
import hashlib
import io
import json
import random
import re
import shutil
import struct
import sys
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

TZ = dt.timezone(dt.timedelta(hours=-6), "UTC-6")
START = dt.datetime(2024, 6, 2, 20, 0, tzinfo=TZ)      # first corte (secuencia 1)
INTERVAL_MIN = 20
ZONA = "UTC-6"
ENTIDAD = "MICHOACÁN"
ZIP_TAG = "MICH"
MANIFEST = "MANIFEST.sha256"
MAIN_JSON = "json/main.json"

# Fictitious parties only.
PARTIES = [("PAZ", "Partido Azul"), ("PVL", "Partido Verde Limón"), ("PNA", "Partido Naranja Atardecer"),
           ("PRO", "Partido Rosa Mexicano"), ("MCO", "Movimiento Coral")]
ELECTIONS = [("DIP_LOC", "DIPUTACIONES LOCALES", "MICH_DIP_LOC_2024.csv"),
             ("AYUN", "AYUNTAMIENTOS", "MICH_AYUN_2024.csv")]
DISTRITOS = ["Valle Ficticio", "Lago Imaginario", "Sierra Inventada", "Costa Supuesta", "Meseta Hipotética"]
TIPOS_CASILLA = ["B", "C", "E", "S"]

SUMMARY_HEADER = ["ACTAS_ESPERADAS", "ACTAS_REGISTRADAS", "ACTAS_FUERA_CATALOGO", "ACTAS_CAPTURADAS",
                  "PORCENTAJE_ACTAS_CAPTURADAS", "ACTAS_CONTABILIZADAS", "PORCENTAJE_ACTAS_CONTABILIZADAS",
                  "PORCENTAJE_ACTAS_INCONSISTENCIAS", "ACTAS_NO_CONTABILIZADAS",
                  "LISTA_NOMINAL_ACTAS_CONTABILIZADAS", "TOTAL_VOTOS_C_CS", "TOTAL_VOTOS_S_CS",
                  "PORCENTAJE_PARTICIPACION_CIUDADANA"]
ACTA_HEADER = (["CLAVE_CASILLA", "CLAVE_ACTA", "ID_ENTIDAD", "ENTIDAD", "ID_DISTRITO_LOCAL", "DISTRITO_LOCAL",
                "SECCION", "ID_CASILLA", "TIPO_CASILLA", "EXT_CONTIGUA", "TIPO_ACTA",
                "TOTAL_BOLETAS_SOBRANTES", "TOTAL_PERSONAS_VOTARON"]
               + [p for p, _ in PARTIES]
               + ["NO_REGISTRADOS", "NULOS", "TOTAL_VOTOS_ASENTADO", "TOTAL_VOTOS_CALCULADO", "LISTA_NOMINAL",
                  "OBSERVACIONES", "CONTABILIZADA", "MECANISMOS_TRASLADO", "CODIGO_INTEGRIDAD",
                  "FECHA_HORA_ACOPIO", "FECHA_HORA_CAPTURA", "FECHA_HORA_VERIFICACION", "ORIGEN",
                  "DIGITALIZACION", "TIPO_DOCUMENTO", "RUTA_IMAGEN"])

TINY = {"actas": 6, "image_bytes": 256}            # unit tests: a dozen files, a few kB
REALISTIC = {"actas": 2400, "image_bytes": 16_000}  # demo/bench: ~40 MB, ~2 400 files


# ---------------------------------------------------------------------------------------------- time


def corte_time(secuencia: int, start: dt.datetime = START, interval_min: float = INTERVAL_MIN) -> dt.datetime:
    """The date/time of corte ``secuencia`` (1 = ``start``), in UTC-6 as the PREP publishes it."""
    if secuencia < 1:
        raise ValueError("secuencia starts at 1")
    return (start + dt.timedelta(minutes=interval_min * (secuencia - 1))).astimezone(TZ)


def corte_label(when: dt.datetime, nospace: bool = False) -> str:
    """``02/06/2024 22:20 (UTC-6)``: the corte line of the CSVs and the page (``22:20(UTC-6)`` with ``nospace``)."""
    w = when.astimezone(TZ)
    return f"{w:%d/%m/%Y %H:%M}{'' if nospace else ' '}({ZONA})"


def corte_dirname(secuencia: int) -> str:
    return f"corte-{secuencia:04d}"


def zip_name(when: dt.datetime, tag: str = ZIP_TAG) -> str:
    return f"{when.astimezone(TZ):%Y%m%d_%H%M}_PREP_{tag}.zip"


# Shapes real packages take (``paquete generate --variant``); presets combine them.
VARIANTS = {
    "bom": "UTF-8 con BOM / UTF-8 with a BOM",
    "cr": "líneas terminadas en \\r / lines ending in \\r alone",
    "lf": "líneas terminadas en \\n / lines ending in \\n",
    "latin1": "CSV en Latin-1 / CSVs in Latin-1",
    "blank-rows": "filas en blanco entre secciones / blank rows between sections",
    "nospace": "HH:MM(UTC-6) sin espacio / HH:MM(UTC-6) with no space",
    "quoted": "claves entre comillas ('0123') y celdas '-' / quoted keys and '-' cells",
    "catalogo": "catálogos *_CANDIDATURAS_*.csv sin línea de corte / candidates catalogues with no corte line",
    "nested-zip": "ZIP de ZIP por elección con LEEME.txt / a ZIP of per-election ZIPs with LEEME.txt",
    "md5": "CODIGO_INTEGRIDAD en MD5 y N/A / MD5 and N/A integrity codes",
    "json-strings": "votos en JSON como texto con separador de miles / JSON votes as strings with separators",
}
PRESETS = {
    "ine": ("bom", "cr", "blank-rows", "catalogo", "nested-zip", "quoted", "json-strings"),
    "opl": ("latin1", "lf", "nospace", "md5", "catalogo"),
    "all": ("bom", "cr", "blank-rows", "nospace", "quoted", "catalogo", "nested-zip", "md5", "json-strings"),
}


def parse_variant(spec: str | Iterable[str] | None) -> frozenset[str]:
    """``"bom,cr"`` / ``"ine"`` / ``["md5"]`` → the set of shapes; ``ValueError`` naming an unknown one."""
    if not spec:
        return frozenset()
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: set[str] = set()
    for item in (i.strip() for i in items):
        if not item or item == "standard":
            continue
        if item in PRESETS:
            out.update(PRESETS[item])
        elif item in VARIANTS:
            out.add(item)
        else:
            raise ValueError(f"unknown variant {item!r}: one of {', '.join([*VARIANTS, *PRESETS])}")
    if {"latin1", "bom"} <= out:
        out.discard("bom")
    return frozenset(out)


# ---------------------------------------------------------------------------------------------- bytes


def _png(data: bytes, width: int) -> bytes:
    """A valid 8-bit grayscale PNG whose pixels are ``data`` (stored, not compressed, so size is predictable)."""
    height = max(1, -(-len(data) // width))
    raw = b"".join(b"\x00" + data[r * width:(r + 1) * width].ljust(width, b"\x00") for r in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")


def acta_image(clave_acta: str, image_bytes: int, seed: int = 0) -> bytes:
    """The acta's scanned image: a deterministic PNG of about ``image_bytes`` bytes (never below ~100)."""
    width = 64
    n = max(width, image_bytes - 70 - image_bytes // width)
    rng = random.Random(f"{seed}:{clave_acta}")
    return _png(rng.randbytes(n), width)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------- actas


@dataclass(frozen=True)
class _Acta:
    election: str
    clave_casilla: str
    clave_acta: str
    distrito: int
    seccion: int
    tipo: str
    lista_nominal: int
    votos: tuple[int, ...]
    no_registrados: int
    nulos: int
    acopio: dt.datetime


def _actas(secuencia: int, when: dt.datetime, start: dt.datetime, actas: int, seed: int) -> list[_Acta]:
    """Actas of the corte: stable per index (same casilla, votes, image); acopio never after the corte."""
    out = []
    elapsed = max(0, int((when - start).total_seconds()))
    for i in range(actas):
        code, _, _ = ELECTIONS[i % len(ELECTIONS)]
        rng = random.Random(f"{seed}:acta:{i}")
        seccion = 100 + rng.randrange(2500)
        tipo = rng.choice(TIPOS_CASILLA)
        distrito = 1 + rng.randrange(len(DISTRITOS))
        clave_casilla = f"16{seccion:04d}{tipo}{i // len(ELECTIONS) % 10:02d}00"
        clave_acta = f"{clave_casilla}{'D' if code == 'DIP_LOC' else 'A'}{i:05d}"
        lista = 300 + rng.randrange(450)
        votos = tuple(rng.randrange(lista // 6 + 1) for _ in PARTIES)
        nr, nulos = rng.randrange(5), rng.randrange(12)
        acopio = start - dt.timedelta(minutes=5) + dt.timedelta(seconds=rng.randrange(elapsed + 1))
        out.append(_Acta(code, clave_casilla, clave_acta, distrito, seccion, tipo, lista, votos, nr, nulos, acopio))
    return out


def _fmt(when: dt.datetime) -> str:
    return f"{when.astimezone(TZ):%d/%m/%Y %H:%M:%S}"


def _csv_bytes(election: str, title: str, when: dt.datetime, actas: list[_Acta], hashes: dict[str, str],
               variant: frozenset[str] = frozenset()) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    rows = [a for a in actas if a.election == election]
    total = sum(sum(a.votos) + a.no_registrados + a.nulos for a in rows)
    lista = sum(a.lista_nominal for a in rows)
    esperadas = max(len(rows), 1) * 2
    blank = "blank-rows" in variant
    buf.write(f"{title} - PROCESO ELECTORAL LOCAL 2023-2024 - {ENTIDAD} (DATOS FICTICIOS)\r\n")
    buf.write(corte_label(when, nospace="nospace" in variant) + "\r\n")
    if blank:
        buf.write("\r\n")
    w.writerow(SUMMARY_HEADER)
    pct = lambda n, d: f"{(100.0 * n / d) if d else 0:.4f}"
    w.writerow([esperadas, len(rows), 0, len(rows), pct(len(rows), esperadas), len(rows),
                pct(len(rows), esperadas), "0.0000", 0, lista, total, total, pct(total, lista)])
    if blank:
        buf.write("\r\n")
    w.writerow(ACTA_HEADER)
    quoted = "quoted" in variant
    for a in rows:
        tot = sum(a.votos) + a.no_registrados + a.nulos
        code = hashes.get(a.clave_acta, "N/A")
        ruta = f"actas/{a.clave_acta}.png" if a.clave_acta in hashes else "-"
        w.writerow([f"'{a.clave_casilla}'" if quoted else a.clave_casilla,
                    f"'{a.clave_acta}'" if quoted else a.clave_acta, 16, ENTIDAD, a.distrito,
                    DISTRITOS[a.distrito - 1].upper(),
                    f"'{a.seccion:04d}'" if quoted else a.seccion, 1, a.tipo, 0, 2 if election == "DIP_LOC" else 3,
                    a.lista_nominal - tot, tot, *a.votos, a.no_registrados, a.nulos, tot, tot, a.lista_nominal,
                    "-" if quoted else "", 1, "F", code, _fmt(a.acopio), _fmt(a.acopio + dt.timedelta(minutes=2)),
                    _fmt(a.acopio + dt.timedelta(minutes=4)), "CATD", "ESCANER", "ACTA PREP", ruta])
    return _encode(buf.getvalue(), variant)


def _encode(text: str, variant: frozenset[str]) -> bytes:
    """Text as a variant writes it: ``\r`` alone for ``cr``, a BOM for ``bom``, Latin-1 for ``latin1``."""
    if "cr" in variant:
        text = text.replace("\r\n", "\r")
    elif "lf" in variant:
        text = text.replace("\r\n", "\n")
    if "latin1" in variant:
        return text.encode("latin-1", errors="replace")
    return (b"\xef\xbb\xbf" if "bom" in variant else b"") + text.encode("utf-8")


def _catalogo_bytes(election: str, title: str, variant: frozenset[str]) -> bytes:
    """``*_CANDIDATURAS_*.csv``: the candidates catalogue of an election; no corte line (real ones have none)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["ID_ENTIDAD", "ENTIDAD", "ID_DISTRITO_LOCAL", "PARTIDO_CI", "CANDIDATURA_PROPIETARIA",
                "CANDIDATURA_SUPLENTE"])
    for d, distrito in enumerate(DISTRITOS, 1):
        for code, name in PARTIES:
            w.writerow([16, ENTIDAD, d, code, f"Persona Ficticia {code} {d} ({title.title()})",
                        f"Suplente Ficticia {code} {d}"])
    return _encode(buf.getvalue(), variant)


LEEME = """LEEME - Paquete de difusion del PREP (DATOS FICTICIOS)
Cada archivo CSV trae en la primera linea la eleccion y en la segunda la fecha y hora del corte.
Los catalogos de candidaturas (*_CANDIDATURAS_*.csv) no traen linea de corte.
CODIGO_INTEGRIDAD: huella criptografica de la imagen del acta; N/A cuando el acta no tiene imagen.
"""

def _zip_bytes(members: dict[str, bytes], when: dt.datetime) -> bytes:
    buf = io.BytesIO()
    stamp = when.astimezone(TZ).timetuple()[:6]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(members.items()):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- site

_INDEX = """<!DOCTYPE html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PREP 2024 · {entidad} · Difusor (datos ficticios)</title>
<link rel="stylesheet" href="assets/app.css">
</head>
<body>
<header><h1>Programa de Resultados Electorales Preliminares 2024</h1>
<p class="aviso">Sitio de prueba con datos ficticios.</p></header>
<main>
<p><span id="corte">Corte: {label}</span> · <span id="secuencia">Secuencia {secuencia}</span></p>
<p id="corte-js" data-src="json/main.json"></p>
<section id="resultados">
<h2>Resultados</h2>
<table><thead><tr><th>Partido</th><th>Votos</th></tr></thead><tbody>
{rows}
</tbody></table>
</section>
<section id="descargas"><h2>Base de datos</h2><p><a href="{zip}">{zip}</a></p></section>
</main>
<script src="assets/app.js"></script>
</body>
</html>
"""

_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
header h1{font-size:1.4rem}#corte{font-weight:bold}.aviso{color:#a40}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .6rem}
"""

_JS = """// Loads main.json (never cached: see II.1.e) and shows the corte it announces.
(function () {
  var el = document.getElementById('corte-js');
  fetch('json/main.json', {cache: 'no-store'}).then(function (r) { return r.json(); }).then(function (m) {
    var c = m.ultimoCorte;
    el.textContent = 'Último corte (main.json): ' + c.fecha + ' ' + c.hora + ' (' + c.zona + ')';
  }).catch(function () { el.textContent = ''; });
})();
"""


def _index_html(secuencia: int, when: dt.datetime, totals: list[tuple[str, int]], zip_file: str) -> bytes:
    rows = "\n".join(f"<tr><td>{name}</td><td>{n}</td></tr>" for name, n in totals)
    return _INDEX.format(entidad="Michoacán", label=corte_label(when), secuencia=secuencia, rows=rows,
                         zip=zip_file).encode("utf-8")


# ---------------------------------------------------------------------------------------------- generate


def main_json_doc(secuencia: int, when: dt.datetime, files: dict[str, bytes]) -> dict[str, Any]:
    w = when.astimezone(TZ)
    return {
        "secuencia": secuencia,
        "corte_iso": w.isoformat(),
        "ultimoCorte": {"fecha": f"{w:%d/%m/%Y}", "hora": f"{w:%H:%M}", "zona": ZONA},
        "proceso": "Proceso Electoral Local 2023-2024 (datos ficticios)",
        "archivos": [{"ruta": p, "bytes": len(b), "sha256": sha256_hex(b)} for p, b in sorted(files.items())],
    }


def corte_files(secuencia: int, *, actas: int = TINY["actas"], image_bytes: int = TINY["image_bytes"],
                seed: int = 0, start: dt.datetime = START, interval_min: float = INTERVAL_MIN,
                variant: str | Iterable[str] | None = None) -> dict[str, bytes]:
    """Every file of a corte (relative path → bytes), ``MANIFEST.sha256`` included. Pure: no I/O.

    ``variant`` (see ``VARIANTS``/``PRESETS``) gives the shapes real packages take; none: the standard one.
    """
    var = parse_variant(variant)
    when = corte_time(secuencia, start, interval_min)
    rows = _actas(secuencia, when, start, actas, seed)
    files: dict[str, bytes] = {}
    hashes: dict[str, str] = {}
    last = {code: max((i for i, a in enumerate(rows) if a.election == code), default=-1) for code, _, _ in ELECTIONS}
    for i, a in enumerate(rows):
        if "md5" in var and i == last[a.election] and len(rows) > len(ELECTIONS):
            continue                             # an acta without image yet: CODIGO_INTEGRIDAD N/A
        img = acta_image(a.clave_acta, image_bytes, seed)
        files[f"actas/{a.clave_acta}.png"] = img
        hashes[a.clave_acta] = (hashlib.md5(img).hexdigest() if "md5" in var else sha256_hex(img)).upper()
    csvs = {f"csv/{fname}": _csv_bytes(code, title, when, rows, hashes, var) for code, title, fname in ELECTIONS}
    if "catalogo" in var:
        csvs.update({f"csv/{fname.replace('_2024.csv', '_CANDIDATURAS_2024.csv')}": _catalogo_bytes(code, title, var)
                     for code, title, fname in ELECTIONS})
    files.update(csvs)
    zname = zip_name(when)
    members = {k.split("/", 1)[1]: v for k, v in csvs.items()}
    if "nested-zip" in var:
        inner = {}
        for code, _, fname in ELECTIONS:
            mine = {n: b for n, b in members.items() if n.startswith(fname.rsplit("_", 1)[0])}
            inner[zip_name(when, f"{ZIP_TAG}_{code}")] = _zip_bytes({**mine, "LEEME.txt": _encode(LEEME, var)}, when)
        members = {**inner, "LEEME.txt": _encode(LEEME, var)}
        files["LEEME.txt"] = _encode(LEEME, var)
    files[zname] = _zip_bytes(members, when)
    totals = [(name, sum(a.votos[j] for a in rows)) for j, (_, name) in enumerate(PARTIES)]
    files["index.html"] = _index_html(secuencia, when, totals, zname)
    files["assets/app.css"] = _CSS.encode()
    files["assets/app.js"] = _JS.encode()
    doc = main_json_doc(secuencia, when, files)
    if "json-strings" in var:       # as several PREP JSONs publish counts: text with thousands separators
        doc["votos"] = [{"partido": code, "total": f"{n:,}"} for (code, _), (_, n) in zip(PARTIES, totals)]
        doc["totalVotos"] = f"{sum(n for _, n in totals) * 1000:,}"
    files[MAIN_JSON] = (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    files[MANIFEST] = manifest_text({p: sha256_hex(b) for p, b in files.items()}).encode()
    return files


def manifest_text(hashes: Mapping[str, str]) -> str:
    """coreutils ``sha256sum`` format, sorted by path; the manifest never lists itself."""
    return "".join(f"{h}  {p}\n" for p, h in sorted(hashes.items()) if p != MANIFEST)


def write_files(root: Path, files: Mapping[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def generate_corte(out_dir: str | Path, secuencia: int, *, actas: int = TINY["actas"],
                   image_bytes: int = TINY["image_bytes"], seed: int = 0, start: dt.datetime = START,
                   interval_min: float = INTERVAL_MIN, name: str | None = None,
                   variant: str | Iterable[str] | None = None) -> Path:
    """Write corte ``secuencia`` into ``out_dir/corte-NNNN`` (or ``out_dir/name``) and return that folder.

    An existing folder of that name is replaced, so a re-run never leaves stale files behind.
    """
    root = Path(out_dir) / (name or corte_dirname(secuencia))
    if root.exists():
        shutil.rmtree(root)
    return write_files(root, corte_files(secuencia, actas=actas, image_bytes=image_bytes, seed=seed,
                                         start=start, interval_min=interval_min, variant=variant))


def generate_series(out_dir: str | Path, n: int, *, first: int = 1, **kw: Any) -> list[Path]:
    """Cortes ``first .. first+n-1`` as sibling folders; the last one is the newest."""
    return [generate_corte(out_dir, s, **kw) for s in range(first, first + n)]



# ---------------------------------------------------------------------------------------------- real shapes
#
# Real PREP packages (INE, IECM, OPL 2018-2024) differ: UTF-8 with or without a BOM, or Latin-1; lines
# ending in \r\n, \n or \r alone; blank rows or none; the corte line ``dd/mm/yyyy HH:MM (UTC-6)`` (or
# ``HH:MM(UTC-6)``) on row 2, or none at all in a candidates catalogue; the headers found by content.
# These readers accept every one of those; the rules use them wherever a CSV is read.

CORTE_LINE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::\d{2})?\s*(?:\(?\s*([A-Z]{3}\s*[+-−]\s*\d{1,2}(?::?\d{2})?)\s*\)?)?")
CORTE_LINE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::\d{2})?\s*(?:\(?\s*([A-Z]{3}\s*[+-−]\s*\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2})\s*\)?)?")
NO_CODE = {"", "-", "N/A", "NA", "N.A.", "SIN CODIGO", "SIN CÓDIGO", "NULL", "NONE"}


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, encoding)``: UTF-8 (a BOM dropped) when it decodes, else Latin-1 (cp1252 when it fits)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def text_lines(data: bytes | str) -> list[str]:
    """The lines of a text file whatever its line ends (``\r\n``, ``\n`` or ``\r`` alone)."""
    text = decode_text(data)[0] if isinstance(data, bytes) else data
    return text.splitlines()


def clean_cell(cell: str) -> str:
    """A CSV cell as the PREP writes keys: ``'0123'`` → ``0123``; surrounding blanks dropped."""
    c = cell.strip()
    if len(c) >= 2 and c[0] == c[-1] and c[0] in "'\"":
        c = c[1:-1].strip()
    elif c.startswith("'"):
        c = c[1:]
    return c


@dataclass(frozen=True)
class CsvTable:
    """A PREP CSV read by content: the corte line if any (within the rows before the first header),
    the acta header (the row naming ``CODIGO_INTEGRIDAD`` or beginning ``CLAVE_CASILLA``) and its rows."""

    encoding: str
    corte_line: str | None
    header: list[str] | None
    rows: list[list[str]]
    kind: str                     # "actas" | "catalogo" | "otro"


def corte_line_of(lines: list[str], limit: int = 8) -> str | None:
    """The corte line among the first rows (before any header): None when the file carries none."""
    for ln in lines[:limit]:
        if ln.strip().upper().startswith(("ACTAS_ESPERADAS", "CLAVE_CASILLA")) or "CODIGO_INTEGRIDAD" in ln.upper():
            break
        if CORTE_LINE.search(ln) or CORTE_LINE_ISO.search(ln):
            return ln.strip().strip(",;|").strip()
    return None


def corte_line_datetime(line: str | None) -> dt.datetime | None:
    """``02/06/2024 22:20 (UTC-6)`` or ``02/06/2024 22:20(UTC-6)`` → aware datetime (naive: UTC-6 assumed)."""
    m = CORTE_LINE.search(line or "")
    if m:
        d, mo, y, h, mi, zone = m.groups()
    else:
        m = CORTE_LINE_ISO.search(line or "")
        if not m:
            return None
        y, mo, d, h, mi, zone = m.groups()
    try:
        when = dt.datetime(int(y), int(mo), int(d), int(h), int(mi))
    except ValueError:
        return None
    tz = TZ
    if zone:
        z = re.fullmatch(r"(?:[A-Z]{3})?\s*([+-−])\s*(\d{1,2})(?::?(\d{2}))?", zone.strip())
        if z:
            sign = 1 if z.group(1) == "+" else -1
            tz = dt.timezone(sign * dt.timedelta(hours=int(z.group(2)), minutes=int(z.group(3) or 0)))
    return when.replace(tzinfo=tz)


def _delimiter(lines: list[str]) -> str:
    """``,`` unless the header rows are plainly split by ``|``, ``;`` or a tab (some OPLs publish so)."""
    for ln in lines[:12]:
        up = ln.upper()
        if "CLAVE_CASILLA" in up or "CODIGO_INTEGRIDAD" in up or "ACTAS_ESPERADAS" in up:
            counts = {d: ln.count(d) for d in (",", "|", ";", "\t")}
            best = max(counts, key=counts.get)
            return best if counts[best] else ","
    return ","


def read_csv_table(data: bytes) -> CsvTable:
    """Parse a PREP CSV of any of the shapes above; blank rows dropped; header cells upper-cased."""
    text, enc = decode_text(data)
    lines = text.splitlines()
    rows = [r for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=_delimiter(lines))
            if any(c.strip() for c in r)]
    header_i = None
    for i, row in enumerate(rows):
        cells = [clean_cell(c).upper() for c in row]
        if "CODIGO_INTEGRIDAD" in cells or (cells and cells[0] == "CLAVE_CASILLA"):
            header_i = i
            break
    if header_i is None:       # a catalogue (candidaturas): its own header is the first row with no corte date
        first = next((i for i, row in enumerate(rows) if not CORTE_LINE.search(",".join(row))), None)
        header = [clean_cell(c).upper() for c in rows[first]] if first is not None else None
        kind = "catalogo" if header and any("CANDIDAT" in c or c.startswith("ID_") for c in header) else "otro"
        return CsvTable(enc, corte_line_of(lines), header, rows[first + 1:] if first is not None else [], kind)
    header = [clean_cell(c).upper() for c in rows[header_i]]
    return CsvTable(enc, corte_line_of(lines), header, rows[header_i + 1:], "actas")


def integrity_code(cell: str) -> tuple[str | None, str | None]:
    """``CODIGO_INTEGRIDAD`` → ``(algorithm, HEX)``: ``sha256`` (64 hex), ``md5`` (32 hex), ``(None, None)``
    for ``N/A``/``-``/empty, ``("unknown", text)`` for anything else."""
    c = clean_cell(cell).upper()
    if c in NO_CODE:
        return None, None
    if re.fullmatch(r"[0-9A-F]{64}", c):
        return "sha256", c
    if re.fullmatch(r"[0-9A-F]{32}", c):
        return "md5", c
    return "unknown", c


def vote_count(value: Any) -> int | None:
    """A vote count as JSON carries it: ``1234``, ``"1234"``, ``"1,234"``, ``"1 234"``; None for ``-``/``N/A``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        v = re.sub(r"[,\s\u00a0\u202f]", "", clean_cell(value))
        return int(v) if v.isdigit() else None
    return None


# ---------------------------------------------------------------------------------------------- read


def parse_manifest(text: str) -> dict[str, str]:
    """``<sha256 hex>  <relative path>`` lines (``*`` binary marker accepted) → {path: hex}."""
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, rel = line.strip("\ufeff").rstrip("\r").partition(" ")
        rel = rel[1:] if rel.startswith((" ", "*")) else rel
        rel = rel.replace("\\", "/")
        while rel.startswith("./"):
            rel = rel[2:]
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest) or not rel:
            raise ValueError(f"{MANIFEST} line {n}: not '<sha256>  <path>': {line[:80]!r}")
        if rel.startswith("/") or ".." in Path(rel).parts:
            raise ValueError(f"{MANIFEST} line {n}: path leaves the paquete: {rel!r}")
        out[rel] = digest.lower()
    return out


def read_manifest(path: str | Path) -> dict[str, str]:
    """Read a manifest file, or the ``MANIFEST.sha256`` of a paquete folder."""
    p = Path(path)
    if p.is_dir():
        p = p / MANIFEST
    return parse_manifest(decode_text(p.read_bytes())[0])


@dataclass(frozen=True)
class Paquete:
    """A loaded paquete (one corte).

    Attributes:
        root: the folder holding the corte's files (extracted, for an archive).
        manifest: relative path → lowercase SHA-256 hex, from ``MANIFEST.sha256``.
        main_json: the parsed ``json/main.json``.
        secuencia: ``main_json["secuencia"]``.
        corte: ``main_json["corte_iso"]`` as an aware datetime.
        source: what was loaded (folder or archive path).
    """

    root: Path
    manifest: Mapping[str, str]
    main_json: Mapping[str, Any]
    secuencia: int
    corte: dt.datetime
    source: Path = field(default=Path("."))

    def path(self, rel: str) -> Path:
        return self.root / rel

    def verify(self) -> dict[str, str]:
        """Files whose bytes differ from the manifest: {path: 'missing' | 'sha256 mismatch'}. Empty when intact."""
        bad: dict[str, str] = {}
        for rel, digest in self.manifest.items():
            p = self.root / rel
            if not p.is_file():
                bad[rel] = "missing"
            elif _file_sha256(p) != digest:
                bad[rel] = "sha256 mismatch"
        return bad


MAX_NESTING = 3                      # a ZIP of ZIPs of ... : deeper is refused
MAX_EXTRACTED_BYTES = 8 * 1024 ** 3  # an archive that claims more is refused (a ZIP bomb costs nothing)


def _extract(archive: Path, dest: Path, depth: int = 0) -> Path:
    """Extract ``archive`` into ``dest`` and return the paquete root inside it.

    Real packages come as a folder, a ``.tar.gz`` or ``.zip`` of one, or a ZIP of ZIPs (with a
    ``LEEME.txt`` beside them): the root is the shallowest folder holding ``MANIFEST.sha256``; when no
    folder holds one, inner archives are opened (up to ``MAX_NESTING`` levels).
    """
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            total = 0
            for info in z.infolist():
                name = info.filename
                if name.startswith("/") or ".." in Path(name).parts:
                    raise ValueError(f"{archive.name}: member leaves the archive: {name!r}")
                total += info.file_size
            if total > MAX_EXTRACTED_BYTES:
                raise ValueError(f"{archive.name}: would extract {total} bytes (cap {MAX_EXTRACTED_BYTES})")
            z.extractall(dest)
    else:
        with tarfile.open(archive, "r:*") as t:
            t.extractall(dest, filter="data")
    root = _find_root(dest)
    if root is not None:
        return root
    if depth < MAX_NESTING:
        inner = sorted(p for p in dest.rglob("*") if p.is_file() and p.suffix.lower() in (".zip", ".tgz", ".gz")
                       and (zipfile.is_zipfile(p) or tarfile.is_tarfile(p)))
        for arc in inner:
            sub = arc.with_name(arc.name + ".d")
            sub.mkdir(exist_ok=True)
            try:
                found = _extract(arc, sub, depth + 1)
            except (OSError, ValueError, tarfile.TarError, zipfile.BadZipFile):
                continue
            if (found / MANIFEST).is_file():
                return found
    return dest


def _find_root(dest: Path) -> Path | None:
    """The shallowest folder under ``dest`` holding ``MANIFEST.sha256`` (``dest`` itself first)."""
    if (dest / MANIFEST).is_file():
        return dest
    found = sorted(dest.rglob(MANIFEST), key=lambda p: (len(p.parts), str(p)))
    return found[0].parent if found else None


def main_json_corte(doc: Mapping[str, Any]) -> tuple[int | None, dt.datetime | None]:
    """``secuencia`` (an int or a numeric string) and the corte (``corte_iso``, else ``ultimoCorte``)."""
    seq = doc.get("secuencia")
    if isinstance(seq, str) and seq.strip().isdigit():
        seq = int(seq.strip())
    seq = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
    corte = None
    if isinstance(doc.get("corte_iso"), str):
        try:
            corte = dt.datetime.fromisoformat(doc["corte_iso"].strip())
        except ValueError:
            corte = None
    uc = doc.get("ultimoCorte")
    if corte is None and isinstance(uc, Mapping):
        corte = corte_line_datetime(f"{uc.get('fecha', '')} {uc.get('hora', '')} ({uc.get('zona') or ZONA})")
    return seq, corte


def load_paquete(path_or_archive: str | Path, extract_to: str | Path | None = None) -> Paquete:
    """Load a paquete from a folder or a ``.tar.gz``/``.zip`` (extracted into ``extract_to``, or into a temp
    dir removed when the process exits).

    Raises ``ValueError`` (or ``OSError``) when the paquete is unreadable: a check turns that into ERROR.
    """
    src = Path(path_or_archive)
    if src.is_dir():
        root = src
    elif src.is_file():
        if extract_to:
            dest = Path(extract_to)
        else:   # a temp dir of our own lives as long as the run that reads it
            dest = Path(tempfile.mkdtemp(prefix="paquete-"))
            atexit.register(shutil.rmtree, dest, True)
        dest.mkdir(parents=True, exist_ok=True)
        root = _extract(src, dest)
    else:
        raise FileNotFoundError(f"paquete not found: {src}")
    if not (root / MANIFEST).is_file():
        raise ValueError(f"{root}: no {MANIFEST}")
    if not (root / MAIN_JSON).is_file():
        raise ValueError(f"{root}: no {MAIN_JSON}")
    manifest = read_manifest(root / MANIFEST)
    try:
        doc = json.loads(decode_text((root / MAIN_JSON).read_bytes())[0])
    except ValueError as exc:
        raise ValueError(f"{MAIN_JSON}: not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{MAIN_JSON}: not a JSON object")
    secuencia, corte = main_json_corte(doc)
    if secuencia is None or corte is None:
        raise ValueError(f"{MAIN_JSON}: needs secuencia and corte_iso (or ultimoCorte fecha/hora/zona)")
    if corte.tzinfo is None:
        raise ValueError(f"{MAIN_JSON}: corte_iso has no UTC offset")
    return Paquete(root, MappingProxyType(dict(manifest)), MappingProxyType(doc), secuencia, corte, src)


def pack(corte_dir: str | Path, archive: str | Path) -> Path:
    """A reproducible ``.tar.gz`` or ``.zip`` of a corte folder (members relative to the folder)."""
    src, out = Path(corte_dir), Path(archive)
    files = sorted(p for p in src.rglob("*") if p.is_file())
    if out.suffix == ".zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for p in files:
                info = zipfile.ZipInfo(p.relative_to(src).as_posix(), date_time=(2024, 6, 2, 20, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, p.read_bytes())
    else:
        with tarfile.open(out, "w:gz") as t:
            for p in files:
                ti = tarfile.TarInfo(p.relative_to(src).as_posix())
                ti.size, ti.mode, ti.mtime = p.stat().st_size, 0o644, 1717380000
                with p.open("rb") as f:
                    t.addfile(ti, f)
    return out


# ---------------------------------------------------------------------------------------------- mutations


def copy_corte(src: str | Path, dst: str | Path) -> Path:
    """Copy a corte folder (to serve it elsewhere, or mutate a copy)."""
    dst = Path(dst)
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


def alter_file(corte_dir: str | Path, rel: str | None = None) -> str:
    """Change one byte of one file in place (default: the first CSV), leaving the manifest as delivered.

    Returns the altered relative path. Used by the lab's "altered file" scenario.
    """
    root = Path(corte_dir)
    rel = rel or sorted(p for p in read_manifest(root) if p.startswith("csv/"))[0]
    p = root / rel
    data = bytearray(p.read_bytes())
    # Flip a digit near the end (a vote count) so the file still parses.
    for i in range(len(data) - 1, -1, -1):
        if chr(data[i]).isdigit():
            data[i] = ord("0") + (data[i] - ord("0") + 1) % 10
            break
    else:
        data += b"\n"
    p.write_bytes(bytes(data))
    return rel


# ---------------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``prep-conformance paquete generate OUT --cortes N [--actas N] [--image-bytes N] [--seed N] [--realistic]``."""
    ap = argparse.ArgumentParser(prog="prep-conformance paquete", description="synthetic paquete de difusión")
    sub = ap.add_subparsers(dest="verb", required=True)
    g = sub.add_parser("generate", help="write N cortes (corte-0001 ...) into OUT")
    g.add_argument("out")
    g.add_argument("--cortes", type=int, default=3)
    g.add_argument("--first", type=int, default=1, help="secuencia of the first corte (default 1)")
    g.add_argument("--actas", type=int, default=None)
    g.add_argument("--image-bytes", type=int, default=None)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--realistic", action="store_true", help=f"demo size {REALISTIC}")
    g.add_argument("--archive", choices=("tar.gz", "zip"), default=None, help="also pack each corte")
    g.add_argument("--variant", default=None,
                   help="shapes of real packages, comma-separated: " + ", ".join(VARIANTS)
                   + "; or a preset: " + ", ".join(f"{k} ({'+'.join(v)})" for k, v in PRESETS.items()))
    v = sub.add_parser("verify", help="check a paquete (folder or archive) against its manifest")
    v.add_argument("path")
    args = ap.parse_args(argv)
    if args.verb == "generate":
        size = dict(REALISTIC if args.realistic else TINY)
        if args.actas is not None:
            size["actas"] = args.actas
        if args.image_bytes is not None:
            size["image_bytes"] = args.image_bytes
        try:
            variant = parse_variant(args.variant)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for d in generate_series(args.out, args.cortes, first=args.first, seed=args.seed, variant=variant, **size):
            line = str(d)
            if args.archive:
                line += " " + str(pack(d, d.with_name(d.name + "." + args.archive)))
            print(line)
        return 0
    try:
        pq = load_paquete(args.path)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bad = pq.verify()
    print(f"secuencia {pq.secuencia} corte {pq.corte.isoformat()} files {len(pq.manifest)} altered/missing {len(bad)}")
    for rel, why in sorted(bad.items()):
        print(f"  {why}: {rel}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

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
from typing import Any, Mapping

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


def corte_label(when: dt.datetime) -> str:
    """``02/06/2024 22:20 (UTC-6)``: the corte line of the CSVs and the page."""
    w = when.astimezone(TZ)
    return f"{w:%d/%m/%Y %H:%M} ({ZONA})"


def corte_dirname(secuencia: int) -> str:
    return f"corte-{secuencia:04d}"


def zip_name(when: dt.datetime) -> str:
    return f"{when.astimezone(TZ):%Y%m%d_%H%M}_PREP_{ZIP_TAG}.zip"


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


def _csv_bytes(election: str, title: str, when: dt.datetime, actas: list[_Acta], hashes: dict[str, str]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    rows = [a for a in actas if a.election == election]
    total = sum(sum(a.votos) + a.no_registrados + a.nulos for a in rows)
    lista = sum(a.lista_nominal for a in rows)
    esperadas = max(len(rows), 1) * 2
    buf.write(f"{title} - PROCESO ELECTORAL LOCAL 2023-2024 - {ENTIDAD} (DATOS FICTICIOS)\r\n")
    buf.write(corte_label(when) + "\r\n")
    w.writerow(SUMMARY_HEADER)
    pct = lambda n, d: f"{(100.0 * n / d) if d else 0:.4f}"
    w.writerow([esperadas, len(rows), 0, len(rows), pct(len(rows), esperadas), len(rows),
                pct(len(rows), esperadas), "0.0000", 0, lista, total, total, pct(total, lista)])
    w.writerow(ACTA_HEADER)
    for a in rows:
        tot = sum(a.votos) + a.no_registrados + a.nulos
        w.writerow([a.clave_casilla, a.clave_acta, 16, ENTIDAD, a.distrito, DISTRITOS[a.distrito - 1].upper(),
                    a.seccion, 1, a.tipo, 0, 2 if election == "DIP_LOC" else 3,
                    a.lista_nominal - tot, tot, *a.votos, a.no_registrados, a.nulos, tot, tot, a.lista_nominal,
                    "", 1, "F", hashes[a.clave_acta], _fmt(a.acopio), _fmt(a.acopio + dt.timedelta(minutes=2)),
                    _fmt(a.acopio + dt.timedelta(minutes=4)), "CATD", "ESCANER", "ACTA PREP",
                    f"actas/{a.clave_acta}.png"])
    return buf.getvalue().encode("utf-8")


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
                seed: int = 0, start: dt.datetime = START, interval_min: float = INTERVAL_MIN) -> dict[str, bytes]:
    """Every file of a corte (relative path → bytes), ``MANIFEST.sha256`` included. Pure: no I/O."""
    when = corte_time(secuencia, start, interval_min)
    rows = _actas(secuencia, when, start, actas, seed)
    files: dict[str, bytes] = {}
    hashes: dict[str, str] = {}
    for a in rows:
        img = acta_image(a.clave_acta, image_bytes, seed)
        files[f"actas/{a.clave_acta}.png"] = img
        hashes[a.clave_acta] = sha256_hex(img).upper()
    csvs = {f"csv/{fname}": _csv_bytes(code, title, when, rows, hashes) for code, title, fname in ELECTIONS}
    files.update(csvs)
    zname = zip_name(when)
    files[zname] = _zip_bytes({k.split("/", 1)[1]: v for k, v in csvs.items()}, when)
    totals = [(name, sum(a.votos[j] for a in rows)) for j, (_, name) in enumerate(PARTIES)]
    files["index.html"] = _index_html(secuencia, when, totals, zname)
    files["assets/app.css"] = _CSS.encode()
    files["assets/app.js"] = _JS.encode()
    doc = main_json_doc(secuencia, when, files)
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
                   interval_min: float = INTERVAL_MIN, name: str | None = None) -> Path:
    """Write corte ``secuencia`` into ``out_dir/corte-NNNN`` (or ``out_dir/name``) and return that folder.

    An existing folder of that name is replaced, so a re-run never leaves stale files behind.
    """
    root = Path(out_dir) / (name or corte_dirname(secuencia))
    if root.exists():
        shutil.rmtree(root)
    return write_files(root, corte_files(secuencia, actas=actas, image_bytes=image_bytes, seed=seed,
                                         start=start, interval_min=interval_min))


def generate_series(out_dir: str | Path, n: int, *, first: int = 1, **kw: Any) -> list[Path]:
    """Cortes ``first .. first+n-1`` as sibling folders; the last one is the newest."""
    return [generate_corte(out_dir, s, **kw) for s in range(first, first + n)]


# ---------------------------------------------------------------------------------------------- read


def parse_manifest(text: str) -> dict[str, str]:
    """``<sha256 hex>  <relative path>`` lines (``*`` binary marker accepted) → {path: hex}."""
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, rel = line.partition(" ")
        rel = rel[1:] if rel.startswith((" ", "*")) else rel
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
    return parse_manifest(p.read_text(encoding="utf-8"))


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


def _extract(archive: Path, dest: Path) -> Path:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                if name.startswith("/") or ".." in Path(name).parts:
                    raise ValueError(f"{archive}: member leaves the archive: {name!r}")
            z.extractall(dest)
    else:
        with tarfile.open(archive, "r:*") as t:
            t.extractall(dest, filter="data")
    # A single top folder holding the manifest is the paquete root.
    if not (dest / MANIFEST).exists():
        subs = [p for p in dest.iterdir() if p.is_dir()]
        if len(subs) == 1 and (subs[0] / MANIFEST).exists():
            return subs[0]
    return dest


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
    doc = json.loads((root / MAIN_JSON).read_text(encoding="utf-8"))
    try:
        secuencia = int(doc["secuencia"])
        corte = dt.datetime.fromisoformat(doc["corte_iso"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{root / MAIN_JSON}: needs secuencia and corte_iso ({exc})") from None
    if corte.tzinfo is None:
        raise ValueError(f"{root / MAIN_JSON}: corte_iso has no UTC offset")
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
    v = sub.add_parser("verify", help="check a paquete (folder or archive) against its manifest")
    v.add_argument("path")
    args = ap.parse_args(argv)
    if args.verb == "generate":
        size = dict(REALISTIC if args.realistic else TINY)
        if args.actas is not None:
            size["actas"] = args.actas
        if args.image_bytes is not None:
            size["image_bytes"] = args.image_bytes
        for d in generate_series(args.out, args.cortes, first=args.first, seed=args.seed, **size):
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

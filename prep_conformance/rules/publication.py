"""Publication fidelity (I.6), the corte served (I.4) and the corte shown (I.9). Pure: no I/O.

Every rule takes a ``PublicationObservation`` (``probes.publication``) and the convocatoria. When the
site serves an older corte and that corte's paquete was delivered beside the newest one, integrity is
judged against the older paquete: a stale site is I.4's failure, not a modification (I.6).

A site whose certificate does not verify is read without verification (``tls_unverified``): the rules
judge the content as usual and add an advisory note; the certificate is II.2.d.https's business.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import io
import re
from html.parser import HTMLParser
from typing import Any, Iterable, Mapping
from urllib.parse import urljoin, urlsplit

from .notes import tls_note
from .. import paquete as pq_fmt
from ..convocatoria import Convocatoria
from ..thresholds import uses
from ..probes.publication import CorteRef, PublicationObservation, ServedFile
from ..verdict import CheckResult, Note, Verdict, result

LIST_CAP = 100          # evidence lists stop here (the counts are always complete)
MAIN_JSON = "json/main.json"
ZIP_NAME = re.compile(r"(?:^|/)(\d{8})_(\d{4})_PREP_[A-Za-z0-9_-]+\.zip$")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf", ".webp")


def _n(n: int, one: str, many: str) -> str:
    """``1 ausente`` / ``3 ausentes``: real plurals in both languages."""
    return f"{n} {one if n == 1 else many}"


def _cap(items: list) -> list:
    return items[:LIST_CAP]


def with_tls_note(res: CheckResult, *sources: Any) -> CheckResult:
    """``res`` with the advisory note (and evidence) of the first source read without certificate
    verification (an observation or a ServedFile with ``tls_unverified``); the verdict is unchanged."""
    why = next((w for w in (getattr(src, "tls_unverified", None) for src in sources) if w), None)
    if not why:
        return res
    return dataclasses.replace(res, notes=tuple(res.notes) + (tls_note(why),),
                               evidence={**res.evidence, "tls_unverified": why})


def _noting_tls(rule):
    """Decorate a rule taking the observation first: its result gets the unverified-certificate note."""
    @functools.wraps(rule)
    def wrapper(obs, *args, **kw):
        return with_tls_note(rule(obs, *args, **kw), obs)
    return wrapper


def _zone_offset(zona: str | None) -> dt.timezone | None:
    m = re.fullmatch(r"\s*(?:UTC|GMT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*", zona or "")
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    return dt.timezone(sign * dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0)))


def ultimo_corte_datetime(uc: Mapping[str, Any] | None) -> dt.datetime | None:
    """``{"fecha": "02/06/2024", "hora": "22:20", "zona": "UTC-6"}`` → aware datetime (None if malformed)."""
    if not uc:
        return None
    try:
        d = dt.datetime.strptime(f"{uc.get('fecha', '')} {uc.get('hora', '')}".strip(), "%d/%m/%Y %H:%M")
    except (TypeError, ValueError):
        return None
    tz = _zone_offset(uc.get("zona"))
    return d.replace(tzinfo=tz) if tz else None


def corte_datetime(ref: CorteRef) -> dt.datetime | None:
    return ref.corte or ultimo_corte_datetime(ref.ultimo_corte)


def _local(when: dt.datetime, ref: CorteRef) -> dt.datetime:
    """``when`` in the zone the corte is published in (its ``zona``, else its own offset)."""
    tz = _zone_offset((ref.ultimo_corte or {}).get("zona")) if ref.ultimo_corte else None
    return when.astimezone(tz) if tz else when


# ---------------------------------------------------------------------------------------------- I.6

DIFF_FILES = 5          # altered text files whose changed lines are shown
DIFF_LINES = 40         # lines of diff kept per file (bounded evidence)
DIFF_LINE_CHARS = 300


def _text_lines(data: bytes) -> list[str]:
    for enc in ("utf-8-sig", "latin-1"):
        try:
            return data.decode(enc).splitlines()
        except UnicodeDecodeError:
            continue
    return []


def line_diff(expected: bytes, served: bytes, context: int = 1) -> list[dict[str, Any]]:
    """The changed lines of an altered text file (paquete vs served), with line numbers and a little
    context: ``[{"op": "-"|"+"|" ", "line": n, "text": ...}]``, bounded in lines and characters."""
    import difflib
    a, b = _text_lines(expected), _text_lines(served)
    out: list[dict[str, Any]] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        if out:
            out.append({"op": "…", "line": None, "text": ""})
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [{"op": " ", "line": i + 1, "text": a[i]} for i in range(i1, i2)]
                continue
            if tag in ("replace", "delete"):
                out += [{"op": "-", "line": i + 1, "text": a[i]} for i in range(i1, i2)]
            if tag in ("replace", "insert"):
                out += [{"op": "+", "line": j + 1, "text": b[j]} for j in range(j1, j2)]
        if len(out) >= DIFF_LINES:
            break
    for row in out:
        if len(row["text"]) > DIFF_LINE_CHARS:
            row["text"] = row["text"][:DIFF_LINE_CHARS - 1] + "…"
    return out[:DIFF_LINES]



def _fetch_errors(files: Iterable[ServedFile]) -> list[ServedFile]:
    return [f for f in files if f.status is None]


@_noting_tls
def integrity(obs: PublicationObservation) -> CheckResult:
    """I.6: every manifest file is served byte-identical; nothing the served main.json names is extra."""
    check = "integrity"
    base = obs.baseline
    seq_served, seq_base = obs.served_corte.secuencia, base.corte.secuencia
    stale_unknown = obs.reference is None and seq_served is not None and seq_served != seq_base
    missing, altered, unfetched = [], [], []
    for rel, digest in sorted(base.manifest.items()):
        sf = obs.served.get(rel)
        if sf is None or sf.status is None:
            unfetched.append({"path": rel, "expected": digest, "error": sf.error if sf else "not requested"})
        elif sf.status != 200:
            missing.append({"path": rel, "expected": digest, "status": sf.status})
        elif sf.body_sha256 != digest:
            entry = {"path": rel, "expected": digest, "served": sf.body_sha256, "size": sf.body_len}
            if len(altered) < DIFF_FILES and base.texts.get(rel) is not None and sf.body is not None:
                entry["diff"] = line_diff(base.texts[rel], sf.body)
            altered.append(entry)
    extra = [{"path": rel, "status": sf.status, "served": sf.body_sha256, "error": sf.error}
             for rel, sf in sorted(obs.named_extra.items())]
    n = len(base.manifest)
    ev: dict[str, Any] = {
        "base_url": obs.base_url, "paquete": base.source, "files": n,
        "served_ok": n - len(missing) - len(altered) - len(unfetched),
        "missing_count": len(missing), "altered_count": len(altered), "extra_count": len(extra),
        "unfetched_count": len(unfetched), "missing": _cap(missing), "altered": _cap(altered),
        "extra": _cap(extra), "unfetched": _cap(unfetched), "elapsed_s": obs.elapsed_s, "workers": obs.workers,
        "corte_served": obs.served_corte.brief(), "corte_paquete": base.corte.brief(),
    }
    notes = []
    if obs.reference is not None:
        notes.append(Note("info", f"El sitio sirve el corte {seq_served}; se comparó con el paquete de ese corte "
                          f"({obs.reference.source}). El retraso se juzga en I.4.",
                          f"The site serves corte {seq_served}; compared with that corte's paquete "
                          f"({obs.reference.source}). The lag is judged under I.4."))
    if stale_unknown and (missing or altered):
        return result("I.6", check, Verdict.ERROR,
                      f"El sitio sirve el corte {seq_served} y el paquete entregado es del corte {seq_base}: sin el "
                      f"paquete del corte {seq_served} no se distingue un archivo alterado de uno de otro corte "
                      f"({len(altered)} distintos, {len(missing)} ausentes).",
                      f"The site serves corte {seq_served} and the paquete given is corte {seq_base}: without the "
                      f"paquete of corte {seq_served} an altered file cannot be told from another corte's "
                      f"({len(altered)} differ, {len(missing)} absent).", notes=notes, **ev)
    if missing or altered or extra:
        parts_es, parts_en = [], []
        if altered:
            parts_es.append(f"{_n(len(altered), 'alterado', 'alterados')} ({', '.join(a['path'] for a in altered[:3])})")
            parts_en.append(f"{len(altered)} altered ({', '.join(a['path'] for a in altered[:3])})")
        if missing:
            parts_es.append(f"{_n(len(missing), 'ausente', 'ausentes')} ({', '.join(a['path'] for a in missing[:3])})")
            parts_en.append(f"{len(missing)} missing ({', '.join(a['path'] for a in missing[:3])})")
        if extra:
            parts_es.append(f"{len(extra)} fuera del manifiesto {'nombrado' if len(extra) == 1 else 'nombrados'} por main.json "
                            f"({', '.join(a['path'] for a in extra[:3])})")
            parts_en.append(f"{len(extra)} outside the manifest named by main.json "
                            f"({', '.join(a['path'] for a in extra[:3])})")
        return result("I.6", check, Verdict.FAIL,
                      f"Publicación distinta del paquete ({n} archivos): " + "; ".join(parts_es) + ".",
                      f"Publication differs from the paquete ({n} files): " + "; ".join(parts_en) + ".",
                      notes=notes, **ev)
    if unfetched:
        return result("I.6", check, Verdict.ERROR,
                      f"No se pudieron descargar {len(unfetched)} de {n} archivos "
                      f"(p. ej. {unfetched[0]['path']}: {unfetched[0]['error']}).",
                      f"Could not download {len(unfetched)} of {n} files "
                      f"(e.g. {unfetched[0]['path']}: {unfetched[0]['error']}).", notes=notes, **ev)
    return result("I.6", check, Verdict.PASS,
                  f"Los {n} archivos del manifiesto se sirven idénticos (SHA-256) en {obs.elapsed_s:.1f} s.",
                  f"All {n} manifest files are served byte-identical (SHA-256) in {obs.elapsed_s:.1f} s.",
                  notes=notes, **ev)


def _csv_rows(data: bytes) -> tuple[list[str] | None, list[list[str]]]:
    """The acta header (found by content: the row naming CODIGO_INTEGRIDAD) and the rows after it, in any
    encoding, line ending or blank-row layout a real paquete uses (``paquete.read_csv_table``)."""
    table = pq_fmt.read_csv_table(data)
    if table.kind != "actas" or table.header is None or "CODIGO_INTEGRIDAD" not in table.header:
        return None, []
    return table.header, table.rows


def _image_matches(obs: PublicationObservation, img: str, served: ServedFile, alg: str, code: str
                   ) -> tuple[bool, str | None]:
    """Does the served image carry the code its CSV row publishes? ``(ok, note)``.

    SHA-256 codes are compared with the served bytes' digest. MD5 codes with the paquete's own image
    when the served bytes are identical to it (its SHA-256 in the manifest): the paquete is the reference.
    A served image identical to the paquete's whose code the paquete itself contradicts is not the
    difusor's fault: it passes with a note.
    """
    base = obs.baseline
    identical = base.manifest.get(img) is not None and served.body_sha256 == base.manifest.get(img)
    if alg == "sha256":
        if served.body_sha256.upper() == code:
            return True, None
    elif alg == "md5":
        if identical and (base.md5.get(img) or "").upper() == code:
            return True, None
    if identical:
        return True, "paquete"
    return False, None


@_noting_tls
def acta_images(obs: PublicationObservation) -> CheckResult:
    """I.6: each acta image served hashes to the ``CODIGO_INTEGRIDAD`` its CSV row publishes (SHA-256 or
    MD5; ``N/A`` and ``-`` rows carry no image to check)."""
    check = "acta_images"
    base = obs.baseline
    csvs = sorted(p for p in base.manifest if p.lower().endswith(".csv"))
    by_digest: dict[str, str] = {sf.body_sha256.upper(): rel for rel, sf in obs.served.items() if sf.ok}
    by_name: dict[str, list[str]] = {}
    for rel in base.manifest:
        by_name.setdefault(rel.rsplit("/", 1)[-1].lower(), []).append(rel)
    checked, mismatched, missing, unfetched, outside, sources = 0, [], [], [], [], {}
    no_code, algorithms, unknown, inconsistent = 0, set(), [], []
    for rel in csvs:
        sf = obs.served.get(rel)
        if sf is not None and sf.ok and sf.body is not None:
            data, sources[rel] = sf.body, "served"
        elif rel in base.texts:
            data, sources[rel] = base.texts[rel], "paquete"
        else:
            continue
        header, rows = _csv_rows(data)
        if header is None:
            continue
        ci = header.index("CODIGO_INTEGRIDAD")
        ri = next((header.index(c) for c in ("RUTA_IMAGEN", "RUTA_ACTA", "IMAGEN", "ARCHIVO") if c in header), None)
        ki = header.index("CLAVE_ACTA") if "CLAVE_ACTA" in header else 0
        for row in rows:
            if len(row) <= ci:
                continue
            alg, code = pq_fmt.integrity_code(row[ci])
            if alg is None:
                no_code += 1
                continue
            clave = pq_fmt.clean_cell(row[ki]) if len(row) > ki else "?"
            if alg == "unknown":
                unknown.append({"csv": rel, "clave_acta": clave, "codigo": code})
                continue
            algorithms.add(alg)
            checked += 1
            ruta = pq_fmt.clean_cell(row[ri]) if ri is not None and len(row) > ri else ""
            if ruta.upper() in pq_fmt.NO_CODE:
                if alg == "sha256" and code not in by_digest:
                    missing.append({"csv": rel, "clave_acta": clave, "codigo": code, "image": None})
                continue
            img = urlsplit(ruta).path.lstrip("/") if "://" in ruta else ruta.replace("\\", "/").lstrip("/")
            if img not in obs.served:          # the CSV names it by another path: its one file of that name
                same = by_name.get(img.rsplit("/", 1)[-1].lower(), [])
                img = same[0] if len(same) == 1 else img
            served = obs.served.get(img)
            if served is None:
                # The paquete itself does not carry this image: nothing to demand of the site.
                outside.append({"csv": rel, "clave_acta": clave, "image": img, "codigo": code})
                checked -= 1
            elif served.status is None:
                unfetched.append({"csv": rel, "image": img, "error": served.error})
            elif served.status != 200 or served.body_sha256 is None:
                missing.append({"csv": rel, "clave_acta": clave, "image": img, "codigo": code,
                                "status": served.status})
            else:
                ok, note = _image_matches(obs, img, served, alg, code)
                if not ok:
                    mismatched.append({"csv": rel, "clave_acta": clave, "image": img, "codigo": code,
                                       "algorithm": alg, "served_sha256": served.body_sha256.upper()})
                elif note:
                    inconsistent.append({"csv": rel, "clave_acta": clave, "image": img, "codigo": code})
    ev = {"csv_files": sources, "actas_checked": checked, "mismatched_count": len(mismatched),
          "missing_count": len(missing), "outside_manifest_count": len(outside), "unfetched_count": len(unfetched),
          "mismatched": _cap(mismatched), "missing": _cap(missing), "outside_manifest": _cap(outside),
          "unfetched": _cap(unfetched), "algorithms": sorted(algorithms), "rows_without_code": no_code,
          "unknown_codes": _cap(unknown), "paquete_inconsistent": _cap(inconsistent)}
    notes = []
    if inconsistent:
        notes.append(Note("info", f"{_n(len(inconsistent), 'imagen idéntica', 'imágenes idénticas')} a las del paquete "
                          f"{'no coincide' if len(inconsistent) == 1 else 'no coinciden'} con el "
                          "CODIGO_INTEGRIDAD que el propio paquete publica: es un hallazgo del paquete, no del difusor.",
                          f"{_n(len(inconsistent), 'image', 'images')} identical to the paquete's "
                          f"{'does' if len(inconsistent) == 1 else 'do'} not match the CODIGO_INTEGRIDAD "
                          "the paquete itself publishes: a finding about the paquete, not the difusor."))
    if not checked and outside:
        return result("I.6", check, Verdict.SKIP,
                      "El paquete no trae ninguna de las imágenes de actas que nombran sus CSV: nada que exigir.",
                      "The paquete carries none of the acta images its CSVs name: nothing to require.",
                      notes=notes, **ev)
    if not checked:
        # The paquete carries no code to check (no column, or only N/A): nothing is demanded of the site.
        return result("I.6", check, Verdict.ERROR if csvs and not sources else Verdict.SKIP,
                      "No se encontraron filas con CODIGO_INTEGRIDAD verificable (SHA-256 o MD5) en los CSV del paquete.",
                      "No rows with a checkable CODIGO_INTEGRIDAD (SHA-256 or MD5) found in the paquete's CSV files.",
                      notes=notes, **ev)
    if outside:
        notes.append(Note("info", f"{_n(len(outside), 'imagen nombrada', 'imágenes nombradas')} en los CSV "
                          f"{'no está' if len(outside) == 1 else 'no están'} en el paquete: no se exigen al sitio.",
                          f"{_n(len(outside), 'image', 'images')} named in the CSVs "
                          f"{'is' if len(outside) == 1 else 'are'} not in the paquete: not required of the site."))
    bad = len(mismatched) + len(missing)
    if bad:
        first = (mismatched or missing)[0]
        return result("I.6", check, Verdict.FAIL,
                      f"{bad} de {checked} actas no coinciden con su CODIGO_INTEGRIDAD: "
                      f"{_n(len(mismatched), 'imagen distinta', 'imágenes distintas')}, "
                      f"{_n(len(missing), 'ausente', 'ausentes')} "
                      f"(p. ej. {first.get('image') or first.get('clave_acta')}).",
                      f"{bad} of {checked} actas do not match their CODIGO_INTEGRIDAD: "
                      f"{_n(len(mismatched), 'different image', 'different images')}, {len(missing)} missing "
                      f"(e.g. {first.get('image') or first.get('clave_acta')}).", notes=notes, **ev)
    if unfetched:
        return result("I.6", check, Verdict.ERROR,
                      f"No se pudieron descargar {len(unfetched)} imágenes de actas.",
                      f"Could not download {len(unfetched)} acta images.", notes=notes, **ev)
    algs = " y ".join(a.upper().replace("SHA256", "SHA-256") for a in sorted(algorithms))
    algs_en = " and ".join(a.upper().replace("SHA256", "SHA-256") for a in sorted(algorithms))
    return result("I.6", check, Verdict.PASS,
                  f"Las {checked} imágenes de actas coinciden con su CODIGO_INTEGRIDAD ({algs})"
                  + (f"; {_n(no_code, 'fila', 'filas')} sin código (N/A)" if no_code else "") + ".",
                  f"All {checked} acta images match their CODIGO_INTEGRIDAD ({algs_en})"
                  + (f"; {_n(no_code, 'row', 'rows')} without a code (N/A)" if no_code else "") + ".", notes=notes, **ev)


# ---------------------------------------------------------------------------------------------- I.4


def _main_json_unreadable(obs: PublicationObservation, req: str, check: str) -> CheckResult | None:
    sf = obs.served.get(MAIN_JSON)
    ev = {"main_json": sf.brief() if sf else None, "base_url": obs.base_url}
    if sf is None or sf.status is None:
        why = sf.error if sf else "not requested"
        return result(req, check, Verdict.ERROR, f"No se pudo obtener {MAIN_JSON}: {why}",
                      f"Could not fetch {MAIN_JSON}: {why}", **ev)
    if sf.status != 200:
        return result(req, check, Verdict.FAIL, f"{MAIN_JSON} no se sirve (HTTP {sf.status}).",
                      f"{MAIN_JSON} is not served (HTTP {sf.status}).", **ev)
    if sf.body_cut is not None:     # past the size cap (probes.bounded): not the paquete's main.json
        return result(req, check, Verdict.FAIL, f"{MAIN_JSON} no se sirve completo: {sf.body_cut.text_es}.",
                      f"{MAIN_JSON} is not served whole: {sf.body_cut.text_en}.", **ev)
    if sf.json() is None:
        return result(req, check, Verdict.FAIL, f"{MAIN_JSON} no es JSON válido.",
                      f"{MAIN_JSON} is not valid JSON.", **ev)
    return None


CORTE_FILE_SUFFIXES = (".json", ".csv", ".zip", ".html", ".htm")


def is_corte_file(rel: str) -> bool:
    """The corte's own data (main.json, CSV, ZIP, the page). Kept for callers that want the data files;
    I.4 itself covers every file of the corte (CONTRACT §1): page assets and acta images too."""
    return rel.lower().endswith(CORTE_FILE_SUFFIXES)


@uses("max_lag_cortes")
@_noting_tls
def corte_current(obs: PublicationObservation, conv: Convocatoria) -> CheckResult:
    """I.4: the served main.json announces the paquete's newest corte and its data files are present."""
    check = "corte_current"
    bad = _main_json_unreadable(obs, "I.4", check)
    if bad:
        return bad
    want, got = obs.paquete.corte, obs.served_corte
    ev: dict[str, Any] = {"expected": want.brief(), "served": got.brief(), "paquete": obs.paquete.source,
                          "max_lag_cortes": conv.freshness.max_lag_cortes}
    if got.secuencia is None:
        return result("I.4", check, Verdict.FAIL, f"{MAIN_JSON} servido no trae 'secuencia'.",
                      f"The served {MAIN_JSON} has no 'secuencia'.", **ev)
    lag = want.secuencia - got.secuencia
    ev["lag_cortes"] = lag
    if lag < 0:
        return result("I.4", check, Verdict.ERROR,
                      f"El sitio sirve el corte {got.secuencia}, posterior al paquete indicado ({want.secuencia}): "
                      "actualice package: con el paquete más reciente.",
                      f"The site serves corte {got.secuencia}, newer than the paquete given ({want.secuencia}): "
                      "point package: at the newest paquete.", **ev)
    if lag > conv.freshness.max_lag_cortes:
        return result("I.4", check, Verdict.FAIL,
                      f"Se sirve el corte {got.secuencia} ({got.corte_iso}); el más reciente es el {want.secuencia} "
                      f"({want.corte_iso}): {_n(lag, 'corte', 'cortes')} de retraso.",
                      f"Serves corte {got.secuencia} ({got.corte_iso}); the newest is {want.secuencia} "
                      f"({want.corte_iso}): {_n(lag, 'corte', 'cortes')} behind.", **ev)
    differs = [k for k, a, b in (("corte_iso", want.corte_iso, got.corte_iso),
                                 ("ultimoCorte", want.ultimo_corte, got.ultimo_corte)) if lag == 0 and a != b]
    if differs:
        return result("I.4", check, Verdict.FAIL,
                      f"El corte {got.secuencia} servido no coincide con el del paquete en: {', '.join(differs)}.",
                      f"Served corte {got.secuencia} differs from the paquete's in: {', '.join(differs)}.", **ev)
    corte_files = sorted(obs.paquete.manifest)
    absent = [{"path": rel, "status": sf.status if sf else None, "error": sf.error if sf else None}
              for rel in corte_files for sf in [obs.served.get(rel)]
              if sf is None or sf.status != 200]
    data = [rel for rel in corte_files if is_corte_file(rel)]
    ev.update(corte_files=len(corte_files), data_files=len(data), absent_count=len(absent), absent=_cap(absent))
    no_response = [a for a in absent if a["status"] is None]
    if len(no_response) < len(absent):
        real = [a for a in absent if a["status"] is not None]
        shown = ", ".join(f"{a['path']} (HTTP {a['status']})" for a in real[:5])
        more = len(real) - 5
        return result("I.4", check, Verdict.FAIL,
                      f"Corte {got.secuencia} anunciado, pero "
                      + (f"falta 1 de sus {len(corte_files)} archivos: " if len(real) == 1
                         else f"faltan {len(real)} de sus {len(corte_files)} archivos: ")
                      + shown + (f" y {more} más" if more > 0 else "") + ".",
                      f"Corte {got.secuencia} announced, but {len(real)} of its {len(corte_files)} "
                      + ("file is" if len(real) == 1 else "files are") + " missing: "
                      + shown + (f" and {more} more" if more > 0 else "") + ".", **ev)
    if no_response:
        return result("I.4", check, Verdict.ERROR,
                      f"No se pudo comprobar la presencia de {len(no_response)} archivos del corte.",
                      f"Could not check {len(no_response)} files of the corte are present.", **ev)
    return result("I.4", check, Verdict.PASS,
                  f"Se sirve el corte más reciente ({got.secuencia}, {got.corte_iso}) con sus "
                  f"{len(corte_files)} archivos.",
                  f"The newest corte ({got.secuencia}, {got.corte_iso}) is served with its "
                  f"{len(corte_files)} files.", **ev)


# ---------------------------------------------------------------------------------------------- I.9


@uses("max_lag_min")
@_noting_tls
def corte_lag(obs: PublicationObservation, conv: Convocatoria) -> CheckResult:
    """I.9: the served corte is no older than ``freshness.max_lag_min`` behind the paquete's newest."""
    check = "corte_lag"
    bad = _main_json_unreadable(obs, "I.9", check)
    if bad:
        return bad
    want, got = corte_datetime(obs.paquete.corte), corte_datetime(obs.served_corte)
    ev = {"expected": obs.paquete.corte.brief(), "served": obs.served_corte.brief(),
          "max_lag_min": conv.freshness.max_lag_min}
    if got is None:
        return result("I.9", check, Verdict.FAIL,
                      f"{MAIN_JSON} servido no trae fecha y hora de corte legibles (corte_iso / ultimoCorte).",
                      f"The served {MAIN_JSON} carries no readable corte date/time (corte_iso / ultimoCorte).", **ev)
    if want is None:
        return result("I.9", check, Verdict.ERROR, "El paquete no trae fecha y hora de corte legibles.",
                      "The paquete carries no readable corte date/time.", **ev)
    lag_min = (want - got).total_seconds() / 60
    ev["lag_min"] = round(lag_min, 2)
    if lag_min > conv.freshness.max_lag_min:
        return result("I.9", check, Verdict.FAIL,
                      f"El corte publicado ({got.isoformat()}) va {lag_min:.0f} min detrás del más reciente "
                      f"({want.isoformat()}); tolerancia {conv.freshness.max_lag_min:g} min.",
                      f"The published corte ({got.isoformat()}) is {lag_min:.0f} min behind the newest "
                      f"({want.isoformat()}); tolerance {conv.freshness.max_lag_min:g} min.", **ev)
    return result("I.9", check, Verdict.PASS,
                  f"Corte publicado {got.isoformat()}: {max(lag_min, 0):.0f} min de retraso "
                  f"(tolerancia {conv.freshness.max_lag_min:g} min).",
                  f"Published corte {got.isoformat()}: {max(lag_min, 0):.0f} min behind "
                  f"(tolerance {conv.freshness.max_lag_min:g} min).", **ev)


@_noting_tls
def corte_stamps(obs: PublicationObservation) -> CheckResult:
    """I.9: main.json's ultimoCorte matches its corte_iso; every CSV's corte line and the ZIP name agree.

    The paquete is the reference: a stamp the paquete lacks (a candidates catalogue has no corte line)
    is never demanded; a stamp it carries must be served identically, in any encoding or line ending.
    """
    check = "corte_stamps"
    bad = _main_json_unreadable(obs, "I.9", check)
    if bad:
        return bad
    ref, base = obs.served_corte, obs.baseline
    same_corte = ref.secuencia is not None and ref.secuencia == base.corte.secuencia
    uc = ultimo_corte_datetime(ref.ultimo_corte)
    problems: list[tuple[str, str]] = []
    ev: dict[str, Any] = {"served": ref.brief()}
    paquete_has_uc = base.corte.ultimo_corte is not None
    if uc is None:
        if paquete_has_uc or ref.ultimo_corte is not None:
            problems.append(("main.json sin ultimoCorte {fecha, hora, zona} legible",
                             "main.json has no readable ultimoCorte {fecha, hora, zona}"))
    elif same_corte and paquete_has_uc and dict(ref.ultimo_corte) == dict(base.corte.ultimo_corte):
        pass                        # served as the institute wrote it
    elif ref.corte is not None and uc != ref.corte.replace(second=0, microsecond=0):
        problems.append((f"ultimoCorte ({uc.isoformat()}) no coincide con corte_iso ({ref.corte_iso})",
                         f"ultimoCorte ({uc.isoformat()}) does not match corte_iso ({ref.corte_iso})"))
    when = corte_datetime(ref)
    csv_lines, zips, not_carried = {}, {}, []
    if when is not None:
        local = _local(when, ref)
        date_s, time_s = f"{local:%d/%m/%Y}", f"{local:%H:%M}"
        for rel in sorted(base.manifest):
            sf = obs.served.get(rel)
            if rel.lower().endswith(".csv") and sf is not None and sf.ok and sf.body is not None:
                pq_line = None
                if rel in base.texts:
                    pq_line = pq_fmt.corte_line_of(pq_fmt.text_lines(base.texts[rel]))
                    if pq_line is None:
                        not_carried.append(rel)       # the paquete's own file has no corte line
                        continue
                line = pq_fmt.corte_line_of(pq_fmt.text_lines(sf.body))
                csv_lines[rel] = line
                if line is None:
                    problems.append((f"{rel} no trae la línea de corte que trae el paquete",
                                     f"{rel} lacks the corte line the paquete carries"))
                elif same_corte and pq_line is not None:
                    if line != pq_line:
                        problems.append((f"{rel}: línea de corte '{line}' ≠ '{pq_line}' del paquete",
                                         f"{rel}: corte line '{line}' ≠ the paquete's '{pq_line}'"))
                elif pq_fmt.corte_line_datetime(line) != local.replace(second=0, microsecond=0) and (
                        date_s not in line or time_s not in line):
                    problems.append((f"{rel}: línea de corte '{line}' ≠ {date_s} {time_s}",
                                     f"{rel}: corte line '{line}' ≠ {date_s} {time_s}"))
            m = ZIP_NAME.search(rel)
            if m and sf is not None and sf.ok:
                zips[rel] = f"{m.group(1)}_{m.group(2)}"
        stamp = f"{local:%Y%m%d_%H%M}"
        if zips and stamp not in zips.values():
            # The paquete may keep earlier cortes' ZIPs; one of them at least must be this corte's.
            problems.append((f"ningún ZIP corresponde al corte {stamp} ({', '.join(list(zips)[:3])})",
                             f"no ZIP matches corte {stamp} ({', '.join(list(zips)[:3])})"))
    ev.update(csv_corte_lines=csv_lines, zip_names=list(zips), csv_without_corte_line_in_paquete=not_carried)
    if problems:
        return result("I.9", check, Verdict.FAIL, "Fecha y hora de corte inconsistentes: "
                      + "; ".join(p[0] for p in problems[:5]) + ".",
                      "Corte date/time inconsistent: " + "; ".join(p[1] for p in problems[:5]) + ".",
                      problems=[p[1] for p in problems], **ev)
    uc_s = " ".join(str((ref.ultimo_corte or {}).get(k, "")) for k in ("fecha", "hora", "zona")).strip() \
        or str(ref.corte_iso)
    n_csv, n_zip = len(csv_lines), len(zips)
    extra_es = (f"; {len(not_carried)} CSV sin línea de corte en el paquete (no se exige)" if not_carried else "")
    extra_en = (f"; {len(not_carried)} CSV with no corte line in the paquete (not required)" if not_carried else "")
    return result("I.9", check, Verdict.PASS,
                  f"main.json, {n_csv} CSV y {n_zip} ZIP indican el mismo corte ({uc_s}){extra_es}.",
                  f"main.json, {n_csv} CSV and {n_zip} ZIP carry the same corte ({uc_s}){extra_en}.",
                  **ev)


class _PageParser(HTMLParser):
    """Visible text (no script/style), script sources and inline script text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.inline: list[str] = []
        self._skip = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self._in_script = True
            if a.get("src"):
                self.scripts.append(a["src"])
        if tag in ("script", "style", "template", "noscript"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", "noscript") and self._skip:
            self._skip -= 1
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline.append(data)
        elif not self._skip:
            self.text.append(data)


from ..dates import MONTHS_ES as MESES  # noqa: E402  (one list for every module)


def _date_forms(d: dt.datetime) -> list[str]:
    return [f"{d:%d/%m/%Y}", f"{d.day}/{d.month}/{d.year}", f"{d:%d-%m-%Y}", f"{d:%Y-%m-%d}",
            f"{d.day} de {MESES[d.month - 1]} de {d.year}", f"{d:%d} de {MESES[d.month - 1]} de {d.year}",
            f"{d:%d.%m.%Y}"]


def _time_forms(d: dt.datetime) -> list[str]:
    h12 = d.hour % 12 or 12
    return [f"{d:%H:%M}", f"{d.hour}:{d:%M}", f"{h12}:{d:%M} p", f"{h12}:{d:%M}p", f"{h12}:{d:%M} a",
            f"{h12}:{d:%M}a"]


def _json_refs(code: str) -> list[str]:
    return re.findall(r"""["'`]([^"'`\s]*\.json)(?:\?[^"'`]*)?["'`]""", code)


def page_shows_corte(obs: PublicationObservation, page: ServedFile | None,
                     scripts: Mapping[str, ServedFile] | None = None) -> CheckResult:
    """I.9: the page citizens land on shows the corte's date and time (in its HTML, or built by its JS
    from a JSON that carries it)."""
    return with_tls_note(_page_shows_corte(obs, page, scripts), page, obs)


def _page_shows_corte(obs: PublicationObservation, page: ServedFile | None,
                      scripts: Mapping[str, ServedFile] | None = None) -> CheckResult:
    check = "page_shows_corte"
    ref = obs.served_corte
    when = corte_datetime(ref)
    ev: dict[str, Any] = {"page": page.brief() if page else None, "served_corte": ref.brief()}
    if page is None or page.status is None:
        why = page.error if page else "not requested"
        return result("I.9", check, Verdict.ERROR, f"No se pudo obtener la página: {why}",
                      f"Could not fetch the page: {why}", **ev)
    if page.body_cut is not None:   # past the size cap (probes.bounded)
        return result("I.9", check, Verdict.FAIL, f"La página no se sirve completa: {page.body_cut.text_es}.",
                      f"The page is not served whole: {page.body_cut.text_en}.", **ev)
    if page.status != 200 or page.body is None:
        return result("I.9", check, Verdict.FAIL, f"La página no se sirve (HTTP {page.status}).",
                      f"The page is not served (HTTP {page.status}).", **ev)
    if when is None:
        return result("I.9", check, Verdict.FAIL,
                      f"No se puede saber qué corte debe mostrar la página: {MAIN_JSON} no trae fecha y hora.",
                      f"Cannot tell which corte the page must show: {MAIN_JSON} has no date/time.", **ev)
    local = _local(when, ref)
    p = _PageParser()
    p.feed(page.body.decode("utf-8", errors="replace"))
    text = re.sub(r"\s+", " ", " ".join(p.text)).lower()
    date_hit = next((f for f in _date_forms(local) if f.lower() in text), None)
    time_hit = next((f for f in _time_forms(local) if f.lower() in text), None)
    ev.update(expected=f"{local:%d/%m/%Y %H:%M}", date_found=date_hit, time_found=time_hit,
              scripts=p.scripts[:20])
    if date_hit and time_hit:
        i = text.find(date_hit.lower())
        ev["excerpt"] = text[max(0, i - 40): i + 60]
        return result("I.9", check, Verdict.PASS,
                      f"La página muestra la fecha y hora del corte ({date_hit} {time_hit}).",
                      f"The page shows the corte's date and time ({date_hit} {time_hit}).", **ev)
    # Built by JavaScript? Look for a JSON the page or its scripts load.
    page_url = page.url
    code = "\n".join(p.inline)
    for src in p.scripts:
        sf = (scripts or {}).get(urljoin(page_url, src))
        if sf is not None and sf.body is not None:
            code += "\n" + sf.body.decode("utf-8", errors="replace")
    refs = sorted(set(_json_refs(code)))
    main_url = urljoin(obs.base_url if obs.base_url.endswith("/") else obs.base_url + "/", MAIN_JSON)
    loads_main = [r for r in refs if urlsplit(urljoin(page_url, r)).path == urlsplit(main_url).path]
    ev["json_loaded_by_scripts"] = refs
    other = [d for d in re.findall(r"\d{1,2}/\d{1,2}/\d{4}", text)]
    if other:
        ev["dates_on_page"] = other[:5]
    uc_ok = ultimo_corte_datetime(ref.ultimo_corte) is not None
    if loads_main and uc_ok:
        return result("I.9", check, Verdict.PASS,
                      f"La página construye el corte con JavaScript a partir de {loads_main[0]}; ese JSON trae "
                      f"ultimoCorte {ref.ultimo_corte.get('fecha')} {ref.ultimo_corte.get('hora')} "
                      "(el HTML no lo muestra por sí solo).",
                      f"The page builds the corte with JavaScript from {loads_main[0]}; that JSON carries "
                      f"ultimoCorte {ref.ultimo_corte.get('fecha')} {ref.ultimo_corte.get('hora')} "
                      "(the HTML alone does not show it).",
                      notes=[Note("info", "Verificado en el JSON que carga la página, no en la página renderizada.",
                                  "Checked in the JSON the page loads, not on a rendered page.")],
                      built_with_js=True, **ev)
    if loads_main:
        return result("I.9", check, Verdict.FAIL,
                      f"La página carga {loads_main[0]} con JavaScript, pero ese JSON no trae ultimoCorte legible.",
                      f"The page loads {loads_main[0]} with JavaScript, but that JSON has no readable ultimoCorte.",
                      built_with_js=True, **ev)
    return result("I.9", check, Verdict.FAIL,
                  f"La página no muestra la fecha y hora del corte ({local:%d/%m/%Y %H:%M}) ni carga {MAIN_JSON}"
                  + (f"; fechas en la página: {', '.join(other[:3])}" if other else "") + ".",
                  f"The page shows neither the corte's date and time ({local:%d/%m/%Y %H:%M}) nor loads {MAIN_JSON}"
                  + (f"; dates on the page: {', '.join(other[:3])}" if other else "") + ".", **ev)

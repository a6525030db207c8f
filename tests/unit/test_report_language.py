"""A Spanish report of the lab has no English in it, and the English one no Spanish (GUIDE: Spanish first).

The reports are rendered from ``tests/data/report/lab-results.json``: a results.json written by a real run
over lab scenarios (compliant, altered CSV, edge caching main.json, shaped SFTP, purge drill, weak origin
under load, self-signed certificate, unreachable site, TLS 1.0, refused SSH key, SLA below the threshold).
Observed data (header values, JSON bodies, file names: elements marked ``lang="zxx"``, ``<code>``,
``<pre>``) and the call's quoted sentences (``lang="es"`` in an English report) are not prose and are
not scanned.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from prep_conformance.report.render import render_dictamen, render_index

DATA = Path(__file__).resolve().parents[1] / "data" / "report" / "lab-results.json"

ENGLISH = {"the", "and", "not", "with", "from", "could", "was", "were", "has", "have", "this", "that", "which",
           "should", "been", "is", "are", "found", "missing", "failed", "refused", "served", "expected",
           "authorised", "authorized", "unreachable", "request", "response", "header", "headers", "load",
           "test", "check", "checks", "file", "files", "page", "site", "evidence", "verdict",
           "review", "pass", "fail", "skip", "warn", "timeout", "connection", "none", "true", "false",
           "upload", "rounds", "round", "median", "threshold", "below", "above", "chain", "trusted", "store",
           "profile", "declared", "detected", "signals", "yes", "no_", "only", "without", "could", "every",
           "name", "names", "status", "elapsed", "body", "size", "count", "summary", "notes"}
SPANISH = {"el", "la", "los", "las", "del", "que", "con", "para", "una", "por", "sin", "cumple", "archivo",
           "archivos", "requisito", "sitio", "respuesta", "encabezado", "servidor", "revisión", "también",
           "según", "está", "están", "perfil", "verificación", "evidencia", "carga", "umbral", "prueba",
           "ronda", "rondas", "ninguna", "ningún", "solicitud", "veredicto", "hallazgo", "cómo", "página",
           "certificado", "cadena", "almacén", "documentos", "revisor", "decisión", "autorizada", "aplica"}
# identifiers (no-store, load.authorized, data_files, host names) are one token and not prose
WORD = re.compile(r"[A-Za-zÁÉÍÓÚáéíóúÑñÜü0-9]+(?:[-_.:/@][A-Za-zÁÉÍÓÚáéíóúÑñÜü0-9]+)*")


class _Prose(HTMLParser):
    """Collects the prose of a page and of its tooltips, leaving out observed data and foreign quotes."""

    # observed data; the call's literal sentences (quoted as written, "header" included)
    SKIP_TAGS = {"code", "pre", "script", "style", "title", "blockquote", "q"}

    def __init__(self, lang: str):
        super().__init__(convert_charrefs=True)
        self.lang, self.stack, self.words = lang, [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        skip = (tag in self.SKIP_TAGS or a.get("lang") not in (None, self.lang) or a.get("translate") == "no")
        if tag in ("br", "img", "input", "meta", "link", "hr", "col"):
            if a.get("title") and not self._skipping():
                self.words.append(a["title"])
            return
        self.stack.append((tag, skip))
        if a.get("title") and not self._skipping():
            self.words.append(a["title"])

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def _skipping(self) -> bool:
        return any(s for _, s in self.stack)

    def handle_data(self, data):
        if not self._skipping():
            self.words.append(data)


def data_strings(doc) -> list[str]:
    """Every string the evidence holds (observed or declared by the difusor: a provider's name, a header):
    data, not the report's prose."""
    out: list[str] = []

    def walk(o):
        if isinstance(o, str):
            if len(o) >= 4:
                out.append(o)
        elif isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    for d in doc.get("difusores", []):
        for c in d.get("checks", []):
            walk(c.get("evidence"))
    return sorted(set(out), key=len, reverse=True)


def foreign_words(html: str, lang: str, data: list[str] = ()) -> dict[str, str]:
    """word → a little context, for every word of the other language found in the prose."""
    p = _Prose(lang)
    p.feed(html)
    for i, chunk in enumerate(p.words):
        for s in data:
            if s in chunk:   # whole words only: "cache_control" is data, "expected_cache_control" is not
                chunk = re.sub(r"(?<![\w.-])" + re.escape(s) + r"(?![\w.-])", " ", chunk)
        p.words[i] = chunk
    banned = ENGLISH if lang == "es" else SPANISH
    found: dict[str, str] = {}
    for chunk in p.words:
        for m in WORD.finditer(chunk):
            w = m.group(0)
            if any(ch in w for ch in "-_.:/@"):
                continue
            if w.lower() in banned and w.lower() not in found:
                found[w.lower()] = chunk[max(0, m.start() - 60): m.end() + 60].strip()
    return found


@pytest.fixture(scope="module")
def doc():
    return json.loads(DATA.read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_no_word_of_the_other_language_in_any_report(doc, lang):
    pages = {"index.html": render_index(doc, lang)}
    for d in doc["difusores"]:
        pages[f"{d['id']}.html"] = render_dictamen(doc, d, lang)
    data = data_strings(doc)
    problems = {name: found for name, html in pages.items() if (found := foreign_words(html, lang, data))}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)[:4000]


def test_the_scanner_finds_leaks():
    assert "the" in foreign_words("<p>Load test not authorised: the profile</p>", "es")
    assert "authorised" in foreign_words("<p>Load test not authorised</p>", "es")
    assert not foreign_words('<p>Cumple <code>the header</code> <span lang="zxx">served</span></p>', "es")
    assert "archivos" in foreign_words("<p>3 archivos</p>", "en")
    assert not foreign_words('<p>As the call says: <q lang="es">los archivos</q></p>', "en")


SNAKE = re.compile(r'<t[hd](?: class="k")?>\s*([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\s*</t[hd]>')


def test_a_spanish_reader_sees_no_raw_evidence_key(doc):
    """Every evidence key laid out in a table reads as Spanish words (report.evidence.KEY_LABELS_ES), not
    as the program's ``snake_case`` name; of a pair ``reason``/``reason_en`` only the Spanish is shown."""
    doc = json.loads(json.dumps(doc))
    c = doc["difusores"][0]["checks"][0]
    c["evidence"] = {**c["evidence"], "reason": "la página pidió credenciales",
                     "reason_en": "the page asked for credentials", "cleanup": {"removed": [], "scratch_removed": True},
                     "body_cut": {"reason": "size"}, "think_time_s": [0.5, 1.5]}
    raw = {}
    for d in doc["difusores"]:
        html = render_dictamen(doc, d, "es")
        text = re.sub(r"<pre[^>]*>.*?</pre>", "", html, flags=re.S)
        assert "the page asked for credentials" not in text
        raw.update({k: d["id"] for k in SNAKE.findall(text)})
    assert not raw, raw
    en = re.sub(r"<pre[^>]*>.*?</pre>", "", render_dictamen(doc, doc["difusores"][0], "en"), flags=re.S)
    assert "the page asked for credentials" in en and "la página pidió credenciales" not in en


def test_every_check_has_a_title_in_both_languages():
    """The check names the checks and rules write (``def test_x``, ``result(REQ, "x", ...)``, ``check = "x"``)
    all have a Spanish and an English title: a reader never sees ``access_log_statistics``."""
    from prep_conformance.report.i18n import CHECK_TITLES
    root = Path(__file__).resolve().parents[2]
    names = set()
    for f in (root / "checks").glob("test_*.py"):
        names |= set(re.findall(r"^def test_(\w+)\(", f.read_text(encoding="utf-8"), re.M))
    for f in (root / "prep_conformance" / "rules").glob("*.py"):
        s = f.read_text(encoding="utf-8")
        names |= set(re.findall(r'result\(\s*(?:REQ|"[IV.a-z0-9]+"|requirement|req)\s*,\s*"([a-z_]+)"', s))
        names |= set(re.findall(r'(?:check|name)\s*(?::\s*str\s*)?=\s*"([a-z_]+)"', s))
    assert len(names) > 30
    assert not sorted(n for n in names if n not in CHECK_TITLES)
    assert all(es and en for es, en in CHECK_TITLES.values())

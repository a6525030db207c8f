"""II.4: read a delivered memoria técnica (PDF or HTML) into an observation; II.2.c: figures from logs."""

from __future__ import annotations

import html as htmlmod
import json
import re
from dataclasses import dataclass
from pathlib import Path

MAX_PAGES = 300
MAX_TEXT = 4_000_000
MAX_HTML_BYTES = 20_000_000


@dataclass(frozen=True)
class MemoriaObservation:
    """The delivered memoria as read. ``kind``: ``tool`` (this tool's PDF, ``data`` its attachment),
    ``pdf``, ``html``; ``text`` its text (bounded); ``error`` why it could not be read."""

    name: str
    kind: str | None
    text: str = ""
    data: dict | None = None
    error: str | None = None
    pages: int | None = None


def observe_memoria(path: str | Path) -> MemoriaObservation:
    """Text and (for this tool's own PDF) the embedded ``memoria.json``; never raises for a bad file."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        return MemoriaObservation(p.name, None, error=str(exc))
    if head.startswith(b"%PDF"):
        return _pdf(p)
    low = head.lower()
    if b"<html" in low or b"<!doctype html" in low:
        raw = p.read_bytes()[:MAX_HTML_BYTES].decode("utf-8", "replace")
        text = re.sub(r"<style.*?</style>|<script.*?</script>", " ", raw, flags=re.S | re.I)
        text = htmlmod.unescape(re.sub(r"<[^>]+>", " ", text))
        return MemoriaObservation(p.name, "html", text=text[:MAX_TEXT])
    return MemoriaObservation(p.name, None, error="no es PDF ni HTML / neither PDF nor HTML")


def _pdf(p: Path) -> MemoriaObservation:
    import logging

    import pypdf
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(p)
        data = None
        try:
            att = reader.attachments.get("memoria.json")
            if att:
                d = json.loads(att[0])
                if isinstance(d, dict) and str(d.get("schema", "")).startswith("prep-conformance/memoria/"):
                    data = d
        except Exception:   # an attachment we cannot read: fall back to the text
            data = None
        parts, size = [], 0
        for page in reader.pages[:MAX_PAGES]:
            t = page.extract_text() or ""
            parts.append(t)
            size += len(t)
            if size > MAX_TEXT:
                break
        return MemoriaObservation(p.name, "tool" if data else "pdf", text="\n".join(parts)[:MAX_TEXT], data=data,
                                  pages=len(reader.pages))
    except Exception as exc:   # a damaged or encrypted PDF: the reviewer reads it
        return MemoriaObservation(p.name, "pdf", error=f"PDF ilegible / unreadable PDF: {type(exc).__name__}")

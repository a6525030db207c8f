"""HTML → PDF with WeasyPrint (a real layout engine: paged media, page counters, footers)."""

from __future__ import annotations

import logging
from pathlib import Path


class PdfUnavailable(RuntimeError):
    """WeasyPrint or its system libraries (Pango) are missing."""


def html_to_pdf(html: str, path: str | Path, base_url: str | None = None) -> Path:
    """Write ``html`` as a PDF at ``path`` (written to a temporary name, then renamed)."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:   # OSError: the Pango libraries are not installed
        raise PdfUnavailable(f"WeasyPrint is not usable here ({exc}); run bootstrap.sh") from None
    for name in ("weasyprint", "fontTools"):   # CSS it ignores is not the reviewer's business
        logging.getLogger(name).setLevel(logging.ERROR)
    path = Path(path)
    tmp = path.with_suffix(".pdf.tmp")
    weasyprint.HTML(string=html, base_url=base_url).write_pdf(str(tmp))
    tmp.replace(path)
    return path

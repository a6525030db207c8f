"""Advisory notes several rules attach (they never change a verdict)."""

from __future__ import annotations

from ..verdict import Note


def tls_note(reason: str | None) -> Note | None:
    """The note for content fetched without certificate verification (``reason``: why it did not verify),
    or None. The certificate itself is judged by II.2.d.https; the verdict is unchanged."""
    if not reason:
        return None
    return Note("warn", f"El certificado no es válido ({reason}); el contenido se obtuvo sin "
                "verificarlo para poder evaluar este requisito (ver II.2.d.https).",
                f"The certificate is not valid ({reason}); the content was fetched without "
                "verifying it so this requirement could be evaluated (see II.2.d.https).")

"""The documents a lab difusor delivers with its application: a real SVG logo and a real PDF diagram."""

from __future__ import annotations

from pathlib import Path

LOGO_SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="240" height="80" viewBox="0 0 240 80">
  <title>Medio de Laboratorio (ficticio)</title>
  <rect x="2" y="2" width="236" height="76" rx="12" fill="#0b4f6c" stroke="#01baef" stroke-width="4"/>
  <circle cx="40" cy="40" r="22" fill="#fbfbff"/>
  <path d="M28 42 l8 8 l16 -20" stroke="#0b4f6c" stroke-width="6" fill="none"/>
  <text x="72" y="48" font-family="sans-serif" font-size="22" fill="#fbfbff">Medio Lab</text>
</svg>
"""


def _pdf(lines: list[str]) -> bytes:
    """A minimal, valid one-page PDF 1.4 (correct xref offsets) with a few lines of text and boxes."""
    esc = lambda s: s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    ops = ["0.2 0.4 0.6 RG 2 w", "60 600 140 60 re S", "240 600 140 60 re S", "420 600 140 60 re S",
           "200 630 m 240 630 l S", "380 630 m 420 630 l S", "BT /F1 11 Tf"]
    for (x, y, t) in [(70, 635, "Origen nginx"), (250, 635, "CDN Varnish"), (430, 635, "Internet")]:
        ops.append(f"1 0 0 1 {x} {y} Tm ({esc(t)}) Tj")
    y = 560
    for line in lines:
        ops.append(f"1 0 0 1 60 {y} Tm ({esc(line)}) Tj")
        y -= 16
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def write_documents(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    logo, diagram = directory / "logo.svg", directory / "diagrama.pdf"
    logo.write_text(LOGO_SVG, encoding="utf-8")
    diagram.write_bytes(_pdf(["Diagrama del servicio (laboratorio, datos ficticios)",
                              "Origen: nginx (HTTP/HTTPS) sirviendo el paquete de difusion",
                              "CDN: Varnish con purga PURGE/BAN desde loopback",
                              "Carga del paquete: SFTP (OpenSSH internal-sftp)"]))
    return {"logo": logo, "diagram": diagram}

"""Real paquete shapes (issue 10): difusores serving a paquete as institutes really publish it.

Each scenario serves the newest lab corte generated in one of the shapes of ``paquete.PRESETS``
(INE-like: UTF-8 with a BOM, ``\\r`` line ends, blank rows, candidates catalogues with no corte line, a
ZIP of per-election ZIPs with LEEME.txt, quoted keys, JSON counts as text; OPL-like: Latin-1, ``\\n``,
``HH:MM(UTC-6)`` with no space, MD5 and N/A integrity codes). The profile's ``package:`` names that
shape's own paquete. Compliant copies must PASS I.4/I.6/I.9; each ``-altered`` copy has one byte
changed (a vote in a CSV; for MD5 codes an acta image) and must FAIL I.6.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterator

from ... import paquete
from ..scenario import Scenario

_STATE: dict[str, Path] = {}        # the lab state folder, captured by the mutations (run before profiles)
SHAPES = ("ine", "opl", "all")


def _shape_dir(state: Path, shape: str) -> Path:
    """The shape's paquete (newest lab corte, the lab's small size), generated once per lab state."""
    from ..manager import CORTES, SIZES
    import json
    base = state / "paquete" / f"shape-{shape}"
    root = base / paquete.corte_dirname(CORTES)
    params = json.dumps({"variant": sorted(paquete.parse_variant(shape)), **SIZES["small"], "generator": 1})
    stamp = base / "params.json"
    if not (root / paquete.MANIFEST).is_file() or not stamp.is_file() or stamp.read_text() != params:
        paquete.generate_corte(base, CORTES, seed=0, variant=shape, **SIZES["small"])
        stamp.write_text(params)
    return root


def _serve(shape: str, alter: bool = False):
    def mutation(docroot: Path, ctx) -> None:
        _STATE["state"] = Path(ctx.state)
        src = _shape_dir(Path(ctx.state), shape)
        shutil.rmtree(docroot)
        shutil.copytree(src, docroot)
        if alter:
            if "md5" in paquete.parse_variant(shape):     # exercise the MD5 codes: one acta image changed
                img = sorted(docroot.glob("actas/*.png"))[0]
                data = bytearray(img.read_bytes())
                data[-20] ^= 0x01
                img.write_bytes(bytes(data))
            else:
                paquete.alter_file(docroot, "csv/MICH_AYUN_2024.csv")
    return mutation


class ShapePackage(Mapping):
    """``{"package": <the shape's paquete>}``, computed when the lab writes profiles (state known then)."""

    def __init__(self, shape: str):
        self.shape = shape

    def _doc(self) -> dict[str, Any]:
        state = _STATE.get("state")
        return {"package": str(_shape_dir(state, self.shape))} if state else {}

    def __getitem__(self, k):
        return self._doc()[k]

    def __iter__(self) -> Iterator[str]:
        return iter(self._doc())

    def __len__(self) -> int:
        return len(self._doc())


_TITLES = {
    "ine": ("paquete como el del INE (BOM, \\r, filas en blanco, catálogos, ZIP de ZIP, claves entre comillas)",
            "an INE-like paquete (BOM, \\r, blank rows, catalogues, ZIP of ZIPs, quoted keys)"),
    "opl": ("paquete como el de un OPL (Latin-1, HH:MM(UTC-6), códigos MD5 y N/A, catálogos)",
            "an OPL-like paquete (Latin-1, HH:MM(UTC-6), MD5 and N/A codes, catalogues)"),
    "all": ("paquete con todas las formas reales a la vez", "a paquete with every real shape at once"),
}

SCENARIOS = []
for _shape in SHAPES:
    es, en = _TITLES[_shape]
    SCENARIOS.append(Scenario(f"shape-{_shape}", f"Publica íntegro un {es}", f"Publishes {en} unmodified",
                              family="publication", mutation=_serve(_shape), profile=ShapePackage(_shape)))
    SCENARIOS.append(Scenario(f"shape-{_shape}-altered", f"Un byte alterado en un {es}",
                              f"One byte altered in {en}", expect={"I.6": "FAIL"}, family="publication",
                              mutation=_serve(_shape, alter=True), profile=ShapePackage(_shape)))

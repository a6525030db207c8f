"""Read a local document named by the profile (the head is enough to know its format)."""

from __future__ import annotations

import os

from ..rules.documents import FileObservation


def observe_file(path: str | None, head_bytes: int = 4096) -> FileObservation | None:
    if not path:
        return None
    with open(path, "rb") as fh:
        head = fh.read(head_bytes)
    return FileObservation(os.path.basename(path), os.path.getsize(path), head)

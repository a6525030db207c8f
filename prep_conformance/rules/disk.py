"""II.1.c free disk on the upload directory: pure rule over a ``DiskObservation``.

GB here is 10^9 bytes, as the convocatoria writes it (``thresholds.disk_free_gb``); the bytes that
count are those the unprivileged upload account may use (``f_bavail``, df's "Available").
"""

from __future__ import annotations

from ..convocatoria import Convocatoria
from ..thresholds import uses
from ..probes.ssh import DiskObservation
from ..verdict import CheckResult, Verdict, result

REQ = "II.1.c"
CHECK = "disk_free"


@uses("disk_free_gb")
def evaluate(obs: DiskObservation, conv: Convocatoria) -> CheckResult:
    need = conv.thresholds.disk_free_bytes
    ev = {"path": obs.path, "method": obs.method, "threshold_gb": conv.thresholds.disk_free_gb,
          "threshold_bytes": need, "raw": obs.raw}
    if obs.missing:
        return result(REQ, CHECK, Verdict.ERROR,
                      f"El directorio de carga {obs.path} no existe en el servidor: no se puede medir su espacio libre.",
                      f"The upload directory {obs.path} does not exist on the server: its free space cannot be measured.",
                      error=obs.error, **ev)
    if obs.avail_bytes is None:
        return result(REQ, CHECK, Verdict.ERROR,
                      f"No se pudo medir el espacio libre de {obs.path} ({obs.method}): {obs.error}",
                      f"Could not measure the free space of {obs.path} ({obs.method}): {obs.error}",
                      error=obs.error, **ev)
    gb = obs.avail_bytes / 10**9
    ev.update(avail_bytes=obs.avail_bytes, avail_gb=round(gb, 3), avail_gib=round(obs.avail_bytes / 2**30, 3),
              total_bytes=obs.total_bytes)
    th = conv.thresholds.disk_free_gb
    if obs.avail_bytes >= need:
        return result(REQ, CHECK, Verdict.PASS,
                      f"{gb:.1f} GB libres en {obs.path} (mínimo {th:g} GB; {obs.method}).",
                      f"{gb:.1f} GB free on {obs.path} (minimum {th:g} GB; {obs.method}).", **ev)
    return result(REQ, CHECK, Verdict.FAIL,
                  f"Solo {gb:.2f} GB libres en {obs.path}; se requieren al menos {th:g} GB ({obs.method}).",
                  f"Only {gb:.2f} GB free on {obs.path}; at least {th:g} GB required ({obs.method}).", **ev)

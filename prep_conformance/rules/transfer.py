"""II.1.d SFTP upload speed: pure rule over an ``UploadObservation``.

MB is 10^6 bytes (``thresholds.sftp_upload_mb_s``). The figure is the median of the rounds, each timed
transfer-only. A rate below the threshold is a FAIL only when our own client was not the limit:
if it used a whole core or came within 80 % of this machine's self-test ceiling, the verdict is
ERROR ("could not measure that high"), never FAIL.
"""

from __future__ import annotations

from dataclasses import asdict

from ..convocatoria import Convocatoria
from ..thresholds import uses
from ..probes.transfer import UploadObservation
from ..verdict import CheckResult, Note, Verdict, result

REQ = "II.1.d"
CHECK = "sftp_upload_speed"
CPU_SATURATED = 0.8        # client CPU seconds per transfer second: one core busy
NEAR_CEILING = 0.8         # measured / self-test ceiling
STOP_BELOW_FRACTION = 0.25  # a round that can no longer beat a quarter of the threshold is stopped: clearly a FAIL


def stop_below_mb_s(conv: Convocatoria) -> float:
    """The rate under which the probe stops a round early (a slow link need not upload the whole probe)."""
    return conv.thresholds.sftp_upload_mb_s * STOP_BELOW_FRACTION


def client_limited(obs: UploadObservation, lang: str = "en") -> str | None:
    """Why our client (not the server or link) may have set the figure, or None (``lang``: es or en)."""
    why = []
    if obs.client_cpu_share is not None and obs.client_cpu_share >= CPU_SATURATED:
        why.append(f"CPU del cliente al {obs.client_cpu_share:.0%} de un núcleo" if lang == "es"
                   else f"client CPU {obs.client_cpu_share:.0%} of a core")
    if obs.client_ceiling_mb_s and obs.median_mb_s and obs.median_mb_s >= NEAR_CEILING * obs.client_ceiling_mb_s:
        why.append(f"{obs.median_mb_s:.1f} MB/s es ≥ {NEAR_CEILING:.0%} del techo medido en esta máquina "
                   f"({obs.client_ceiling_mb_s:.1f} MB/s)" if lang == "es" else
                   f"{obs.median_mb_s:.1f} MB/s is ≥ {NEAR_CEILING:.0%} of this machine's self-test "
                   f"ceiling {obs.client_ceiling_mb_s:.1f} MB/s")
    return "; ".join(why) or None


@uses("sftp_upload_mb_s")
def evaluate(obs: UploadObservation, conv: Convocatoria) -> CheckResult:
    th = conv.thresholds.sftp_upload_mb_s
    ev = {k: v for k, v in asdict(obs).items() if k != "rounds"}
    ev["rounds"] = [asdict(r) for r in obs.rounds]
    ev["threshold_mb_s"] = th
    ev["rounds_ok"] = sum(1 for r in obs.rounds if r.ok)
    d, sd = obs.upload_dir, obs.scratch_dir
    if obs.setup in ("missing", "not_dir"):
        what_es = "no existe" if obs.setup == "missing" else "no es un directorio"
        what_en = "does not exist" if obs.setup == "missing" else "is not a directory"
        return result(REQ, CHECK, Verdict.FAIL,
                      f"El directorio de carga {d} {what_es}: el servicio SFTP no puede recibir paquetes ahí.",
                      f"The upload directory {d} {what_en}: the SFTP service cannot receive packages there.", **ev)
    if obs.setup == "not_writable":
        return result(REQ, CHECK, Verdict.FAIL,
                      f"Sin permiso de escritura en {sd} ({obs.setup_detail}): la cuenta no puede subir paquetes.",
                      f"No write permission in {sd} ({obs.setup_detail}): the account cannot upload packages.", **ev)
    if obs.setup == "no_space":
        return result(REQ, CHECK, Verdict.ERROR,
                      f"Disco lleno: no cabe la sonda de {obs.probe_bytes / 1e6:g} MB en {d} ({obs.setup_detail}).",
                      f"Disk full: the {obs.probe_bytes / 1e6:g} MB probe does not fit in {d} ({obs.setup_detail}).",
                      **ev)
    if obs.setup == "engine":
        return result(REQ, CHECK, Verdict.ERROR, f"No se pudo medir la carga ({obs.engine}): {obs.setup_detail}",
                      f"Upload could not be measured ({obs.engine}): {obs.setup_detail}", **ev)
    if obs.cleanup and not obs.cleanup.get("verified", False):
        left = ", ".join(obs.cleanup.get("leftover", [])) or "?"
        return result(REQ, CHECK, Verdict.ERROR,
                      f"No se pudo verificar la eliminación de la sonda; quedaron: {left}. Retírelos a mano.",
                      f"Probe removal could not be verified; left behind: {left}. Remove them by hand.", **ev)
    failed = [r for r in obs.rounds if not r.ok]
    if obs.stopped_early and not obs.disk_full:
        se = obs.stopped_early
        if obs.client_cpu_share is not None and obs.client_cpu_share >= CPU_SATURATED:
            return result(REQ, CHECK, Verdict.ERROR,
                          f"La ronda {se['round']} no terminó en {se['after_s']:g} s, pero nuestro cliente estaba "
                          f"saturado (CPU {obs.client_cpu_share:.0%}); repita desde una máquina más capaz.",
                          f"Round {se['round']} did not finish within {se['after_s']:g} s, but our client was "
                          f"saturated (CPU {obs.client_cpu_share:.0%}); repeat from a more capable machine.", **ev)
        return result(REQ, CHECK, Verdict.FAIL,
                      f"Carga SFTP a menos de {se['below_mb_s']:.1f} MB/s (mínimo {th:g} MB/s): la ronda "
                      f"{se['round']} de {obs.probe_bytes / 1e6:g} MB seguía sin terminar a los {se['after_s']:g} s "
                      f"y se detuvo ({obs.engine}).",
                      f"SFTP upload below {se['below_mb_s']:.1f} MB/s (minimum {th:g} MB/s): round {se['round']} "
                      f"of {obs.probe_bytes / 1e6:g} MB was still running after {se['after_s']:g} s and was "
                      f"stopped ({obs.engine}).", **ev)
    if obs.disk_full:
        return result(REQ, CHECK, Verdict.ERROR,
                      f"Disco lleno durante la sonda en {sd}: {failed[0].error if failed else ''}",
                      f"Disk full during the probe in {sd}: {failed[0].error if failed else ''}", **ev)
    if failed or obs.median_mb_s is None:
        err = failed[0].error if failed else "no round completed"
        err_es = (failed[0].error_es or err) if failed else "ninguna ronda terminó"
        return result(REQ, CHECK, Verdict.ERROR,
                      f"Falló la ronda {failed[0].index if failed else '?'} de carga SFTP: {err_es}",
                      f"SFTP upload round {failed[0].index if failed else '?'} failed: {err}", **ev)
    m = obs.median_mb_s
    secs = ", ".join(f"{r.seconds:.2f}" for r in obs.rounds)
    detail_es = (f"mediana de {len(obs.rounds)} ronda(s) de {obs.probe_bytes / 1e6:g} MB ({secs} s; "
                 f"{obs.engine}, {obs.cipher})")
    detail_en = (f"median of {len(obs.rounds)} round(s) of {obs.probe_bytes / 1e6:g} MB ({secs} s; "
                 f"{obs.engine}, {obs.cipher})")
    limited = client_limited(obs)
    limited_es = client_limited(obs, "es")
    ev["client_limited"] = limited
    notes = []
    if obs.fallback:
        notes.append(Note("info", f"Motor {obs.engine}: {obs.fallback}", f"Engine {obs.engine}: {obs.fallback}"))
    if m >= th:
        if limited:
            notes.append(Note("info", f"El cliente fue el límite ({limited_es}): la velocidad real puede ser mayor.",
                              f"Our client was the limit ({limited}): the real speed may be higher."))
        return result(REQ, CHECK, Verdict.PASS, f"Carga SFTP a {m:.1f} MB/s (mínimo {th:g} MB/s; {detail_es}).",
                      f"SFTP upload at {m:.1f} MB/s (minimum {th:g} MB/s; {detail_en}).", notes=notes, **ev)
    if limited:
        return result(REQ, CHECK, Verdict.ERROR,
                      f"Se midieron {m:.1f} MB/s (< {th:g}) pero el límite fue nuestro cliente ({limited_es}); "
                      "repita desde una máquina más capaz.",
                      f"Measured {m:.1f} MB/s (< {th:g}) but our client was the limit ({limited}); "
                      "repeat from a more capable machine.", notes=notes, **ev)
    return result(REQ, CHECK, Verdict.FAIL, f"Carga SFTP a {m:.1f} MB/s, menor que {th:g} MB/s ({detail_es}).",
                  f"SFTP upload at {m:.1f} MB/s, below {th:g} MB/s ({detail_en}).", notes=notes, **ev)

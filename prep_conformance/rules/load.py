"""II.2.a under load: k6-style thresholds from the convocatoria, guardrails, and verdicts. Pure: no I/O.

``settings`` merges the convocatoria's ``load`` defaults with the profile's overrides and applies the
caps; ``guard`` says whether a run is allowed at all; ``thresholds``, ``main_json_under_load`` and
``main_json_not_cached`` judge one ``LoadObservation``. Evidence carries the series; the report draws the
chart (``report/charts.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

from .. import thresholds as th
from ..verdict import CheckResult, Note, Verdict, result
from ..probes.load import LoadObservation, all_loopback


@dataclass(frozen=True)
class LoadSettings:
    """The thresholds and the shape of the run for one difusor (convocatoria defaults, profile overrides, caps).

    Attributes:
        users, spawn_rate, duration_s: the load; capped by ``max_users``/``max_duration_s``.
        p95_ms, p99_ms, max_error_rate: pass criteria; ``min_served_ratio`` the throughput criterion
            (served ÷ what the visitors attempted); ``min_rps`` an absolute floor (None: none set).
        capped: what was lowered by a cap (``users 5000 -> 2000``).
        thresholds: ``evidence["thresholds"]`` entries (``prep_conformance.thresholds``): each criterion,
            its value, where it came from, whether the profile loosened it.
    """

    users: int
    spawn_rate: float
    duration_s: int
    p95_ms: float
    p99_ms: float
    max_error_rate: float
    min_rps: float | None
    poll_min_s: float
    poll_max_s: float
    weights: Mapping[str, float]
    workers: int = 0
    remote_workers: bool = False
    expect_workers_wait_s: int = 60
    master_bind_host: str | None = None
    master_port: int | None = None
    capped: tuple[str, ...] = ()
    min_served_ratio: float = 0.9
    thresholds: tuple[Mapping, ...] = ()

    def to_evidence(self) -> dict:
        return {"users": self.users, "spawn_rate": self.spawn_rate, "duration_s": self.duration_s,
                "workers": self.workers, "remote_workers": self.remote_workers,
                "think_time_s": [self.poll_min_s, self.poll_max_s], "weights": dict(self.weights),
                "thresholds": {"p95_ms": self.p95_ms, "p99_ms": self.p99_ms,
                               "max_error_rate": self.max_error_rate, "min_served_ratio": self.min_served_ratio,
                               "min_rps": self.min_rps},
                "capped": list(self.capped)}


# criterion name (thresholds.SPECS) -> LoadSettings attribute / profile key under load:
_CRITERIA = {"load_users": "users", "load_duration_s": "duration_s", "load_p95_ms": "p95_ms",
             "load_p99_ms": "p99_ms", "load_max_error_rate": "max_error_rate",
             "load_min_served_ratio": "min_served_ratio", "load_min_rps": "min_rps"}


def settings(defaults, overrides, conv=None) -> LoadSettings:
    """``defaults``: ``Convocatoria.load``; ``overrides``: ``Profile.load``; ``conv``: the convocatoria (for
    where each threshold came from; without it the defaults are the reference). Caps always win."""
    def pick(name):
        v = getattr(overrides, name, None)
        return getattr(defaults, name, None) if v is None else v

    capped = []
    users, duration = int(pick("users")), int(pick("duration_s"))
    if users > defaults.max_users:
        capped.append(f"users {users} -> {defaults.max_users}")
        users = defaults.max_users
    if duration > defaults.max_duration_s:
        capped.append(f"duration_s {duration} -> {defaults.max_duration_s}")
        duration = defaults.max_duration_s
    lo, hi = float(pick("poll_min_s")), float(pick("poll_max_s"))
    floor = pick("min_rps")
    ratio = pick("min_served_ratio")
    s = LoadSettings(users, float(pick("spawn_rate")), duration, float(pick("p95_ms")), float(pick("p99_ms")),
                     float(pick("max_error_rate")), None if floor is None else float(floor), lo, max(lo, hi),
                     dict(pick("weights")), int(overrides.workers or 0), bool(overrides.remote_workers),
                     int(pick("expect_workers_wait_s")), overrides.master_bind_host, overrides.master_port,
                     tuple(capped), 0.9 if ratio is None else float(ratio))
    ref = conv if conv is not None else _Conv(defaults)
    entries = []
    for name, attr in _CRITERIA.items():
        over = getattr(overrides, attr, None)
        entries.append(th.threshold(ref, name, value=getattr(s, attr),
                                    profile_key=f"load.{attr}" if over is not None else None))
    return replace(s, thresholds=tuple(entries))


class _Conv:
    """A stand-in convocatoria holding only ``load`` (when a caller has no full convocatoria)."""

    def __init__(self, load):
        self.load = load


@dataclass(frozen=True)
class Guard:
    """Whether the load may run. ``allowed`` False comes with the reason (the verdict is SKIP)."""

    allowed: bool
    reason: str = ""
    reason_en: str = ""
    addresses: tuple[str, ...] = ()
    loopback: bool = False


def guard(authorized: bool, addresses: Sequence[str], allow_remote: bool) -> Guard:
    """Only with ``load.authorized: true``; beyond loopback also only with ``--prep-allow-remote-load``."""
    loop = all_loopback(addresses)
    if not authorized:
        return Guard(False, "Prueba de carga no autorizada: el perfil no la autoriza (clave load.authorized).",
                     "Load test not authorised: the profile does not authorise it (key load.authorized).",
                     tuple(addresses), loop)
    if not addresses:
        return Guard(False, "No se pudo resolver la dirección del sitio; la carga no se envía a ciegas.",
                     "The site's address could not be resolved; load is not sent blindly.", (), False)
    if not loop and not allow_remote:
        return Guard(False, f"El sitio no está en loopback ({', '.join(addresses)}): la carga remota requiere "
                     "además la opción --allow-remote-load (pytest: --prep-allow-remote-load).",
                     f"The site is not on loopback ({', '.join(addresses)}): remote load also needs the "
                     "--allow-remote-load flag (pytest: --prep-allow-remote-load).", tuple(addresses), loop)
    return Guard(True, addresses=tuple(addresses), loopback=loop)


def offered_max_rps(s: LoadSettings, page_assets: int, data_files: int = 1) -> float | None:
    """The most requests/s these visitors can send even to an infinitely fast site (None: unbounded).

    Each user runs at most one task per ``poll_min_s``; a page task costs 1 + its assets requests.
    """
    if s.poll_min_s <= 0:
        return None
    return s.users * _requests_per_task(s, page_assets, data_files)[0] / s.poll_min_s


def _unmeasured(obs: LoadObservation) -> tuple[str, str] | None:
    """Why nothing at all was measured (ERROR), or None."""
    if obs.error:
        return (f"La prueba de carga no produjo estadísticas: {obs.error}",
                f"The load test produced no statistics: {obs.error}")
    if obs.requests == 0:
        return ("El generador de carga no completó ninguna petición: no hay nada que evaluar.",
                "The load generator completed no request: nothing to evaluate.")
    return None


def _incomplete(obs: LoadObservation, s: LoadSettings) -> list[tuple[str, str]]:
    """Why the run is not the one asked for (a pass cannot be certified; a measured failure still counts)."""
    out = []
    if obs.timed_out:
        out.append(("Locust no terminó dentro del tiempo límite y fue detenido; resultados incompletos",
                    "Locust did not finish within the hard timeout and was stopped; results incomplete"))
    if (s.workers or s.remote_workers) and obs.workers_seen < max(1, s.workers):
        out.append((f"se esperaban {s.workers} workers de Locust y se conectaron {obs.workers_seen}",
                    f"{s.workers} Locust workers were expected, {obs.workers_seen} connected"))
    if obs.measured_s < 0.5 * s.duration_s:
        out.append((f"la carga duró {obs.measured_s:.1f} s de {s.duration_s} s previstos: corrida truncada",
                    f"the load lasted {obs.measured_s:.1f} s of {s.duration_s} s planned: truncated run"))
    return out


def _requests_per_task(s: LoadSettings, page_assets: int, data_files: int) -> tuple[float, float]:
    """(requests per task, requests per task made one after another), by the task weights."""
    w = dict(s.weights)
    if not data_files:
        w["poll"] = w.get("poll", 0) + w.pop("data", 0)
    total = sum(v for v in w.values() if v > 0) or 1.0
    per_task = (w.get("poll", 0) + w.get("data", 0) + w.get("page", 0) * (1 + page_assets)) / total
    return per_task, per_task


def expected_attempts(obs: LoadObservation, s: LoadSettings) -> float | None:
    """The fewest requests the configured visitors attempt against a site that answers every request
    within the p95 limit: each visitor runs one task per (mean think time + the task's requests × p95
    limit), integrated over the users actually running (Locust's per-second series). None when it
    cannot be said (no series and no measured time)."""
    per_task, sequential = _requests_per_task(s, len(obs.plan.page_assets), len(obs.plan.data_files))
    think = (s.poll_min_s + s.poll_max_s) / 2
    cycle = think + sequential * s.p95_ms / 1000.0
    if cycle <= 0:
        return None
    pts = obs.series
    if len(pts) >= 2:
        user_s = sum(a.users * max(0.0, b.t - a.t) for a, b in zip(pts, pts[1:]))
    elif obs.measured_s:
        user_s = s.users * obs.measured_s
    else:
        return None
    return user_s * per_task / cycle


def _numbers(obs: LoadObservation) -> dict:
    return {"requests": obs.requests, "failures": obs.failures, "error_rate": round(obs.error_rate, 5),
            "rps": obs.rps, "p50_ms": obs.p50_ms, "p95_ms": obs.p95_ms, "p99_ms": obs.p99_ms,
            "avg_ms": obs.avg_ms, "max_ms": obs.max_ms, "measured_s": obs.measured_s,
            "workers_seen": obs.workers_seen, "recovered_after_s": obs.recovered_after_s}


def _endpoint_rows(obs: LoadObservation, n: int = 15) -> list[dict]:
    return [{"method": e.method, "name": e.name, "requests": e.requests, "failures": e.failures,
             "p50_ms": e.p50_ms, "p95_ms": e.p95_ms, "p99_ms": e.p99_ms, "max_ms": e.max_ms}
            for e in obs.endpoints[:n]]


def _series(obs: LoadObservation, max_points: int = 300) -> list[list]:
    pts = obs.series
    step = max(1, -(-len(pts) // max_points))
    return [[p.t, p.users, round(p.rps, 2), round(p.fails_s, 2), p.p50_ms, p.p95_ms, p.p99_ms]
            for p in pts[::step]]


def thresholds(obs: LoadObservation, s: LoadSettings, requirement: str = "II.2.a",
               check: str = "load_thresholds") -> CheckResult:
    """p95, p99, error rate and requests/s against the convocatoria's thresholds."""
    ev: dict = {"settings": s.to_evidence(), **_numbers(obs), "endpoints": _endpoint_rows(obs),
                "failures_top": [{"method": f.method, "name": f.name, "error": f.error, "occurrences": f.occurrences}
                                 for f in obs.failure_lines[:10]],
                "series_columns": ["t_s", "users", "rps", "failures_s", "p50_ms", "p95_ms", "p99_ms"],
                "series": _series(obs), "command": " ".join(obs.command), "artifacts": obs.artifacts,
                "tls_verified": obs.plan.verify_tls}
    if obs.plan.remote_workers:
        from ..probes.load import REMOTE_DEFAULT_PORT, remote_worker_command
        ev["remote_worker_command"] = remote_worker_command("<master-host>", obs.plan.master_port or REMOTE_DEFAULT_PORT)
    notes: list[Note] = []
    if s.capped:
        notes.append(Note("info", "Valores limitados por la convocatoria: " + "; ".join(s.capped),
                          "Values capped by the convocatoria: " + "; ".join(s.capped)))
    if obs.cpu_warning:
        notes.append(Note("warn", "Un proceso de Locust superó 90 % de CPU: el generador pudo limitar las cifras; "
                          "use load.workers para repartir la carga.",
                          "A Locust process exceeded 90 % CPU: the generator may have limited the numbers; "
                          "use load.workers to spread the load."))
    if obs.recovered_after_s is None and obs.recovery_status is not None or (
            obs.recovered_after_s is not None and obs.recovered_after_s > 5):
        after = "no se recuperó" if obs.recovered_after_s is None else f"tardó {obs.recovered_after_s:g} s"
        after_en = "did not recover" if obs.recovered_after_s is None else f"took {obs.recovered_after_s:g} s"
        notes.append(Note("warn", f"Tras la carga, la página {after} en volver a responder sin 5xx/429.",
                          f"After the load the page {after_en} to answer again without 5xx/429."))
    ev["thresholds"] = [dict(e) for e in s.thresholds]
    nothing = _unmeasured(obs)
    if nothing:
        ev["log_tail"] = obs.log_tail[-800:]
        return result(requirement, check, Verdict.ERROR, nothing[0], nothing[1], notes=notes, **ev)
    # Each criterion on its own: a measured failure is a FAIL whatever another criterion says.
    failed: list[tuple[str, str]] = []
    unjudged: list[tuple[str, str]] = []
    if obs.p95_ms is None:
        unjudged.append(("p95 sin medir", "p95 not measured"))
    elif obs.p95_ms > s.p95_ms:
        failed.append((f"p95 {obs.p95_ms:g} ms > {s.p95_ms:g} ms", f"p95 {obs.p95_ms:g} ms > {s.p95_ms:g} ms"))
    if obs.p99_ms is None:
        unjudged.append(("p99 sin medir", "p99 not measured"))
    elif obs.p99_ms > s.p99_ms:
        failed.append((f"p99 {obs.p99_ms:g} ms > {s.p99_ms:g} ms", f"p99 {obs.p99_ms:g} ms > {s.p99_ms:g} ms"))
    if obs.error_rate > s.max_error_rate:
        failed.append((f"tasa de error {_pct(obs.error_rate)} > {_pct(s.max_error_rate)}",
                       f"error rate {_pct(obs.error_rate)} > {_pct(s.max_error_rate)}"))
    # Throughput, relative to what these visitors attempted (or would attempt of a site within p95).
    served = obs.requests - obs.failures
    expected = expected_attempts(obs, s)
    demand = max(float(obs.requests), expected or 0.0)
    ratio = served / demand if demand else None
    ev.update(served=served, attempted=obs.requests,
              expected_min_attempts=None if expected is None else round(expected, 1),
              served_ratio=None if ratio is None else round(ratio, 4))
    if ratio is not None and ratio < s.min_served_ratio:
        if obs.cpu_warning and served >= s.min_served_ratio * obs.requests:
            unjudged.append(("rendimiento: el generador saturó su CPU y envió menos de lo previsto",
                             "throughput: the generator saturated its CPU and sent less than planned"))
        else:
            failed.append((f"sirvió {served} de {demand:.0f} peticiones esperadas ({_pct(ratio)} < "
                           f"{_pct(s.min_served_ratio)})",
                           f"served {served} of {demand:.0f} expected requests ({_pct(ratio)} < "
                           f"{_pct(s.min_served_ratio)})"))
    if s.min_rps is not None:
        cap = offered_max_rps(s, len(obs.plan.page_assets), len(obs.plan.data_files))
        if cap is not None and s.min_rps > cap:
            unjudged.append((f"el mínimo de {s.min_rps:g} peticiones/s es inalcanzable: {s.users} usuarios con pausa "
                             f"mínima de {s.poll_min_s:g} s envían a lo sumo {cap:.1f}/s (ajuste load.users o "
                             "load.min_rps)",
                             f"the {s.min_rps:g} requests/s floor is unreachable: {s.users} users with a "
                             f"{s.poll_min_s:g} s minimum think time send at most {cap:.1f}/s (adjust load.users or "
                             "load.min_rps)"))
        elif obs.rps < s.min_rps:
            failed.append((f"{obs.rps:g} peticiones/s < {s.min_rps:g}", f"{obs.rps:g} requests/s < {s.min_rps:g}"))
    incomplete = _incomplete(obs, s)
    ev["not_judged"] = [u[1] for u in unjudged + incomplete]
    head_es = (f"{s.users} usuario{'' if s.users == 1 else 's'}, {obs.measured_s:.0f} s: {obs.requests} peticiones ({served} servidas), "
               f"{obs.rps:g}/s, p95 {obs.p95_ms} ms, p99 {obs.p99_ms} ms, errores {_pct(obs.error_rate)}")
    head_en = (f"{s.users} user{'' if s.users == 1 else 's'}, {obs.measured_s:.0f} s: {obs.requests} requests ({served} served), "
               f"{obs.rps:g}/s, p95 {obs.p95_ms} ms, p99 {obs.p99_ms} ms, errors {_pct(obs.error_rate)}")
    also_es = ("; además: " + "; ".join(u[0] for u in unjudged + incomplete)) if unjudged or incomplete else ""
    also_en = ("; also: " + "; ".join(u[1] for u in unjudged + incomplete)) if unjudged or incomplete else ""
    if failed:
        res = result(requirement, check, Verdict.FAIL,
                     f"{head_es}. No cumple: {'; '.join(f[0] for f in failed)}{also_es}.",
                     f"{head_en}. Not met: {'; '.join(f[1] for f in failed)}{also_en}.", notes=notes, **ev)
    elif incomplete:
        ev["log_tail"] = obs.log_tail[-800:]
        res = result(requirement, check, Verdict.ERROR,
                     f"{head_es}. Sin fallas medidas, pero la corrida no es la prevista: "
                     + "; ".join(u[0] for u in incomplete) + ".",
                     f"{head_en}. No measured failure, but the run is not the one planned: "
                     + "; ".join(u[1] for u in incomplete) + ".", notes=notes, **ev)
    elif unjudged:
        res = result(requirement, check, Verdict.WARN,
                     f"{head_es}. Dentro de los umbrales medidos; sin juzgar: " + "; ".join(u[0] for u in unjudged) + ".",
                     f"{head_en}. Within the measured thresholds; not judged: " + "; ".join(u[1] for u in unjudged)
                     + ".", notes=notes, **ev)
    else:
        res = result(requirement, check, Verdict.PASS, f"{head_es}. Dentro de los umbrales.",
                     f"{head_en}. Within thresholds.", notes=notes, **ev)
    return th.apply(res, s.thresholds)


def _pct(x: float) -> str:
    return f"{x:.2%}"


def _directives(value: str) -> list[str]:
    """Cache-Control compared as its comma-separated directives, case-insensitive, whitespace ignored."""
    return [re.sub(r"\s+", "", d).lower() for d in value.split(",") if d.strip()]


def main_json_under_load(obs: LoadObservation, expected_cache_control: str, expected_secuencia: int | None,
                         secuencia_source: str, requirement: str = "II.2.a",
                         check: str = "main_json_under_load") -> CheckResult:
    """Under load, every 200 of main.json still carries the exact Cache-Control and the newest corte.

    ``secuencia_source``: ``paquete`` (the institute's newest corte: every answer must equal it) or
    ``baseline`` (read just before the load: no answer may be older; a newer corte may appear).
    """
    t = obs.tally
    if obs.error or t is None:
        why = obs.error or "sin conteo de main.json / no main.json tally"
        return result(requirement, check, Verdict.ERROR,
                      f"No se pudo observar main.json bajo carga: {why}.",
                      f"main.json could not be observed under load: {why}.")
    ev = {"responses": t.responses, "ok_200": t.ok, "bad_json": t.bad_json, "cache_control_seen": dict(t.cache_control),
          "secuencia_seen": dict(t.secuencia), "expected_cache_control": expected_cache_control,
          "expected_secuencia": expected_secuencia, "secuencia_source": secuencia_source}
    if t.responses == 0:
        return result(requirement, check, Verdict.ERROR, "Ningún visitante pidió main.json durante la carga.",
                      "No visitor requested main.json during the load.", **ev)
    if t.ok == 0:
        return result(requirement, check, Verdict.FAIL,
                      f"main.json no respondió 200 ni una vez en {t.responses} peticiones bajo carga.",
                      f"main.json never answered 200 in {t.responses} requests under load.", **ev)
    want = _directives(expected_cache_control)
    wrong_cc = {v: n for v, n in t.cache_control.items() if _directives(v) != want}
    problems_es, problems_en = [], []
    if wrong_cc:
        n = sum(wrong_cc.values())
        problems_es.append(f"{n} de {t.ok} respuestas sin el Cache-Control exacto ({'; '.join(wrong_cc)})")
        problems_en.append(f"{n} of {t.ok} answers without the exact Cache-Control ({'; '.join(wrong_cc)})")
    if t.bad_json:
        problems_es.append(f"{t.bad_json} respuestas 200 que no son JSON")
        problems_en.append(f"{t.bad_json} 200 answers that are not JSON")
    if expected_secuencia is not None:
        def stale(k: str) -> bool:
            try:
                seq = int(k)
            except ValueError:
                return True
            return seq != expected_secuencia if secuencia_source == "paquete" else seq < expected_secuencia
        old = {k: n for k, n in t.secuencia.items() if stale(k)}
        if old:
            n = sum(old.values())
            problems_es.append(f"{n} respuestas con un corte distinto del más reciente ({expected_secuencia}): "
                               f"secuencia {', '.join(old)}")
            problems_en.append(f"{n} answers with a corte other than the newest ({expected_secuencia}): "
                               f"secuencia {', '.join(old)}")
    if problems_es:
        return result(requirement, check, Verdict.FAIL, "main.json bajo carga: " + "; ".join(problems_es) + ".",
                      "main.json under load: " + "; ".join(problems_en) + ".", **ev)
    seq_txt = f", corte {expected_secuencia}" if expected_secuencia is not None else ""
    notes = [] if expected_secuencia is not None else [Note(
        "warn", "Corte no verificado bajo carga: sin paquete en el perfil y main.json sin secuencia antes de la carga.",
        "Corte not checked under load: no paquete in the profile and no secuencia in main.json before the load.")]
    return result(requirement, check, Verdict.PASS,
                  f"Las {t.ok} respuestas 200 de main.json bajo carga llevan el Cache-Control exacto{seq_txt}.",
                  f"All {t.ok} 200 answers of main.json under load carry the exact Cache-Control{seq_txt}.",
                  notes=notes, **ev)


def main_json_not_cached(obs: LoadObservation, requirement: str = "II.1.e",
                         check: str = "main_json_not_cached_under_load") -> CheckResult:
    """II.1.e's purpose under load: no main.json answer comes out of a cache (a hit as ``cache_status``
    reads it, the visitor's tally: the same definition as at rest).

    Catches an edge that honours the header at rest but micro-caches main.json once traffic rises.
    """
    t = obs.tally
    if obs.error or t is None:
        why = obs.error or "sin conteo de main.json / no main.json tally"
        return result(requirement, check, Verdict.ERROR, f"No se pudo observar main.json bajo carga: {why}.",
                      f"main.json could not be observed under load: {why}.")
    ev = {"ok_200": t.ok, "cache_hits": t.cache_hits, "age_max_s": t.age_max,
          "hit_examples": [dict(x) for x in t.hit_examples]}
    if t.ok == 0:
        return result(requirement, check, Verdict.ERROR,
                      "Ninguna respuesta 200 de main.json bajo carga: no se puede juzgar si se sirvió de caché.",
                      "No 200 answer of main.json under load: cannot tell whether it came from a cache.", **ev)
    if t.cache_hits:
        seen = sorted({str(x) for ex in t.hit_examples for x in (ex.get("lines") or ())})[:3]
        said_es = f"«{'; '.join(seen)}»" if seen else "X-Cache: HIT"
        said_en = f"'{'; '.join(seen)}'" if seen else "X-Cache: HIT"
        return result(requirement, check, Verdict.FAIL,
                      f"{t.cache_hits} de {t.ok} respuestas de main.json bajo carga salieron de una caché "
                      f"(Age hasta {t.age_max} s; p. ej. {said_es}): el borde lo almacena pese a no-store.",
                      f"{t.cache_hits} of {t.ok} main.json answers under load came from a cache "
                      f"(Age up to {t.age_max} s; e.g. {said_en}): the edge stores it despite no-store.", **ev)
    return result(requirement, check, Verdict.PASS,
                  f"Ninguna de las {t.ok} respuestas de main.json bajo carga salió de caché.",
                  f"None of the {t.ok} main.json answers under load came from a cache.", **ev)

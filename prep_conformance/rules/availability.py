"""II.2.e 99.9 % monthly availability: judged from the harness's own monitor samples, or a declared SLA.

A month (the convocatoria's ``availability_period_days``, 30) at 99.9 % allows (1 - 0.999) × 30 days =
43.2 minutes of downtime. Monitored downtime beyond that
budget is a measured FAIL whatever the coverage; PASS needs a full month of samples at or above the
threshold; anything in between is MANUAL with the figures so far (a reviewer asks for the SLA).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from ..verdict import CheckResult, Verdict, result

DAY_S = 24 * 3600


def is_up(status: int | None, error: str | None) -> bool:
    """A monitor sample counts as up when main.json answered 200 in time (no transport fault)."""
    return status == 200 and error is None


def judge_record(record: Mapping, required_cache_control: str) -> tuple[bool, bool | None]:
    """(up, Cache-Control acceptable) for one monitor record (``monitor.probe_once``); the header verdict
    is the II.1.e rule's (``rules.caching.judge_headers``); None when no response came."""
    from ..probes.http import HttpObservation
    from .caching import judge_headers
    up = is_up(record.get("status"), record.get("error"))
    if record.get("status") is None:
        return up, None
    obs = HttpObservation("monitor", str(record.get("url") or ""), "GET", record.get("status"),
                          headers=tuple((str(k), str(v)) for k, v in record.get("headers") or ()),
                          observed_at=float(record.get("observed_at") or record["t"]))
    return up, judge_headers(obs, required_cache_control).verdict.value != "FAIL"


@dataclass(frozen=True)
class Sample:
    """One monitor probe. Attributes: t (epoch seconds), ok (answered 200 in time), status, elapsed_s, error."""

    t: float
    ok: bool
    status: int | None = None
    elapsed_s: float | None = None
    error: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping) -> "Sample":
        """From a monitor record: up or down is judged here (``is_up``); a log written before the monitor
        stored observations only carries its ``ok``."""
        ok = bool(d["ok"]) if "ok" in d and "status" not in d else is_up(d.get("status"), d.get("error"))
        return cls(float(d["t"]), ok, d.get("status"), d.get("elapsed_s"), d.get("error"))


@dataclass(frozen=True)
class AvailabilityObservation:
    """Samples summarised. Each sample stands for the time until the next one (capped at 2 × the interval).

    Attributes: samples, failed, covered_s (time represented), down_s (time represented by failed
    samples), first_t, last_t, interval_s (median spacing), longest_outage_s.
    """

    samples: int
    failed: int
    covered_s: float
    down_s: float
    first_t: float | None
    last_t: float | None
    interval_s: float
    longest_outage_s: float

    @property
    def ratio(self) -> float | None:
        return None if self.covered_s <= 0 else 1 - self.down_s / self.covered_s


def summarize(samples: Iterable[Sample], interval_s: float | None = None) -> AvailabilityObservation:
    ss = sorted(samples, key=lambda s: s.t)
    if not ss:
        return AvailabilityObservation(0, 0, 0.0, 0.0, None, None, interval_s or 0.0, 0.0)
    gaps = sorted(b.t - a.t for a, b in zip(ss, ss[1:]))
    step = interval_s or (gaps[len(gaps) // 2] if gaps else 60.0)
    covered = down = outage = longest = 0.0
    for i, s in enumerate(ss):
        span = min((ss[i + 1].t - s.t) if i + 1 < len(ss) else step, 2 * step)
        covered += span
        if s.ok:
            outage = 0.0
        else:
            down += span
            outage += span
            longest = max(longest, outage)
    return AvailabilityObservation(len(ss), sum(not s.ok for s in ss), covered, down, ss[0].t, ss[-1].t, step,
                                   longest)


def evaluate_monitor(obs: AvailabilityObservation, threshold: float, period_days: float = 30) -> CheckResult:
    period_s = period_days * DAY_S
    budget_s = (1 - threshold) * period_s
    ev = {"samples": obs.samples, "failed": obs.failed, "covered_h": round(obs.covered_s / 3600, 3),
          "down_s": round(obs.down_s, 1), "longest_outage_s": round(obs.longest_outage_s, 1),
          "ratio": None if obs.ratio is None else round(obs.ratio, 6), "threshold": threshold,
          "monthly_downtime_budget_s": round(budget_s, 1), "interval_s": obs.interval_s}
    if obs.samples == 0:
        return result("II.2.e", "availability_monitor", Verdict.ERROR, "La bitácora del monitor no tiene muestras.",
                      "The monitor log holds no samples.", **ev)
    pct = f"{obs.ratio * 100:.3f} %"
    if obs.down_s > budget_s:
        return result("II.2.e", "availability_monitor", Verdict.FAIL,
                      f"Caída medida de {obs.down_s / 60:.1f} min: excede el margen mensual de {budget_s / 60:.1f} min "
                      f"para {threshold * 100:.1f} % (disponibilidad medida {pct}).",
                      f"Measured downtime of {obs.down_s / 60:.1f} min exceeds the monthly budget of "
                      f"{budget_s / 60:.1f} min for {threshold * 100:.1f} % (measured availability {pct}).", **ev)
    if obs.covered_s >= period_s and obs.ratio is not None and obs.ratio >= threshold:
        return result("II.2.e", "availability_monitor", Verdict.PASS,
                      f"Disponibilidad medida {pct} en {obs.covered_s / 86400:.1f} días (umbral {threshold * 100:.1f} %).",
                      f"Measured availability {pct} over {obs.covered_s / 86400:.1f} days (threshold "
                      f"{threshold * 100:.1f} %).", **ev)
    return result("II.2.e", "availability_monitor", Verdict.MANUAL,
                  f"Disponibilidad medida {pct} en {obs.covered_s / 3600:.1f} h: menos de un mes de muestras; "
                  f"se usó {obs.down_s / budget_s * 100 if budget_s else 0:.1f} % del margen mensual. Revisar el SLA.",
                  f"Measured availability {pct} over {obs.covered_s / 3600:.1f} h: less than a month of samples; "
                  f"{obs.down_s / budget_s * 100 if budget_s else 0:.1f} % of the monthly budget used. Review the SLA.",
                  **ev)


def evaluate_declared(sla: float | None, evidence: str | None, threshold: float) -> CheckResult:
    """A declared SLA below the threshold is a FAIL on the difusor's own word; otherwise MANUAL review."""
    ev = {"declared_sla": sla, "evidence": evidence, "threshold": threshold}
    if sla is None:
        return result("II.2.e", "availability_declared", Verdict.MANUAL,
                      "Sin monitoreo ni SLA declarado: pedir el SLA del proveedor o un reporte de monitoreo mensual.",
                      "No monitoring and no declared SLA: ask for the provider's SLA or a monthly monitoring report.",
                      **ev)
    if sla < threshold:
        return result("II.2.e", "availability_declared", Verdict.FAIL,
                      f"El SLA declarado ({sla * 100:.2f} %) es menor que el {threshold * 100:.1f} % requerido.",
                      f"The declared SLA ({sla * 100:.2f} %) is below the required {threshold * 100:.1f} %.", **ev)
    return result("II.2.e", "availability_declared", Verdict.MANUAL,
                  f"SLA declarado de {sla * 100:.2f} %: revisar el contrato o reporte que lo acredita.",
                  f"Declared SLA of {sla * 100:.2f} %: review the contract or report that proves it.", **ev)

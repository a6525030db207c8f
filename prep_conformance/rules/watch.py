"""Verdicts from the election-night watch (I.2, time-weighted I.9 and II.2.e; I.6 and II.1.e incidents). Pure.

The figures are time, not counts: each sample stands for the time until the next one (see
``watch.availability``); time no sample of any vantage point stands for is *unknown* and is never
counted as up. The monthly 99.9 % of II.2.e is prorated to the publication window: the downtime
allowed is (1 − threshold) × window length. A window not watched to its end, or with more unknown
time than that allowance, cannot PASS: it is MANUAL with the figures so far; measured downtime beyond
the allowance is FAIL whatever the coverage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..verdict import CheckResult, Verdict, result
from ..watch.incidents import fmt_duration


@dataclass(frozen=True)
class WatchFigures:
    """One difusor's night, merged over the vantage points.

    Attributes: window_start/window_end/until (epoch; accounted up to ``until``), samples, vantage_points,
    up_s/down_s/unknown_s (availability: main.json 200 in time), fresh_s/stale_s (while its corte could be
    read: within the freshness tolerance or beyond it), threshold, tolerance_s, incidents (dicts: kind,
    started_at, ended_at, duration_s, summary_es, summary_en, vantage).
    """

    window_start: float
    window_end: float
    until: float
    samples: int
    vantage_points: int
    up_s: float
    down_s: float
    unknown_s: float
    fresh_s: float
    stale_s: float
    threshold: float
    tolerance_s: float
    incidents: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    @property
    def window_s(self) -> float:
        return max(0.0, self.window_end - self.window_start)

    @property
    def budget_s(self) -> float:
        return (1 - self.threshold) * self.window_s

    @property
    def ratio(self) -> float | None:
        m = self.up_s + self.down_s
        return None if m <= 0 else self.up_s / m

    @property
    def complete(self) -> bool:
        return self.until >= self.window_end

    def of(self, *kinds: str) -> list[Mapping[str, Any]]:
        return [i for i in self.incidents if i["kind"] in kinds]

    def evidence(self) -> dict[str, Any]:
        return {"window_s": round(self.window_s, 1), "watched_until_complete": self.complete,
                "samples": self.samples, "vantage_points": self.vantage_points,
                "up_s": round(self.up_s, 1), "down_s": round(self.down_s, 1), "unknown_s": round(self.unknown_s, 1),
                "ratio": None if self.ratio is None else round(self.ratio, 6), "threshold": self.threshold,
                "downtime_allowed_s": round(self.budget_s, 1)}


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.3f} %"


def _list(incs, lang: str) -> list[str]:
    return [i["summary_es" if lang == "es" else "summary_en"] for i in incs]


def _no_samples(req: str, check: str) -> CheckResult:
    return result(req, check, Verdict.ERROR, "La vigilancia no tiene muestras de este difusor.",
                  "The watch holds no samples of this difusor.")


def evaluate_availability(f: WatchFigures) -> CheckResult:
    """II.2.e from the night: downtime against the monthly allowance prorated to the window."""
    check = "watch_availability"
    if f.samples == 0:
        return _no_samples("II.2.e", check)
    ev = {**f.evidence(), "outages_es": _list(f.of("down", "http_error"), "es"),
          "outages_en": _list(f.of("down", "http_error"), "en")}
    down, allow, unk = fmt_duration(f.down_s), fmt_duration(f.budget_s), fmt_duration(f.unknown_s)
    down_en, allow_en, unk_en = (fmt_duration(f.down_s, "en"), fmt_duration(f.budget_s, "en"),
                                 fmt_duration(f.unknown_s, "en"))
    thr = f"{f.threshold * 100:.1f} %"
    if f.down_s > f.budget_s:
        return result("II.2.e", check, Verdict.FAIL,
                      f"Caída medida de {down} en la ventana: excede los {allow} que permite {thr} "
                      f"(disponibilidad medida {_pct(f.ratio)}).",
                      f"Measured downtime of {down_en} in the window exceeds the {allow_en} that {thr} allows "
                      f"(measured availability {_pct(f.ratio)}).", **ev)
    if f.complete and f.down_s + f.unknown_s <= f.budget_s:
        return result("II.2.e", check, Verdict.PASS,
                      f"Disponibilidad medida {_pct(f.ratio)} en toda la ventana; caída {down}, sin vigilar "
                      f"{unk} (se permiten {allow} para {thr}).",
                      f"Measured availability {_pct(f.ratio)} through the window; downtime {down_en}, unwatched "
                      f"{unk_en} ({allow_en} allowed for {thr}).", **ev)
    return result("II.2.e", check, Verdict.MANUAL,
                  f"Disponibilidad medida {_pct(f.ratio)} hasta ahora; caída {down}, sin vigilar {unk}: no alcanza "
                  f"para concluir sobre {thr} (se permiten {allow} en la ventana). Revisar el SLA.",
                  f"Measured availability {_pct(f.ratio)} so far; downtime {down_en}, unwatched {unk_en}: not "
                  f"enough to conclude on {thr} ({allow_en} allowed in the window). Review the SLA.", **ev)


def evaluate_window(f: WatchFigures) -> CheckResult:
    """I.2: the publication was there from the window's start to its end."""
    check = "watch_publication_window"
    if f.samples == 0:
        return _no_samples("I.2", check)
    outages = f.of("down", "http_error")
    ev = {**f.evidence(), "outages_es": _list(outages, "es"), "outages_en": _list(outages, "en")}
    watched = 1 - f.unknown_s / f.window_s if f.window_s else 0.0
    if f.down_s > f.budget_s:
        return result("I.2", check, Verdict.FAIL,
                      f"La publicación no estuvo disponible durante {fmt_duration(f.down_s)} dentro de la ventana "
                      f"({len(outages)} {'incidente' if len(outages) == 1 else 'incidentes'}).",
                      f"The publication was unavailable for {fmt_duration(f.down_s, 'en')} within the window "
                      f"({len(outages)} {'incident' if len(outages) == 1 else 'incidents'}).", **ev)
    if f.complete and f.unknown_s <= f.budget_s:
        return result("I.2", check, Verdict.PASS,
                      f"Publicación disponible durante toda la ventana (vigilada el {watched * 100:.1f} % del tiempo).",
                      f"Publication available through the whole window (watched {watched * 100:.1f} % of the time).",
                      **ev)
    return result("I.2", check, Verdict.MANUAL,
                  f"La vigilancia cubrió el {watched * 100:.1f} % de la ventana"
                  f"{'' if f.complete else ' (aún no termina)'}; sin caídas que excedan el margen hasta ahora.",
                  f"The watch covered {watched * 100:.1f} % of the window"
                  f"{'' if f.complete else ' (not over yet)'}; no downtime beyond the allowance so far.", **ev)


def evaluate_latest_corte(f: WatchFigures) -> CheckResult:
    """I.9 over time: the share of the watched time the difusor served a corte within the tolerance."""
    check = "watch_latest_corte"
    if f.samples == 0:
        return _no_samples("I.9", check)
    known = f.fresh_s + f.stale_s
    share = f.fresh_s / known if known > 0 else None
    stale = f.of("stale")
    ev = {"fresh_s": round(f.fresh_s, 1), "stale_s": round(f.stale_s, 1), "fresh_share": None if share is None
          else round(share, 6), "tolerance_s": f.tolerance_s, "stale_incidents_es": _list(stale, "es"),
          "stale_incidents_en": _list(stale, "en")}
    tol, tol_en = fmt_duration(f.tolerance_s), fmt_duration(f.tolerance_s, "en")
    if share is None:
        return result("I.9", check, Verdict.ERROR, "No se pudo leer el corte servido en ninguna muestra.",
                      "The corte served could not be read in any sample.", **ev)
    if stale:
        return result("I.9", check, Verdict.FAIL,
                      f"Sirvió un corte superado por más de {tol} durante {fmt_duration(f.stale_s)} "
                      f"({len(stale)} {'incidente' if len(stale) == 1 else 'incidentes'}); corte vigente el "
                      f"{share * 100:.2f} % del tiempo.",
                      f"Served a corte superseded for more than {tol_en} during {fmt_duration(f.stale_s, 'en')} "
                      f"({len(stale)} {'incident' if len(stale) == 1 else 'incidents'}); latest corte "
                      f"{share * 100:.2f} % of the time.", **ev)
    return result("I.9", check, Verdict.PASS,
                  f"Sirvió el corte más reciente (tolerancia {tol}) el {share * 100:.2f} % del tiempo vigilado.",
                  f"Served the latest corte (tolerance {tol_en}) {share * 100:.2f} % of the watched time.", **ev)


def evaluate_integrity(f: WatchFigures) -> CheckResult | None:
    """I.6 during the night: files served altered or missing against the institute's manifest."""
    incs = f.of("altered", "missing")
    if f.samples == 0 or not incs:
        return None if f.samples else _no_samples("I.6", "watch_integrity")
    return result("I.6", "watch_integrity", Verdict.FAIL,
                  f"Durante la noche sirvió archivos alterados o faltantes ({len(incs)} "
                  f"{'incidente' if len(incs) == 1 else 'incidentes'}).",
                  f"During the night it served altered or missing files ({len(incs)} "
                  f"{'incident' if len(incs) == 1 else 'incidents'}).",
                  incidents_es=_list(incs, "es"), incidents_en=_list(incs, "en"))


def evaluate_cache_control(f: WatchFigures) -> CheckResult | None:
    """II.1.e during the night: main.json without the exact Cache-Control at some point."""
    incs = f.of("cache_control")
    if f.samples == 0 or not incs:
        return None
    return result("II.1.e", "watch_cache_control", Verdict.FAIL,
                  f"Durante la noche main.json se sirvió sin el Cache-Control exigido ({len(incs)} "
                  f"{'incidente' if len(incs) == 1 else 'incidentes'}).",
                  f"During the night main.json was served without the required Cache-Control ({len(incs)} "
                  f"{'incident' if len(incs) == 1 else 'incidents'}).",
                  incidents_es=_list(incs, "es"), incidents_en=_list(incs, "en"))


def evaluate_all(f: WatchFigures) -> list[CheckResult]:
    out = [evaluate_window(f), evaluate_latest_corte(f), evaluate_availability(f)]
    out += [r for r in (evaluate_integrity(f), evaluate_cache_control(f)) if r is not None]
    return out

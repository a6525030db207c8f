"""Availability accounting over the publication window. Pure: samples and watcher runs in, figures out.

Each sample stands for the time until the next sample of its difusor, but never more than ``max_gap_s``
(a few poll intervals) and never past the end of the watcher run that took it. Window time no sample
stands for is *unknown* (the watcher was not running, or could not poll): it is reported apart, never
counted as up. The convocatoria's monthly budget is prorated to the window: at 99.9 % a 48 h window
allows (1 − 0.999) × 48 h = 172.8 s of downtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Accounting:
    """Attributes: window_start/window_end (epoch), until (accounted up to), elapsed_s (window time so far),
    monitored_s (time samples stand for), up_s, down_s, unknown_s (elapsed − monitored), samples, failed,
    threshold, budget_s (allowed downtime over the whole window), ratio (up / monitored, None without data)."""

    window_start: float
    window_end: float
    until: float
    elapsed_s: float
    monitored_s: float
    up_s: float
    down_s: float
    unknown_s: float
    samples: int
    failed: int
    threshold: float
    budget_s: float

    @property
    def ratio(self) -> float | None:
        return None if self.monitored_s <= 0 else self.up_s / self.monitored_s

    @property
    def coverage(self) -> float | None:
        return None if self.elapsed_s <= 0 else self.monitored_s / self.elapsed_s

    def to_dict(self) -> dict:
        return {"window_start": self.window_start, "window_end": self.window_end, "until": self.until,
                "elapsed_s": round(self.elapsed_s, 1), "monitored_s": round(self.monitored_s, 1),
                "up_s": round(self.up_s, 1), "down_s": round(self.down_s, 1), "unknown_s": round(self.unknown_s, 1),
                "samples": self.samples, "failed": self.failed, "threshold": self.threshold,
                "budget_s": round(self.budget_s, 1),
                "ratio": None if self.ratio is None else round(self.ratio, 6),
                "coverage": None if self.coverage is None else round(self.coverage, 6)}


def _run_end(t: float, runs: Sequence[tuple[float, float]]) -> float | None:
    for a, b in runs:
        if a <= t <= b:
            return b
    return None


def spans(samples: Iterable[tuple[float, bool | None]], runs: Sequence[tuple[float, float]], max_gap_s: float,
          lo: float, hi: float) -> list[tuple[float, float, bool]]:
    """(start, end, value) for the time each sample stands for, clipped to [lo, hi]; gaps are left out, and
    so is the time of a sample whose value is None (it could not tell)."""
    ss = sorted(samples, key=lambda x: x[0])
    out = []
    for i, (t, up) in enumerate(ss):
        if up is None:
            continue
        end = t + max_gap_s
        if i + 1 < len(ss):
            end = min(end, ss[i + 1][0])
        r = _run_end(t, runs)
        if r is not None:
            end = min(end, r)
        a, b = max(t, lo), min(end, hi)
        if b > a:
            out.append((a, b, up))
    return out


def account(samples: Iterable[tuple[float, bool]], runs: Sequence[tuple[float, float]], window: tuple[float, float],
            until: float, max_gap_s: float, threshold: float) -> Accounting:
    """Up, down and unknown time of one difusor over the window, up to ``until``."""
    ws, we = window
    hi = min(we, until)
    ss = list(samples)
    sp = spans(ss, runs, max_gap_s, ws, hi)
    up = sum(b - a for a, b, u in sp if u)
    down = sum(b - a for a, b, u in sp if not u)
    elapsed = max(0.0, hi - ws)
    monitored = up + down
    in_window = [(t, u) for t, u in ss if ws <= t <= hi]
    return Accounting(ws, we, hi, elapsed, monitored, up, down, max(0.0, elapsed - monitored), len(in_window),
                      sum(1 for _, u in in_window if not u), threshold, (1 - threshold) * max(0.0, we - ws))


def segments(samples: Iterable[tuple[float, bool]], runs: Sequence[tuple[float, float]], max_gap_s: float,
             lo: float, hi: float) -> list[tuple[float, float, str]]:
    """The timeline: consecutive (start, end, ``up|down|unknown``) covering [lo, hi] exactly."""
    out: list[tuple[float, float, str]] = []

    def push(a: float, b: float, state: str) -> None:
        if b <= a:
            return
        if out and out[-1][2] == state and abs(out[-1][1] - a) < 1e-6:
            out[-1] = (out[-1][0], b, state)
        else:
            out.append((a, b, state))

    cur = lo
    for a, b, up in spans(samples, runs, max_gap_s, lo, hi):
        push(cur, a, "unknown")
        push(a, b, "up" if up else "down")
        cur = b
    push(cur, hi, "unknown")
    return out


def combine(per_source: Sequence[Sequence[tuple[float, float, bool]]], lo: float, hi: float
            ) -> list[tuple[float, float, str]]:
    """Several vantage points' spans as one timeline over [lo, hi]: ``good`` where any saw it good, else
    ``bad`` where any saw it bad, else ``unknown`` (one watcher's own trouble is not the difusor's)."""
    cuts = sorted({lo, hi} | {x for sp in per_source for a, b, _ in sp for x in (a, b) if lo <= x <= hi})
    out: list[tuple[float, float, str]] = []
    idx = [0] * len(per_source)
    for a, b in zip(cuts, cuts[1:]):
        mid = (a + b) / 2
        state = "unknown"
        for k, sp in enumerate(per_source):
            while idx[k] < len(sp) and sp[idx[k]][1] <= mid:
                idx[k] += 1
            if idx[k] < len(sp) and sp[idx[k]][0] <= mid < sp[idx[k]][1]:
                if sp[idx[k]][2]:
                    state = "good"
                    break
                state = "bad"
        if out and out[-1][2] == state:
            out[-1] = (out[-1][0], b, state)
        else:
            out.append((a, b, state))
    return out


def totals(timeline: Sequence[tuple[float, float, str]]) -> dict[str, float]:
    t = {"good": 0.0, "bad": 0.0, "unknown": 0.0}
    for a, b, st in timeline:
        t[st] += b - a
    return t

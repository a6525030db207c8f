"""The watch loop: one process, a bounded thread pool, every difusor polled at a jittered interval.

The main thread schedules polls, writes every sample and incident to the store (the only writer),
feeds the incident trackers and the live state the board and the metrics read. It stops by itself at
``until`` (the window's end, ``--until`` or ``--duration``) or on SIGINT/SIGTERM, after recording the
polls still in flight (each bounded by its deadline).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from . import availability
from .incidents import KINDS, Event, Tracker, summaries
from .poller import Sample, Target, poll
from .reference import Reference
from .store import Store

SEVERITY = ("down", "http_error", "altered", "missing", "stale", "tls", "cache_control")


@dataclass(frozen=True)
class Options:
    """How the watch runs. Attributes: interval_s, jitter (fraction of the interval), deadline_s (per
    poll), concurrency (polls in flight), n_open/n_close (hysteresis), max_gap_s (longest time one sample
    stands for), tolerance_s (stale beyond this lag), threshold (availability), window (epoch start, end),
    tz (for times shown), cache_control (the exact value required), until (epoch: stop then)."""

    interval_s: float
    until: float
    window: tuple[float, float]
    tz: dt.tzinfo
    cache_control: str
    tolerance_s: float
    threshold: float
    jitter: float = 0.1
    deadline_s: float = 5.0
    concurrency: int = 32
    n_open: int = 2
    n_close: int = 2
    max_gap_s: float = 0.0

    @property
    def gap_s(self) -> float:
        return self.max_gap_s or 3 * self.interval_s


class LiveState:
    """What the board and the metrics show, updated by the watch loop; read through ``snapshot``."""

    def __init__(self, opts: Options, targets: list[Target], reference: Reference):
        self.opts = opts
        self.lock = threading.Lock()
        self.reference = reference
        self.started = time.time()
        self.rows: dict[str, dict[str, Any]] = {
            t.id: {"id": t.id, "name": t.name, "target": t.url, "state": "pending", "since": None,
                   "secuencia": None, "corte_iso": None, "lag_s": None, "latency_s": None, "status": None,
                   "up": None, "error": None, "last_poll": None, "polls": 0, "failed": 0, "up_s": 0.0,
                   "down_s": 0.0, "prev": None, "open": {}, "incidents_total": {k: 0 for k in KINDS},
                   "observed": None, "observed_at": None}
            for t in targets}
        self.ref_secuencia: int | None = None
        self.ref_published: float | None = None
        self.polls_total = 0

    def seed(self, difusor: str, acc: availability.Accounting, last: tuple[float, bool] | None,
             counts: dict[str, int], open_incidents) -> None:
        with self.lock:
            r = self.rows[difusor]
            r["up_s"], r["down_s"], r["polls"], r["failed"] = acc.up_s, acc.down_s, acc.samples, acc.failed
            r["prev"] = last
            r["incidents_total"].update(counts)
            for inc in open_incidents:
                r["open"][inc.kind] = {"kind": inc.kind, "since": inc.started_at, "summary": summaries(inc, self.opts.tz)}
            self._restate(r, time.time())

    def on_sample(self, s: Sample) -> None:
        with self.lock:
            r = self.rows[s.difusor]
            if r["prev"] is not None:
                span = min(s.t - r["prev"][0], self.opts.gap_s)
                if span > 0:
                    r["up_s" if r["prev"][1] else "down_s"] += span
            r["prev"] = (s.t, s.up)
            r.update(secuencia=s.secuencia if s.reachable else r["secuencia"],
                     corte_iso=s.corte_iso if s.reachable else r["corte_iso"], lag_s=s.lag_s,
                     latency_s=s.latency_s, status=s.status, up=s.up, error=s.error, last_poll=s.t)
            r["polls"] += 1
            r["failed"] += 0 if s.up else 1
            self.polls_total += 1
            bad = [k for k in SEVERITY if s.flags.get(k)]
            obs = bad[0] if bad else "ok"
            if obs != r["observed"]:
                r["observed"], r["observed_at"] = obs, s.t
            self._restate(r, s.t)

    def on_event(self, e: Event) -> None:
        with self.lock:
            r = self.rows[e.incident.difusor]
            k = e.incident.kind
            if e.action == "open":
                r["incidents_total"][k] += 1
                r["open"][k] = {"kind": k, "since": e.incident.started_at, "summary": summaries(e.incident, self.opts.tz)}
            elif e.action == "close":
                r["open"].pop(k, None)
            self._restate(r, e.incident.ended_at or e.incident.started_at)

    def _restate(self, r: dict[str, Any], t: float) -> None:
        kinds = [k for k in SEVERITY if k in r["open"]]
        state = kinds[0] if kinds else ("pending" if r["last_poll"] is None else "ok")
        if state != r["state"]:
            r["state"], r["since"] = state, t

    def on_reference(self, secuencia: int | None, published: float | None) -> None:
        with self.lock:
            self.ref_secuencia, self.ref_published = secuencia, published

    def snapshot(self) -> dict[str, Any]:
        now = time.time()
        ws, we = self.opts.window
        with self.lock:
            rows = []
            for r in self.rows.values():
                monitored = r["up_s"] + r["down_s"]
                elapsed = max(0.0, min(now, we) - ws)
                rows.append({**{k: v for k, v in r.items() if k not in ("prev", "open")},
                             "open": sorted(r["open"].values(), key=lambda o: SEVERITY.index(o["kind"])),
                             "incidents_total": dict(r["incidents_total"]),
                             "availability": (r["up_s"] / monitored) if monitored > 0 else None,
                             "unknown_s": max(0.0, elapsed - monitored)})
            return {"now": now, "started": self.started, "window": [ws, we], "until": self.opts.until,
                    "interval_s": self.opts.interval_s, "threshold": self.opts.threshold,
                    "tolerance_s": self.opts.tolerance_s, "ref_secuencia": self.ref_secuencia,
                    "ref_published": self.ref_published, "polls_total": self.polls_total,
                    "rows": sorted(rows, key=lambda r: (SEVERITY.index(r["state"]) if r["state"] in SEVERITY
                                                        else len(SEVERITY), r["id"]))}


class Watcher:
    def __init__(self, targets: list[Target], reference: Reference, store: Store, opts: Options,
                 live: LiveState | None = None, log: Callable[[str], None] = print):
        self.targets = {t.id: t for t in targets}
        self.reference = reference
        self.store = store
        self.opts = opts
        self.live = live or LiveState(opts, targets, reference)
        self.log = log
        self.stop = threading.Event()
        self.trackers: dict[str, Tracker] = {}

    # ------------------------------------------------------------------ resume
    def _resume(self) -> None:
        """Carry the db's open incidents and availability so far into this run (a restart resumes)."""
        open_by = {}
        for inc in self.store.open_incidents():
            open_by.setdefault(inc.difusor, []).append(inc)
        db = self.store.db
        runs = [(a, b) for a, b in db.execute("SELECT t_start, t_end FROM runs WHERE id != ?", (self.store.run_id,))]
        for d in self.targets:
            self.trackers[d] = Tracker(d, self.opts.n_open, self.opts.n_close, open_by.get(d, ()))
            rows = db.execute("SELECT t, up FROM samples WHERE difusor = ? ORDER BY t", (d,)).fetchall()
            samples = [(t, bool(u)) for t, u in rows]
            acc = availability.account(samples, runs, self.opts.window, time.time(), self.opts.gap_s,
                                       self.opts.threshold)
            counts = dict(db.execute("SELECT kind, COUNT(*) FROM incidents WHERE difusor = ? GROUP BY kind", (d,)))
            # the last sample of an earlier run stands for no time in this one: the gap is unknown
            self.live.seed(d, acc, None, counts, open_by.get(d, ()))
        pub = self.store.published_at()
        self.reference.published_at.update(pub)

    # ------------------------------------------------------------------ loop
    def run(self) -> str:
        opts = self.opts
        start = time.time()
        self.store.start_run(start, opts.interval_s)
        self._resume()
        rng = random.Random()
        due = {d: start + rng.uniform(0, opts.interval_s) for d in self.targets}
        inflight: dict[str, Future] = {}
        ref_future: Future | None = None
        ref_due = start
        last_beat = 0.0
        reason = "until"
        self._refresh_reference(start)
        with ThreadPoolExecutor(max_workers=opts.concurrency, thread_name_prefix="watch") as pool:
            while True:
                now = time.time()
                if self.stop.is_set():
                    reason = "signal"
                    break
                if now >= opts.until:
                    break
                if ref_future is None and now >= ref_due:
                    ref_future = pool.submit(self.reference.source.refresh)
                    ref_due = now + min(opts.interval_s / 4, 2.0)
                if ref_future is not None and ref_future.done():
                    self._refresh_reference(time.time(), ref_future)
                    ref_future = None
                for d, t_due in due.items():
                    if t_due <= now and d not in inflight:
                        inflight[d] = pool.submit(poll, self.targets[d], self.reference,
                                                  cache_control=opts.cache_control, tolerance_s=opts.tolerance_s,
                                                  deadline_s=opts.deadline_s)
                        nxt = t_due + opts.interval_s * (1 + rng.uniform(-opts.jitter, opts.jitter))
                        due[d] = nxt if nxt > now else now + opts.interval_s * rng.uniform(0.5, 1.0)
                done = [d for d, f in inflight.items() if f.done()]
                if done or now - last_beat >= 1.0:
                    self.store.begin()
                    for d in done:
                        self._record(inflight.pop(d).result())
                    self.store.heartbeat(now)
                    self.store.commit()
                    last_beat = now
                wake = min([min(due.values(), default=now + 1), now + 0.2, opts.until])
                self.stop.wait(max(0.01, min(wake - time.time(), 0.2)))
            # polls still in flight are bounded by their deadline: record them
            self.store.begin()
            for d, f in inflight.items():
                try:
                    self._record(f.result(timeout=opts.deadline_s * 2 + 5))
                except Exception:   # noqa: BLE001 - a poll that cannot finish is simply not recorded
                    pass
            end = time.time()
            self.store.end_run(min(end, opts.until) if reason == "until" else end, reason)
            self.store.commit()
        return reason

    def _refresh_reference(self, now: float, fut: Future | None = None) -> None:
        ref = self.reference
        try:
            found = fut.result() if fut is not None else ref.source.refresh()
        except Exception as exc:   # noqa: BLE001 - a reference read failing must not stop the night
            self.log(f"referencia / reference: {exc}")
            return
        for c in found:
            if c.secuencia not in ref.cortes:
                ref.cortes[c.secuencia] = c
            if c.secuencia not in ref.published_at:
                ref.published_at[c.secuencia] = now
                self.store.add_reference(c.secuencia, c.corte_iso, now, c.source)
                self.log(f"corte {c.secuencia} ({c.corte_iso}) publicado / published")
        newest = ref.newest
        self.live.on_reference(newest.secuencia if newest else None,
                               ref.published_at.get(newest.secuencia) if newest else None)

    def _record(self, s: Sample) -> None:
        self.store.add_sample(s)
        self.live.on_sample(s)
        for e in self.trackers[s.difusor].feed(s):
            inc = e.incident
            if e.action == "open":
                iid = self.store.open_incident(inc, summaries(inc, self.opts.tz))
                self.trackers[s.difusor].set_id(inc.kind, iid)
                self.log(summaries(inc, self.opts.tz)[0] + f" [{inc.difusor}]")
            elif e.action == "update":
                self.store.update_incident(inc)
            else:
                self.store.close_incident(inc, summaries(inc, self.opts.tz))
                self.log(summaries(inc, self.opts.tz)[0] + f" [{inc.difusor}]")
            self.live.on_event(e)

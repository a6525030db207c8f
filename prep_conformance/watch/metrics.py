"""Prometheus exposition of the live state (``--metrics-port``), with ``prometheus_client``.

A custom collector reads the watch's live state at each scrape, so a scrape sees exactly what the board
shows. An institute that already runs Prometheus, Grafana and Alertmanager alerts on these, e.g.
``prep_difusor_up == 0 for 2m`` or ``prep_difusor_corte_lag_seconds > 1200``; several watchers
(vantage points) are several scrape targets (Prometheus' ``instance`` label tells them apart).
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .incidents import KINDS


class WatchCollector:
    """Per-difusor gauges and counters from ``LiveState.snapshot()``."""

    def __init__(self, live):
        self.live = live

    def describe(self):
        return []

    def collect(self):
        snap = self.live.snapshot()
        L = ["difusor"]
        up = GaugeMetricFamily("prep_difusor_up", "1 if main.json answered 200 in time at the last poll", labels=L)
        lag = GaugeMetricFamily("prep_difusor_corte_lag_seconds",
                                "How long the corte served has been superseded by a newer one (0: newest)", labels=L)
        seq = GaugeMetricFamily("prep_difusor_secuencia", "The secuencia of the corte served", labels=L)
        lat = GaugeMetricFamily("prep_difusor_poll_latency_seconds", "Time to the full main.json at the last poll",
                                labels=L)
        last = GaugeMetricFamily("prep_difusor_last_poll_timestamp_seconds", "When the last poll started", labels=L)
        avail = GaugeMetricFamily("prep_difusor_availability_ratio", "Up time / monitored time so far in the window",
                                  labels=L)
        open_ = GaugeMetricFamily("prep_difusor_incidents_open", "Open incidents (0 or 1) by kind",
                                  labels=["difusor", "kind"])
        total = CounterMetricFamily("prep_difusor_incidents", "Incidents opened by kind", labels=["difusor", "kind"])
        polls = CounterMetricFamily("prep_difusor_polls", "Polls recorded", labels=L)
        failed = CounterMetricFamily("prep_difusor_polls_failed", "Polls without a 200 answer in time", labels=L)
        up_s = CounterMetricFamily("prep_difusor_up_seconds", "Monitored time the publication was up", labels=L)
        down_s = CounterMetricFamily("prep_difusor_down_seconds", "Monitored time the publication was down", labels=L)
        for r in snap["rows"]:
            d = [r["id"]]
            if r["up"] is not None:
                up.add_metric(d, 1.0 if r["up"] else 0.0)
            if r["lag_s"] is not None:
                lag.add_metric(d, float(r["lag_s"]))
            if r["secuencia"] is not None:
                seq.add_metric(d, float(r["secuencia"]))
            if r["latency_s"] is not None:
                lat.add_metric(d, float(r["latency_s"]))
            if r["last_poll"] is not None:
                last.add_metric(d, float(r["last_poll"]))
            if r["availability"] is not None:
                avail.add_metric(d, float(r["availability"]))
            open_kinds = {o["kind"] for o in r["open"]}
            for k in KINDS:
                open_.add_metric([r["id"], k], 1.0 if k in open_kinds else 0.0)
                total.add_metric([r["id"], k], float(r["incidents_total"].get(k, 0)))
            polls.add_metric(d, float(r["polls"]))
            failed.add_metric(d, float(r["failed"]))
            up_s.add_metric(d, float(r["up_s"]))
            down_s.add_metric(d, float(r["down_s"]))
        yield from (up, lag, seq, lat, last, avail, open_, total, polls, failed, up_s, down_s)
        ref = GaugeMetricFamily("prep_reference_secuencia", "Newest corte of the institute's publication")
        if snap["ref_secuencia"] is not None:
            ref.add_metric([], float(snap["ref_secuencia"]))
        yield ref
        watch_polls = CounterMetricFamily("prep_watch_polls", "Polls recorded by this watcher")
        watch_polls.add_metric([], float(snap["polls_total"]))
        yield watch_polls
        yield GaugeMetricFamily("prep_watch_difusores", "Difusores watched", value=len(snap["rows"]))


@dataclass
class MetricsServer:
    httpd: object
    thread: object

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def registry_for(live) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(WatchCollector(live))
    ProcessCollector(registry=reg)          # the watcher's own CPU and memory
    return reg


def serve_metrics(live, addr: str, port: int) -> MetricsServer:
    httpd, thread = start_http_server(port, addr=addr, registry=registry_for(live))
    return MetricsServer(httpd, thread)

"""hwd's metrics in the Prometheus text format: what hwd-ui serves on ``GET /metrics`` and
``hwctl metrics --textfile`` writes for node_exporter's textfile collector.

Made from one ``daemon.metrics`` answer (hwd.metrics) plus the caller's own gauges, by the
official client library's exposition code (prometheus_client: label escaping, number formats,
the ``_total``/``_bucket`` suffixes), with a registry of its own per call — no process-wide
state, no default collectors. The names are a contract, listed in docs/deploy.md.
"""

from __future__ import annotations

import math
from typing import Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DEVICE_STATES = ("online", "offline", "fault", "disabled")
PAPER = ("ok", "low", "out", "unknown")


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def _histogram(name: str, doc: str, label: str, snapshot: dict | None) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=[label])
    if snapshot:
        bounds = [_le(b) for b in snapshot["bounds"]] + ["+Inf"]
        for value, series in sorted(snapshot["series"].items()):
            family.add_metric([value], list(zip(bounds, series["buckets"])), series["sum"])
    return family


def daemon_families(data: dict | None) -> Iterator[Metric]:
    """The families of one ``daemon.metrics`` answer (None: hwd did not answer, only ``hwd_up 0``)."""
    up = GaugeMetricFamily("hwd_up", "1 when hwd answered this scrape, else 0")
    up.add_metric([], 1 if data is not None else 0)
    yield up
    if data is None:
        return
    info = GaugeMetricFamily("hwd_info", "hwd's version (always 1)", labels=["version"])
    info.add_metric([str(data["version"])], 1)
    yield info
    start = GaugeMetricFamily("hwd_start_time_seconds", "when hwd started (Unix time)")
    start.add_metric([], data["start_time"])
    yield start

    up_devices = GaugeMetricFamily("hwd_device_up", "1 when the device is online", labels=["device", "kind"])
    states = GaugeMetricFamily("hwd_device_state", "the device's state (1 for the current one)",
                               labels=["device", "kind", "state"])
    paper = GaugeMetricFamily("hwd_printer_paper", "the printer's paper (1 for the current one)",
                              labels=["device", "paper"])
    for d in data["devices"]:
        dev, kind = str(d["id"]), str(d["kind"])
        up_devices.add_metric([dev, kind], 1 if d["state"] == "online" else 0)
        for state in DEVICE_STATES:
            states.add_metric([dev, kind, state], 1 if d["state"] == state else 0)
        if kind == "printer":
            now = d.get("paper") if d.get("paper") in PAPER else "unknown"
            for level in PAPER:
                paper.add_metric([dev, level], 1 if now == level else 0)
    yield from (up_devices, states, paper)
    yield _histogram("hwd_rpc_duration_seconds", "run time of hwd's RPC methods", "method", data.get("rpc"))

    hall = data.get("hall")
    if hall is None:
        return
    queue = GaugeMetricFamily("hwd_hall_queue_length", "tickets waiting, per service", labels=["service"])
    issued = CounterMetricFamily("hwd_hall_tickets_issued", "tickets issued in the hall's day, per service",
                                 labels=["service"])
    calls = CounterMetricFamily("hwd_hall_calls", "calls (first calls and recalls) in the hall's day, per service",
                                labels=["service"])
    for service, n in sorted(hall["services"].items()):
        queue.add_metric([service], n["queue"])
        issued.add_metric([service], n["issued"])
        calls.add_metric([service], n["calls"])
    yield from (queue, issued, calls)
    yield _histogram("hwd_hall_wait_seconds", "from taking a ticket to its first call, in the hall's day", "service",
                     hall["waits"])
    ratings = CounterMetricFamily("hwd_hall_ratings", "好差评 ratings in the hall's day, by score (5 非常满意 … "
                                  "1 非常不满意)", labels=["score"])
    for score, n in sorted(hall["ratings"].items()):
        ratings.add_metric([score], n)
    yield ratings
    unrated = CounterMetricFamily("hwd_hall_unrated", "services in the hall's day that ended without a rating")
    unrated.add_metric([], hall["unrated"])
    yield unrated
    pending = GaugeMetricFamily("hwd_outbox_pending_records", "outbox records not yet delivered, per sink",
                                labels=["sink"])
    age = GaugeMetricFamily("hwd_outbox_oldest_pending_age_seconds", "age of the oldest undelivered record "
                            "(0 when none), per sink", labels=["sink"])
    for sink in hall["outbox"]:
        pending.add_metric([sink["sink"]], sink["pending"])
        age.add_metric([sink["sink"]], sink["oldest_pending_age_s"])
    yield from (pending, age)


class _Families:
    def __init__(self, families: Iterable[Metric]):
        self.families = list(families)

    def collect(self) -> list[Metric]:
        return self.families


def render(families: Iterable[Metric]) -> bytes:
    """The text exposition (format 0.0.4) of ``families``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return generate_latest(registry)

"""Latency histograms kept in the daemon for ``/metrics`` (Prometheus histograms: fixed bucket
bounds, a count per bucket, a sum). hwd's RPC server observes each method's run time into one;
the exposition itself is hwd.prometheus's job.
"""

from __future__ import annotations

import bisect
from typing import Sequence

# seconds: an RPC round trip on ipc is ~0.1 ms, a call that prints or waits for a device seconds
RPC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Histograms:
    """One histogram per label value (e.g. per RPC method), all with the same bucket bounds."""

    def __init__(self, bounds: Sequence[float] = RPC_BUCKETS):
        self.bounds = tuple(bounds)
        self._counts: dict[str, list[int]] = {}  # per bucket, not cumulative; the last is +Inf
        self._sums: dict[str, float] = {}

    def observe(self, label: str, value: float) -> None:
        counts = self._counts.get(label)
        if counts is None:
            counts = self._counts[label] = [0] * (len(self.bounds) + 1)
            self._sums[label] = 0.0
        counts[bisect.bisect_left(self.bounds, value)] += 1
        self._sums[label] += value

    def snapshot(self) -> dict:
        """``{"bounds": [...], "series": {label: {"buckets": cumulative counts (last = +Inf),
        "sum": s, "count": n}}}``: JSON for the ``daemon.metrics`` RPC."""
        series = {}
        for label, counts in list(self._counts.items()):
            cumulative, total = [], 0
            for n in counts:
                total += n
                cumulative.append(total)
            series[label] = {"buckets": cumulative, "sum": self._sums[label], "count": total}
        return {"bounds": list(self.bounds), "series": series}

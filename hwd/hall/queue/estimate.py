"""Honest wait estimates (预计等候): how long until a waiting ticket is called, from what the hall
has really done lately, or no number at all.

The estimate for a ticket with ``ahead`` tickets before it in its service is the time until
``ahead + 1`` places free at the windows that serve it. Those windows' capacity for the service is
the open (not paused, not closed) windows serving it, each counted as a share when it also serves
other services that have people waiting. A place frees every ``cycle / capacity`` seconds, where
``cycle`` is the mean window time per ticket (call to finish, a no-show's too) over the service's
last ``RECENT`` tickets of the past week; an idle window frees a place at once, and a busy one is
on average half-way through. With fewer than ``MIN_SAMPLES`` tickets served, or no open window,
there is no estimate: the citizen is told 暂无法估计, never a made-up number.

The estimate is measured against the waits that really happened in ``bench/estimate.py`` (a
simulated day; docs/benchmarks.md has the median and p90 error).
"""

from __future__ import annotations

import collections
import math
from typing import Any

from hwd.clock import Clock
from hwd.hall.config import HallConfig
from hwd.hall.store import Store

RECENT = 30
MIN_SAMPLES = 3
LOOKBACK_S = 7 * 86400
UNKNOWN = "等候时间暂无法估计"


class WaitEstimator:
    def __init__(self, store: Store, cfg: HallConfig, clock: Clock):
        self.store, self.cfg = store, cfg
        self._cycles: dict[str, collections.deque[float]] = collections.defaultdict(
            lambda: collections.deque(maxlen=RECENT))
        since = clock.time() - LOOKBACK_S
        for row in store.all(
                "SELECT service, called_ts, finished_ts FROM tickets WHERE issued_ts >= ? AND called_ts IS NOT NULL "
                "AND finished_ts IS NOT NULL AND state IN ('done', 'no_show') ORDER BY finished_ts", (since,)):
            self.served(row["service"], row["called_ts"], row["finished_ts"])

    def served(self, service: str, called_ts: float | None, finished_ts: float | None) -> None:
        """A window is done with a ticket of ``service`` (finished or no-show)."""
        if called_ts is None or finished_ts is None or finished_ts < called_ts:
            return  # a clock jump inside the service: no honest sample
        self._cycles[service].append(finished_ts - called_ts)

    def cycle_s(self, service: str) -> float | None:
        samples = self._cycles.get(service)
        if not samples or len(samples) < MIN_SAMPLES:
            return None
        return sum(samples) / len(samples)

    def capacity(self, service: str) -> tuple[float, int]:
        """Open windows for ``service`` (shares) and how many of them are idle now."""
        store, cfg = self.store, self.cfg
        waiting = {s for s, c in store.queue_counts().items() if c.get("waiting")}
        share, idle = 0.0, 0
        for wid, window in cfg.windows.items():
            if service not in window.services:
                continue
            row = store.window(wid)
            if row is None or row["state"] != "open":
                continue
            busy_with = [s for s in window.services if s in waiting or s == service]
            share += 1.0 / max(1, len(busy_with))
            if not row["current"]:
                idle += 1
        return share, idle

    def estimate(self, service: str, ahead: int, capacity: tuple[float, int] | None = None) -> dict[str, Any]:
        """``{wait_s, minutes, text}``; ``wait_s`` and ``minutes`` are None without an honest estimate.
        ``capacity``: the service's ``capacity()`` when the caller estimates many tickets at once."""
        cycle = self.cycle_s(service)
        share, idle = capacity if capacity is not None else self.capacity(service)
        if cycle is None or share <= 0:
            return {"wait_s": None, "minutes": None, "text": UNKNOWN}
        places = ahead + 1 - idle
        wait = 0.0 if places <= 0 else (places - 0.5) * cycle / share
        return {"wait_s": round(wait), "minutes": minutes(wait), "text": words(wait)}


def minutes(wait_s: float) -> int:
    """Whole minutes as people say them: by the minute up to 10, then in fives."""
    m = wait_s / 60
    if m <= 10:
        return max(1, math.ceil(m))
    return int(5 * round(m / 5))


def words(wait_s: float) -> str:
    if wait_s < 60:
        return "即将叫号"
    return f"预计等候约 {minutes(wait_s)} 分钟"

"""Honest wait estimates (预计等候): how long until a waiting ticket is called, from what the hall
has really done lately, or no number at all.

The estimate follows the calling order the prediction states (hwd.hall.queue.selection): the
open windows take turns as if every service took the same time, ``cycle`` — the mean window
time per ticket (call to finish, a no-show's too) over the ticket's service's last ``RECENT``
tickets of the past week. The window predicted to call a ticket calls it after ``turn`` calls
of its own; an idle window calls at once and a busy one is on average half-way through, so the
wait is ``(turn + ½ if busy) × cycle``. With fewer than ``MIN_SAMPLES`` tickets served, or no
open window for the ticket, there is no estimate: the citizen is told 暂无法估计, never a
made-up number.

The estimate is measured against the waits that really happened in ``bench/estimate.py`` (a
simulated day; docs/benchmarks.md has the median and p90 error).
"""

from __future__ import annotations

import collections
import math
from typing import Any

from hwd.clock import Clock
from hwd.hall.config import HallConfig
from hwd.hall.queue.selection import Place
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

    def estimate(self, service: str, place: Place | None) -> dict[str, Any]:
        """``{wait_s, minutes, text}`` of a ticket of ``service`` at ``place`` (HallCore.places);
        ``wait_s`` and ``minutes`` are None without an honest estimate."""
        cycle = self.cycle_s(service)
        if cycle is None or place is None or not place.open:
            return {"wait_s": None, "minutes": None, "text": UNKNOWN}
        wait = (place.turn + (0.5 if place.busy else 0.0)) * cycle
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

"""How honest the wait estimate is: a simulated hall day replayed through the real
HallCore on a test clock, each ticket's estimate at issue compared with the wait that followed.

The day: three services with lognormal window times (社保 5 min, 不动产 12 min, 医保 4 min mean,
sigma 0.6), five windows serving overlapping services, arrivals by hour from a county hall's
profile (Poisson; morning peak, lunch without issuing, afternoon), 5 % no-shows (the window waits
a minute), 20 s between a finish and the next call. The estimator sees only what the hall has
done (HallCore.estimator); the naive rule of many kiosks ("5 minutes per person ahead") is
measured on the same tickets for comparison.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import statistics

from bench.common import Result
from hwd.clock import TestClock
from hwd.hall.config import HallConfig, Hours, Service, Window
from hwd.hall.queue.core import HallCore
from hwd.hall.store import Store

SERVICES = {"sb": (Service("sb", "社保", "A"), 5.0, 0.50), "bdc": (Service("bdc", "不动产登记", "B"), 12.0, 0.25),
            "yb": (Service("yb", "医保", "C"), 4.0, 0.25)}
WINDOWS = {"1": ["sb", "yb"], "2": ["sb"], "3": ["bdc"], "4": ["bdc", "sb"], "5": ["yb", "sb"]}
ARRIVALS_PER_HOUR = {9: 55, 10: 65, 11: 45, 13: 35, 14: 50, 15: 40, 16: 20}
NO_SHOW = 0.05
GAP_S = 20.0


def simulate(seed: int) -> list[tuple[float | None, float, float]]:
    """One day: ``(estimate_s or None, actual_wait_s, naive_s)`` per called ticket."""
    rnd = random.Random(seed)
    cfg = HallConfig(services={k: v[0] for k, v in SERVICES.items()},
                     windows={w: Window(w, f"{w}号窗口", s) for w, s in WINDOWS.items()},
                     hours=Hours(always_open=True), min_recalls=0, requeue_after=0)
    clock = TestClock("Asia/Shanghai")
    day = dt.datetime(2026, 11, 23, 8, 30, tzinfo=clock.tz)
    clock.set(day)
    core = HallCore(cfg, Store(":memory:", "off"), clock)
    events: list[tuple[float, int, str, str]] = []
    n = 0

    def push(t: float, kind: str, what: str) -> None:
        nonlocal n
        n += 1
        heapq.heappush(events, (t, n, kind, what))

    start = day.timestamp()
    for hour, rate in ARRIVALS_PER_HOUR.items():
        t = start + (hour - 8.5) * 3600
        end = t + 3600
        while True:
            t += rnd.expovariate(rate / 3600)
            if t >= end:
                break
            service = rnd.choices(list(SERVICES), [v[2] for v in SERVICES.values()])[0]
            push(t, "arrive", service)
    estimates: dict[int, tuple[float | None, float]] = {}
    out = []
    idle = set(WINDOWS)

    def call(wid: str, now: float) -> None:
        ticket = core.call_next(wid)
        if ticket is None:
            idle.add(wid)
            return
        idle.discard(wid)
        est, naive = estimates.pop(ticket["id"])
        issued = dt.datetime.fromisoformat(ticket["issued_at"]).timestamp()
        out.append((est, now - issued, naive))
        if rnd.random() < NO_SHOW:
            push(now + 60, "no_show", wid)
        else:
            mean = SERVICES[ticket["service"]][1] * 60
            push(now + rnd.lognormvariate(0, 0.6) * mean / 1.197, "finish", wid)  # E[lognorm(0,.6)] = 1.197

    while events:
        t, _, kind, what = heapq.heappop(events)
        clock.set(t)
        if kind == "arrive":
            ticket = core.issue(what)
            estimates[ticket["id"]] = (ticket["wait"]["wait_s"], ticket["waiting_ahead"] * 300.0)
            for wid in sorted(idle):
                if what in WINDOWS[wid]:
                    call(wid, t)
                    break
        elif kind in ("finish", "no_show"):
            (core.finish if kind == "finish" else core.no_show)(what)
            push(t + GAP_S, "free", what)
        elif kind == "free":
            call(what, t)
    return out


def wait_estimate_error() -> Result:
    rows = [r for seed in range(5) for r in simulate(seed)]
    known = [(est, actual, naive) for est, actual, naive in rows if est is not None]
    errors = sorted(abs(est - actual) / 60 for est, actual, _ in known)
    naive = sorted(abs(nv - actual) / 60 for _, actual, nv in known)
    p90 = errors[int(0.9 * (len(errors) - 1))]
    waits = [actual / 60 for _, actual, _ in rows]
    return Result(
        "wait estimate error (simulated day)", "report", f"median {statistics.median(errors):.1f} min, p90 {p90:.1f} min",
        None, "5 simulated county-hall days (bench/estimate.py: 3 services, 5 windows, Poisson arrivals by hour, "
        "lognormal window times, 5 % no-shows) replayed through HallCore; each ticket's estimate at issue against "
        "the wait that followed", len(known),
        {"tickets": len(rows), "with an estimate": f"{len(known)} ({100 * len(known) / len(rows):.0f} %; the rest "
         "暂无法估计 until 3 services are done)", "mean actual wait": f"{statistics.fmean(waits):.1f} min",
         "naive 5 min per person ahead": f"median {statistics.median(naive):.1f} min, "
         f"p90 {naive[int(0.9 * (len(naive) - 1))]:.1f} min"})


BENCHES = [wait_estimate_error]

"""Property test of the tidal-window alert rule (hwd.hall.queue.alerts) on HallCore with a real SQLite
file and a test clock: over any sequence of issues, calls, finishes, pauses and time passing,

- a service whose longest wait or queue reaches its threshold has a raised alert;
- a raised alert clears only when every measure is below ``clear_percent`` of its threshold, so
  it never flaps inside the band; raised and cleared alternate per service;
- an alert names only windows that can serve the service (configured and not busy, or idle
  windows of other services with empty queues), and ``current()`` is exactly the raised ones.

The measures are recomputed here from the tickets, not taken from the monitor."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings, strategies as st

from hwd.clock import TestClock
from hwd.errors import HwdError
from hwd.hall.queue.alerts import TidalAlerts
from hwd.hall.config.alerts import Tidal
from hwd.hall.config import HallConfig, Hours, Service, Window
from hwd.hall.queue.core import HallCore
from hwd.hall.store import Store

SERVICES = {"a": Service("a", "甲", "A"), "b": Service("b", "乙", "B", tidal_queue=3),
            "c": Service("c", "丙", "C", tidal_wait_min=0)}
WINDOWS = {"1": Window("1", "1号窗口", ["a", "b"]), "2": Window("2", "2号窗口", ["b"]),
           "3": Window("3", "3号窗口", ["c"]), "4": Window("4", "4号窗口", ["a"])}

ISSUE = st.tuples(st.just("issue"), st.sampled_from(sorted(SERVICES)))
actions = st.lists(st.one_of(
    ISSUE, ISSUE, ISSUE,  # queues must grow past the thresholds often enough
    st.tuples(st.sampled_from(["call", "finish", "pause", "resume"]), st.sampled_from(sorted(WINDOWS))),
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=25)),
), min_size=1, max_size=40)


def measures(store: Store, now: float) -> dict[str, tuple[float, int]]:
    out = {}
    for sid in SERVICES:
        rows = [r for r in store.all("SELECT * FROM tickets") if r["state"] == "waiting" and r["service"] == sid]
        out[sid] = (now - min(r["issued_ts"] for r in rows), len(rows)) if rows else (0.0, 0)
    return out


def thresholds(cfg: HallConfig, sid: str) -> tuple[float, int]:
    s = cfg.services[sid]
    wait = cfg.tidal.wait_min if s.tidal_wait_min is None else s.tidal_wait_min
    return wait * 60.0, cfg.tidal.queue if s.tidal_queue is None else s.tidal_queue


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=actions, wait_min=st.sampled_from([0, 10, 30]), queue=st.sampled_from([0, 2, 4]),
       clear=st.sampled_from([50, 80, 100]))
@example(steps=[("issue", "a")] * 4 + [("call", "4")], wait_min=0, queue=4, clear=50)  # the queue's band
@example(steps=[("issue", "a"), ("advance", 5), ("issue", "a"), ("advance", 6), ("call", "4")],
         wait_min=10, queue=0, clear=50)  # the wait's band: 6 minutes is above 5
def test_alerts_raise_at_the_threshold_and_clear_only_below_the_band(steps, wait_min, queue, clear):
    folder = Path(tempfile.mkdtemp(prefix="hall-alerts-"))
    cfg = HallConfig(services=dict(SERVICES), windows=dict(WINDOWS), hours=Hours(always_open=True),
                     tidal=Tidal(wait_min=wait_min, queue=queue, clear_percent=clear))
    clock = TestClock("Asia/Shanghai")
    clock.set(dt.datetime(2026, 11, 23, 9, 0))
    store = Store(folder / "hall.sqlite3")
    try:
        core = HallCore(cfg, store, clock)
        events: list[tuple[str, dict]] = []
        monitor = TidalAlerts(cfg, store, clock, lambda topic, e: events.append((topic, e)))
        raised: dict[str, bool] = {s: False for s in SERVICES}
        for name, arg in steps:
            try:
                if name == "issue":
                    core.issue(arg)
                elif name == "advance":
                    clock.advance(arg * 60)
                elif name in ("pause", "resume"):
                    getattr(core, name)(arg)
                else:
                    getattr(core, "call_next" if name == "call" else name)(arg)
            except HwdError:
                pass  # a refused operation changes nothing
            core.drain()
            before = len(events)
            monitor.check()
            measured = measures(store, clock.time())
            rows = {w: store.window(w) for w in WINDOWS}
            for topic, event in events[before:]:
                assert topic == "hall.alert" and event["kind"] == "tidal"
                sid = event["service"]
                if event["state"] == "cleared":
                    assert raised[sid], "a cleared alert that was not raised"
                elif not event["update"]:
                    assert not raised[sid], "raised twice without a clear"
            for sid in SERVICES:
                wait_s, n = measured[sid]
                limit_wait, limit_queue = thresholds(cfg, sid)
                over = (limit_wait > 0 and wait_s >= limit_wait) or (limit_queue > 0 and n >= limit_queue)
                below = ((limit_wait <= 0 or wait_s < limit_wait * clear / 100)
                         and (limit_queue <= 0 or n < limit_queue * clear / 100))
                now_raised = sid in monitor.alerts
                if over:
                    assert now_raised, (sid, wait_s, n)
                elif raised[sid] and not below:
                    assert now_raised, f"{sid} cleared inside the band"
                elif not raised[sid]:
                    assert not now_raised, f"{sid} raised below its threshold"
                if raised[sid] and below:
                    assert not now_raised, f"{sid} not cleared below the band"
                raised[sid] = now_raised
                if now_raised:
                    alert = monitor.alerts[sid]
                    assert (alert["queue"], alert["wait_s"]) == (n, int(wait_s))
                    level = max(int(wait_s // limit_wait) if limit_wait > 0 else 0,
                                n // limit_queue if limit_queue > 0 else 0)
                    assert alert["level"] >= max(1, level)
                    for w in alert["windows"]:
                        row, window = rows[w["id"]], WINDOWS[w["id"]]
                        assert row["state"] == w["state"]
                        if w["why"] == "other_idle":
                            assert sid not in window.services and row["state"] == "open" and not row["current"]
                            assert all(measured[s][1] == 0 for s in window.services)
                        else:
                            assert sid in window.services and not (row["state"] == "open" and row["current"])
            assert [a["service"] for a in monitor.current()] == [s for s in SERVICES if raised[s]]
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)

"""The hall against the wall clock a hall PC really has (issue 12): jumps forward and back by
seconds to months, small drifts over the day boundary, restarts, in a day hall and a 24-hour hall.

A hypothesis state machine drives HallCore on a real SQLite file with a test clock, as the engine
does (every operation rolls the day first; a clock jump rolls it at once), and keeps:
- no two live (waiting or called) tickets share a number;
- no ticket of another business day is live or callable: the hall is on the clock's day;
- no acknowledged ticket is lost, and a number is never handed out twice on one business day;
- within a service and a priority class, tickets are called in the order they were issued, even
  when the clock went back between two of them.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from hwd.clock import TestClock
from hwd.hall.config import HallConfig, Hours, Service, Window
from hwd.hall.queue.core import HallCore
from hwd.hall.store import Store

SERVICES = {"a": Service("a", "甲", "A"), "b": Service("b", "乙", "B")}
WINDOWS = {"1": Window("1", "1号窗口", ["a", "b"]), "2": Window("2", "2号窗口", ["b"])}
THRESHOLD = 300.0
START = dt.datetime(2026, 11, 23, 9, 0)

# clock steps: drifts of seconds, jumps of minutes to months, both ways
STEPS = st.one_of(st.integers(-120, 120), st.integers(-3 * 3600, 3 * 3600),
                  st.integers(-200 * 86400, 200 * 86400), st.sampled_from([-183 * 86400, 86400, -86400, -301, 301]))


class ClockJumpMachine(RuleBasedStateMachine):
    @initialize(expire_at=st.sampled_from(["23:30", "02:00", "17:30"]))
    def open_hall(self, expire_at):
        self.dir = Path(tempfile.mkdtemp(prefix="hall-clock-"))
        self.clock = TestClock("Asia/Shanghai", THRESHOLD)
        self.clock.set(START)
        self.cfg = HallConfig(services=dict(SERVICES), windows=dict(WINDOWS), hours=Hours(always_open=True),
                              expire_at=expire_at, priority_classes=["elderly"], fairness=2)
        self.open()
        self.high = self.clock.time()
        self.issued: dict[int, tuple[str, str, str]] = {}  # id -> (number, service, day)

    def open(self) -> None:
        self.store = Store(self.dir / "hall.sqlite3", "normal")
        self.core = HallCore(self.cfg, self.store, self.clock)
        self.core.roll()

    def teardown(self) -> None:
        if hasattr(self, "store"):
            self.store.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    def live(self) -> list[dict]:
        return self.store.all("SELECT * FROM tickets WHERE state IN ('waiting', 'called')")

    # -- the hall's day ----------------------------------------------------------------------
    def seen(self, before_day: str) -> None:
        """The latest wall time the hall saw on its day: a step back is measured from it."""
        now = self.clock.time()
        self.high = now if self.core.day != before_day else max(self.high, now)

    @rule(step=STEPS)
    def clock_steps(self, step):
        before_day, before = self.core.day, self.clock.now()
        self.clock.set(before + dt.timedelta(seconds=step))
        self.core.roll()  # the engine rolls at once when the clock changes
        clock_day = self.core.business_day()
        if clock_day > before_day or (clock_day < before_day and self.clock.time() < self.high - THRESHOLD):
            assert self.core.day == clock_day, "after a jump back or a later day, the hall is on the clock's day"
        else:
            assert self.core.day == before_day, "a small drift back over the boundary keeps the day"
        self.seen(before_day)

    @rule(seconds=st.integers(1, 6 * 3600))
    def time_passes(self, seconds):
        before_day = self.core.day
        self.clock.advance(seconds)
        self.core.roll()
        self.seen(before_day)

    @rule()
    def restart(self):
        self.store.close()
        self.open()
        self.high = self.clock.time()
        assert self.core.day == self.core.business_day(), "at start the hall takes the clock's day"

    # -- the queue ---------------------------------------------------------------------------
    @rule(service=st.sampled_from(sorted(SERVICES)), elderly=st.booleans())
    def issue(self, service, elderly):
        view = self.core.issue(service, priority="elderly" if elderly else "normal")
        assert view["day"] == self.core.day
        self.issued[view["id"]] = (view["number"], service, view["day"])

    @rule(wid=st.sampled_from(sorted(WINDOWS)))
    def call(self, wid):
        row = self.store.window(wid)
        if row["current"]:
            self.core.finish(wid)
            return
        waiting = {t["id"]: t for t in self.store.all("SELECT * FROM tickets WHERE state = 'waiting'")}
        view = self.core.call_next(wid)
        if view is None:
            assert not [t for t in waiting.values() if t["service"] in WINDOWS[wid].services and
                        t["day"] == self.core.day], "nobody of today waits for this window"
            return
        assert view["day"] == self.core.day, "a ticket of another business day was called"
        called = waiting[view["id"]]
        earlier = [t for t in waiting.values() if t["service"] == called["service"] and t["id"] < called["id"]
                   and (t["priority"] == "normal") == (called["priority"] == "normal") and t["day"] == called["day"]]
        assert not earlier, "within a service and class, the earlier-issued ticket is called first"

    # -- invariants --------------------------------------------------------------------------
    @invariant()
    def live_numbers_unique_and_today(self):
        if not hasattr(self, "store"):
            return
        live = self.live()
        numbers = [t["number"] for t in live]
        assert len(numbers) == len(set(numbers)), f"two live tickets share a number: {sorted(numbers)}"
        assert all(t["day"] == self.core.day for t in live), "a ticket of another business day is still live"

    @invariant()
    def nothing_lost_no_number_twice(self):
        if not hasattr(self, "store"):
            return
        rows = {r["id"]: r for r in self.store.all("SELECT * FROM tickets")}
        assert set(rows) == set(self.issued), "every acknowledged ticket is stored"
        seen = set()
        for tid, (number, service, day) in self.issued.items():
            assert (rows[tid]["number"], rows[tid]["day"]) == (number, day)
            assert (service, day, number) not in seen, "a number was handed out twice on one business day"
            seen.add((service, day, number))


ClockJumpMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
TestClockJumps = ClockJumpMachine.TestCase


def _core(tmp_path: Path, clock: TestClock, expire_at: str = "23:30") -> HallCore:
    cfg = HallConfig(services=dict(SERVICES), windows=dict(WINDOWS), hours=Hours(always_open=True),
                     expire_at=expire_at)
    return HallCore(cfg, Store(tmp_path / "hall.sqlite3"), clock)


def test_a_jump_back_does_not_stall_the_next_rollover(tmp_path):
    """The defect of issue 12: the hall once remembered a cutoff in the future and stopped rolling."""
    clock = TestClock("Asia/Shanghai")
    clock.set(dt.datetime(2026, 12, 1, 10, 0))
    core = _core(tmp_path, clock)
    ahead = core.issue("a")
    clock.set(dt.datetime(2026, 6, 1, 10, 0))  # six months back: NTP corrects a clock that ran ahead
    core.roll()
    assert core.store.ticket(ahead["id"])["state"] == "expired", "the later day's ticket is not today's"
    today = core.issue("a")
    assert today["number"] == "A001" and today["day"] == "2026-06-01"
    clock.set(dt.datetime(2026, 6, 1, 23, 31))
    core.roll()
    assert core.store.ticket(today["id"])["state"] == "expired", "the next rollover comes on the new clock"
    assert core.issue("a")["day"] == "2026-06-02"


def test_issue_order_survives_a_jump_back_within_the_day(tmp_path):
    clock = TestClock("Asia/Shanghai")
    clock.set(dt.datetime(2026, 11, 23, 11, 0))
    core = _core(tmp_path, clock)
    first = core.issue("a")
    clock.set(dt.datetime(2026, 11, 23, 10, 0))  # an hour back, same business day
    second = core.issue("a")
    assert second["number"] == "A002", "numbering goes on: the day already used A001"
    assert core.call_next("1")["id"] == first["id"], "the citizen who came first is called first"


def test_at_start_tickets_of_other_days_expire(tmp_path):
    clock = TestClock("Asia/Shanghai")
    clock.set(dt.datetime(2026, 11, 23, 16, 0))
    core = _core(tmp_path, clock)
    left = core.issue("b")
    core.store.close()
    clock.set(dt.datetime(2026, 11, 24, 8, 30))  # hwd was stopped over night (no 23:30 timer ran)
    core = _core(tmp_path, clock)
    core.roll()
    assert core.store.ticket(left["id"])["state"] == "expired"
    assert core.issue("b")["number"] == "B001"

"""Property tests of the queue rules (HallCore on a real SQLite file, with a test clock):
no ticket lost or served twice, numbers unique and gap-free per service and day, calls in
class/preference/issue order across the window's services (a 老年人 window's elderly first), the
fairness bound across services, across restarts and day rollovers. The predicted calling order
has its own property test (test_hall_prediction.py)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hwd.clock import TestClock
from hwd.errors import HwdError
from hwd.hall.config import HallConfig, Hours, Service, Window
from hwd.hall.queue.core import HallCore
from hwd.hall.store import Store

FAIRNESS = 1
SERVICES = {"a": Service("a", "甲", "A"), "b": Service("b", "乙", "B"), "c": Service("c", "丙", "C")}
WINDOWS = {"1": Window("1", "1号窗口", ["a", "b"]), "2": Window("2", "2号窗口", ["b"]),
           "3": Window("3", "3号窗口", ["c", "a"], kind="老年人")}
PREFERS = {"3": "elderly"}


def make_config(requeue: int = 0) -> HallConfig:
    return HallConfig(services=dict(SERVICES), windows=dict(WINDOWS), hours=Hours(always_open=True),
                      fairness=FAIRNESS, requeue_after=requeue, priority_classes=["elderly", "disabled"])


class HallMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="hall-prop-"))
        self.clock = TestClock("Asia/Shanghai")
        self.clock.set(dt.datetime(2026, 11, 23, 9, 0))
        self.cfg = make_config(requeue=1)
        self.open()
        self.issued: dict[int, tuple[str, str, str]] = {}   # id -> (number, first service, day)
        self.finished: set[int] = set()
        self.streak = {w: 0 for w in WINDOWS}

    def open(self) -> None:
        self.store = Store(self.dir / "hall.sqlite3")
        self.core = HallCore(self.cfg, self.store, self.clock)

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def current(self, wid: str) -> dict | None:
        row = self.store.window(wid)
        return self.store.ticket(row["current"]) if row["current"] else None

    def waiting(self, service: str) -> list[dict]:
        return self.store.all("SELECT * FROM tickets WHERE state = 'waiting' AND service = ? ORDER BY sort_key, id",
                              (service,))

    @rule(service=st.sampled_from(sorted(SERVICES)),
          priorities=st.lists(st.sampled_from(["normal", "elderly", "disabled"]), min_size=1, max_size=4),
          seconds=st.integers(0, 90))
    def issue(self, service, priorities, seconds):
        for priority in priorities:
            self.clock.advance(seconds)
            view = self.core.issue(service, priority=priority)
            assert view["id"] not in self.issued
            self.issued[view["id"]] = (view["number"], service, view["day"])
            waiting = self.store.all("SELECT id FROM tickets WHERE state = 'waiting'")
            assert view["waiting_ahead"] <= len(waiting) - 1
            if priority == "normal":   # the older normal tickets of its service go first, whichever window
                older = [r for r in self.waiting(service) if r["priority"] == "normal" and r["id"] != view["id"]]
                assert view["waiting_ahead"] >= len(older)

    @rule(wid=st.sampled_from(sorted(WINDOWS)))
    def call_next(self, wid):
        if self.current(wid) is not None:
            try:
                self.core.call_next(wid)
            except HwdError:
                return
            raise AssertionError("call_next with a current ticket must be refused")
        before = {s: self.waiting(s) for s in WINDOWS[wid].services}
        view = self.core.call_next(wid)
        if view is None:
            assert all(not rows for rows in before.values())
            return
        services = WINDOWS[wid].services
        prio = [((0 if r["priority"] == PREFERS.get(wid) else 1), rank, r["sort_key"], r["id"])
                for rank, s in enumerate(services) for r in before[s] if r["priority"] != "normal"]
        normal_service = next((s for s in services if any(r["priority"] == "normal" for r in before[s])), None)
        if view["priority"] != "normal":
            assert min(prio)[3] == view["id"], \
                "the window's highest class, then its most preferred service, then the oldest goes first"
            if normal_service is not None:
                self.streak[wid] += 1
        else:
            oldest = next(r for r in before[normal_service] if r["priority"] == "normal")
            assert view["service"] == normal_service and view["id"] == oldest["id"], \
                "a normal call: the window's most preferred service with a normal ticket, its oldest"
            if prio:
                assert self.streak[wid] == FAIRNESS, "a priority ticket of any of its services waited: only fairness"
            self.streak[wid] = 0
        assert self.streak[wid] <= FAIRNESS, "a waiting normal ticket was overtaken too often"

    @rule(wid=st.sampled_from(sorted(WINDOWS)), times=st.integers(1, 4))
    def serve(self, wid, times):
        """The common case: call and finish, several times in a row."""
        for _ in range(times):
            if self.current(wid) is not None:
                self.act(wid, "finish")
            self.call_next(wid)

    @rule(wid=st.sampled_from(sorted(WINDOWS)), action=st.sampled_from(["start", "finish", "no_show", "recall"]))
    def act(self, wid, action):
        cur = self.current(wid)
        try:
            view = getattr(self.core, action)(wid)
        except HwdError:
            assert cur is None or (action in ("start", "no_show", "recall") and cur["state"] == "serving")
            return
        assert cur is not None and view["id"] == cur["id"]
        if action == "finish":
            assert view["id"] not in self.finished, "served twice"
            self.finished.add(view["id"])

    @rule(wid=st.sampled_from(sorted(WINDOWS)), service=st.sampled_from(sorted(SERVICES)))
    def transfer(self, wid, service):
        cur = self.current(wid)
        if cur is None:
            return
        if cur["day"] != self.core.today():
            with pytest.raises(HwdError) as refused:  # served across the rollover: today's queue is not its
                self.core.transfer(wid, service)
            assert refused.value.data["wording"] == "transfer_day_over"
            assert self.current(wid)["id"] == cur["id"], "a refused transfer leaves the ticket at its window"
            return
        view = self.core.transfer(wid, service)
        assert view["state"] == "waiting" and view["service"] == service and view["number"] == cur["number"]
        assert self.store.ticket(cur["id"])["sort_key"] == cur["sort_key"], \
            "a transfer keeps the ticket's place by issue time"

    @rule(wid=st.sampled_from(sorted(WINDOWS)), n=st.integers(1, 3), zeros=st.integers(0, 2))
    def call_number(self, wid, n, zeros):
        """选择叫号 (a caller's digits + call): the waiting ticket with that number of the window's
        most preferred service that has one, the oldest there; the fairness streak untouched."""
        cur = self.current(wid)
        streak = self.store.window(wid)["streak"]
        expected = next((t for s in WINDOWS[wid].services for t in self.waiting(s) if t["seq"] == n), None)
        try:
            view = self.core.call_number(wid, "0" * zeros + str(n))
        except HwdError:
            assert cur is not None or expected is None
            return
        assert cur is None and expected is not None and view["id"] == expected["id"]
        assert view["state"] == "called" and view["window"] == wid
        assert self.store.window(wid)["streak"] == streak

    @rule()
    def restart(self):
        self.store.close()
        self.open()

    @rule()
    def next_day(self):
        now = self.clock.now()
        self.clock.set((now + dt.timedelta(days=1)).replace(hour=8, minute=30))
        self.core.roll()
        assert not self.store.all("SELECT id FROM tickets WHERE state IN ('waiting', 'called') AND issued_ts < ?",
                                  (self.clock.time() - 9 * 3600,))

    @invariant()
    def nothing_lost_numbers_unique(self):
        rows = {r["id"]: r for r in self.store.all("SELECT * FROM tickets")}
        assert set(rows) == set(self.issued), "every issued ticket is stored, and only those"
        per_day: dict[tuple[str, str], list[int]] = {}
        for tid, (number, service, day) in self.issued.items():
            assert rows[tid]["number"] == number and rows[tid]["day"] == day
            per_day.setdefault((service, day), []).append(int(number[1:]))
        for numbers in per_day.values():
            assert sorted(numbers) == list(range(1, len(numbers) + 1)), "gap-free and unique"
        done = {tid for tid, r in rows.items() if r["state"] == "done"}
        assert done == self.finished

    @invariant()
    def windows_consistent(self):
        holders: dict[int, str] = {}
        for wid in WINDOWS:
            cur = self.current(wid)
            if cur is not None:
                assert cur["state"] in ("called", "serving") and cur["window"] == wid
                assert cur["id"] not in holders
                holders[cur["id"]] = wid
        active = {r["id"] for r in self.store.all("SELECT id FROM tickets WHERE state IN ('called', 'serving')")}
        assert active == set(holders), "a called ticket belongs to exactly one window"


HallMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestHallQueue = HallMachine.TestCase

"""Property tests of 差评 work orders and the outbox rows they write (HallCore on a real SQLite
file, test clock): whatever sequence of steps people try, a refused step changes nothing, every
accepted step is one more append-only row and one more outbox record with a unique key, a closed
order stays closed, and a rating is excluded exactly when an appeal was upheld."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hwd.clock import TestClock
from hwd.errors import HwdError
from hwd.hall.ratings import workorders
from hwd.hall.config import HallConfig, Hours, Service, Window
from hwd.hall.queue.core import HallCore
from hwd.hall.store import Store


class WorkOrderMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="wo-prop-"))
        self.clock = TestClock("Asia/Shanghai")
        self.clock.set(dt.datetime(2026, 11, 23, 9, 0))
        cfg = HallConfig(services={"a": Service("a", "甲", "A")}, windows={"1": Window("1", "1号窗口", ["a"])},
                         hours=Hours(always_open=True))
        self.store = Store(self.dir / "hall.sqlite3")
        self.core = HallCore(cfg, self.store, self.clock)
        self.orders: list[int] = []
        self.upheld: set[int] = set()
        self.closed: set[int] = set()

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(score=st.sampled_from([1, 2, 3, 5]))
    def rate(self, score):
        self.core.issue("a")
        self.core.call_next("1")
        self.core.finish("1")
        view = self.core.ratings.rate(score, window="1")
        if score <= 2:
            self.orders.append(view["workorder"]["id"])
        else:
            assert "workorder" not in view

    @rule(pick=st.integers(0, 50), step=st.sampled_from(workorders.STEPS),
          verdict=st.sampled_from([None, *workorders.VERDICTS]), note=st.sampled_from([None, "", "已处理"]))
    def move(self, pick, step, verdict, note):
        if not self.orders:
            return
        wo = self.orders[pick % len(self.orders)]
        before = self.store.one("SELECT * FROM workorders WHERE id = ?", (wo,))
        steps = self.count("workorder_steps")
        records = self.count("outbox")
        try:
            view = self.core.ratings.workorders.move(wo, step, note, verdict, "m1")
        except HwdError:
            assert self.store.one("SELECT * FROM workorders WHERE id = ?", (wo,)) == before
            assert (self.count("workorder_steps"), self.count("outbox")) == (steps, records)
            return
        assert before["state"] != "closed"
        assert self.count("workorder_steps") == steps + 1
        assert self.count("outbox") == records + 1 + (1 if view["excluded"] and step == "review" else 0)
        if view["state"] == "closed":
            self.closed.add(wo)
        if step == "review" and verdict in workorders.DISPUTED:
            self.upheld.add(wo)

    def count(self, table: str) -> int:
        return self.store.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    @invariant()
    def consistent(self):
        for row in self.store.all("SELECT w.id, w.state, r.excluded FROM workorders w JOIN ratings r ON r.id = w.rating"):
            assert row["state"] in workorders.STATES
            assert bool(row["excluded"]) == (row["id"] in self.upheld)
            assert (row["state"] == "closed") == (row["id"] in self.closed)
        keys = [r[0] for r in self.store.db.execute("SELECT key FROM outbox")]
        assert len(keys) == len(set(keys))


WorkOrderMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
test_work_orders = WorkOrderMachine.TestCase

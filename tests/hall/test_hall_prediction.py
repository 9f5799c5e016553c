"""The place in the queue a citizen is told is the place the rules give (issue 24 §1): for random
halls (services, windows with several services in their own order of preference, 老年人 and
军人优先 windows, fairness) after random operations (issuing every class, calls, finishes,
pauses, logouts, transfers, no-shows with requeue), the predicted place of every waiting ticket
— what the kiosk, the receipt, ``hall.ticket`` and the phone say — equals the order in which
it is really called, when no new ticket arrives and the windows call in the stated order
(docs/hall.md "Place in the queue"): the open windows take turns, idle ones first in config
order, then busy ones by the time they called their current ticket; then the paused and closed
windows, opened, in config order.

HallCore on a real SQLite file with a test clock; the calls are the engine's own ``call_next``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from hwd.clock import TestClock
from hwd.errors import HwdError
from hwd.hall.config import HallConfig, Hours, Service, Window
from hwd.hall.phone.board import PhoneBoard
from hwd.hall.queue.core import HallCore
from hwd.hall.ratings.channels import RatingChannels
from hwd.hall.store import Store

CLASSES = ["normal", "normal", "elderly", "disabled", "military"]
KINDS = ["综合", "综合", "老年人", "军人优先"]


@st.composite
def halls(draw) -> HallConfig:
    n = draw(st.integers(1, 4))
    ids = [chr(ord("a") + i) for i in range(n)]
    services = {s: Service(s, f"事项{s}", s.upper()) for s in ids}
    windows = {}
    for i in range(draw(st.integers(1, 4))):
        order = draw(st.permutations(ids))
        served = list(order[:draw(st.integers(1, n))])
        windows[str(i + 1)] = Window(str(i + 1), f"{i + 1}号窗口", served, kind=draw(st.sampled_from(KINDS)))
    return HallConfig(services=services, windows=windows, hours=Hours(always_open=True),
                      fairness=draw(st.integers(1, 3)), requeue_after=draw(st.integers(0, 2)),
                      priority_classes=["elderly", "disabled", "military"])


def operations(cfg: HallConfig):
    services, windows = sorted(cfg.services), sorted(cfg.windows)
    return st.lists(st.one_of(
        st.tuples(st.just("issue"), st.sampled_from(services), st.sampled_from(CLASSES), st.integers(0, 60)),
        st.tuples(st.just("issue"), st.sampled_from(services), st.sampled_from(CLASSES), st.integers(0, 60)),
        st.tuples(st.sampled_from(["call", "finish", "pause", "resume", "logout", "login", "no_show"]),
                  st.sampled_from(windows)),
        st.tuples(st.just("transfer"), st.sampled_from(windows), st.sampled_from(services)),
    ), max_size=40)


def act(core: HallCore, op: tuple) -> None:
    name = op[0]
    try:
        if name == "issue":
            core.clock.advance(op[3])
            core.issue(op[1], priority=op[2])
        elif name == "call":
            core.clock.advance(5)
            core.call_next(op[1])
        elif name == "login":
            core.login(op[1], "clerk")
        elif name == "transfer":
            core.transfer(op[1], op[2])
        else:
            getattr(core, {"pause": "pause", "resume": "resume", "logout": "logout", "finish": "finish",
                           "no_show": "no_show"}[name])(op[1])
    except HwdError:
        pass  # refused by the rules (a paused window calling, a logout while serving …): nothing changed


def drain(core: HallCore, turn: list[str], calls: list[tuple[str, dict]]) -> None:
    """The windows in ``turn`` call in turn, each finishing its current ticket first, until none
    finds a ticket."""
    while turn:
        still = []
        for wid in turn:
            row = core.store.window(wid)
            if row["current"]:
                core.finish(wid)
            core.clock.advance(1)
            view = core.call_next(wid)
            if view is not None:
                calls.append((wid, view))
                still.append(wid)
        turn = still


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_waiting_ticket_is_called_where_it_was_told(data):
    cfg = data.draw(halls(), label="hall")
    ops = data.draw(operations(cfg), label="operations")
    folder = Path(tempfile.mkdtemp(prefix="hall-predict-"))
    clock = TestClock("Asia/Shanghai")
    clock.set(dt.datetime(2026, 11, 23, 9, 0))
    store = Store(folder / "hall.sqlite3", "normal")
    try:
        core = HallCore(cfg, store, clock)
        for op in ops:
            act(core, op)
        waiting = {r["id"]: r for r in store.all("SELECT * FROM tickets WHERE state = 'waiting'")}
        told = core.places()
        assert set(told) == set(waiting), "every waiting ticket has a place"
        for tid, row in waiting.items():
            assert core.waiting_ahead(row) == told[tid].ahead   # the kiosk, the receipt, hall.ticket
        board = PhoneBoard(core, RatingChannels(core, b"k" * 32)).views()
        tokens = RatingChannels(core, b"k" * 32).tokens(core.today())
        for tid, row in waiting.items():                         # the phone
            if row["day"] == core.today():
                assert board[tokens[tid]]["ahead"] == told[tid].ahead

        # the stated calling order: open windows, idle first (config order), then busy ones by
        # when they called their current ticket; then the others opened, in config order
        rows = {wid: store.window(wid) for wid in cfg.windows}
        index = {wid: i for i, wid in enumerate(cfg.windows)}
        opened = [w for w in cfg.windows if rows[w]["state"] == "open"]
        first = [w for w in opened if not rows[w]["current"]] + \
            sorted((w for w in opened if rows[w]["current"]), key=lambda w: (rows[w]["since"], index[w]))
        calls: list[tuple[str, dict]] = []
        drain(core, first, calls)
        later = [w for w in cfg.windows if w not in opened]
        for wid in later:
            (core.resume if rows[wid]["state"] == "paused" else lambda w: core.login(w, "clerk"))(wid)
        drain(core, later, calls)

        served = {s for w in cfg.windows.values() for s in w.services}
        position = {view["id"]: i for i, (_, view) in enumerate(calls)}
        for tid, row in waiting.items():
            if row["service"] not in served:
                continue                                         # no window at all: never called
            assert tid in position, f"{row['number']} was never called"
            i = position[tid]
            wid = calls[i][0]
            before = [w for w, _ in calls[:i]]
            ahead = sum(1 for w in before if row["service"] in cfg.windows[w].services)
            place = told[tid]
            assert (place.ahead, place.window, place.turn) == (ahead, wid, before.count(wid)), \
                (row["number"], place, calls)
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_elderly_citizen_of_the_issue_is_called_first_and_told_so(tmp_path):
    """Issue 24: elderly C022 was told 下一位就是您 and saw A020–A023 and B007 called first, two by
    the 老年人服务 window. Now that window calls her first, and she is told exactly that."""
    services = {s: Service(s, n, s.upper()) for s, n in (("a", "社保"), ("b", "医保"), ("c", "户政"))}
    windows = {"1": Window("1", "1号窗口", ["a", "b"]), "2": Window("2", "2号窗口", ["a"]),
               "9": Window("9", "老年人服务窗口", ["a", "b", "c"], kind="老年人")}
    cfg = HallConfig(services=services, windows=windows, hours=Hours(always_open=True), fairness=3)
    clock = TestClock("Asia/Shanghai")
    clock.set(dt.datetime(2026, 11, 23, 9, 0))
    core = HallCore(cfg, Store(tmp_path / "hall.sqlite3"), clock)
    for _ in range(4):
        core.issue("a")
        clock.advance(10)
    core.issue("b")
    core.issue("b", priority="disabled")
    clock.advance(10)
    c = core.issue("c", priority="elderly")
    assert c["waiting_ahead"] == 0
    b = core.places()
    assert core.call_next("9")["id"] == c["id"], "the 老年人 window: elderly first, of every service it serves"
    called = core.call_next("1")
    assert (called["number"], called["priority"]) == ("B002", "disabled"), \
        "window 1 prefers 社保 but calls the disabled 医保 ticket before the normal 社保 ones"
    assert b[called["id"]].ahead == 0

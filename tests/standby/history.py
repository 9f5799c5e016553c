"""A hall's load (kiosks issuing, counters calling, finishing and rating, work orders moving) and
the checks of the standby guarantees against what the clients were told.

The load runs in threads, each with its own FailoverClient (as the pages' threads do): when the
active engine dies or is cut off, their requests time out or are refused and go to the other
engine. Only acknowledged results are recorded. ``check`` then reads the engines' databases:
every acknowledged ticket, call, finish, rating and work-order step is there (RPO 0), numbers are
1..N per service and day without a gap or a repeat, no ticket was called to two windows, a ticket
has at most one rating (一次一评), and both engines hold the same rows (one history).
"""

from __future__ import annotations

import collections
import random
import sqlite3
import threading
import time
from pathlib import Path

from hwd import errors
from hwd.client import Engines, FailoverClient, RpcError, Unreachable

TOLERATED = {errors.NOT_ACTIVE, errors.NOT_REPLICATED, errors.STORAGE_ERROR}


class Ledger:
    """What the clients were told, shared by the load threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued: dict[int, str] = {}
        self.calls: list[tuple[str, int]] = []
        self.finished: set[int] = set()
        self.rated: dict[int, int] = {}  # rating id -> ticket id
        self.steps: list[tuple[int, int]] = []  # (work order id, step id)
        self.acks: collections.Counter = collections.Counter()
        self.last_ack: dict[str, float] = {}
        self.unexpected: list[str] = []

    def snapshot(self) -> "Ledger":
        """A copy of what was acknowledged so far (take it before reading a database)."""
        copy = Ledger()
        with self.lock:
            copy.issued, copy.calls, copy.finished = dict(self.issued), list(self.calls), set(self.finished)
            copy.rated, copy.steps, copy.acks = dict(self.rated), list(self.steps), collections.Counter(self.acks)
            copy.unexpected = list(self.unexpected)
        return copy

    def ack(self, kind: str) -> None:
        self.acks[kind] += 1
        self.last_ack[kind] = time.monotonic()


class Load:
    """Kiosk and counter threads over ``engines`` until ``stop()``."""

    def __init__(self, engines: Engines, windows: list[str], seed: int = 1, timeout: float = 1.0,
                 services: tuple[str, ...] = ("s0", "s1")):
        self.engines, self.windows, self.timeout, self.services = engines, windows, timeout, services
        self.ledger = Ledger()
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._kiosk, args=(seed,), daemon=True)]
        self.threads += [threading.Thread(target=self._counter, args=(w, seed + i), daemon=True)
                         for i, w in enumerate(windows)]
        self.threads.append(threading.Thread(target=self._workorders, args=(seed + 99,), daemon=True))

    def start(self) -> "Load":
        for t in self.threads:
            t.start()
        return self

    def stop(self) -> Ledger:
        self._stop.set()
        for t in self.threads:
            t.join(15)
        return self.ledger

    def _call(self, client: FailoverClient, method: str, params: dict, tolerate: tuple[int, ...] = ()):
        """The result, or an RpcError whose code the caller handles; None when the hall is switching."""
        try:
            return client.call(method, params)
        except Unreachable:
            time.sleep(0.05)
            return None
        except RpcError as exc:
            if exc.code in TOLERATED:
                time.sleep(0.05)
                return None
            if exc.code in tolerate:
                raise
            self.ledger.unexpected.append(f"{method} {params}: {exc.code} {exc}")
            return None

    def _kiosk(self, seed: int) -> None:
        rng = random.Random(seed)
        client = FailoverClient(self.engines, timeout=self.timeout)
        led = self.ledger
        while not self._stop.is_set():
            t = self._call(client, "hall.issue_ticket", {"service": rng.choice(self.services), "kiosk": "k1"})
            if t is not None:
                with led.lock:
                    led.issued[t["id"]] = t["number"]
                    led.ack("issue")
            time.sleep(rng.uniform(0.02, 0.15))
        client.close()

    def _counter(self, window: str, seed: int) -> None:
        rng = random.Random(seed)
        client = FailoverClient(self.engines, timeout=self.timeout)
        led = self.ledger
        step = "call"
        while not self._stop.is_set():
            try:
                if step == "call":
                    t = self._call(client, "hall.call_next", {"window": window}, (errors.BAD_STATE,))
                    if t is not None:
                        with led.lock:
                            led.calls.append((window, t["id"]))
                            led.ack("call")
                        step = "finish"
                    else:
                        time.sleep(0.05)
                elif step == "finish":
                    t = self._call(client, "hall.finish", {"window": window}, (errors.NO_CURRENT_TICKET,))
                    if t is not None:
                        with led.lock:
                            led.finished.add(t["id"])
                            led.ack("finish")
                        step = "rate"
                elif step == "rate":
                    score = rng.choice([1, 2, 3, 4, 5, 5])
                    params = {"window": window, "score": score, **({"reasons": ["attitude"]} if score <= 2 else {})}
                    r = self._call(client, "hall.rate", params, (errors.ALREADY_RATED, errors.NO_CURRENT_TICKET))
                    if r is not None:
                        with led.lock:
                            led.rated[r["id"]] = r["ticket"]
                            led.ack("rate")
                        step = "call"
            except RpcError as exc:  # a reply lost in a failover: the state says where we are
                if exc.code == errors.BAD_STATE:
                    step = "finish"
                elif exc.code in (errors.NO_CURRENT_TICKET, errors.ALREADY_RATED):
                    step = "call"
            time.sleep(rng.uniform(0.01, 0.08))
        client.close()

    def _workorders(self, seed: int) -> None:
        rng = random.Random(seed)
        client = FailoverClient(self.engines, timeout=self.timeout)
        led = self.ledger
        while not self._stop.is_set():
            orders = self._call(client, "hall.workorders", {"state": "open", "limit": 5}) or []
            for order in orders:
                try:
                    w = self._call(client, "hall.workorder", {"id": order["id"], "step": "callback",
                                                               "note": "已回访", "staff": "s1"}, (errors.BAD_STEP,))
                except RpcError:
                    continue
                if w is not None:
                    with led.lock:
                        led.steps.append((w["id"], w["steps"][-1]["id"]))
                        led.ack("step")
            time.sleep(rng.uniform(0.2, 0.5))
        client.close()


def rows(path: Path, sql: str, args: tuple = ()) -> list[tuple]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return [tuple(r) for r in db.execute(sql, args)]
    finally:
        db.close()


def tables(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted: two databases with one history compare equal."""
    names = [r[0] for r in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return {name: sorted(rows(path, f"SELECT * FROM {name}"), key=repr) for name in names}


def check(path: Path, ledger: Ledger) -> dict:
    """The guarantees against one engine's database; returns a few counts."""
    tickets = {r[0]: r for r in rows(path, "SELECT id, number, origin_service, day, seq, state FROM tickets")}
    lost = {tid: n for tid, n in ledger.issued.items() if tickets.get(tid, (None, None))[1] != n}
    assert not lost, f"RPO: acknowledged tickets missing or changed: {sorted(lost.items())[:10]}"
    by_service = collections.defaultdict(list)
    for tid, number, service, day, seq, _state in tickets.values():
        by_service[(service, day)].append(seq)
    for key, seqs in by_service.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"numbers of {key} are not 1..N: {sorted(seqs)[:50]}"
    windows_of = collections.defaultdict(set)
    for ticket, window in rows(path, "SELECT ticket, window FROM actions WHERE action = 'call'"):
        windows_of[ticket].add(window)
    twice = {t: w for t, w in windows_of.items() if len(w) > 1}
    assert not twice, f"tickets called to two windows: {twice}"
    acked = collections.Counter(tid for _w, tid in ledger.calls)
    assert max(acked.values(), default=0) <= 1, f"a ticket given to two calls: {acked.most_common(3)}"
    missing_calls = [(w, t) for w, t in ledger.calls if w not in windows_of.get(t, set())]
    assert not missing_calls, f"RPO: acknowledged calls missing: {missing_calls[:10]}"
    done = {r[0] for r in rows(path, "SELECT id FROM tickets WHERE state = 'done'")}
    assert ledger.finished <= done, f"RPO: acknowledged finishes missing: {sorted(ledger.finished - done)[:10]}"
    ratings = dict(rows(path, "SELECT id, ticket FROM ratings"))
    bad = {rid: t for rid, t in ledger.rated.items() if ratings.get(rid) != t}
    assert not bad, f"RPO: acknowledged ratings missing: {sorted(bad.items())[:10]}"
    per_ticket = collections.Counter(ratings.values())
    assert max(per_ticket.values(), default=0) <= 1, "一次一评: a ticket rated twice"
    steps = {r[0] for r in rows(path, "SELECT id FROM workorder_steps")}
    gone = [s for _w, s in ledger.steps if s not in steps]
    assert not gone, f"RPO: acknowledged work-order steps missing: {gone[:10]}"
    assert not ledger.unexpected, f"unexpected errors: {ledger.unexpected[:10]}"
    return {"tickets": len(tickets), "calls": len(ledger.calls), "ratings": len(ratings), "steps": len(steps)}


def same_history(a: Path, b: Path, timeout: float = 15.0) -> None:
    """Both databases hold the same rows (waiting up to ``timeout`` for the standby to apply the
    last entries: the active may still write one, a sync record or a timer's)."""
    deadline = time.monotonic() + timeout
    while True:
        ta, tb = tables(a), tables(b)
        differ = [name for name in ta if ta[name] != tb.get(name)]
        if not differ:
            return
        if time.monotonic() > deadline:
            name = differ[0]
            extra_a = [r for r in ta[name] if r not in tb.get(name, [])][:5]
            extra_b = [r for r in tb.get(name, []) if r not in ta[name]][:5]
            raise AssertionError(f"the engines' {name} differ: only in {a.parent.parent.name}: {extra_a}; "
                                 f"only in {b.parent.parent.name}: {extra_b}")
        time.sleep(0.3)

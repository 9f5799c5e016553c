"""``kill -9`` of hwd while several client threads issue, call, finish and rate through RPC.

The client threads keep running across the kills (their requests time out and are retried on
the restarted daemon), so the daemon dies in the middle of requests. After every restart:
every ticket whose issue was acknowledged is in the database with the same number, every
acknowledged finish is ``done``, every acknowledged rating is stored, the numbering of each
service is 1..N without a gap or a repeat, and no ticket was handed out by two acknowledged
``hall.call_next`` replies (no ticket served twice). Issuing goes on with the next number.
"""

from __future__ import annotations

import collections
import random
import threading
import time

import pytest

from hwd.client import Client, RpcError, Unreachable

from faults_helpers import hall

SERVICES = ["s0", "s1"]
PREFIX = {"s0": "A", "s1": "B"}


class Ledger:
    """What the clients were told (acknowledged), shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued: dict[int, str] = {}
        self.called: collections.Counter = collections.Counter()
        self.finished: set[int] = set()
        self.rated: dict[int, int] = {}  # rating id -> ticket id
        self.ops = 0
        self.errors: list[str] = []

    def note(self, fn) -> None:
        with self.lock:
            fn()
            self.ops += 1


def issuer(endpoint: str, ledger: Ledger, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    client = Client(endpoint, timeout=1.0, retries=1)
    while not stop.is_set():
        try:
            t = client.call("hall.issue_ticket", {"service": rng.choice(SERVICES)})
            ledger.note(lambda: ledger.issued.__setitem__(t["id"], t["number"]))
        except Unreachable:
            time.sleep(0.05)  # the daemon is down: try again
        except RpcError as exc:
            ledger.errors.append(f"issue: {exc.code} {exc.message}")
    client.close()


def counter(endpoint: str, windows: list[str], ledger: Ledger, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    client = Client(endpoint, timeout=1.0, retries=1)
    while not stop.is_set():
        w = rng.choice(windows)
        try:
            try:
                t = client.call("hall.call_next", {"window": w})
            except RpcError as exc:
                if exc.code != 1107:  # the window holds a ticket called before a kill: finish it
                    raise
                t = None
                done = client.call("hall.finish", {"window": w})
                ledger.note(lambda: ledger.finished.add(done["id"]))
            if t is None:
                continue
            ledger.note(lambda: ledger.called.update([t["id"]]))
            done = client.call("hall.finish", {"window": w})
            ledger.note(lambda: ledger.finished.add(done["id"]))
            if rng.random() < 0.7:
                r = client.call("hall.rate", {"window": w, "score": rng.randint(1, 5)})
                ledger.note(lambda: ledger.rated.__setitem__(r["id"], r["ticket"]))
        except Unreachable:
            time.sleep(0.05)
        except RpcError as exc:
            # a request whose first attempt ran just before a kill can be refused on the retry
            # (e.g. finish of a window already idle): allowed, but only those codes
            if exc.code not in (1106, 1107, 1110):
                ledger.errors.append(f"counter {w}: {exc.code} {exc.message}")
    client.close()


def check(d, ledger: Ledger) -> dict[int, dict]:
    with ledger.lock:
        issued, called = dict(ledger.issued), collections.Counter(ledger.called)
        finished, rated = set(ledger.finished), dict(ledger.rated)
    stored = {t["id"]: t for t in d.call("hall.tickets", {"limit": 5000})}
    missing = set(issued) - set(stored)
    assert not missing, f"acknowledged tickets lost after kill -9: {sorted(missing)[:10]}"
    assert all(stored[i]["number"] == n for i, n in issued.items()), "a ticket changed its number"
    twice = [i for i, n in called.items() if n > 1]
    assert not twice, f"tickets served twice: {twice}"
    assert all(stored[i]["state"] != "waiting" for i in called), "an acknowledged call was undone"
    assert all(stored[i]["state"] == "done" for i in finished), "an acknowledged finish was undone"
    ratings = {r["id"]: r for r in d.call("hall.ratings", {"limit": 5000})}
    assert set(rated) <= set(ratings), "an acknowledged rating is lost"
    assert all(ratings[r]["ticket"] == t for r, t in rated.items())
    for service, prefix in PREFIX.items():
        numbers = sorted(int(t["number"][1:]) for t in stored.values() if t["number"].startswith(prefix))
        assert numbers == list(range(1, len(numbers) + 1)), f"{service}: numbering has a gap or a repeat"
    return stored


def run_kills(hwd_daemon, rounds: int, issuers: int, counters: int, ops_per_round: int) -> None:
    windows = [f"w{i}" for i in range(1, 2 * counters + 1)]
    d = hwd_daemon(hall(services=2, windows=len(windows)))
    ledger = Ledger()
    stop = threading.Event()
    threads = [threading.Thread(target=issuer, args=(d.rpc, ledger, stop, i), daemon=True) for i in range(issuers)]
    threads += [threading.Thread(target=counter, args=(d.rpc, windows[2 * i:2 * i + 2], ledger, stop, 100 + i),
                                 daemon=True) for i in range(counters)]
    for thread in threads:
        thread.start()
    try:
        for _round in range(rounds):
            target = ledger.ops + ops_per_round
            deadline = time.monotonic() + 60
            while ledger.ops < target and time.monotonic() < deadline:
                time.sleep(0.01)
            assert ledger.ops >= target, f"the clients made no progress ({ledger.ops} ops; {ledger.errors[:5]})"
            d.kill()  # SIGKILL while the clients are in the middle of requests
            d.start()
            check(d, ledger)
        assert len(ledger.called) > 0 and len(ledger.rated) > 0 and len(ledger.issued) > 0
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert not ledger.errors, ledger.errors[:10]
    stored = check(d, ledger)
    nxt = d.call("hall.issue_ticket", {"service": "s0"})
    assert int(nxt["number"][1:]) == 1 + sum(1 for t in stored.values() if t["number"].startswith("A"))


@pytest.mark.faults
@pytest.mark.fast
def test_kill_9_in_client_loops_quick(hwd_daemon):
    run_kills(hwd_daemon, rounds=2, issuers=2, counters=2, ops_per_round=40)


@pytest.mark.faults
@pytest.mark.timeout(300)
def test_kill_9_in_client_loops(hwd_daemon):
    run_kills(hwd_daemon, rounds=8, issuers=4, counters=4, ops_per_round=150)

"""A flood of malformed RPC messages from several sockets while the hall is in use.

Four DEALER sockets and a REQ socket send requests of many broken shapes (not UTF-8, not JSON,
batches, scalars, wrong ``jsonrpc``/``id``/``method``/``params`` types, unknown methods, hall
methods with params of the wrong type or out of range, deep nesting, over ``max_request_bytes``,
empty frames, NaN, lone surrogates), as fast as they are answered, while a kiosk thread issues
tickets and a clerk thread calls and finishes them through normal clients.

Proved: every malformed request gets exactly one error reply with the code its shape deserves
(and never ``-32603`` internal error); hwd keeps its pid; the hall served the normal clients
correctly throughout (every issued ticket stored, numbering 1..N, every call acknowledged once).
"""

from __future__ import annotations

import json
import random
import threading
import time

import pytest
import zmq

from hwd.client import Client

from faults_helpers import hall

PARSE, INVALID, NO_METHOD, PARAMS, TOO_LARGE = -32700, -32600, -32601, -32602, -32000


def shapes(rng: random.Random) -> list[tuple[bytes, set[int]]]:
    """(frame, acceptable error codes) for one of each malformed shape."""
    def req(**fields) -> bytes:
        return json.dumps({"jsonrpc": "2.0", "id": rng.randint(1, 10**6), **fields}, ensure_ascii=False).encode()

    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
    return [
        (b"", {PARSE}),
        (b"\xff\xfe\x00garbage", {PARSE}),
        (junk + b"\xff", {PARSE}),
        (b"{not json", {PARSE}),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "daemon.status"', {PARSE}),
        (b'"\\ud800"', {INVALID}),
        (b"NaN", {INVALID}),
        (b"[" * 5000 + b"]" * 5000, {PARSE, INVALID}),
        (b'{"a":' * 3000 + b"1" + b"}" * 3000, {PARSE, INVALID}),
        (b"[]", {INVALID}),
        (json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "daemon.status"}]).encode(), {INVALID}),
        (b"42", {INVALID}),
        (b"null", {INVALID}),
        (b'"hall.issue_ticket"', {INVALID}),
        (b"{}", {INVALID}),
        (json.dumps({"id": 1, "method": "daemon.status"}).encode(), {INVALID}),
        (json.dumps({"jsonrpc": "1.0", "id": 1, "method": "daemon.status"}).encode(), {INVALID}),
        (json.dumps({"jsonrpc": 2.0, "id": 1, "method": "daemon.status"}).encode(), {INVALID}),
        (json.dumps({"jsonrpc": "2.0", "id": True, "method": "daemon.status"}).encode(), {INVALID}),
        (json.dumps({"jsonrpc": "2.0", "id": [1], "method": "daemon.status"}).encode(), {INVALID}),
        (json.dumps({"jsonrpc": "2.0", "id": {"a": 1}, "method": "daemon.status"}).encode(), {INVALID}),
        (json.dumps({"jsonrpc": "2.0", "id": 1.5, "method": "daemon.status"}).encode(), {INVALID}),
        (req(method=None), {INVALID}),
        (req(method=42), {INVALID}),
        (req(method=["hall.state"]), {INVALID}),
        (req(method=""), {NO_METHOD}),
        (req(method="hall.nope"), {NO_METHOD}),
        (req(method="x" * 5000), {NO_METHOD}),
        (req(method="__init__"), {NO_METHOD}),
        (req(method="hall.issue_ticket", params=["s0"]), {PARAMS}),
        (req(method="hall.issue_ticket", params="s0"), {PARAMS}),
        (req(method="hall.issue_ticket", params=7), {PARAMS}),
        (req(method="hall.issue_ticket", params={}), {PARAMS}),
        (req(method="hall.issue_ticket", params={"service": 1}), {PARAMS}),
        (req(method="hall.issue_ticket", params={"service": None}), {PARAMS}),
        (req(method="hall.issue_ticket", params={"service": "s0", "typo": 1}), {PARAMS}),
        (req(method="hall.issue_ticket", params={"service": "s0", "priority": "vip"}), {PARAMS}),
        (req(method="hall.issue_ticket", params={"service": "不存在"}), {1104}),
        (req(method="hall.issue_ticket", params={"service": "s0", "kiosk": "k99"}), {1112}),
        (req(method="hall.issue_ticket", params={"service": "s0", "card_token": "made-up"}), {1113}),
        (req(method="hall.call_next", params={"window": 5}), {PARAMS}),
        (req(method="hall.call_next", params={"window": "w99"}), {1105}),
        (req(method="hall.rate", params={"window": "w1", "score": 9}), {PARAMS}),
        (req(method="hall.rate", params={"window": "w1", "score": "5"}), {PARAMS}),
        (req(method="hall.rate", params={"ticket": "Z999", "score": 5}), {1111}),
        (req(method="hall.stats", params={"group_by": "moon"}), {PARAMS}),
        (req(method="hall.stats", params={"from": "not a date", "group_by": "day"}), {PARAMS}),
        (req(method="hall.tickets", params={"limit": -1}), {PARAMS}),
        (req(method="hall.tickets", params={"limit": 10**30}), {PARAMS}),
        (req(method="clock.set", params={"now": "2026-01-01T00:00:00"}), {NO_METHOD}),
        (req(method="sim.control", params={"device": "nope", "action": "unplug", "params": {}}), {1001, 1008}),
        (req(method="devices.list", params={"extra": True}), {PARAMS}),
        (req(method="printer.print", params={"device": "nope", "document": []}), {1001, PARAMS}),
        (req(method="daemon.status", params={"x": "\ud800"[:0] + "🙂" * 100}), {PARAMS}),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "hall.call_next", "params": {"window": NaN}}', {PARAMS}),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "hall.call_next", "params": {"window": "\\ud800"}}', {1105, PARAMS}),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "hall.state", "params": {}}' + b" " * 300000, {TOO_LARGE}),
        (req(method="hall.issue_ticket", params={"service": "s0", "pad": "x" * 300000}), {TOO_LARGE}),
    ]


def flood(endpoint: str, seconds: float, seed: int, use_req: bool, results: list, stop: threading.Event) -> None:
    rng = random.Random(seed)
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.REQ if use_req else zmq.DEALER)
    sock.linger = 0
    sock.connect(endpoint)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and not stop.is_set():
            cases = shapes(rng)
            rng.shuffle(cases)
            for frame, codes in cases:
                sock.send(frame)
                if not sock.poll(10000):
                    results.append(("no reply", frame[:80], None))
                    return
                raw = sock.recv_multipart()
                if len(raw) != 1:
                    results.append(("frames", frame[:80], raw))
                    continue
                reply = json.loads(raw[0])
                code = (reply.get("error") or {}).get("code")
                if "result" in reply or code not in codes:
                    results.append(("wrong", frame[:80], reply))
                else:
                    results.append(("ok", None, None))
    finally:
        sock.close(linger=0)


def run(d, seconds: float, senders: int) -> None:
    pid = d.call("daemon.status")["pid"]
    stop = threading.Event()
    results: list = []
    issued: list[dict] = []
    called: list[int] = []
    problems: list[str] = []

    def kiosk() -> None:
        client = Client(d.rpc, timeout=10.0, retries=1)
        while not stop.is_set():
            try:
                issued.append(client.call("hall.issue_ticket", {"service": "s0"}))
            except Exception as exc:  # the hall must keep serving
                problems.append(f"issue: {exc!r}")
            stop.wait(0.02)  # a busy kiosk, not a second flood (and under hall.tickets' limit)
        client.close()

    def clerk() -> None:
        client = Client(d.rpc, timeout=10.0, retries=1)
        while not stop.is_set():
            try:
                t = client.call("hall.call_next", {"window": "w2"})
                if t is not None:
                    called.append(t["id"])
                    assert client.call("hall.finish", {"window": "w2"})["id"] == t["id"]
            except Exception as exc:
                problems.append(f"clerk: {exc!r}")
        client.close()

    threads = [threading.Thread(target=flood, args=(d.rpc, seconds, i, i == 0, results, stop))
               for i in range(senders)]
    helpers = [threading.Thread(target=kiosk), threading.Thread(target=clerk)]
    for thread in threads + helpers:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    stop.set()
    for thread in helpers:
        thread.join(30)
    bad = [r for r in results if r[0] != "ok"]
    assert not bad, bad[:5]
    assert len(results) >= senders * 40, f"only {len(results)} malformed requests answered"
    assert not problems, problems[:5]
    assert d.call("daemon.status")["pid"] == pid
    stored = {t["id"]: t for t in d.call("hall.tickets", {"limit": 5000})}
    assert all(stored[t["id"]]["number"] == t["number"] for t in issued)
    numbers = sorted(int(t["number"][1:]) for t in stored.values())
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(called) == len(set(called)) and all(stored[i]["state"] == "done" for i in called)
    assert issued and called, "the hall was not in use during the flood"


@pytest.mark.faults
@pytest.mark.fast
def test_malformed_rpc_flood_quick(hwd_daemon):
    run(hwd_daemon(hall(services=1, windows=2, kiosks=1)), seconds=3, senders=3)


@pytest.mark.faults
@pytest.mark.timeout(240)
def test_malformed_rpc_flood(hwd_daemon):
    run(hwd_daemon(hall(services=1, windows=2, kiosks=1)), seconds=30, senders=5)

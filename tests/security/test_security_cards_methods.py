"""Issue 22 item 1, attacked the way the issue found it: ``idcard.read`` was refused to clients
outside ``[daemon] card_data_clients``, but ``idcard.current`` and the ``idcard.inserted`` event
gave any client the live ``card_token`` and ``idcard.resolve`` turned it into the full card.

Here the whole methods table of a running daemon (the demo hall's devices — an emulated reader
holding a card — and its hall, with the h5 adapter on) is called, every method with plausible
params and the live card token wherever a token fits, over ipc:// and over tcp:// with a CURVE
certificate. A client outside the list gets, in no reply and no event, the card's ID number,
name, address, additional address or photo; the daemon's log never holds them either. A client
in the list gets them from ``idcard.read`` and ``idcard.resolve`` only. The card token keeps
doing its job for anyone: one elderly ticket at its own kiosk.
"""

from __future__ import annotations

import json
import os
import pwd
from typing import Any

import pytest

from support.waits import wait_for
from drivers.idcard.emulator import load_fixture
from hwd import errors
from hwd.client import Client, RpcError, Subscriber, Unreachable
from methods_helpers import Plausible, ipc_daemon, tcp_daemon

ME = pwd.getpwuid(os.getuid()).pw_name
READER = "kiosk1-reader"
CARD = "longterm"  # 李秀兰, born 1952: her token gives an elderly ticket
CARD_METHODS = {"idcard.read", "idcard.resolve"}


def card_secrets(card: dict) -> dict[str, str]:
    """What must never reach a client outside the list: the unmasked values."""
    found = {k: card[k] for k in ("id_number", "name", "address", "address_extra", "name_en", "pass_number")
             if card.get(k)}
    found["photo"] = card["photo_wlt"][:40]
    return found


def drain(sub: Subscriber, seconds: float = 0.3) -> list[dict]:
    out = []
    while (item := sub.recv(timeout=seconds)) is not None:
        out.append(item[1])
    return out


def wait_event(sub: Subscriber, seen: list[dict], topic: str, timeout: float = 15.0) -> dict:
    def found():
        seen.extend(drain(sub, 0.1))
        return next((e for e in seen if e.get("topic") == topic), None)
    return wait_for(found, timeout=timeout, what=topic)


def call_everything(client: Client, sub: Subscriber, d) -> tuple[dict[str, list], list[dict], int]:
    """Place the card, take its token from the event, issue with it, then call every method.
    Returns the replies by method (result, or the error as a dict), every event seen, the card's
    ticket id."""
    wait_for(lambda: all(r["state"] == "online" for r in client.call("devices.list")
                         if r["id"] in (READER, "kiosk1-printer")), timeout=30, what="reader and printer online")
    seen: list[dict] = drain(sub, 0.5)
    client.call("sim.control", {"device": READER, "action": "place", "params": {"card": CARD}})
    inserted = wait_event(sub, seen, "idcard.inserted")
    token = inserted["card_token"]
    # the token's own job, for any client: one elderly ticket at its kiosk
    ticket = client.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1", "card_token": token}, timeout=15)
    assert ticket["priority"] == "elderly" and ticket["holder"] == "李*", ticket
    client.call("hall.login", {"window": "5", "staff": "s01"})
    for action in ("call_next", "start", "finish"):
        client.call(f"hall.{action}", {"window": "5"})
    client.call("hall.rate", {"window": "5", "score": 2})

    methods = client.call("daemon.methods")
    plausible = Plausible(client.call("devices.list"), token, ticket["id"])
    replies: dict[str, list] = {}
    for method in methods:
        for params in plausible.calls(method):
            try:
                reply: Any = {"result": client.call(method["name"], params, timeout=15)}
            except RpcError as exc:
                reply = {"error": {"code": exc.code, "message": str(exc), "data": exc.data}}
            replies.setdefault(method["name"], []).append({"params": params, **reply})
    seen.extend(drain(sub, 0.5))
    assert d.proc.poll() is None
    return replies, seen, ticket["id"]


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [key for key, value in secrets.items() if value in text]


def check_unlisted(replies: dict[str, list], events: list[dict], log: str, secrets: dict[str, str]) -> None:
    for name, rows in replies.items():
        text = json.dumps(rows, ensure_ascii=False)
        assert not leaks(text, secrets), (name, leaks(text, secrets), text[:600])
    for method in CARD_METHODS:
        for row in replies[method]:
            assert row.get("error", {}).get("code") == errors.NOT_AUTHORISED, (method, row)
    assert not leaks(json.dumps(events, ensure_ascii=False), secrets)
    assert not leaks(log, secrets)
    # what the kiosk needs is still there, masked: the greeting and the token
    current = [row["result"] for row in replies["idcard.current"] if row.get("result")]
    assert current and all(c["name"] == "李*" and c["card_token"] for c in current), replies["idcard.current"]
    inserted = next(e for e in events if e["topic"] == "idcard.inserted")
    assert inserted["name"] == "李*" and inserted["id_masked"].startswith("130102") and "*" in inserted["id_masked"]


def _called_everything(replies: dict[str, list], client: Client) -> None:
    names = {m["name"] for m in client.call("daemon.methods")}
    assert names <= set(replies), names - set(replies)
    internal = [(name, r) for name, rows in replies.items() for r in rows
                if r.get("error", {}).get("code") == errors.INTERNAL_ERROR]
    assert not internal, f"plausible params must never give -32603: {internal}"
    answered = sum(1 for rows in replies.values() for r in rows if "result" in r)
    assert answered >= 0.6 * sum(len(rows) for rows in replies.values()), "most calls should succeed"


def test_every_method_over_ipc_for_a_client_outside_the_list(hwd_daemon):
    d, client, subscriber = ipc_daemon(hwd_daemon, ["someone-else"])
    sub = subscriber("unlisted")
    replies, events, _ = call_everything(client("unlisted"), sub, d)
    _called_everything(replies, client("unlisted"))
    check_unlisted(replies, events, d.log(), card_secrets(load_fixture(CARD)))
    log = d.log()
    assert f"idcard.resolve by {ME} on {READER}: refused" in log and f"idcard.read by {ME} on {READER}: refused" in log


def test_every_method_over_ipc_for_a_client_in_the_list(hwd_daemon):
    d, client, subscriber = ipc_daemon(hwd_daemon, [ME])
    sub = subscriber("listed")
    replies, events, _ = call_everything(client("listed"), sub, d)
    card = load_fixture(CARD)
    secrets = card_secrets(card)
    for name, rows in replies.items():
        text = json.dumps(rows, ensure_ascii=False)
        if name in CARD_METHODS:
            got = [r for r in rows if r["params"].get("device") == READER][0]["result"]
            assert got["id_number"] == card["id_number"] and got["address"] == card["address"], name
        else:
            assert not leaks(text, secrets), (name, leaks(text, secrets))
    assert not leaks(json.dumps(events, ensure_ascii=False), secrets)
    log = d.log()
    assert not leaks(log, secrets)
    assert f"idcard.resolve by {ME} on {READER}: allowed" in log


def test_every_method_over_tcp_with_a_curve_certificate(hwd_daemon, tmp_path):
    d, client, subscriber = tcp_daemon(hwd_daemon, tmp_path, ["listed"])
    card = load_fixture(CARD)
    secrets = card_secrets(card)
    sub = subscriber("unlisted")
    replies, events, _ = call_everything(client("unlisted"), sub, d)
    _called_everything(replies, client("unlisted"))
    check_unlisted(replies, events, d.log(), secrets)
    log = d.log()
    assert f"idcard.resolve by unlisted on {READER}: refused" in log

    # the listed certificate, on the same daemon: the card again, from read and resolve only
    listed = client("listed")
    seen: list[dict] = []
    listed_sub = subscriber("listed")
    drain(listed_sub, 0.5)
    listed.call("sim.control", {"device": READER, "action": "remove", "params": {}})
    wait_event(listed_sub, seen, "idcard.removed")
    listed.call("sim.control", {"device": READER, "action": "place", "params": {"card": CARD}})
    token = wait_event(listed_sub, seen, "idcard.inserted")["card_token"]
    assert listed.call("idcard.resolve", {"device": READER, "token": token})["id_number"] == card["id_number"]
    assert listed.call("idcard.read", {"device": READER})["name"] == card["name"]
    with pytest.raises(RpcError) as exc:
        client("unlisted").call("idcard.resolve", {"device": READER, "token": token})
    assert exc.value.code == errors.NOT_AUTHORISED
    assert f"idcard.resolve by listed on {READER}: allowed" in d.log()
    # a certificate the daemon does not know reaches no method at all
    with pytest.raises(Unreachable):
        client("stranger", 1.0).call("idcard.current", {"device": READER})
    assert not leaks(d.log(), secrets)

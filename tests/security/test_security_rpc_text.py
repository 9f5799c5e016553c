"""Issue 22, "not yet attacked": very large or deeply nested JSON and odd Unicode in every text
field, through RPC, and what of it hwd stores and sends to the county.

Every method of the demo hall's daemon (over ipc://, and over tcp:// with a CURVE certificate)
gets, in each of its text params in turn: NUL, a lone surrogate (``"\\ud800"`` is valid JSON), a
right-to-left override, a C1 control, a 10,000-character string; in its object params the same
as a key and params nested 200 deep. Each such request is refused with -32602 (never -32603,
never run); the request envelope's ``id`` and ``client`` likewise. Afterwards nothing of it is in
the hall database or in the outbox records that go to the county and the province, while real
text (Uyghur, emoji, tabs and newlines) still passes intact.
"""

from __future__ import annotations

import itertools
import json
import os
import pwd
import re
import sqlite3
from typing import Any

from hwd import errors
from hwd.client import Client
from methods_helpers import Plausible, ipc_daemon, tcp_daemon
from support.ports import free_port

# the county sink on, pointing nowhere: its records wait in the outbox, exactly as they would be sent
CENTRAL = '\n[hall.central]\ndsn = "host=127.0.0.1 port={port} dbname=county connect_timeout=1"\nhall_id = "h1"\n'

BAD_TEXT = {"nul": "号\x00A001", "lone surrogate": "\ud800窗口", "low surrogate": "x\udc80",
            "rtl override": "\u202e1001", "isolate": "s01\u2066", "c1 control": "a\x9bb", "escape": "\x1b[2J",
            "10k characters": "长" * 10000}
# independent of hwd's own checker: what must never be stored or sent on
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
GOOD_NOTE = "已电话回访\t群众表示理解\nئۇيغۇرچە 😀"


def nested(depth: int) -> Any:
    value: Any = "x"
    for i in range(depth):
        value = {"a": value} if i % 2 else [value]
    return value


_IDS = itertools.count(1)


def raw(client: Client, method: str, params: Any, req_id: Any = None, client_id: Any = "attacker") -> dict:
    """One request as an attacker writes it (json.dumps escapes lone surrogates as \\udXXX); a
    new request id each time, so that no reply is a replay of an earlier one."""
    req_id = next(_IDS) if req_id is None else req_id
    payload = json.dumps({"jsonrpc": "2.0", "id": req_id, "client": client_id, "method": method, "params": params})
    return client.request_raw(payload.encode(), req_id, timeout=15)


def attacks(method: dict, base: dict) -> list[tuple[str, dict]]:
    """(label, params) for every text and object param of a method."""
    out = []
    for f in method["params"] or []:
        name, types = f["name"], f["type"]
        for label, text in BAD_TEXT.items():
            if len(text) <= method["max_text"] and not FORBIDDEN.search(text):
                continue  # a method that takes long text (sim.control: a burst of scans)
            if "string" in types:
                out.append((f"{name}: {label}", {**base, name: text}))
            if "array" in types and (f.get("items") or ["string"]) == ["string"]:
                out.append((f"{name}[0]: {label}", {**base, name: [text]}))
            if "object" in types:
                out.append((f"{name} key: {label}", {**base, name: {text: "x"}}))
                out.append((f"{name}.a: {label}", {**base, name: {"a": text}}))
        if "object" in types or "array" in types:
            out.append((f"{name}: nested 200 deep", {**base, name: nested(200)}))
    return out


def stored_strings(db_path) -> list[tuple[str, str]]:
    """(table.column, text) of every text in the hall database, JSON cells decoded."""
    def walk(where: str, value: Any):
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            for k, v in value.items():
                yield from walk(where, k)
                yield from walk(where, v)
        elif isinstance(value, list):
            for v in value:
                yield from walk(where, v)

    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    out = []
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cur = db.execute(f'SELECT * FROM "{table}"')
            names = [c[0] for c in cur.description]
            for row in cur:
                for column, cell in zip(names, row):
                    if not isinstance(cell, str):
                        continue
                    try:
                        value = json.loads(cell) if cell[:1] in "[{" else cell
                    except ValueError:
                        value = cell
                    out.extend(walk(f"{table}.{column}", value))
    finally:
        db.close()
    return out


def outbox_payloads(db_path) -> list[dict]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return [json.loads(r[0]) for r in db.execute("SELECT payload FROM outbox ORDER BY id")]
    finally:
        db.close()


def run_attack(d, client: Client) -> None:
    pid = client.call("daemon.status")["pid"]
    # a served, badly rated ticket: its records are in the outbox for the county and the province
    ticket = client.call("hall.issue_ticket", {"service": "bdc", "kiosk": "k1"}, timeout=15)
    client.call("hall.login", {"window": "5", "staff": "s01"})
    for action in ("call_next", "start", "finish"):
        client.call(f"hall.{action}", {"window": "5"})
    rating = client.call("hall.rate", {"window": "5", "score": 1})

    methods = client.call("daemon.methods")
    plausible = Plausible(client.call("devices.list"), "no-card-token", ticket["id"])
    tried = 0
    for method in methods:
        base = plausible.calls(method)[0]
        for label, params in attacks(method, base):
            reply = raw(client, method["name"], params)
            tried += 1
            error = reply.get("error") or {}
            assert error.get("code") == errors.INVALID_PARAMS, (method["name"], label, json.dumps(reply)[:300])
    assert tried > 500, tried
    # the envelope itself
    for label, text in BAD_TEXT.items():
        if label == "10k characters":
            continue
        for req_id, client_id in ((text, "attacker"), (7, text)):
            reply = raw(client, "daemon.ping", {}, req_id=req_id, client_id=client_id)
            assert reply["error"]["code"] == errors.INVALID_REQUEST, (label, reply)
    # nesting in the frame itself: past MAX_DEPTH, past Python's recursion limit, past the size limit
    for depth in (40, 900, 100000):
        frame = ('{"jsonrpc":"2.0","id":1,"method":"sim.control","params":{"device":"kiosk1-printer",'
                 '"action":"status","params":' + '{"a":' * depth + '1' + '}' * depth + '}}')
        reply = client.request_raw(frame.encode(), 1, timeout=15)
        assert reply["error"]["code"] in (errors.INVALID_PARAMS, errors.PARSE_ERROR, errors.REQUEST_TOO_LARGE), reply
    assert client.call("daemon.status")["pid"] == pid

    # real text still goes through, intact, into the record the county gets
    wo = rating["workorder"]["id"]
    client.call("hall.workorder", {"id": wo, "step": "callback", "note": GOOD_NOTE, "staff": "s01"})
    client.call("hall.pause", {"window": "5", "reason": "ئۇيغۇرچە"})
    db_path = d.state_dir / "hall.sqlite3"
    texts = stored_strings(db_path)
    bad = [(where, ascii(text)[:80]) for where, text in texts if FORBIDDEN.search(text) or len(text) > 10000]
    assert not bad, bad
    records = outbox_payloads(db_path)
    assert any(r.get("note") == GOOD_NOTE for r in records if r["kind"] == "workorder"), records
    assert any(r.get("reason") == "ئۇيغۇرچە" for r in records if r["kind"] == "window"), records
    assert "长" * 100 not in json.dumps(records, ensure_ascii=False)


def test_odd_text_in_every_param_over_ipc(hwd_daemon):
    d, client, _ = ipc_daemon(hwd_daemon, [pwd.getpwuid(os.getuid()).pw_name], CENTRAL.format(port=free_port()))
    run_attack(d, client("any"))


def test_odd_text_in_every_param_over_tcp_with_curve(hwd_daemon, tmp_path):
    d, client, _ = tcp_daemon(hwd_daemon, tmp_path, ["listed"], CENTRAL.format(port=free_port()),
                              daemon_extra='config_clients = ["listed"]\n')  # config.* reached, to be checked
    run_attack(d, client("listed"))

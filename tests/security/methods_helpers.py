"""The demo hall for the attack tests of issue 22 that call every RPC method: its config (every
device emulated, the hall with the h5 adapter on), a daemon of it over ipc:// or over tcp:// with
CURVE certificates, and plausible params for any method from its description in
``daemon.methods``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Callable

from support.waits import wait_for
from hwd.client import Client, Subscriber
from hwd.keys import keygen
from support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
H5 = '\n[hall.upstream]\nadapter = "h5"\nurl = "http://127.0.0.1:9/pj"\n'


def demo_hall() -> str:
    """config/demo.toml without its [daemon] and [ui] tables (the test gives its own endpoints)."""
    out, skip = [], False
    for line in (ROOT / "config" / "demo.toml").read_text(encoding="utf-8").splitlines():
        header = re.match(r"^\[\[?([^\]]+)\]\]?\s*$", line)
        if header:
            skip = header.group(1) in ("daemon", "ui") or header.group(1).startswith("ui.")
        if not skip:
            out.append(line)
    return "\n".join(out) + H5


class Plausible:
    """Params for a method from its description in ``daemon.methods``: the hall's real ids, the
    live card token wherever a token or card token goes, defaults for the rest."""

    def __init__(self, devices: list[dict], token: str, ticket: int):
        self.devices = devices
        self.token = token
        self.ticket = ticket
        self.by_name: dict[str, Any] = {
            "window": "5", "service": "bdc", "kiosk": "k1", "desk": "1", "staff": "s01", "ticket": ticket,
            "token": token, "card_token": token, "case_no": "BJ-2026-1", "score": 2, "rating": 1, "id": 1,
            "ids": [1], "note": "已回访", "reason": "休息", "text": "请A001号", "lines": ["请A001号", "5号窗口"],
            "document": {"lines": [{"text": "测试"}]}, "seconds": 0.1, "timeout_ms": 300, "action": "status",
            "params": {}, "slot": None, "code": None, "key": "call_next", "job": "x",
        }

    def calls(self, method: dict) -> list[dict]:
        """One params dict per call: per device of its kind for device methods."""
        fields = method["params"] or []
        names = {f["name"] for f in fields}
        if "device" in names:
            kind = method["name"].split(".")[0]
            targets = [d["id"] for d in self.devices if d["kind"] == kind] or [d["id"] for d in self.devices]
            return [self.fill(fields, device) for device in targets]
        return [self.fill(fields, None)]

    def fill(self, fields: list[dict], device: str | None) -> dict:
        params: dict[str, Any] = {}
        for f in fields:
            name = f["name"]
            if name == "device":
                params[name] = device
            elif name in self.by_name and self.by_name[name] is not None:
                value = self.by_name[name]
                if f.get("choices") and value not in f["choices"]:
                    value = f["choices"][0]
                params[name] = value
            elif f["required"]:
                params[name] = self.generic(f)
        return params

    def generic(self, f: dict) -> Any:
        if f.get("choices"):
            return f["choices"][0]
        kind = f["type"][0]
        if kind == "integer":
            return int(f.get("min") or 1)
        if kind == "number":
            return float(f.get("min") or 0.1)
        return {"string": "x", "boolean": False, "array": [], "object": {}}.get(kind, "x")


def tcp_daemon(hwd_daemon, tmp_path: Path, clients: list[str], extra: str = "",
               daemon_extra: str = "") -> tuple[Any, Callable, Callable]:
    """The demo hall over tcp:// with CURVE: certificates ``listed``, ``unlisted`` (both in
    clients_dir) and ``stranger`` (not); card_data_clients as given; ``daemon_extra``: more [daemon] keys."""
    keys = tmp_path / "keys"
    server_pub, server_sec = keygen(keys / "server", "server")
    certs = {name: keygen(keys / name, name) for name in ("listed", "unlisted", "stranger")}
    clients_dir = keys / "clients"
    clients_dir.mkdir()
    for name in ("listed", "unlisted"):
        shutil.copy(certs[name][0], clients_dir)
    rpc, events = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    d = hwd_daemon(f'[daemon]\nrpc = "{rpc}"\nevents = "{events}"\nstate_dir = "{tmp_path / "tcp-state"}"\n'
                   f'server_key = "{server_sec}"\nclients_dir = "{clients_dir}"\nheartbeat_s = 0.5\n'
                   f'card_data_clients = {json.dumps(clients)}\n' + daemon_extra + demo_hall() + extra, name="tcp",
                   start=False)
    d.rpc, d.events_ep = rpc, events
    d.start(wait=False)

    def client(name: str, timeout: float = 10.0) -> Client:
        return Client(rpc, timeout=timeout, retries=1, server_key=server_pub, client_key=certs[name][1])

    def subscriber(name: str) -> Subscriber:
        return Subscriber(events, ("",), server_key=server_pub, client_key=certs[name][1])

    wait_for(lambda: client("unlisted", 1.0).call("daemon.status"), timeout=30, tolerate=(Exception,),
             what="the CURVE daemon up")
    return d, client, subscriber


def ipc_daemon(hwd_daemon, clients: list[str], extra: str = "") -> tuple[Any, Callable, Callable]:
    """The demo hall over ipc://; every client is this test's user (listed or not by ``clients``)."""
    d = hwd_daemon(f'[daemon]\ncard_data_clients = {json.dumps(clients)}\n' + demo_hall() + extra, name="ipc")
    return d, (lambda name, timeout=10.0: Client(d.rpc, timeout=timeout, retries=1)), \
        (lambda name: Subscriber(d.events_ep, ("",)))

"""Helpers for the attack tests of issue 13: a hall config with emulated devices, raw RPC
frames with a chosen client id, the resident memory of a process, and HTTP from a chosen
loopback source address (127.0.0.0/8 only: every attack here stays on this machine)."""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path
from typing import Any

import zmq

PRINTER = '''
[[device]]
id = "{id}"
kind = "printer"
driver = "escpos"
url = "sim://{id}"
status_interval = 0.2
timeout_s = 1.0
'''

SCANNER = '''
[[device]]
id = "{id}"
kind = "scanner"
driver = "serial"
url = "sim://{id}"
max_length = 8192
'''

READER = '''
[[device]]
id = "{id}"
kind = "idcard"
driver = "sam"
url = "sim://{id}"
poll_ms = 50
'''


def hall(extra_devices: str = "", hall_extra: str = "", windows: str = "", kiosks: str = "") -> str:
    return f'''{extra_devices}
[hall]
name = "安全测试政务服务中心"
rating_timeout_s = 600
sync = "normal"
{hall_extra}
[hall.hours]
always_open = true
[[hall.service]]
id = "s0"
name = "业务0"
prefix = "A"
{windows or """
[[hall.window]]
id = "w1"
name = "1号窗口"
services = ["s0"]
[[hall.window]]
id = "w5"
name = "5号窗口"
services = ["s0"]
"""}
{kiosks}
'''


def raw_call(endpoint: str, method: str, params: dict | None, req_id: Any, client: str,
             timeout: float = 5.0) -> dict | None:
    """One request with this client id and request id on a fresh DEALER; the reply or None."""
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(endpoint)
    try:
        req = {"jsonrpc": "2.0", "id": req_id, "client": client, "method": method}
        if params is not None:
            req["params"] = params
        sock.send(json.dumps(req, ensure_ascii=False).encode())
        if not sock.poll(int(timeout * 1000)):
            return None
        return json.loads(sock.recv())
    finally:
        sock.close(linger=0)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


class SourceConnection(http.client.HTTPConnection):
    """HTTP from a chosen loopback source address (another "machine" on the hall LAN)."""

    def __init__(self, host: str, port: int, source: str = "127.0.0.1", timeout: float = 10.0):
        super().__init__(host, port, timeout=timeout, source_address=(source, 0))


def http(port: int, method: str, path: str, source: str = "127.0.0.1", body: Any = None,
         headers: dict | None = None, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    conn = SourceConnection("127.0.0.1", port, source, timeout)
    try:
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

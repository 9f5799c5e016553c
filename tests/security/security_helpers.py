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

from support import devices
from support.halls import Hall
from support.ui import UiProcess

def printer(device_id: str) -> str:
    """An emulated printer that reports paper state often and gives up on a job after 1 s."""
    return devices.printer(device_id, status_interval=0.2, timeout_s=1.0)


def scanner(device_id: str, **options) -> str:
    """An emulated scanner taking codes up to 8 KiB."""
    return devices.scanner(device_id, max_length=8192, **options)


def reader(device_id: str) -> str:
    """An emulated ID-card reader polled every 50 ms."""
    return devices.idcard(device_id, poll_ms=50)


def hall(extra_devices: str = "", hall_extra: str = "", windows: str = "", kiosks: str = "") -> str:
    """The attack tests' hall after ``extra_devices``: one service s0, windows w1 and w5 (or the
    ``windows`` tables given), then ``kiosks``; ``hall_extra``: more of [hall] as TOML text."""
    h = Hall("安全测试政务服务中心", lines=hall_extra, rating_timeout_s=600, sync="normal").service("s0", "业务0", "A")
    if not windows:
        h.window("w1", "1号窗口", ["s0"]).window("w5", "5号窗口", ["s0"])
    return extra_devices + h.then(windows).then(kiosks).toml()


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


class Browser:
    """A client with its own cookies and a chosen loopback source address (one LAN machine)."""

    def __init__(self, ui: UiProcess, source: str = "127.0.0.1"):
        self.ui = ui
        self.source = source
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []

    def _conn(self, timeout: float):
        import http.client as hc

        if self.ui.scheme == "https":
            return hc.HTTPSConnection("127.0.0.1", self.ui.port, timeout=timeout, source_address=(self.source, 0),
                                      context=self.ui.context)
        return hc.HTTPConnection("127.0.0.1", self.ui.port, timeout=timeout, source_address=(self.source, 0))

    def request(self, method: str, path: str, body: Any = None, headers: dict | None = None,
                timeout: float = 15.0, form: dict | None = None) -> tuple[int, dict, bytes]:
        import urllib.parse
        from http.cookies import SimpleCookie

        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn = self._conn(timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            for header, value in resp.getheaders():
                if header.lower() == "set-cookie":
                    self.set_cookie_headers.append(value)
                    jar = SimpleCookie()
                    jar.load(value)
                    for name, morsel in jar.items():
                        if morsel["max-age"] == "0" or (morsel.value == "" and morsel["expires"]):
                            self.cookies.pop(name, None)
                        else:
                            self.cookies[name] = morsel.value
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> tuple[int, dict, bytes]:
        return self.request("GET", path, **kw)

    def csrf(self) -> str:
        html = self.get("/admin/login")[2].decode()
        start = html.index('name="csrf" content="') + len('name="csrf" content="')
        return html[start:html.index('"', start)]

    def post_json(self, path: str, body: dict) -> tuple[int, dict]:
        status, _, payload = self.request("POST", path, body=body, headers={"X-CSRF-Token": self.csrf()})
        return status, json.loads(payload or b"{}")

    def post_form(self, path: str, form: dict) -> tuple[int, dict, bytes]:
        return self.request("POST", path, form={**form, "csrf_token": self.csrf()})


def sse_open(port: int, path: str, source: str, headers: dict | None = None, timeout: float = 10.0) -> socket.socket:
    """Open a live stream with a raw socket (kept open by the caller); the socket reads its body."""
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{extra}\r\n".encode())
    return sock


def read_for(sock: socket.socket, seconds: float) -> bytes:
    """Everything the socket sends within ``seconds`` (or until it closes)."""
    import time

    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            continue
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out

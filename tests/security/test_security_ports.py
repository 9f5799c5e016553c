"""Issue 22 item 6: a few machines cannot lock hwd-ui's main port. 17 addresses × 60 sockets
that send a request head one byte at a time (and, over TLS, a ClientHello one byte at a time)
used to fill waitress's one connection pool (cheroot's worker threads over TLS): the hall's own
kiosk, window PC and ``/healthz`` timed out, and the sockets lived on because every byte reset
the idle timeout. Now an address holds ``connections_per_address``, the last
``reserved_connections`` are kept for the configured machines, and a head must be in within
``header_timeout_s``: the configured machines are answered while the attack holds, and every
slow socket sees its connection closed while it is still sending.
"""

from __future__ import annotations

import selectors
import socket
import ssl
import threading
import time

import pytest

from security_helpers import Browser, hall
from support.ui import UiProcess

KIOSK = '[[hall.kiosk]]\nid = "k1"\naddresses = ["127.0.0.3"]\n'
WINDOWS = '''
[[hall.window]]
id = "w1"
name = "1号窗口"
services = ["s0"]
addresses = ["127.0.0.4"]
'''
ATTACKERS = [f"127.0.0.{i}" for i in range(10, 27)]  # 17 machines
HEAD = b"GET /healthz HTTP/1.1\r\nHost: hall\r\nX-Slow: "


def _config(extra: str = "") -> str:
    # the idle timeout is longer than the attack: only the head deadline can close a slow socket
    return hall(kiosks=KIOSK, windows=WINDOWS) + f"\n[ui]\nphone_port = 0\nidle_timeout_s = 120\n{extra}"


def _client_hello() -> bytes:
    """A real TLS ClientHello, to be sent a byte at a time (the server waits for all of it)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    tls = context.wrap_bio(ssl.MemoryBIO(), outgoing := ssl.MemoryBIO(), server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


class Slowloris:
    """Sockets from many addresses, each sending ``head`` a byte per round and never finishing it."""

    def __init__(self, port: int, sources: list[str], per_source: int, head: bytes):
        self.head = head
        self.socks: list[socket.socket] = []
        self.sent: dict[socket.socket, int] = {}
        self.closed: set[socket.socket] = set()
        for source in sources:
            for _ in range(per_source):
                sock = socket.socket()
                sock.bind((source, 0))
                sock.settimeout(5)
                sock.connect(("127.0.0.1", port))
                sock.setblocking(False)
                self.socks.append(sock)
                self.sent[sock] = 0
        self.selector = selectors.DefaultSelector()
        for sock in self.socks:
            self.selector.register(sock, selectors.EVENT_READ)
        self.stop = threading.Event()
        self.rounds = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Slowloris":
        self.thread.start()
        return self

    def _drip(self) -> None:
        for sock in self.socks:
            if sock in self.closed:
                continue
            i = self.sent[sock]
            byte = self.head[i:i + 1] or b"a"  # past the head: a header value that never ends
            try:
                sock.send(byte)
                self.sent[sock] = i + 1
            except BlockingIOError:
                pass
            except OSError:
                self._closed(sock)
        self.rounds += 1

    def _closed(self, sock: socket.socket) -> None:
        if sock not in self.closed:
            self.closed.add(sock)
            self.selector.unregister(sock)

    def _watch(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and len(self.closed) < len(self.socks):
            for key, _ in self.selector.select(timeout=max(0.01, end - time.monotonic())):
                sock = key.fileobj
                try:
                    if sock.recv(65536) == b"":
                        self._closed(sock)  # the server closed it (a 408 may come first)
                except BlockingIOError:
                    pass
                except OSError:
                    self._closed(sock)

    def _run(self) -> None:
        while not self.stop.is_set() and len(self.closed) < len(self.socks):
            self._drip()
            self._watch(1.0)  # a byte a second on every socket: the idle timeout never runs out

    def wait_all_closed(self, timeout: float) -> None:
        self.thread.join(timeout)
        still = len(self.socks) - len(self.closed)
        assert still == 0, f"{still} of {len(self.socks)} slow sockets still open after {self.rounds} bytes"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for sock in self.socks:
            sock.close()
        self.selector.close()


def _hall_machines_answer(ui: UiProcess) -> None:
    """The window PC's ``/healthz``, this PC's, and the kiosk's page, while the attack holds."""
    status, _, body = Browser(ui, "127.0.0.4").get("/healthz", timeout=20)
    assert status == 200 and b'"ok"' in body
    assert Browser(ui, "127.0.0.1").get("/healthz", timeout=20)[0] == 200
    status, _, page = Browser(ui, "127.0.0.3").get("/kiosk/k1", timeout=20)
    assert status == 200 and "业务0" in page.decode()


def _attack(ui: UiProcess, head: bytes, what: str) -> None:
    loris = Slowloris(ui.port, ATTACKERS, 60, head).start()
    try:
        while loris.rounds < 3:  # every socket is open and has sent a few bytes
            time.sleep(0.1)
        _hall_machines_answer(ui)
        loris.wait_all_closed(timeout=90)
        assert f"closed a {what} from 127.0.0." in ui.log() and "no complete request head" in ui.log()
        assert "refused a" in ui.log() and "it holds 16 already" in ui.log()  # connections_per_address
        _hall_machines_answer(ui)
    finally:
        loris.close()


@pytest.mark.timeout(300)
def test_17_slow_addresses_leave_the_hall_machines_served_over_http(hwd_daemon):
    d = hwd_daemon(_config("header_timeout_s = 4\n"))
    ui = UiProcess(d.config_path)
    try:
        _attack(ui, HEAD, "connection")
    finally:
        ui.stop()


@pytest.mark.timeout(300)
def test_17_slow_addresses_leave_the_hall_machines_served_over_https(hwd_daemon, tmp_path):
    from hwd import hwctl

    assert hwctl.main(["tls", str(tmp_path / "tls"), "127.0.0.1", "localhost", "--hall", "测试大厅"]) == 0
    d = hwd_daemon(_config(f'header_timeout_s = 4\ntls_certificate = "{tmp_path / "tls" / "server.pem"}"\n'
                           f'tls_key = "{tmp_path / "tls" / "server.key"}"\n'))
    context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "hall-ca.pem"))
    ui = UiProcess(d.config_path, scheme="https", context=context)
    try:
        _attack(ui, _client_hello(), "TLS connection")
    finally:
        ui.stop()


def test_many_addresses_cannot_take_the_connections_kept_for_the_hall(hwd_daemon):
    """20 addresses × 4 silent sockets fill what is not reserved (60 of 100): one more address is
    refused, the kiosk and the window PC still connect."""
    d = hwd_daemon(_config("header_timeout_s = 120\nmax_connections = 100\nreserved_connections = 40\n"
                           "connections_per_address = 4\n"))
    ui = UiProcess(d.config_path)
    held: list[socket.socket] = []
    try:
        for i in range(30, 50):
            for _ in range(4):
                sock = socket.create_connection(("127.0.0.1", ui.port), timeout=5, source_address=(f"127.0.0.{i}", 0))
                held.append(sock)
        deadline = time.monotonic() + 20
        while "refused a connection from" not in ui.log():  # the 61st and later were closed at accept
            assert time.monotonic() < deadline, ui.log()
            time.sleep(0.1)
        assert "kept for the hall's machines" in ui.log()
        with pytest.raises(ConnectionError):  # a newcomer: closed at accept
            Browser(ui, "127.0.0.99").get("/healthz", timeout=5)
        _hall_machines_answer(ui)
    finally:
        for sock in held:
            sock.close()
        ui.stop()

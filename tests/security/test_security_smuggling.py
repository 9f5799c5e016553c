"""Issue 22, not attacked before: request smuggling and oversized heads on both of hwd-ui's
ports — the main port over plain HTTP (waitress) and over TLS (cheroot), and the phone server
(aiohttp). Each malformed head carries a second request in what one parser reads as its body and
another as the next request, and a plain follow-up behind it on the same connection. Each must be
refused (a 4xx, or the connection closed) with nothing answered after it — above all not the
smuggled request — and the server goes on serving others. waitress and cheroot took
``Content-Length`` with ``Transfer-Encoding`` and answered the smuggled request; cheroot also took
a second ``Content-Length``, ``+5``, ``0_5``, ``Content-Length :`` and, unread, a chunked body.
"""

from __future__ import annotations

import re
import socket
import ssl
import time

import pytest

from security_helpers import Browser, hall
from support.ports import free_port
from support.ui import UiProcess

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: hall\r\n\r\n"  # 404 wherever it is answered


def _cases(post: bytes) -> dict[str, bytes]:
    """``post``: a request line of the port that answers a POST without reading its body."""
    n = len(SMUGGLED)
    return {
        "CL then TE": post + b"Host: hall\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        + SMUGGLED,
        "TE then CL": post + b"Host: hall\r\nTransfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n" % (n + 5)
        + b"0\r\n\r\n" + SMUGGLED,
        "two CL": post + b"Host: hall\r\nContent-Length: 0\r\nContent-Length: %d\r\n\r\n" % n + SMUGGLED,
        "two equal CL": post + b"Host: hall\r\nContent-Length: %d\r\nContent-Length: %d\r\n\r\n" % (n, n) + SMUGGLED,
        "CL +n": post + b"Host: hall\r\nContent-Length: +%d\r\n\r\n" % n + SMUGGLED,
        "CL 0_n": post + b"Host: hall\r\nContent-Length: 0_%d\r\n\r\n" % n + SMUGGLED,
        "CL space colon": post + b"Host: hall\r\nContent-Length : %d\r\n\r\n" % n + SMUGGLED,
        "TE space colon": post + b"Host: hall\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
        "folded TE": post + b"Host: hall\r\nX-A: 1\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
        "folded TE value": post + b"Host: hall\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: %d\r\n\r\n" % n
        + SMUGGLED,
        "TE twice": post + b"Host: hall\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        + SMUGGLED,
        "TE chunked, chunked": post + b"Host: hall\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
        "TE in HTTP/1.0": post.replace(b"HTTP/1.1", b"HTTP/1.0")
        + b"Host: hall\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n" % n
        + SMUGGLED,
        "bare LF": b"GET /smuggled HTTP/1.1\nHost: hall\nX-A: 1\n\n",
        "bare LF in a field": b"GET /smuggled HTTP/1.1\r\nHost: hall\nX-A: 1\r\n\r\n",
        "NUL in a value": b"GET /smuggled HTTP/1.1\r\nHost: hall\r\nX-A: a\0b\r\n\r\n",
        "100 KB header line": b"GET /smuggled HTTP/1.1\r\nHost: hall\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
        "1000 headers": b"GET /smuggled HTTP/1.1\r\nHost: hall\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(1000))
        + b"\r\n",
        "100 KB request line": b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: hall\r\n\r\n",
        "24 KB of small headers": b"GET /smuggled HTTP/1.1\r\nHost: hall\r\n"
        + b"".join(b"X-Fill-%02d: %s\r\n" % (i, b"b" * 400) for i in range(60)) + b"\r\n",
    }


def _statuses(port: int, data: bytes, context: ssl.SSLContext | None, expect: int | None = None) -> tuple[list[int], bool]:
    """Send ``data`` on one connection; the statuses answered, and whether the server closed it.
    With ``expect``, reading stops once that many whole answers are in (a server keeps a sound
    connection open: without it the read waits out its 5 s)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.7", 0))
    if context is not None:
        sock = context.wrap_socket(sock, server_hostname="localhost")
    out, closed = b"", False
    try:
        try:
            sock.sendall(data)
        except OSError:  # closed before it took it all: refused
            closed = True
        deadline = time.monotonic() + 5
        while not closed and time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, TimeoutError):
                break
            except OSError:
                closed = True
                break
            if not chunk:
                closed = True
            out += chunk
            if expect is not None and len(_parse(out)) >= expect:
                break
    finally:
        sock.close()
    return _parse(out), closed


def _parse(out: bytes) -> list[int]:
    """The statuses of the responses in ``out``, one after another by their framing."""
    statuses = []
    while out:
        head, sep, rest = out.partition(b"\r\n\r\n")
        match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
        if not sep or not match:
            break
        statuses.append(int(match.group(1)))
        lines = head.split(b"\r\n")[1:]
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines)}
        if b"content-length" in fields:
            out = rest[int(fields[b"content-length"]):]
        elif fields.get(b"transfer-encoding") == b"chunked":
            while True:
                size, _, rest = rest.partition(b"\r\n")
                rest = rest[int(size.split(b";")[0] or b"0", 16) + 2:]
                if int(size.split(b";")[0] or b"0", 16) == 0:
                    break
            out = rest
        else:
            break  # the body runs to the close
    return statuses


def _attack(port: int, post: bytes, follow: bytes, context: ssl.SSLContext | None = None) -> None:
    statuses, _ = _statuses(port, follow + follow, context, expect=2)
    assert statuses == [200, 200], f"the harness sees every answer of a connection: {statuses}"
    for name, head in _cases(post).items():
        statuses, closed = _statuses(port, head + follow, context)
        assert 404 not in statuses, f"{name}: the smuggled request was answered: {statuses}"
        assert statuses[:1] in ([], [400], [413], [414], [431], [501]) and len(statuses) <= 1 and closed, \
            f"{name}: {statuses}, closed={closed}"


def _unread_chunked(port: int, post: bytes, follow: bytes, context: ssl.SSLContext | None = None) -> None:
    """A valid chunked body the page does not read: its bytes must never become a request."""
    body = b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n"
    statuses, _ = _statuses(port, post + b"Host: hall\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + body + follow, context, expect=2)
    assert statuses and 400 <= statuses[0] < 500 and 404 not in statuses, statuses
    assert statuses[1:] in ([], [200]), statuses


def _main_port(ui: UiProcess, context: ssl.SSLContext | None = None) -> None:
    follow = b"GET /healthz HTTP/1.1\r\nHost: hall\r\n\r\n"
    _attack(ui.port, b"POST /healthz HTTP/1.1\r\n", follow, context)
    _unread_chunked(ui.port, b"POST /healthz HTTP/1.1\r\n", follow, context)
    assert Browser(ui, "127.0.0.8").get("/healthz")[0] == 200, "others are served"


def test_smuggled_and_oversized_heads_are_refused_on_the_main_port(hwd_daemon):
    d = hwd_daemon(hall() + "\n[ui]\nphone_port = 0\n")
    ui = UiProcess(d.config_path)
    try:
        _main_port(ui)
    finally:
        ui.stop()


def test_smuggled_and_oversized_heads_are_refused_on_the_main_port_over_tls(hwd_daemon, tmp_path):
    from hwd import hwctl

    assert hwctl.main(["tls", str(tmp_path / "tls"), "127.0.0.1", "localhost", "--hall", "测试大厅"]) == 0
    d = hwd_daemon(hall() + f'\n[ui]\nphone_port = 0\ntls_certificate = "{tmp_path / "tls" / "server.pem"}"\n'
                   f'tls_key = "{tmp_path / "tls" / "server.key"}"\n')
    context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "hall-ca.pem"))
    ui = UiProcess(d.config_path, scheme="https", context=context)
    try:
        _main_port(ui, context)
    finally:
        ui.stop()


def test_smuggled_and_oversized_heads_are_refused_on_the_phone_port(hwd_daemon):
    phone_port = free_port()
    d = hwd_daemon(hall() + f"\n[ui]\nphone_port = {phone_port}\n")
    ui = UiProcess(d.config_path)
    try:
        ticket = d.call("hall.issue_ticket", {"service": "s0"})
        token = d.call("hall.ticket_token", {"ticket": ticket["id"]})["token"]
        follow = f"GET /t/{token}/state HTTP/1.1\r\nHost: hall\r\n\r\n".encode()
        deadline = time.monotonic() + 20
        while _statuses(phone_port, follow, None, expect=1)[0] != [200]:  # the phone board has the ticket
            assert time.monotonic() < deadline
            time.sleep(0.2)
        _attack(phone_port, f"POST /t/{token}/rate HTTP/1.1\r\n".encode(), follow)
        _unread_chunked(phone_port, f"POST /t/{token}/rate HTTP/1.1\r\n".encode(), follow)
        assert _statuses(phone_port, follow, None, expect=1)[0] == [200], "others are served"
    finally:
        ui.stop()


@pytest.mark.parametrize("line", [b"GET / HTTP/1.1", b"GET /healthz HTTP/1.1"])
def test_the_strict_reading_accepts_what_browsers_send(line):
    """The checks of hwd.web.framing, on a head a browser sends: nothing refused."""
    from hwd.web import framing

    head = line + b"\r\nHost: 10.1.2.3:8080\r\nUser-Agent: Mozilla/5.0 (Linux; Android 14) " + "微信".encode() + (
        b"\r\nAccept: text/html,*/*;q=0.8\r\nCookie: hwd_ui=abc.def\r\nContent-Length: 0\r\n\r\n")
    fields = framing.head(head)
    assert (b"content-length", b"0") in fields and len(fields) == 5

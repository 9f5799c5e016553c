"""One HTTP POST to a receiver that may misbehave or be hostile, for every HTTP sink of the outbox
(push-json towards the province, the phone notices' gateway).

Why not ``urllib.request``: its timeout applies to each socket operation, so a receiver that
drips a byte within every timeout holds the sender for as long as it likes; and it follows a
301/302/303 by turning the POST into a GET to whatever host ``Location`` names, with our headers.
Here:

- **one deadline for the whole exchange** (connect, TLS handshake, sending, the reply's headers
  and body): every blocking socket call gets the time that is left, never more, and fails once
  none is left. Only the name lookup (``getaddrinfo``) is not covered: the system resolver's own
  timeouts bound it (``/etc/resolv.conf``);
- **redirects are never followed** (``http.client`` does not follow them; the caller gets the 3xx
  with its ``Location``);
- **the reply read is capped** (``max_reply`` bytes): a larger one, announced or streamed, is an
  error and the connection is closed without reading on; ``http.client`` itself caps the status
  line and each header at 64 KiB and the headers at 100.

No proxy is used (``*_proxy`` in the environment is ignored): a hall reaches its receivers
directly, as the systemd unit's empty environment did before.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass

MAX_REPLY = 64 * 1024


class PostError(Exception):
    """No usable reply: refused, reset, out of time, too large, malformed, bad TLS."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    location: str | None  # a redirect's target, as the receiver sent it (never followed)


class _Deadline:
    """The monotonic time by which the whole exchange must be over."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left


class _Armed:
    """Sets the socket's timeout to what is left of the deadline before each blocking call."""

    deadline: _Deadline

    def _arm(self) -> None:
        self.settimeout(self.deadline.left())  # type: ignore[attr-defined]

    def recv(self, *args):  # type: ignore[no-untyped-def]
        self._arm()
        return super().recv(*args)  # type: ignore[misc]

    def recv_into(self, *args):  # type: ignore[no-untyped-def]
        self._arm()
        return super().recv_into(*args)  # type: ignore[misc]

    def send(self, *args):  # type: ignore[no-untyped-def]
        self._arm()
        return super().send(*args)  # type: ignore[misc]

    def sendall(self, *args):  # type: ignore[no-untyped-def]
        self._arm()
        return super().sendall(*args)  # type: ignore[misc]


class _Socket(_Armed, socket.socket):
    pass


class _TLSSocket(_Armed, ssl.SSLSocket):
    def do_handshake(self, *args):  # type: ignore[no-untyped-def]
        self._arm()
        return super().do_handshake(*args)


def tls_context() -> ssl.SSLContext:
    """The default verifying context (system CAs, host names checked), with deadline sockets."""
    context = ssl.create_default_context()
    context.sslsocket_class = _TLSSocket
    return context


def _connect(host: str, port: int, deadline: _Deadline) -> _Socket:
    error: OSError | None = None
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = _Socket(family, kind, proto)
        sock.deadline = deadline
        try:
            sock._arm()
            sock.connect(address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"{host}: no address")


def post(url: str, body: bytes, headers: dict[str, str], deadline_s: float, max_reply: int = MAX_REPLY,
         context: ssl.SSLContext | None = None) -> Reply:
    """POST ``body`` to ``url`` and read the reply, all within ``deadline_s`` seconds. Raises
    ``PostError`` when there is no complete reply of at most ``max_reply`` bytes in time."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PostError(f"not an http(s) URL: {url!r}")
    tls = parts.scheme == "https"
    deadline = _Deadline(deadline_s)
    conn: http.client.HTTPConnection | None = None
    sock: socket.socket | None = None
    try:
        port = parts.port or (443 if tls else 80)
        sock = _connect(parts.hostname, port, deadline)
        if tls:
            wrapped = (context or tls_context()).wrap_socket(sock, server_hostname=parts.hostname,
                                                             do_handshake_on_connect=False)
            sock = wrapped
            if not isinstance(wrapped, _TLSSocket):
                raise PostError("the TLS context does not make deadline sockets (use http_post.tls_context())")
            wrapped.deadline = deadline
            wrapped.do_handshake()
        conn = http.client.HTTPConnection(parts.hostname, port)
        conn.sock = sock  # connected here, under the deadline: http.client only speaks HTTP on it
        conn.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body, headers)
        resp = conn.getresponse()
        announced = resp.getheader("Content-Length")
        if announced is not None and announced.strip().isdigit() and int(announced) > max_reply:
            raise PostError(f"HTTP {resp.status}: a reply of {int(announced)} bytes (more than {max_reply})")
        raw = resp.read(max_reply + 1)
        if len(raw) > max_reply:
            raise PostError(f"HTTP {resp.status}: a reply of more than {max_reply} bytes")
        return Reply(resp.status, raw, resp.getheader("Location"))
    except PostError:
        raise
    except TimeoutError:  # every blocking call had only what was left of the deadline
        raise PostError(f"no complete reply within the {deadline_s:g} s deadline") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:  # refused, reset, timeout, TLS, bad reply
        raise PostError(f"{type(exc).__name__}: {exc}") from None
    finally:
        if conn is not None:
            conn.close()
        elif sock is not None:
            sock.close()

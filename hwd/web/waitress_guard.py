"""waitress held to the rules of every hwd page server (docs/security.md, "Holding the ports").

waitress keeps every connection in one pool and closes a connection only after its idle timeout
without a byte, so 17 addresses sending one byte every 5 s on 60 sockets each filled hwd-ui's
pool and the hall's own kiosks and counters timed out. ``guard`` gives a waitress server:

- a ``hwd.web.conncap.ConnectionCap`` that every connection passes at accept (per address, and
  a reserve for the hall's configured machines); one it refuses is closed at once;
- a head deadline: a request's line and headers must be in within ``head_timeout_s`` of its
  first byte (of the connection's opening, for its first request), however often bytes come;
- the strict head of ``hwd.web.framing`` (no smuggling).

The server's own ``max_request_header_size`` should be ``framing.MAX_HEAD``.
"""

from __future__ import annotations

import time
from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import MultiSocketServer

from hwd.audit import AUDIT
from hwd.web import framing
from hwd.web.conncap import ConnectionCap, Refused


class StrictParser(HTTPRequestParser):
    """waitress's parser behind ``hwd.web.framing``'s checks."""

    def parse_header(self, header_plus: bytes) -> None:
        try:
            framing.head(header_plus)
        except framing.BadHead as exc:
            raise ParsingError(str(exc)) from None
        super().parse_header(header_plus)


class GuardedChannel(HTTPChannel):
    """A connection holding a slot of the cap, closed when a request head takes too long."""

    parser_class = StrictParser
    cap: ConnectionCap
    head_timeout_s = 10.0

    def __init__(self, server, sock, addr, adj, slot, map=None):
        self.slot = slot
        self.head_since: float | None = time.monotonic()  # the first request's head is awaited
        super().__init__(server, sock, addr, adj, map=map)
        self.cap.watch(self, slot)

    def received(self, data: bytes) -> bool:
        started = time.monotonic()
        result = super().received(data)
        if self.request is not None and not self.request.headers_finished:
            if self.head_since is None:
                self.head_since = started
        else:
            self.head_since = None
        return result

    def readable(self) -> bool:
        # the loop asks every channel at least once a second (asyncore_loop_timeout)
        if (self.head_since is not None and not self.requests
                and time.monotonic() - self.head_since > self.head_timeout_s):
            self.head_since = None
            AUDIT.warning(f"head-timeout:{self.slot.keys[0] if self.slot.keys else self.slot.host}",
                          "closed a connection from %s: no complete request head within %g s",
                          self.slot.host, self.head_timeout_s)
            self.will_close = True  # writable() now, and handle_write closes
            return False
        return super().readable()

    def del_channel(self, map=None) -> None:
        super().del_channel(map)
        self.cap.release(self.slot)


def guard(server: Any, cap: ConnectionCap, head_timeout_s: float) -> None:
    """Give every listener of a waitress server the cap and the head deadline: a connection the
    cap refuses is closed at accept."""
    channel_class = type("HallChannel", (GuardedChannel,), {"cap": cap, "head_timeout_s": head_timeout_s})

    def channel(srv, conn, addr, adj, map=None):
        host = addr[0] if isinstance(addr, tuple) else str(addr)
        try:
            slot = cap.admit(host)
        except Refused:
            try:
                conn.close()
            except OSError:
                pass
            return None
        try:
            return channel_class(srv, conn, addr, adj, slot, map=map)
        except OSError:  # gone before it was set up
            cap.release(slot)
            conn.close()
            return None

    listeners = list(server.map.values()) if isinstance(server, MultiSocketServer) else [server]
    for listener in listeners:
        if hasattr(listener, "channel_class") and not isinstance(listener, HTTPChannel):
            listener.channel_class = channel

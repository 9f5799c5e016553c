"""``udp://HOST:PORT``: window screens with an IP address take the same frames as on RS-485, one
datagram per frame (uvbs/HospitalQueueSystem ``NurseStation/com/SLZCWndScreen.cpp``
``SendDataToThroughScreen`` sends the ``DoScreenMsg`` frame with ``MySocketUDP::SendTo`` when the
screen has an IP, and writes it to the serial port otherwise).

``UdpPort`` is the host's side, shaped like the pyserial port a ``SharedPort`` (hwd/sharedport.py)
reads and writes: each ``write`` is one datagram to the screen, ``read`` returns the next datagram
from it (a screen's ack), whatever size was asked. ``UdpLink`` is the emulator's side
(``sim://NAME?transport=udp``): a socket on a loopback port that hands every datagram to the
emulators on it and answers the last sender.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from typing import Callable

log = logging.getLogger("drivers.display.udp")

MAX_DATAGRAM = 65507


class UdpPort:
    """A connected UDP socket with the part of pyserial's interface a shared port uses."""

    def __init__(self, host: str, port: int, timeout: float = 0.05):
        self.timeout = timeout
        self.address = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.connect(self.address)   # only the screen's datagrams are read
        except OSError:
            self.sock.close()
            raise

    @property
    def in_waiting(self) -> int:
        return 0            # a datagram is read whole by read()

    def read(self, size: int = 1) -> bytes:
        """The next datagram (whole, whatever ``size``), or b"" after ``timeout``."""
        ready, _, _ = select.select([self.sock], [], [], self.timeout)
        if not ready:
            return b""
        try:
            return self.sock.recv(MAX_DATAGRAM)
        except ConnectionRefusedError:
            return b""      # ICMP port unreachable for an earlier datagram: nobody listens (yet)

    def write(self, data: bytes) -> int:
        return self.sock.send(data)

    def flush(self) -> None:
        """A datagram is on its way once ``write`` returned."""

    def close(self) -> None:
        self.sock.close()


class UdpLink:
    """The emulator's side of a UDP screen: listens on 127.0.0.1; ``unplug`` closes the socket and
    ``plug`` listens on the same port again. Same interface as hwd/sim.py's pty and TCP links."""

    def __init__(self, on_data: Callable[[bytes], None], name: str = "udp", port: int = 0):
        self.listeners = [on_data]
        self.name = name
        self.port = port
        self.peer: tuple[str, int] | None = None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"udp://127.0.0.1:{self.port}"

    @property
    def plugged(self) -> bool:
        return self._sock is not None

    def start(self) -> str:
        self.plug()
        self._thread = threading.Thread(target=self._loop, name=f"sim-{self.name}", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._stop.set()
        self.unplug()
        if self._thread:
            self._thread.join(timeout=1)

    def add_listener(self, on_data: Callable[[bytes], None]) -> None:
        self.listeners.append(on_data)

    def plug(self) -> None:
        with self._lock:
            if self._sock is not None:
                return
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", self.port))
            self.port = sock.getsockname()[1]
            self._sock = sock

    def unplug(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._sock is None or self.peer is None:
                return
            with contextlib.suppress(OSError):
                self._sock.sendto(data, self.peer)

    def _loop(self) -> None:
        while not self._stop.is_set():
            sock = self._sock
            if sock is None:
                self._stop.wait(0.05)
                continue
            try:
                ready, _, _ = select.select([sock], [], [], 0.1)
                if not ready:
                    continue
                data, peer = sock.recvfrom(MAX_DATAGRAM)
            except (OSError, ValueError):
                self._stop.wait(0.05)
                continue
            self.peer = peer
            for on_data in list(self.listeners):
                try:
                    on_data(data)
                except Exception:
                    log.exception("%s: emulator failed on a datagram", self.name)

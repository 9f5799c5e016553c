"""Opening serial-style links, and sharing one physical port between several devices.

Serial ports are opened with ``serial.serial_for_url`` so that pyserial's URL handlers work
(``spy://`` to see the bytes, ``socket://``). A ``tcp://`` URL on a serial-style driver is a
TCP-to-serial converter and is opened as ``socket://``. Several LED screens on one RS-485 bus
share one ``SharedPort``: its lock makes each frame (and its ack) one uninterrupted transaction.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from urllib.parse import parse_qsl
from typing import Any, Callable, Iterator

from hwd.errors import DeviceError, DeviceLost
from hwd.url import DeviceUrl


def open_serial(url: DeviceUrl, baudrate: int = 9600, timeout: float = 0.2, *, capture_ok: bool = True,
                **kwargs: Any):
    """Open a serial-style link (serial://, tcp:// via socket://, or any pyserial URL), wrapped in
    a ``TapPort`` so its traffic can be captured (hwd/capture.py; ``?capture=FILE`` records it
    for the port's life). ``capture_ok=False`` refuses that (ports that carry personal data)."""
    from hwd.capture import Recorder, TapPort

    own = None
    path = url.params.get("capture") or dict(parse_qsl(url.raw.partition("?")[2])).get("capture")
    if path:
        if not capture_ok:
            raise DeviceError("this device's traffic carries personal data: remove ?capture= from its url")
        own = Recorder(_without_capture(url.raw), Path(path))
    return TapPort(_open(url, baudrate, timeout, **kwargs), port_key(url), own)


def _open(url: DeviceUrl, baudrate: int, timeout: float, **kwargs: Any):
    import serial

    params = {"baudrate": baudrate, "timeout": timeout, **kwargs}
    params.update({k: v for k, v in url.params.items() if k in (
        "baudrate", "bytesize", "parity", "stopbits", "timeout", "xonxoff", "rtscts")})
    if "xonxoff" in params:
        params["xonxoff"] = bool(params["xonxoff"])
    if "rtscts" in params:
        params["rtscts"] = bool(params["rtscts"])
    if url.scheme == "serial":
        return serial.serial_for_url(url.target, exclusive=True, **params)
    if url.scheme == "tcp":
        return serial.serial_for_url(f"socket://{url.host}:{url.port}", **params)
    return serial.serial_for_url(_without_capture(url.raw), **params)


def _without_capture(raw: str) -> str:
    """A pyserial URL (spy://, rfc2217://) must not see hwd's own ``capture`` option."""
    base, _, query = raw.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith("capture=")]
    return base + ("?" + "&".join(kept) if kept else "")


def port_key(url: DeviceUrl) -> str:
    """Devices whose URLs name the same port share it."""
    return url.target if url.scheme == "serial" else url.raw.split("?")[0]


class SharedPort:
    """A port opened once for all its devices; ``transaction()`` serialises their access."""

    def __init__(self, key: str, opener: Callable[[], Any]):
        self.key = key
        self.opener = opener
        self.lock = threading.RLock()
        self.port: Any = None
        self.users = 0
        self.generation = 0   # how often the port was (re)opened: a device can tell it was reopened

    def ensure_open(self) -> Any:
        with self.lock:
            if self.port is None:
                self.port = self.opener()
                self.generation += 1
            return self.port

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.lock:
            port = self.ensure_open()
            try:
                yield port
            except OSError as exc:
                self.invalidate()
                raise DeviceLost(f"port {self.key}: {exc}") from exc

    def invalidate(self) -> None:
        with self.lock:
            if self.port is not None:
                with contextlib.suppress(Exception):
                    self.port.close()
                self.port = None


class PortRegistry:
    def __init__(self) -> None:
        self._ports: dict[str, SharedPort] = {}
        self._lock = threading.Lock()

    def get(self, key: str, opener: Callable[[], Any]) -> SharedPort:
        with self._lock:
            port = self._ports.get(key)
            if port is None:
                port = self._ports[key] = SharedPort(key, opener)
            port.users += 1
            return port

    def release(self, port: SharedPort) -> None:
        with self._lock:
            port.users -= 1
            if port.users <= 0:
                port.invalidate()
                self._ports.pop(port.key, None)

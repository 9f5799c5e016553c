"""Opening serial-style links, and the registry of ports that several devices share.

Serial ports are opened with ``serial.serial_for_url`` so that pyserial's URL handlers work
(``spy://`` to see the bytes, ``socket://``). A ``tcp://`` URL on a serial-style driver is a
TCP-to-serial converter and is opened as ``socket://``. The screens, callers and evaluators on
one RS-485 bus share one ``SharedPort`` (hwd/sharedport.py): one reader hands every frame to the
device at its address, and a transaction makes each frame (and its reply) uninterrupted.
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import parse_qsl
from typing import Any, Callable

from hwd.errors import DeviceError
from hwd.sharedport import READ_TIMEOUT_S, SharedPort
from hwd.url import DeviceUrl

__all__ = ["PortRegistry", "SharedPort", "open_serial", "port_key"]


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


class PortRegistry:
    """The daemon's shared ports by key: opened for their first device, closed after the last."""

    def __init__(self) -> None:
        self._ports: dict[str, SharedPort] = {}
        self._lock = threading.Lock()

    def get(self, key: str, opener: Callable[[], Any], device: str | None = None) -> SharedPort:
        with self._lock:
            port = self._ports.get(key)
            if port is None:
                port = self._ports[key] = SharedPort(key, opener)
            port.users += 1
            if device is not None:
                port.devices.add(device)
            return port

    def release(self, port: SharedPort, device: str | None = None) -> None:
        with self._lock:
            port.users -= 1
            port.devices.discard(device)
            if port.users <= 0:
                port.invalidate()
                self._ports.pop(port.key, None)

    def open_shared(self, url: DeviceUrl, baudrate: int, device: str) -> SharedPort:
        """The shared port ``url`` names, for one more device (``release`` it when done); the
        port itself opens (and its reader starts) with the first transaction or ``ensure_open``."""
        return self.get(port_key(url), lambda: open_serial(url, baudrate=baudrate, timeout=READ_TIMEOUT_S), device)

"""The links a receipt printer is reached by, behind one small interface: ``write``, ``read``
with a deadline, ``discard_input``, ``close`` and whether the link can answer at all.

    usb://VID:PID[?in_ep=0x82&out_ep=0x01]   python-escpos ``Usb`` (pyusb) with a finite timeout
    serial:///dev/ttyUSB0?baudrate=9600      pyserial via ``hwd.ports.open_serial`` (spy:// works)
    tcp://host:9100                          a raw socket (JetDirect / "port 9100")
    file:///dev/usb/lp0                      the kernel's usblp device (or any file, write-only)

Every read and write has a timeout: a printer that stops answering makes the link fail, never
hang the device's worker. python-escpos' own serial and network classes are not used, since
they hard-code their transports (no ``spy://``, no ptys) and block without limit.
"""

from __future__ import annotations

import os
import select
import socket
import stat
import time

from drivers.printer import escpos_cache
from hwd.errors import DeviceError
from hwd.url import DeviceUrl

CHUNK = 1024


class Link:
    bidirectional = True

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def read(self, n: int, timeout: float) -> bytes:
        """Up to ``n`` bytes arriving within ``timeout`` seconds (b"" if none)."""
        raise NotImplementedError

    def discard_input(self) -> None:
        while self.read(256, 0.0):
            pass

    def close(self) -> None:
        """Release the link; never raises."""


class SerialLink(Link):
    def __init__(self, url: DeviceUrl, timeout: float):
        from hwd.ports import open_serial

        self.timeout = timeout
        self.port = open_serial(url, timeout=timeout, write_timeout=timeout)

    def write(self, data: bytes) -> None:
        for start in range(0, len(data), CHUNK):   # the write timeout is per chunk, so slow
            self.port.write(data[start:start + CHUNK])  # baud rates and big images still work
        self.port.flush()

    def read(self, n: int, timeout: float) -> bytes:
        self.port.timeout = timeout
        return self.port.read(n)

    def discard_input(self) -> None:
        self.port.reset_input_buffer()

    def close(self) -> None:
        try:
            self.port.close()
        except Exception:  # closing a vanished port may raise anything pyserial has
            pass


class TcpLink(Link):
    def __init__(self, url: DeviceUrl, timeout: float):
        self.timeout = timeout
        self.sock = socket.create_connection((url.host, url.port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)

    def write(self, data: bytes) -> None:
        self.sock.settimeout(self.timeout)
        view = memoryview(data)
        for start in range(0, len(view), 16 * CHUNK):
            self.sock.sendall(view[start:start + 16 * CHUNK])

    def read(self, n: int, timeout: float) -> bytes:
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not ready:
            return b""
        data = self.sock.recv(n)
        if not data:
            raise ConnectionResetError("the printer closed the connection")
        return data

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class FileLink(Link):
    """A character device (usblp) opened read-write if it allows, else written as a file."""

    def __init__(self, url: DeviceUrl, timeout: float):
        path = url.target
        self.timeout = timeout
        try:
            is_char = stat.S_ISCHR(os.stat(path).st_mode)
        except FileNotFoundError:
            if path.startswith("/dev/"):
                raise FileNotFoundError(f"{path} does not exist: is the printer plugged in and usblp loaded?") from None
            is_char = False
        self.bidirectional = False
        if is_char:
            try:
                self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
                self.bidirectional = True
            except PermissionError:
                self.fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
        else:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            _, ready, _ = select.select([], [self.fd], [], self.timeout)
            if not ready:
                raise TimeoutError(f"the printer took no data for {self.timeout} s")
            view = view[os.write(self.fd, view[:CHUNK]):]

    def read(self, n: int, timeout: float) -> bytes:
        if not self.bidirectional:
            return b""
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        return os.read(self.fd, n) if ready else b""

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


class UsbLink(Link):
    """python-escpos ``Usb``, always with a finite timeout (``Usb(timeout=0)`` waits forever)."""

    def __init__(self, url: DeviceUrl, timeout: float):
        escpos_cache.prepare()
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Usb

        vid, pid = url.usb_ids()
        self.timeout_ms = max(1, int(timeout * 1000))
        self.in_ep = int(str(url.params.get("in_ep", "0x82")), 0)
        self.out_ep = int(str(url.params.get("out_ep", "0x01")), 0)
        self.printer = Usb(vid, pid, timeout=self.timeout_ms, in_ep=self.in_ep, out_ep=self.out_ep)
        try:
            self.printer.open()
        except DeviceNotFoundError as exc:
            raise DeviceError(usb_hint(str(exc), url.target)) from None
        except Exception as exc:  # pyusb's NoBackendError and friends are not OSErrors
            if type(exc).__name__ == "NoBackendError":
                raise DeviceError("pyusb finds no libusb: install libusb-1.0-0 (apt)") from None
            raise
        if self.printer.device is None:
            raise DeviceError(f"USB printer {url.target} not found")

    def write(self, data: bytes) -> None:
        for start in range(0, len(data), 16 * CHUNK):
            self.printer.device.write(self.out_ep, data[start:start + 16 * CHUNK], self.timeout_ms)

    def read(self, n: int, timeout: float) -> bytes:
        import usb.core

        try:
            return bytes(self.printer.device.read(self.in_ep, max(n, 64), max(1, int(timeout * 1000))))
        except usb.core.USBTimeoutError:
            return b""

    def discard_input(self) -> None:
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline and self.read(64, 0.01):
            pass

    def close(self) -> None:
        try:
            import usb.util

            if self.printer.device is not None:
                usb.util.dispose_resources(self.printer.device)
        except Exception:  # the device may be gone already
            pass


def usb_hint(message: str, target: str) -> str:
    text = message.replace("\n", " ")
    if "Resource busy" in text or "Errno 16" in text:
        return (f"USB printer {target} is busy: the usblp kernel driver or CUPS holds it "
                "(see docs/drivers/printer.md: blacklist usblp or use file:///dev/usb/lp0)")
    if "Access denied" in text or "Errno 13" in text or "Permission" in text:
        return f"no permission on USB printer {target}: install the hwd udev rule (docs/drivers/printer.md)"
    if "not found" in text:
        return f"USB printer {target} not found: unplugged, or wrong VID:PID (see lsusb)"
    return f"USB printer {target}: {text[:160]}"


def open_link(url: DeviceUrl, timeout: float) -> Link:
    if url.scheme == "usb":
        return UsbLink(url, timeout)
    if url.scheme == "tcp":
        return TcpLink(url, timeout)
    if url.scheme == "file":
        return FileLink(url, timeout)
    return SerialLink(url, timeout)

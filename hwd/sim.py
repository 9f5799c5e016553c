"""The ``sim://`` framework: emulated devices at the far end of a real pty or loopback socket.

A device declared ``sim://`` gets its driver's emulator started; the real driver is then opened
on the URL the emulator returns (a pty path or ``tcp://127.0.0.1:PORT``), so the real driver code
and the real wire bytes are exercised. Devices whose URLs are ``sim://NAME`` with the same NAME
and kind share one emulator (several screens on one emulated RS-485 bus). An emulator class
with ``joins_bus`` (bus keypads) also shares the wire of another kind's emulator of the same
NAME: window screens and keypads on one emulated RS-485 bus, each emulator hearing every byte.

``sim://NAME?replay=FILE`` starts, instead of the driver's emulator, one that plays a capture back
(hwd/capture_playback.py). ``sim://NAME?transport=tcp`` asks a serial emulator to listen on a loopback TCP port instead of
a pty (a TCP-to-serial converter). Emulators take actions through ``control`` (``sim.control``
over RPC): the emulator's own (place a card, press a key) and fault injection; ``unplug`` and
``plug`` close and reopen the link.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import select
import socket
import threading
import tty
from pathlib import Path
from typing import Any, Callable

from hwd.errors import HwdError, INVALID_PARAMS, NOT_FOUND

log = logging.getLogger("hwd.sim")


class _Link:
    """What both links share: a reader thread started with the link, stopped with it."""

    url = ""

    def __init__(self, on_data: Callable[[bytes], None], name: str):
        self.listeners = [on_data]
        self.name = name
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
        """Another emulator on the same wire (every device on an RS-485 bus hears every byte)."""
        self.listeners.append(on_data)

    def _deliver(self, data: bytes) -> None:
        for on_data in list(self.listeners):
            try:
                on_data(data)
            except Exception:
                log.exception("%s: emulator failed on received data", self.name)

    def plug(self) -> None:
        raise NotImplementedError

    def unplug(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        raise NotImplementedError


class PtyLink(_Link):
    """The emulator's side of a pty. The driver opens ``path``, a symlink to the slave that
    survives unplug/plug (a re-plugged device gets a new /dev/pts/N, as real USB-serial does)."""

    def __init__(self, path: Path, on_data: Callable[[bytes], None], name: str = "pty"):
        super().__init__(on_data, name)
        self.path = Path(path)
        self.master = -1
        self._slave = -1

    @property
    def url(self) -> str:
        return f"serial://{self.path}"

    def plug(self) -> None:
        with self._lock:
            if self.master >= 0:
                return
            master, slave = os.openpty()
            tty.setraw(slave)
            # the emulator keeps the slave open too, so the master does not see EIO when the
            # driver closes its side to reconnect
            self.master, self._slave = master, slave
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            os.symlink(os.ttyname(slave), tmp)
            os.replace(tmp, self.path)

    def unplug(self) -> None:
        with self._lock:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            for fd in (self.master, self._slave):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self.master = self._slave = -1

    @property
    def plugged(self) -> bool:
        return self.master >= 0

    def write(self, data: bytes) -> None:
        with self._lock:
            if self.master < 0:
                return
            view = memoryview(data)
            while view:
                try:
                    n = os.write(self.master, view)
                except BlockingIOError:
                    select.select([], [self.master], [], 0.1)
                    continue
                except OSError:
                    return
                view = view[n:]

    def _loop(self) -> None:
        while not self._stop.is_set():
            fd = self.master
            if fd < 0:
                self._stop.wait(0.05)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(fd, 65536)
            except (OSError, ValueError):
                self._stop.wait(0.05)
                continue
            if data:
                self._deliver(data)


class TcpServerLink(_Link):
    """The emulator's side of a loopback TCP device: one client at a time, as a network printer
    or TCP-serial converter has. ``unplug`` stops listening; ``plug`` listens on the same port."""

    def __init__(self, on_data: Callable[[bytes], None], name: str = "tcp", port: int = 0,
                 on_connect: Callable[[], None] | None = None):
        super().__init__(on_data, name)
        self.on_connect = on_connect
        self.port = port
        self._server: socket.socket | None = None
        self._client: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def plug(self) -> None:
        with self._lock:
            if self._server is not None:
                return
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", self.port))
            server.listen(4)
            self.port = server.getsockname()[1]
            self._server = server

    def unplug(self) -> None:
        with self._lock:
            for sock in (self._client, self._server):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
            self._client = self._server = None

    @property
    def plugged(self) -> bool:
        return self._server is not None

    @property
    def connected(self) -> bool:
        return self._client is not None

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._client is None:
                return
            try:
                self._client.sendall(data)
            except OSError:
                pass

    def _loop(self) -> None:
        while not self._stop.is_set():
            server, client = self._server, self._client
            watch = [s for s in (server, client) if s is not None]
            if not watch:
                self._stop.wait(0.05)
                continue
            try:
                ready, _, _ = select.select(watch, [], [], 0.1)
            except (OSError, ValueError):
                continue
            for sock in ready:
                if sock is server:
                    try:
                        conn, _ = server.accept()
                    except OSError:
                        continue
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    with self._lock:
                        if self._client is not None:
                            self._client.close()
                        self._client = conn
                    if self.on_connect:
                        self.on_connect()
                else:
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        with self._lock:
                            if self._client is sock:
                                self._client = None
                        sock.close()
                        continue
                    self._deliver(data)


class Emulator:
    """Base of device emulators. Subclasses implement ``received`` (bytes from the driver) and
    ``act_<name>`` methods for ``control``; ``self.link.write`` answers the driver.

    ``options`` are the driver options of the (first) device using it, so an emulator decodes
    with the same config as the driver; ``attach`` is called for every device that shares it.
    """

    transport = "pty"  # or "tcp"
    joins_bus = False  # share the wire of another kind's emulator with the same sim:// name

    def __init__(self, name: str, options: dict, workdir: Path, params: dict | None = None):
        self.name = name
        self.options = options
        self.workdir = Path(workdir)
        self.params = dict(params or {})
        self.devices: list[Any] = []
        self.link: PtyLink | TcpServerLink | None = None
        self.silent = False
        self.log = logging.getLogger(f"sim.{name}")

    def attach(self, device_config: Any) -> None:
        self.devices.append(device_config)

    def start(self) -> str:
        """Start listening; return the URL the real driver should open."""
        transport = self.params.get("transport", self.transport)
        if transport == "tcp":
            self.link = TcpServerLink(self._received, self.name, int(self.params.get("port", 0)),
                                on_connect=self.connected)
        else:
            self.link = PtyLink(self.workdir / "tty", self._received, self.name)
        return self.link.start()

    def join(self, link: "PtyLink | TcpServerLink") -> str:
        """Listen on another emulator's wire instead of starting one; return its URL."""
        self.link = link
        link.add_listener(self._received)
        return link.url

    def stop(self) -> None:
        if self.link:
            self.link.stop()

    def _received(self, data: bytes) -> None:
        if not self.silent:
            self.received(data)

    def received(self, data: bytes) -> None:
        """Bytes from the driver (the emulator's reader thread)."""

    def connected(self) -> None:
        """A driver connected (TCP only)."""

    def send(self, data: bytes) -> None:
        if self.link and not self.silent:
            self.link.write(data)

    def status(self) -> dict:
        return {"name": self.name, "kind": type(self).__name__, "url": self.link.url if self.link else None,
                "plugged": bool(self.link and self.link.plugged), "silent": self.silent}

    # -- actions -----------------------------------------------------------------------------
    def control_device(self, device_id: str, action: str, params: dict | None = None) -> Any:
        """``control`` on behalf of one of the devices sharing this emulator (``sim.control``)."""
        return self.control(action, params)

    def control(self, action: str, params: dict | None = None) -> Any:
        fn = getattr(self, f"act_{action}", None)
        if fn is None:
            known = sorted(a[4:] for a in dir(self) if a.startswith("act_"))
            raise HwdError(f"emulator {self.name} has no action {action!r}; known: {', '.join(known)}",
                           INVALID_PARAMS)
        try:
            return fn(**(params or {}))
        except TypeError as exc:
            raise HwdError(f"bad parameters for {action}: {exc}", INVALID_PARAMS) from None

    def act_unplug(self) -> dict:
        """Pull the cable: the driver sees the link fail."""
        self.link.unplug()
        return self.status()

    def act_plug(self) -> dict:
        """Plug the cable back in."""
        self.link.plug()
        return self.status()

    def act_silent(self, on: bool = True) -> dict:
        """Stop answering (and stop hearing) the driver, as a hung device does."""
        self.silent = bool(on)
        return self.status()

    def act_status(self) -> dict:
        return self.status()


def load_class(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


class SimRegistry:
    """Starts one emulator per ``sim://NAME`` (per kind) and hands drivers their real URLs."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.emulators: dict[tuple[str, str], Emulator] = {}
        self.by_device: dict[str, Emulator] = {}
        self.urls: dict[tuple[str, str], str] = {}

    def start_for(self, config: Any, driver_cls: Any) -> str:
        """Start (or join) the emulator for a ``sim://`` device; return the URL to open."""
        if not driver_cls.emulator:
            raise HwdError(f"driver {config.kind}/{config.driver} has no emulator; sim:// is not available")
        name = config.url.target or config.id
        key = (config.kind, name)
        emulator = self.emulators.get(key)
        if emulator is None:
            cls = load_class("hwd.capture_playback:PlaybackEmulator" if "replay" in config.url.params
                             else driver_cls.emulator)
            emulator = cls(name, dict(config.options), self.workdir / config.kind / name, config.url.params)
            emulator.attach(config)
            wire = self._wire_for(name, emulator)
            self.urls[key] = emulator.join(wire.link) if wire else emulator.start()
            self.emulators[key] = emulator
            log.info("emulated %s %s on %s", config.kind, name, self.urls[key])
        else:
            emulator.attach(config)
        self.by_device[config.id] = emulator
        return self.urls[key]

    def _wire_for(self, name: str, emulator: Emulator) -> Emulator | None:
        """An emulator of another kind on the same named wire that this one should share."""
        for (kind, other_name), other in self.emulators.items():
            if other_name == name and (emulator.joins_bus or other.joins_bus) and other.link is not None:
                if emulator.params.get("transport", emulator.transport) != other.params.get(
                        "transport", other.transport):
                    raise HwdError(f"sim://{name}: devices sharing a bus need the same transport")
                return other
        return None

    def get(self, device_id: str) -> Emulator:
        try:
            return self.by_device[device_id]
        except KeyError:
            raise HwdError(f"device {device_id!r} is not emulated (its url is not sim://)", NOT_FOUND) from None

    def stop(self) -> None:
        for emulator in self.emulators.values():
            with contextlib.suppress(Exception):
                emulator.stop()

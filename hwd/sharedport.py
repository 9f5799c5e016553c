"""One physical port shared by several devices (window screens, callers and evaluators on one
RS-485 bus), with **one owner that reads it**.

Each device on the port says what it listens for (a ``Listener``: its protocol's check function,
hwd/stream.py, and its address in those frames). The port's reader thread reads every byte,
decodes every frame with the checks of all its listeners (``first_of``) and hands each frame to
the devices at that frame's address, so keypads that talk unasked and screens that acknowledge
never take each other's frames. Frames for an address no device on the port has are counted
once, on the port (``unclaimed_frames``), and logged. Writes are serialised: a device holds the
port (``transaction``) for a frame and the reply it waits for, and a frame rejected meanwhile
(a garbled reply) is told to that device, since a half-duplex bus answers only who asked.

The reader never takes the transaction lock, so a device that holds the port while it waits for
its reply always gets it. A read error closes the port (the next transaction reopens it, or fails
and its device goes offline).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterator

from hwd.errors import DeviceLost
from hwd.stream import Check, Skip, StreamDecoder, Tagged, first_of

log = logging.getLogger("hwd.ports")

QUIET_S = 0.2          # a partial frame with no byte for this long was cut short
READ_TIMEOUT_S = 0.05  # how long one read waits (the reader's reaction time to a stop)


@dataclass(eq=False)
class Listener:
    """What one device hears on a shared port: the frames of ``protocol`` at ``address``."""

    device: str
    protocol: Hashable                       # listeners that decode alike share one check
    check: Check
    address: Any                             # this device's address (None: the protocol has none)
    address_of: Callable[[Any], Any]         # the address a frame carries
    deliver: Callable[[Any], None]           # the reader thread calls it: must not block
    on_bad: Callable[[Skip], None] | None = None   # a frame rejected while this device holds the port
    what: str = "frame"                      # for logs: "keypad frame", "ack"


@dataclass
class _Reader:
    port: Any
    generation: int
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class SharedPort:
    """A port opened once for all its devices, read by one thread, written in transactions."""

    def __init__(self, key: str, opener: Callable[[], Any]):
        self.key = key
        self.opener = opener
        self.lock = threading.RLock()     # the writers' lock: one transaction at a time
        self.users = 0
        self.devices: set[str] = set()   # the devices using it (the registry keeps this)
        self.generation = 0               # how often the port was (re)opened: a device can tell
        self.port: Any = None
        self.lost: str | None = None      # why the reader lost the port
        self.holder: Listener | None = None
        self.unclaimed = 0
        self._state = threading.Lock()    # the port, the reader and the listeners (never held long)
        self._reader: _Reader | None = None
        self._listeners: list[Listener] = []
        self._routes: dict[tuple[Hashable, Any], list[Listener]] = {}
        self._addressing: dict[Hashable, Callable[[Any], Any]] = {}
        self._either: Check = first_of([])
        self._warned: set = set()
        self.decoder = StreamDecoder(lambda buf, pos: self._either(buf, pos), f"port {key}")

    # -- listeners ---------------------------------------------------------------------------
    def attach(self, listener: Listener) -> None:
        with self._state:
            self._listeners.append(listener)
            self._rebuild()

    def detach(self, listener: Listener) -> None:
        with self._state:
            if listener in self._listeners:
                self._listeners.remove(listener)
                self._rebuild()

    def _rebuild(self) -> None:
        protocols: dict[Hashable, Check] = {}
        routes: dict[tuple[Hashable, Any], list[Listener]] = {}
        for ear in self._listeners:
            protocols.setdefault(ear.protocol, ear.check)
            self._addressing.setdefault(ear.protocol, ear.address_of)
            routes.setdefault((ear.protocol, ear.address), []).append(ear)
        self._routes = routes
        self._either = first_of(list(protocols.items()))

    # -- opening and closing -----------------------------------------------------------------
    def ensure_open(self) -> Any:
        """The open port (opened, and its reader started, if it is not)."""
        with self._state:
            if self.port is None:
                self.port = self.opener()
                self.generation += 1
                self.lost = None
                self.decoder.reset()
                reader = _Reader(self.port, self.generation)
                reader.thread = threading.Thread(target=self._read_loop, args=(reader,), daemon=True,
                                                 name=f"port-{self.key}")
                self._reader = reader
                reader.thread.start()
            return self.port

    def invalidate(self, why: str = "closed") -> None:
        """Close the port and stop its reader (the next transaction reopens it)."""
        with self._state:
            reader, self._reader = self._reader, None
            self.port = None
            if reader is not None:
                self.lost = why
        self._stop(reader)

    def _stop(self, reader: _Reader | None) -> None:
        if reader is None:
            return
        reader.stop.set()
        if reader.thread is not None and reader.thread is not threading.current_thread():
            reader.thread.join(1.0)
        with contextlib.suppress(Exception):
            reader.port.close()

    @contextlib.contextmanager
    def transaction(self, holder: Listener | None = None) -> Iterator[Any]:
        """Hold the port to write (a frame, and the wait for its reply): no other device writes
        meanwhile; a frame rejected meanwhile goes to ``holder.on_bad``."""
        with self.lock:
            try:
                port = self.ensure_open()
            except OSError as exc:
                raise DeviceLost(f"port {self.key}: {exc}") from exc
            self.holder = holder
            try:
                yield port
            except OSError as exc:
                self.invalidate(str(exc))
                raise DeviceLost(f"port {self.key}: {exc}") from exc
            finally:
                self.holder = None

    # -- the reader --------------------------------------------------------------------------
    def _read_loop(self, reader: _Reader) -> None:
        port = reader.port
        last = time.monotonic()
        while not reader.stop.is_set():
            try:
                data = port.read(max(1, port.in_waiting))
            except Exception as exc:  # any failure of the link (pyserial raises SerialException)
                if not reader.stop.is_set():
                    self._lose(reader, exc)
                return
            now = time.monotonic()
            if data:
                last = now
                self._route(self.decoder.feed(data))
            elif self.decoder.pending and now - last >= QUIET_S:
                self._route(self.decoder.flush())

    def _lose(self, reader: _Reader, exc: BaseException) -> None:
        why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        log.warning("port %s: read failed (%s); it is closed until a device reopens it", self.key, why)
        with self._state:
            if self._reader is reader:
                self._reader = None
                self.port = None
                self.lost = why
        reader.stop.set()
        with contextlib.suppress(Exception):
            reader.port.close()

    def _route(self, items: list) -> None:
        for item in items:
            if isinstance(item, Skip):
                holder = self.holder
                if not item.noise and holder is not None and holder.on_bad is not None:
                    holder.on_bad(item)
                continue
            assert isinstance(item, Tagged)
            address_of = self._addressing.get(item.tag)
            address = address_of(item.frame) if address_of is not None else None
            ears = self._routes.get((item.tag, address), ())
            if not ears:
                self._unclaimed(item.tag, address)
            for ear in ears:
                try:
                    ear.deliver(item.frame)
                except Exception:  # a device's bug must not stop the port's reader
                    log.exception("port %s: device %s failed to take a frame", self.key, ear.device)

    def _unclaimed(self, protocol: Hashable, address: Any) -> None:
        self.unclaimed += 1
        what = next((ear.what for ear in self._listeners if ear.protocol == protocol), "frame")
        if (protocol, address) in self._warned:
            log.debug("port %s: another %s for address %s, which no device here has", self.key, what, address)
            return
        self._warned.add((protocol, address))
        log.warning("port %s: a %s for address %s, which no device configured on this port has "
                    "(counted in its unclaimed_frames; further ones are not logged)", self.key, what, address)

    # -- status ------------------------------------------------------------------------------
    def describe(self) -> dict:
        counters = {**self.decoder.counters, "unclaimed_frames": self.unclaimed}
        return {"key": self.key, "open": self.port is not None, "devices": sorted(self.devices),
                "counters": counters,
                **({"lost": self.lost} if self.lost and self.port is None else {})}


class Inbox:
    """The frames the port's one reader hands a device (in on the reader thread, out on the
    device's worker): bounded, so a babbling bus cannot fill memory (an overflow counted as
    ``dropped_frames``); a frame the device did not ask for (a key, a door the board reports)
    wakes the worker once, however many arrive before it runs."""

    def __init__(self, device: Any, maxsize: int = 1000):
        self.device = device
        self.items: queue.Queue = queue.Queue(maxsize=maxsize)
        self._lock = threading.Lock()
        self._waking = False

    def put(self, item: Any, wake: Callable[[], None] | None = None) -> None:
        """Reader thread: queue ``item``; with ``wake``, have the worker run it soon (once)."""
        try:
            self.items.put_nowait(item)
        except queue.Full:
            self.device.count("dropped_frames")
            return
        if wake is None:
            return
        with self._lock:
            if self._waking or self.device.worker is None:
                return
            self._waking = True
        self.device.submit(self._woken, wake)

    def _woken(self, wake: Callable[[], None]) -> None:
        with self._lock:
            self._waking = False
        wake()

    def next(self, deadline: float) -> Any | None:
        """Worker: the next frame before ``deadline`` (monotonic); None after a timeout or for a
        garbled frame (each counted: ``timeouts``, ``bad_frames``), so the caller asks again."""
        left = deadline - time.monotonic()
        try:
            item = self.items.get(timeout=left) if left > 0 else self.items.get_nowait()
        except queue.Empty:
            self.device.count("timeouts")
            return None
        if isinstance(item, Skip):
            self.device.count("bad_frames")
            return None
        return item

    def drain(self) -> list:
        """Worker: everything handed over since the last look."""
        out = []
        while True:
            try:
                out.append(self.items.get_nowait())
            except queue.Empty:
                return out

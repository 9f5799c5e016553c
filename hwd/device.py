"""The device base class and the worker thread that owns each device's blocking I/O.

A driver subclasses ``Device`` and implements ``open``/``close`` (and ``poll`` if it watches the
device). The worker opens the device, runs the jobs submitted to it one at a time, polls it, and
when the link breaks (``DeviceLost`` or any ``OSError``) closes it and reconnects with capped
exponential backoff. Every state change is published as ``device.state``.

The RPC methods of a device kind are declared once, by the kind's interface class
(``drivers/<kind>/interface.py``, a ``Device`` subclass whose ``methods`` lists a ``MethodSpec``
per method); every driver of that kind subclasses its interface and implements ``<kind>.<name>``
as ``rpc_<name>(self, params)``. The manager exposes each method as ``<kind>.<name>`` with the
interface's params and routes a call to the device named in ``params.device``. A driver may
narrow a param (``@narrows``), or declare a method ``unsupported``; hwd/registry.py checks every
driver against its interface when it is loaded.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import termios
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Sequence

from hwd.errors import DeviceLost
from hwd.log import DeviceLog
from hwd.schema import Field

if TYPE_CHECKING:
    from hwd.config import DeviceConfig
    from hwd.ports import PortRegistry

STATES = ("online", "offline", "fault", "disabled")
BACKOFF_FIRST = 0.25
BACKOFF_MAX = 5.0
# a lost link: a serial device that vanished fails tcflush (pyserial's reset_input_buffer) with
# termios.error, which is not an OSError
LINK_LOST = (DeviceLost, OSError, termios.error)


@dataclass(frozen=True)
class MethodSpec:
    """One RPC method of a device kind, as its interface declares it: ``<kind>.<name>``."""

    name: str
    params: Sequence[Field] = ()
    offline_ok: bool = False      # may be called while the device is offline or faulted
    in_worker: bool = True        # run in the device's worker thread (blocking I/O)
    doc: str = ""
    read_only: bool = False       # changes nothing: a retry may run it again (no reply is kept)
    card_data: bool = False       # yields full ID-card data: only for [daemon] card_data_clients (hwd.access)

    @property
    def handler(self) -> str:
        """The driver method that implements it: the one naming rule for handlers."""
        return f"rpc_{self.name}"


def narrows(*fields: Field) -> Callable:
    """On a driver's ``rpc_<name>``: these params accept less than the interface's (a shorter
    text, a smaller range). Same name and type as the interface's field; checked on every call,
    over RPC and from inside the daemon."""

    def mark(fn: Callable) -> Callable:
        fn._hwd_narrows = tuple(fields)
        return fn

    return mark


def spec_for(cls: type, spec: MethodSpec) -> MethodSpec:
    """``spec`` with the params driver class ``cls`` narrows."""
    fields = getattr(getattr(cls, spec.handler, None), "_hwd_narrows", ())
    if not fields:
        return spec
    by_name = {f.name: f for f in fields}
    return replace(spec, params=tuple(by_name.get(f.name, f) for f in spec.params))


@dataclass
class DeviceContext:
    """What the daemon gives each device: event publishing, its state dir, shared ports."""

    publish: Callable[[str, dict], None]
    state_dir: Path
    ports: "PortRegistry"
    extras: dict = field(default_factory=dict)  # e.g. the card-token store, shared by drivers


class Device:
    """Base of every driver. Subclasses set the class attributes and override the hooks."""

    kind: ClassVar[str] = ""
    driver: ClassVar[str] = ""
    schemes: ClassVar[tuple[str, ...]] = ()
    options: ClassVar[tuple[Field, ...]] = ()
    requires: ClassVar[tuple[tuple[str, str], ...]] = ()   # (import name, pip package)
    emulator: ClassVar[str | None] = None                   # "module:Class" for sim://
    poll_interval: ClassVar[float | None] = None            # seconds between poll() calls
    methods: ClassVar[tuple[MethodSpec, ...]] = ()          # the kind's RPC methods (its interface)
    unsupported: ClassVar[tuple[str, ...]] = ()             # methods of the kind this driver cannot do

    def __init__(self, config: "DeviceConfig", ctx: DeviceContext):
        self.config = config
        self.id = config.id
        self.opts = dict(config.options)
        self.url = config.url
        self.ctx = ctx
        self.log = DeviceLog(logging.getLogger(f"drivers.{self.kind}"), {"kind": self.kind, "device": self.id})
        self.state = "offline"
        self.detail = "starting"
        self.since = time.time()
        self.connected = False
        self.counters: dict[str, int] = {}
        self._state_lock = threading.Lock()
        self.worker: Worker | None = None

    # -- hooks for drivers -------------------------------------------------------------------
    @classmethod
    def validate(cls, options: dict, problems: Any, path: tuple) -> None:
        """Cross-key checks beyond the option fields; add to ``problems``."""

    def open(self) -> None:
        """Connect to the device (worker thread). Raise to stay offline and retry later."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the device (worker thread). Must not raise."""

    def poll(self) -> None:
        """Called every ``poll_interval`` seconds while connected (worker thread)."""

    def on_online(self) -> None:
        """Called after a successful open (worker thread): e.g. re-send a screen's content."""

    def info(self) -> dict:
        """Extra kind-specific fields for ``devices.list`` (e.g. a printer's paper)."""
        return {}

    # -- helpers -----------------------------------------------------------------------------
    def set_state(self, state: str, detail: str = "") -> None:
        assert state in STATES, state
        with self._state_lock:
            if state == self.state and detail == self.detail:
                return
            previous = self.state
            self.state, self.detail, self.since = state, detail, time.time()
        if state != previous:
            self.log.info("%s%s", state, f" ({detail})" if detail else "")
        self.publish("device.state", state=state, detail=detail, since=self.since,
                     previous=previous, **self.info())

    def publish(self, topic: str, **data: Any) -> None:
        self.ctx.publish(topic, {"device": self.id, "kind": self.kind, **data})

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def describe(self) -> dict:
        return {"id": self.id, "kind": self.kind, "driver": self.driver, "url": str(self.config.url),
                "state": self.state, "detail": self.detail, "since": self.since, **self.info(),
                **({"counters": dict(self.counters)} if self.counters else {})}

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        """Run ``fn`` in this device's worker, in order with its other jobs."""
        assert self.worker is not None, "device not started"
        return self.worker.submit(fn, *args, **kwargs)


class Worker(threading.Thread):
    """Owns one device: opens it, runs its jobs in order, polls it, reconnects with backoff."""

    def __init__(self, device: Device):
        super().__init__(name=f"dev-{device.id}", daemon=True)
        self.device = device
        device.worker = self
        self.jobs: queue.Queue = queue.Queue()
        self._stopping = threading.Event()
        self.backoff = BACKOFF_FIRST

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self.jobs.put((future, fn, args, kwargs))
        return future

    def stop(self) -> None:
        self._stopping.set()
        self.jobs.put(None)

    def run(self) -> None:
        dev = self.device
        next_poll = 0.0
        while not self._stopping.is_set():
            if not dev.connected:
                if not self._connect():
                    self._wait(self.backoff)
                    self.backoff = min(self.backoff * 2, BACKOFF_MAX)
                    continue
                self.backoff = BACKOFF_FIRST
                next_poll = time.monotonic() + (dev.poll_interval or 0)
            timeout = 0.5
            if dev.poll_interval:
                timeout = max(0.0, next_poll - time.monotonic())
            try:
                job = self.jobs.get(timeout=timeout)
            except queue.Empty:
                job = None
            if job is not None:
                self._run_job(job)
            elif dev.poll_interval and dev.connected and time.monotonic() >= next_poll:
                next_poll = time.monotonic() + dev.poll_interval
                try:
                    dev.poll()
                except LINK_LOST as exc:
                    self._lost(exc)
                except Exception:  # a driver bug must not kill the worker
                    dev.count("poll_errors")
                    dev.log.exception("poll failed")
        if dev.connected:
            self._close()

    def _connect(self) -> bool:
        dev = self.device
        try:
            dev.open()
        except Exception as exc:  # any failure to open means offline; the message says why
            dev.set_state("offline", _reason(exc))
            self._safe_close()
            return False
        dev.connected = True
        if dev.state != "fault":
            dev.set_state("online")
        try:
            dev.on_online()
        except LINK_LOST as exc:
            self._lost(exc)
            return False
        except Exception:
            dev.log.exception("on_online failed")
        return dev.connected

    def _run_job(self, job: tuple) -> None:
        future, fn, args, kwargs = job
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = fn(*args, **kwargs)
        except LINK_LOST as exc:
            self._lost(exc)
            future.set_exception(exc if isinstance(exc, DeviceLost) else DeviceLost(
                f"device {self.device.id} lost: {_reason(exc)}"))
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)

    def _lost(self, exc: BaseException) -> None:
        dev = self.device
        dev.count("disconnects")
        self._close()
        dev.set_state("offline", _reason(exc))

    def _close(self) -> None:
        self.device.connected = False
        self._safe_close()

    def _safe_close(self) -> None:
        try:
            self.device.close()
        except Exception:
            self.device.log.exception("close failed")

    def _wait(self, seconds: float) -> None:
        """Sleep while offline, still running jobs that arrive (they see ``connected`` False)."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                job = self.jobs.get(timeout=left)
            except queue.Empty:
                return
            if job is not None:
                self._run_job(job)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]

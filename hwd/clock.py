"""One clock for everything that depends on the wall time (opening hours, day rollover, rating
timeouts, statistics), so tests and training can move time instead of waiting for it.

``SystemClock`` is the real time in the hall's time zone. ``TestClock`` follows the real time
until it is set; from then on it stands still and moves only by ``set``/``advance`` (over RPC as
``clock.set {now}`` and ``clock.advance {seconds}``, registered only when ``[daemon] test_clock =
true``). ``[daemon] test_clock_start`` makes it run from that instant from the first moment, before
the hall opens, so no test ever sees today's date. Listeners hear every jump, so timers that depend on the clock
re-check at once.

Each clock also has ``monotonic()``, the time that durations (rating timeouts) are measured on: the
real ``time.monotonic()``, or for a test clock one that moves only by ``advance`` (``set`` is a jump
of the wall clock, not the passing of time).

``HWD_FAKE_NOW`` (an ISO date-time) shifts the *real* wall time of every hwd process for checking
that nothing depends on today's date: the suite must pass with it set to any date (docs/hall.md).
The shift is exported as ``HWD_CLOCK_SHIFT_S`` so child processes agree on it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import zoneinfo
from typing import Any, Callable

from hwd import errors
from hwd.errors import HwdError

TIMEZONE = "Asia/Shanghai"  # [daemon] timezone: the hall's
JUMP_THRESHOLD_S = 300.0  # [daemon] clock_jump_s
from hwd.schema import Field

log = logging.getLogger("hwd.clock")


def _shift_from_env() -> float:
    """Seconds added to the real wall time (0 unless HWD_FAKE_NOW / HWD_CLOCK_SHIFT_S is set)."""
    shift = os.environ.get("HWD_CLOCK_SHIFT_S")
    if shift:
        return float(shift)
    fake = os.environ.get("HWD_FAKE_NOW")
    if not fake:
        return 0.0
    when = dt.datetime.fromisoformat(fake)
    if when.tzinfo is None:
        when = when.replace(tzinfo=zoneinfo.ZoneInfo(os.environ.get("HWD_FAKE_TZ", TIMEZONE)))
    value = when.timestamp() - time.time()
    os.environ["HWD_CLOCK_SHIFT_S"] = repr(value)
    return value


SHIFT_S = _shift_from_env()


def wall() -> float:
    """The machine's wall time in epoch seconds (shifted by HWD_FAKE_NOW in date checks)."""
    return time.time() + SHIFT_S


class Clock:
    """Wall time in one time zone; ``now()`` is timezone-aware, ``time()`` is epoch seconds."""

    def __init__(self, timezone: str = TIMEZONE, jump_threshold_s: float = JUMP_THRESHOLD_S):
        self.tz = zoneinfo.ZoneInfo(timezone)
        self.jump_threshold_s = jump_threshold_s  # a step back by more than this is a clock jump
        self._listeners: list[Callable[[], None]] = []

    def time(self) -> float:
        return wall()

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.time(), self.tz)

    def local(self, ts: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts, self.tz)

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every jump of the clock (test clocks only jump)."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:
                log.exception("clock listener failed")


class SystemClock(Clock):
    """The real time."""


class TestClock(Clock):
    """Real time until set (or, with ``start``, running from that instant); once set or advanced,
    frozen, moved only by ``set`` and ``advance``."""

    __test__ = False  # not a pytest class

    def __init__(self, timezone: str = TIMEZONE, jump_threshold_s: float = JUMP_THRESHOLD_S,
                 start: dt.datetime | None = None):
        super().__init__(timezone, jump_threshold_s)
        self._frozen: float | None = None
        self._mono: float | None = None  # frozen monotonic time, moved only by advance
        self._origin: tuple[float, float] | None = None  # (wall, monotonic) of a running start
        if start is not None:
            self.start_at(start)

    def time(self) -> float:
        if self._frozen is not None:
            return self._frozen
        if self._origin is not None:
            return self._origin[0] + (time.monotonic() - self._origin[1])
        return wall()

    def monotonic(self) -> float:
        return time.monotonic() if self._mono is None else self._mono

    def start_at(self, when: dt.datetime) -> None:
        """Run from ``when`` on, at the real pace (the daemon's ``test_clock_start``)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.tz)
        self._origin, self._frozen, self._mono = (when.timestamp(), time.monotonic()), None, None
        log.info("test clock runs from %s", self.now().isoformat())

    def set(self, when: dt.datetime | float) -> None:
        if isinstance(when, dt.datetime):
            if when.tzinfo is None:
                when = when.replace(tzinfo=self.tz)
            when = when.timestamp()
        if self._mono is None:
            self._mono = time.monotonic()
        self._frozen = float(when)
        log.info("test clock set to %s", self.now().isoformat())
        self._changed()

    def advance(self, seconds: float) -> None:
        self._mono = self.monotonic() + float(seconds)
        self._frozen = self.time() + float(seconds)
        log.info("test clock advanced by %ss to %s", seconds, self.now().isoformat())
        self._changed()


class Deadlines:
    """Timeouts on the clock's monotonic time, so a jump of the wall clock neither fires them all at
    once nor stalls them. Kept in memory; ``restore`` turns a deadline persisted as wall time
    (shown to people) back into one after a restart, never longer than ``longest`` from now."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self._at: dict[Any, float] = {}

    def add(self, key: Any, seconds: float) -> None:
        self._at[key] = self.clock.monotonic() + seconds

    def restore(self, key: Any, wall_deadline: float, longest: float) -> None:
        self.add(key, min(max(0.0, wall_deadline - self.clock.time()), longest))

    def passed(self, key: Any) -> bool:
        at = self._at.get(key)
        return at is not None and self.clock.monotonic() >= at

    def due(self) -> list[Any]:
        now = self.clock.monotonic()
        return [key for key, at in self._at.items() if now >= at]

    def discard(self, key: Any) -> None:
        self._at.pop(key, None)


def parse_time(text: str, tz: dt.tzinfo) -> dt.datetime:
    """An ISO date-time (local time when it has no offset)."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise HwdError(f"not an ISO date-time: {text!r} (e.g. 2026-11-23T09:00:00)",
                       errors.INVALID_PARAMS) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def from_config(daemon: Any) -> Clock:
    """The clock a daemon config asks for: a test clock (frozen at ``test_clock_start`` when given)
    or the system clock."""
    timezone = getattr(daemon, "timezone", TIMEZONE)
    threshold = float(getattr(daemon, "clock_jump_s", JUMP_THRESHOLD_S))
    if not getattr(daemon, "test_clock", False):
        return SystemClock(timezone, threshold)
    start = getattr(daemon, "test_clock_start", None)
    clock = TestClock(timezone, threshold)
    if start:
        clock.start_at(parse_time(start, clock.tz))
    return clock


def register(methods: Any, clock: Clock, status: Callable[[], dict] | None = None) -> None:
    """``clock.now`` and ``clock.status`` always; ``clock.set``/``clock.advance`` only for a test
    clock. Registers nothing when the table has them already (the daemon registers them before the
    hall engine starts)."""
    if "clock.now" in methods.methods:
        return
    methods.add("clock.now", lambda p: {"now": clock.now().isoformat(), "ts": clock.time(),
                                        "test": isinstance(clock, TestClock)},
                (), "the daemon's wall time (the hall's time zone)", replay=False)
    methods.add("clock.status", lambda p: status() if status else {
        "now": clock.now().isoformat(timespec="seconds"), "test": isinstance(clock, TestClock),
        "threshold_s": clock.jump_threshold_s, "jumps": [], "last_back": None},
        (), "the wall time, the clock-jump threshold and the recent jumps (daemon.clock)", replay=False)
    if not isinstance(clock, TestClock):
        return

    def set_clock(p: dict) -> dict:
        clock.set(parse_time(p["now"], clock.tz))
        return {"now": clock.now().isoformat()}

    def advance(p: dict) -> dict:
        clock.advance(p["seconds"])
        return {"now": clock.now().isoformat()}

    methods.add("clock.set", set_clock, (Field("now", str),), "freeze the test clock at an ISO time")
    methods.add("clock.advance", advance, (Field("seconds", float, min=0),), "move the test clock forward")

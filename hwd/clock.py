"""One clock for everything that depends on the wall time (opening hours, day rollover, rating
timeouts, statistics), so tests and training can move time instead of waiting for it.

``SystemClock`` is the real time in the hall's time zone. ``TestClock`` follows the real time
until it is set; from then on it stands still and moves only by ``set``/``advance`` (over RPC as
``clock.set {now}`` and ``clock.advance {seconds}``, registered only when ``[daemon] test_clock =
true``). Listeners hear every jump, so timers that depend on the clock re-check at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zoneinfo
from typing import Any, Callable

from hwd import errors
from hwd.errors import HwdError
from hwd.schema import Field

log = logging.getLogger("hwd.clock")


class Clock:
    """Wall time in one time zone; ``now()`` is timezone-aware, ``time()`` is epoch seconds."""

    def __init__(self, timezone: str = "Asia/Shanghai"):
        self.tz = zoneinfo.ZoneInfo(timezone)
        self._listeners: list[Callable[[], None]] = []

    def time(self) -> float:
        return time.time()

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
    """Real time until set; then frozen, moved only by ``set`` and ``advance``."""

    __test__ = False  # not a pytest class

    def __init__(self, timezone: str = "Asia/Shanghai"):
        super().__init__(timezone)
        self._frozen: float | None = None

    def time(self) -> float:
        return time.time() if self._frozen is None else self._frozen

    def set(self, when: dt.datetime | float) -> None:
        if isinstance(when, dt.datetime):
            if when.tzinfo is None:
                when = when.replace(tzinfo=self.tz)
            when = when.timestamp()
        self._frozen = float(when)
        log.info("test clock set to %s", self.now().isoformat())
        self._changed()

    def advance(self, seconds: float) -> None:
        self._frozen = self.time() + float(seconds)
        log.info("test clock advanced by %ss to %s", seconds, self.now().isoformat())
        self._changed()


def parse_time(text: str, tz: dt.tzinfo) -> dt.datetime:
    """An ISO date-time (local time when it has no offset)."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise HwdError(f"not an ISO date-time: {text!r} (e.g. 2026-11-23T09:00:00)",
                       errors.INVALID_PARAMS) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def from_config(daemon: Any) -> Clock:
    """The clock a daemon config asks for."""
    cls = TestClock if getattr(daemon, "test_clock", False) else SystemClock
    return cls(getattr(daemon, "timezone", "Asia/Shanghai"))


def register(methods: Any, clock: Clock) -> None:
    """``clock.now`` always; ``clock.set``/``clock.advance`` only for a test clock."""
    methods.add("clock.now", lambda p: {"now": clock.now().isoformat(), "ts": clock.time(),
                                        "test": isinstance(clock, TestClock)},
                (), "the daemon's wall time (the hall's time zone)")
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

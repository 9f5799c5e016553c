"""Notices when the wall clock jumps, so that people learn why tickets expired or numbers restarted.

A hall PC's wall clock is set by NTP, by an admin, or by a CMOS battery that has gone flat (the PC
boots in 2010 or 2099 and is corrected later). Durations do not care (they run on
``time.monotonic()``), but the business day does. The watch compares how far the wall clock moved
with how far the monotonic clock moved, every second and at once after a test clock jumps, and
compares the wall time at start with the one it saved before it stopped. A step back by more than
``[daemon] clock_jump_s`` is logged as a WARNING with both times and published as ``daemon.clock``;
forward steps are published too (they roll the business day on). The last jumps are kept for
``clock.status`` (``hwctl doctor`` and the admin page show them).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
from pathlib import Path
from typing import Any, Callable

from hwd.clock import Clock, TestClock

log = logging.getLogger("hwd.clock")
SAVE_EVERY_S = 60.0
KEEP = 10


class ClockWatch:
    def __init__(self, clock: Clock, state_dir: Path, publish: Callable[[str, dict], Any]):
        self.clock = clock
        self.path = Path(state_dir) / "clock.json"
        self.publish = publish
        self.jumps: collections.deque[dict] = collections.deque(maxlen=KEEP)
        self._wall = clock.time()
        self._mono = clock.monotonic()
        self._saved_mono = float("-inf")
        self._task: asyncio.Task | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Compare with the wall time saved by the last run, then watch every second."""
        saved = self._load()
        now = self.clock.time()
        if saved is not None and now < saved - self.clock.jump_threshold_s:
            self._jumped(saved, now, "while hwd was stopped")
        self._save(now)
        self.clock.on_change(self.check)
        self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._save(self.clock.time())

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.check()

    # -- watching ----------------------------------------------------------------------------
    def check(self) -> None:
        wall, mono = self.clock.time(), self.clock.monotonic()
        step = (wall - self._wall) - (mono - self._mono)
        threshold = self.clock.jump_threshold_s
        if step < -threshold:
            self._jumped(self._wall + (mono - self._mono), wall, "while running")
        elif step > threshold:
            self._record(self._wall + (mono - self._mono), wall, "forward", "while running")
        self._wall, self._mono = wall, mono
        if mono - self._saved_mono >= SAVE_EVERY_S or abs(step) > threshold:
            self._save(wall)

    def _jumped(self, before: float, after: float, when: str) -> None:
        log.warning("the wall clock went back %s: from %s to %s (%.0f s); the business day follows the "
                    "clock, check NTP and the CMOS battery", when, self._iso(before), self._iso(after),
                    before - after)
        self._record(before, after, "back", when)

    def _record(self, before: float, after: float, direction: str, when: str) -> None:
        jump = {"from": self._iso(before), "to": self._iso(after), "delta_s": round(after - before, 1),
                "direction": direction, "when": when}
        if direction == "forward":
            log.info("the wall clock moved forward %s: from %s to %s", when, jump["from"], jump["to"])
        self.jumps.append(jump)
        self.publish("daemon.clock", dict(jump))

    def status(self) -> dict:
        """What ``clock.status`` answers: now, the threshold and the recent jumps (newest last)."""
        back = [j for j in self.jumps if j["direction"] == "back"]
        return {"now": self.clock.now().isoformat(timespec="seconds"), "test": isinstance(self.clock, TestClock),
                "threshold_s": self.clock.jump_threshold_s, "jumps": list(self.jumps),
                "last_back": back[-1] if back else None}

    # -- the saved wall time -----------------------------------------------------------------
    def _iso(self, ts: float) -> str:
        return self.clock.local(ts).isoformat(timespec="seconds")

    def _load(self) -> float | None:
        try:
            return float(json.loads(self.path.read_text())["wall"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _save(self, wall: float) -> None:
        self._saved_mono = self.clock.monotonic()
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps({"wall": wall}))
            os.replace(tmp, self.path)
        except OSError as exc:  # a full or read-only disk must not stop the watch
            log.debug("cannot save the wall time to %s: %s", self.path, exc)

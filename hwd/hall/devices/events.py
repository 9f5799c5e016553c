"""Device events that are hall operations: a window keypad's keys (call next, recall, no-show,
start, finish, pause, resume, transfer, a rating) and a kiosk scanner's appointment codes.

A keypad is bound to its window and a scanner to its kiosk by the config, so an event is never
trusted for where it comes from beyond its device id. A refusal is published
(``hall.keypad.refused``, ``hall.checkin.failed``) for the screens and pages to show.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from hwd.errors import HwdError

log = logging.getLogger("hwd.hall.devices.events")

WINDOW_ACTIONS = ("call_next", "recall", "no_show", "start", "finish")
PAUSE_ACTIONS = ("pause", "resume")


class DeviceEvents:
    def __init__(self, cfg: Any, core: Any, run: Callable[..., Any], publish: Callable[[str, dict], None],
                 checkin: Callable[..., Awaitable[dict]]):
        self.core, self.run, self.publish, self.checkin = core, run, publish, checkin
        self.keypads = {w.keypad: w.id for w in cfg.windows.values() if w.keypad}
        self.scanners = {k.scanner: k.id for k in cfg.kiosks.values() if k.scanner}
        self._tasks: set[asyncio.Task] = set()

    def subscribe(self, bus: Any) -> None:
        bus.subscribe("keypad.key", self.on_key)
        bus.subscribe("scanner.scan", self.on_scan)

    def on_key(self, topic: str, event: dict) -> None:
        wid = self.keypads.get(event.get("device"))
        action = event.get("action")
        if wid is None or not action:
            return
        self._spawn(self._key_action(wid, action, event))

    async def _key_action(self, wid: str, action: str, event: dict) -> None:
        try:
            name, _, arg = action.partition(":")
            if name == "rate":
                score, _, reasons = arg.partition(":")  # rate:2:attitude,efficiency — a reason key
                self.run(self.core.ratings.rate, int(score), window=wid, channel="keypad",
                         reasons=reasons.split(",") if reasons else None)
            elif name in WINDOW_ACTIONS:
                self.run(getattr(self.core, name), wid)
            elif name in PAUSE_ACTIONS:
                self.run(getattr(self.core, name), wid, "keypad")
            elif name == "transfer" and arg:
                self.run(self.core.transfer, wid, arg)
            else:
                log.info("keypad %s: no hall action for %r", event.get("device"), action)
        except HwdError as exc:
            log.info("keypad %s at window %s: %s refused: %s", event.get("device"), wid, action, exc)
            self.publish("hall.keypad.refused", {"window": wid, "action": action, "code": exc.code,
                                                 "message": exc.message})
        except ValueError:
            log.warning("keypad %s sent a bad action %r", event.get("device"), action)

    def on_scan(self, topic: str, event: dict) -> None:
        kiosk = self.scanners.get(event.get("device"))
        text = (event.get("text") or "").strip()
        if kiosk is None or not text:
            return
        self._spawn(self._scan(kiosk, text))

    async def _scan(self, kiosk: str, text: str) -> None:
        try:
            await self.checkin(code=text, kiosk=kiosk)
        except HwdError as exc:
            self.publish("hall.checkin.failed", {"kiosk": kiosk, "code": exc.code, "message": exc.message})

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

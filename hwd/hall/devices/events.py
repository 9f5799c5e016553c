"""Device events that are hall operations: a window keypad's keys (call next, recall, no-show,
start, finish, pause, resume, transfer, login, logout, a rating) and a kiosk scanner's
appointment codes.

A keypad is bound to its window and a scanner to its kiosk by the config, so an event is never
trusted for where it comes from beyond its device id. Which of a window's keypads may rate and
which may operate the window is hwd.hall.ratings.channels' rule (the evaluator rates, the caller
operates). A refusal is published (``hall.keypad.refused``, ``hall.checkin.failed``) for the
screens and pages to show, logged, and told to the caller (a beep, words on a text LCD).

**Digits** typed on a caller before its key (``keypad.key`` ``digits``) carry the key's number:
``call_next`` calls the waiting ticket with that number (选择叫号, HallCore.call_number),
``transfer`` sends the current ticket to the service with that ``code``, ``login`` logs in the
clerk with that staff id, ``logout`` logs out (that clerk, when digits are given). A clerk with a
PIN types it next, followed by the login key again, within ``PIN_WAIT_S``: the PIN is checked by
hwd.hall.identity like a page's login, throttled per staff id and keypad (source
``keypad:<device>``). The PIN's digits are never logged or published by the hall.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from hwd import errors
from hwd.errors import HwdError
from hwd.hall.identity import KEYPAD_SOURCE
from hwd.hall.ratings import channels
from hwd.wording import Refusal

log = logging.getLogger("hwd.hall.devices.events")

WINDOW_ACTIONS = ("call_next", "recall", "no_show", "start", "finish")
PAUSE_ACTIONS = ("pause", "resume")
PIN_WAIT_S = 30.0              # after a staff id with a PIN, how long the caller waits for the PIN
PIN_PROMPT = "请输入密码"

Login = Callable[[str, str, "str | None", "str | None"], Awaitable[dict]]
Feedback = Callable[..., None]


@dataclass
class _PinWait:
    staff: str
    until: float               # time.monotonic()


class DeviceEvents:
    def __init__(self, cfg: Any, core: Any, run: Callable[..., Any], publish: Callable[[str, dict], None],
                 checkin: Callable[..., Awaitable[dict]], login: Login, feedback: Feedback):
        self.cfg, self.core, self.run, self.publish, self.checkin = cfg, core, run, publish, checkin
        self.login, self.feedback = login, feedback
        self.keypads = channels.keypad_parts(cfg)       # device -> (window, keypad | evaluator)
        self.scanners = {k.scanner: k.id for k in cfg.kiosks.values() if k.scanner}
        self.pins: dict[str, _PinWait] = {}             # caller -> the clerk whose PIN it waits for
        self._tasks: set[asyncio.Task] = set()

    def reconfigure(self, cfg: Any) -> None:
        """Keypads and scanners as a new config binds them; a clerk's PIN entry under way stays."""
        self.cfg = cfg
        self.keypads = channels.keypad_parts(cfg)
        self.scanners = {k.scanner: k.id for k in cfg.kiosks.values() if k.scanner}

    def subscribe(self, bus: Any) -> None:
        bus.subscribe("keypad.key", self.on_key)
        bus.subscribe("scanner.scan", self.on_scan)

    def on_key(self, topic: str, event: dict) -> None:
        bound = self.keypads.get(event.get("device"))
        action = event.get("action")
        if bound is None or not action:
            return
        self._spawn(self._key_action(bound[0], bound[1], event))

    async def _key_action(self, wid: str, part: str, event: dict) -> None:
        device, action = event.get("device"), event["action"]
        digits = event.get("digits") or ""
        if not isinstance(digits, str):
            digits = ""
        pin_wait = self.pins.pop(device, None)          # any key ends a wait for a PIN
        try:
            name, _, arg = action.partition(":")
            if not channels.keypad_may(self.cfg.windows[wid], part, rating=name == "rate"):
                if name == "rate":
                    raise Refusal(errors.RATING_CHANNEL_REFUSED, "evaluator", {"window": wid})
                log.warning("evaluator %s of window %s sent %r: an evaluator only rates; ignored", device, wid,
                            action)
                return
            if name == "rate":
                score, _, reasons = arg.partition(":")  # rate:2:attitude,efficiency — a reason key
                self.run(self.core.ratings.rate, int(score), window=wid, channel="keypad",
                         reasons=reasons.split(",") if reasons else None)
            elif name == "call_next" and digits:
                self.run(self.core.call_number, wid, digits)
            elif name in WINDOW_ACTIONS:
                self.run(getattr(self.core, name), wid)
            elif name in PAUSE_ACTIONS:
                self.run(getattr(self.core, name), wid, "keypad")
            elif name == "transfer" and arg:
                self.run(self.core.transfer, wid, arg)
            elif name == "transfer":
                self.run(self.core.transfer_number, wid, digits)
            elif name == "login":
                await self._login(wid, device, digits, pin_wait)
            elif name == "logout":
                self.run(self.core.logout, wid, digits or None)
            else:
                log.info("keypad %s: no hall action for %r", device, action)
        except HwdError as exc:
            shown = "" if name == "login" else f" (digits {digits})" if digits else ""
            log.info("keypad %s at window %s: %s%s refused: %s", device, wid, action, shown, exc)
            self.publish("hall.keypad.refused", {"window": wid, "action": action, "code": exc.code,
                                                 "message": exc.message})
            self.feedback(wid, device, exc.message)
        except ValueError:
            log.warning("keypad %s sent a bad action %r", device, action)

    async def _login(self, wid: str, device: str, digits: str, pin_wait: _PinWait | None) -> None:
        """The staff id, then (a clerk with a PIN) the PIN with the login key again."""
        source = KEYPAD_SOURCE + device
        if pin_wait is not None and time.monotonic() < pin_wait.until:
            await self.login(wid, pin_wait.staff, digits, source)
            return
        if not digits:
            raise Refusal(errors.LOGIN_FAILED, "staff_missing", {"window": wid})
        if self._needs_pin(digits):
            self.pins[device] = _PinWait(digits, time.monotonic() + PIN_WAIT_S)
            log.info("keypad %s at window %s: staff %s logging in, waiting for the PIN", device, wid, digits)
            self.feedback(wid, device, PIN_PROMPT, beep=False, hold_s=PIN_WAIT_S)
            return
        await self.login(wid, digits, None, source)

    def _needs_pin(self, staff: str) -> bool:
        """A clerk with a PIN; an unknown staff id too when any clerk has one (the keypad does not
        say which ids exist)."""
        if not self.core.staff_required:
            return False
        person = self.cfg.staff.get(staff)
        if person is not None:
            return bool(person.pin_hash)
        return any(p.pin_hash for p in self.cfg.staff.values())

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

"""Screens and voice: what the hall's events put on the window screens, the keypad LCDs and the
hall displays, what the speakers announce, and what a window's evaluator is told.

The engine hands every event the rules published (after their transaction committed) to
``Screens.on_event``; delivery goes through hwd.hall.devices.outputs, so a device failure never
fails a hall operation.

**A caller's LCD** (the window's ``keypad``) shows the window's current ticket, 暂停, or nothing
(hwd.hall.views.keypad_text), with the window's **waiting count** — the tickets waiting in the
window's services — for the digit LCDs that show it (``lcd = "ticket-wait"``, and ``ticket6``
while no ticket is called): on every window change, and whenever the count changes, once per
batch of events and only when the number differs from what the LCD was last given.

**The window's rating device** (its ``evaluator``, else its ``keypad``) is prompted after
``finish`` (an evaluator starts its evaluation) and shown the stars of the rating taken.

**Feedback on a caller**: a refused key beeps the caller and, on a text LCD, shows why for a few
seconds; a login waiting for the clerk's PIN shows 请输入密码. Digit LCDs cannot show words, so
they only beep. What a keypad can do is read from its device config (driver ``bus``: ``role``,
``lcd``); a keypad on another PC's hwd is not known here: it gets the waiting count and the beep,
and no words.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterable

from hwd.hall import views
from hwd.hall.devices.outputs import Outputs

log = logging.getLogger("hwd.hall.devices.screens")

LCD_TEXT = 64          # characters a caller's text LCD takes (drivers/keypad/bus_keypad.py)
FEEDBACK_S = 3.0       # how long a refusal stays on a text LCD before the window's content is back
DIGIT_LCDS = ("ticket6", "ticket-wait")


@dataclass(frozen=True)
class KeypadKind:
    """What the hall knows a keypad can do, from its device config."""
    lcd: str | None      # "text", "digits", "none"; None: unknown (a keypad on another PC)
    role: str | None     # "caller", "evaluator"; None: unknown
    beeps: bool          # worth a keypad.beep


UNKNOWN = KeypadKind(None, None, True)


def keypad_kind(device: Any) -> KeypadKind:
    """A ``[[device]]`` keypad's LCD, role and buzzer, as far as its config says."""
    if device.node is not None:
        return UNKNOWN
    if device.driver != "bus":
        return KeypadKind("none", None, False)        # evdev, serial: no LCD the hall drives, no buzzer
    role = device.options.get("role") or "caller"
    if role == "evaluator":
        return KeypadKind("none", role, False)
    lcd = device.options.get("lcd") or "text"
    return KeypadKind("digits" if lcd in DIGIT_LCDS else "text", role, True)


class Screens:
    def __init__(self, cfg: Any, store: Any, outputs: Outputs, devices: Iterable[Any] = ()):
        self.cfg, self.store, self.outputs = cfg, store, outputs
        self.kinds = {d.id: keypad_kind(d) for d in devices if d.kind == "keypad"}
        # windows whose keypad shows the waiting count (or may: a keypad on another PC)
        self.counted = [w for w in cfg.windows.values()
                        if w.keypad and self.kind(w.keypad).lcd in ("digits", None)]
        self._counted_ids = {w.id for w in self.counted}
        self.lcd: dict[str, tuple[str, int | None]] = {}   # keypad -> (text, waiting) it was last given
        self._recount_due = False
        self._restore: dict[str, asyncio.TimerHandle] = {}

    def reconfigure(self, cfg: Any) -> None:
        """Windows as a new config has them (the devices stay as started)."""
        self.cfg = cfg
        self.counted = [w for w in cfg.windows.values() if w.keypad and self.kind(w.keypad).lcd in ("digits", None)]
        self._counted_ids = {w.id for w in self.counted}

    def kind(self, device: str) -> KeypadKind:
        return self.kinds.get(device, UNKNOWN)

    def on_event(self, topic: str, data: dict) -> None:
        """Drive the devices for one published hall event."""
        if topic == "hall.window.state":
            self.refresh(data["id"])
        elif topic == "hall.ticket.called":
            self.announce(data)
        elif topic == "hall.rating.requested":
            self.rating_requested(data["window"])
        elif topic == "hall.rating":
            self.stars(data)
        self._recount_soon()

    def refresh_all(self) -> None:
        counts = self.store.queue_counts()
        for wid in self.cfg.windows:
            self.refresh(wid, counts)

    def refresh(self, wid: str, counts: dict | None = None) -> None:
        """The window's screen and keypad LCD as its row says now."""
        window = self.cfg.windows[wid]
        if not window.display and not window.keypad:
            return
        row = self.store.window(wid)
        current = self.store.ticket(row["current"]) if row["current"] else None
        if window.display:
            self.outputs.show(window.display, views.screen_lines(row, self.cfg, current))
        if window.keypad:
            self._cancel_restore(wid)
            waiting = None
            if wid in self._counted_ids:
                waiting = self._waiting(window, self.store.queue_counts() if counts is None else counts)
            self.lcd[window.keypad] = (views.keypad_text(row, current), waiting)
            self.outputs.keypad_text(window.keypad, *self.lcd[window.keypad])

    # -- the waiting count ---------------------------------------------------------------------
    @staticmethod
    def _waiting(window: Any, counts: dict) -> int:
        return sum(counts.get(service, {}).get("waiting", 0) for service in window.services)

    def _recount_soon(self) -> None:
        """Look at the waiting counts once the events of this operation are all handled."""
        if self.counted and not self._recount_due:
            self._recount_due = True
            asyncio.get_running_loop().call_soon(self.recount)

    def recount(self) -> None:
        """Give each counting keypad its window's waiting count, when the number changed."""
        self._recount_due = False
        try:
            counts = self.store.queue_counts()
        except sqlite3.Error:
            log.exception("cannot count the waiting tickets for the keypads")
            return
        for window in self.counted:
            given = self.lcd.get(window.keypad)
            if given is None:           # a prompt or words are on it: the next refresh puts the count back
                continue
            waiting = self._waiting(window, counts)
            if waiting != given[1]:
                self.lcd[window.keypad] = (given[0], waiting)
                self.outputs.keypad_text(window.keypad, given[0], waiting)

    # -- the rating device ---------------------------------------------------------------------
    def rating_requested(self, wid: str) -> None:
        """``finish``: the window's evaluator starts its evaluation (a text LCD shows 请评价)."""
        device = self.cfg.windows[wid].rating_device
        if not device or self.kind(device).lcd == "digits":    # a digit LCD cannot show 请评价
            return
        self.lcd.pop(device, None)
        self.outputs.keypad_prompt(device)

    def stars(self, rating: dict) -> None:
        """A rating taken (on any channel): its stars on the window's evaluator."""
        window = self.cfg.windows.get(rating.get("window"))
        if window is None:
            return
        device = window.evaluator or (window.keypad if window.keypad and
                                      self.kind(window.keypad).role == "evaluator" else None)
        if device and rating.get("score") in range(1, 6):
            self.outputs.keypad_stars(device, rating["score"])

    # -- feedback on a caller -------------------------------------------------------------------
    def feedback(self, wid: str, device: str, text: str, beep: bool = True, hold_s: float = FEEDBACK_S) -> None:
        """Tell the clerk at a caller: a beep (a refusal) and, on a text LCD, ``text`` for
        ``hold_s`` seconds before the window's content is back."""
        kind = self.kind(device)
        if kind.role == "evaluator":
            return
        if beep and kind.beeps:
            self.outputs.fire("keypad.beep", {"device": device})
        if kind.lcd == "text":
            self.lcd.pop(device, None)
            self.outputs.keypad_text(device, text[:LCD_TEXT])
            self._cancel_restore(wid)
            self._restore[wid] = asyncio.get_running_loop().call_later(hold_s, self._restored, wid)

    def _restored(self, wid: str) -> None:
        self._restore.pop(wid, None)
        try:
            self.refresh(wid)
        except sqlite3.Error:
            log.exception("window %s: cannot put its content back on the keypad", wid)

    def _cancel_restore(self, wid: str) -> None:
        handle = self._restore.pop(wid, None)
        if handle is not None:
            handle.cancel()

    def close(self) -> None:
        for wid in list(self._restore):
            self._cancel_restore(wid)

    # -- voice and hall displays ------------------------------------------------------------------
    def announce(self, ticket: dict) -> None:
        """A call: the window's speaker says it, every hall display shows it."""
        window = self.cfg.windows[ticket["window"]]
        if window.speaker:
            self.outputs.fire("speaker.announce", {
                "device": window.speaker, "template": "call", "repeat": self.cfg.announce_repeat,
                "params": {"ticket": ticket["number"], "window": window.spoken or window.id}})
        for device in self.cfg.displays:
            self.outputs.show(device, [f"请{ticket['number']}号", f"到{window.name}办理"])

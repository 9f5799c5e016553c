"""Screens and voice: what the hall's events put on the window screens, the keypad LCDs and the
hall displays, and what the speakers announce.

The engine hands every event the rules published (after their transaction committed) to
``Screens.on_event``; delivery goes through hwd.hall.devices.outputs, so a device failure never
fails a hall operation.
"""

from __future__ import annotations

from typing import Any

from hwd.hall import views
from hwd.hall.devices.outputs import Outputs


class Screens:
    def __init__(self, cfg: Any, store: Any, outputs: Outputs):
        self.cfg, self.store, self.outputs = cfg, store, outputs

    def on_event(self, topic: str, data: dict) -> None:
        """Drive the devices for one published hall event."""
        if topic == "hall.window.state":
            self.refresh(data["id"])
        elif topic == "hall.ticket.called":
            self.announce(data)
        elif topic == "hall.rating.requested":
            keypad = self.cfg.windows[data["window"]].keypad
            if keypad:
                self.outputs.keypad_prompt(keypad)

    def refresh_all(self) -> None:
        for wid in self.cfg.windows:
            self.refresh(wid)

    def refresh(self, wid: str) -> None:
        """The window's screen and keypad LCD as its row says now."""
        window = self.cfg.windows[wid]
        if not window.display and not window.keypad:
            return
        row = self.store.window(wid)
        current = self.store.ticket(row["current"]) if row["current"] else None
        if window.display:
            self.outputs.show(window.display, views.screen_lines(row, self.cfg, current))
        if window.keypad:
            self.outputs.keypad_text(window.keypad, views.keypad_text(row, current))

    def announce(self, ticket: dict) -> None:
        """A call: the window's speaker says it, every hall display shows it."""
        window = self.cfg.windows[ticket["window"]]
        if window.speaker:
            self.outputs.fire("speaker.announce", {
                "device": window.speaker, "template": "call", "repeat": self.cfg.announce_repeat,
                "params": {"ticket": ticket["number"], "window": window.spoken or window.id}})
        for device in self.cfg.displays:
            self.outputs.show(device, [f"请{ticket['number']}号", f"到{window.name}办理"])

"""What every window screen does, whatever its wire: keep the content, deliver it, re-deliver it.

The hall engine shows a call on a screen that may be unplugged right now; the content is kept
and sent when the screen is back (``open`` delivers it), identical content is not re-sent, and
every change is published as ``display.content`` for browser screens and the hall display.
Subclasses implement ``send_content`` (the wire) and may override ``open``/``close``.

A line may carry a colour (drivers/display/styled.py). ``content["lines"]`` keeps each line in
one form (a string, or its coloured parts); whoever only shows text — the ``display.content``
event, ``display.get``, ``devices.list`` — gets ``lines`` as plain strings, and the coloured
form as ``styled`` when a line has a colour.
"""

from __future__ import annotations

from typing import Any

from drivers.display import styled
from drivers.display.interface import Display
from hwd.errors import DeviceError, DeviceLost


class DisplayDevice(Display):
    """The ``display.*`` methods for every screen driver: the content kept, delivered, re-delivered."""

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.content: dict[str, Any] = {"lines": [], "effect": "static"}
        self.sent: dict[str, Any] | None = None   # what the screen shows now, as far as we know

    # -- the wire (subclasses) -----------------------------------------------------------------
    def send_content(self, content: dict) -> None:
        """Put ``content`` on the screen (worker thread); raise DeviceLost/OSError if the link broke."""
        raise NotImplementedError

    # -- delivery ----------------------------------------------------------------------------
    def deliver(self, force: bool = False) -> bool:
        """Send the current content unless the screen already shows it; False if it could not."""
        if not self.connected:
            return False
        content = {"lines": list(self.content["lines"]), "effect": self.content["effect"]}
        if not force and self.sent == content:
            return True
        try:
            self.send_content(content)
        except (DeviceLost, DeviceError, OSError) as exc:
            self.link_lost(exc)
            return False
        self.sent = content
        return True

    def link_lost(self, exc: BaseException) -> None:
        """The screen stopped answering mid-call: go offline; the worker reconnects and re-sends."""
        self.count("disconnects")
        self.connected = False
        self.sent = None
        try:
            self.close()
        except Exception:
            self.log.exception("close failed")
        self.set_state("offline", str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)

    def set_content(self, lines: list, effect: str) -> None:
        content = {"lines": [styled.compact(x) for x in lines], "effect": effect}
        if content != self.content:
            self.content = content
            self.publish("display.content", **self.plain_content())

    def plain_content(self) -> dict:
        """The content as text (``lines``), with ``styled`` (the lines as given) when coloured."""
        lines = self.content["lines"]
        out: dict[str, Any] = {"lines": [styled.plain(x) for x in lines], "effect": self.content["effect"]}
        if styled.has_color(lines):
            out["styled"] = list(lines)
        return out

    def info(self) -> dict:
        return {"lines": [styled.plain(x) for x in self.content["lines"]]}

    # -- RPC (drivers/display/interface.py) -----------------------------------------------------
    def rpc_show(self, params: dict) -> dict:
        self.set_content(params["lines"], params.get("effect", "static"))
        return {"delivered": self.deliver()}

    def rpc_clear(self, params: dict) -> dict:
        self.set_content([], "static")
        return {"delivered": self.deliver()}

    def rpc_get(self, params: dict) -> dict:
        return {**self.plain_content(), "delivered": self.connected and self.sent == self.content}

"""What every keypad is to the rest of hwd: the ``keypad.*`` RPC methods and their params.

The kind owns this contract, not its drivers: an evaluator that sends bytes, a USB HID keypad and
a caller on an RS-485 bus all answer ``keypad.show`` and ``keypad.prompt`` with these params
(a driver may only narrow one, e.g. a shorter LCD text). ``keypad.beep`` (a caller's buzzer) and
``keypad.stars`` (an evaluator shows the rating it took) are for keypads that have them; a
driver that has neither declares them unsupported. Keys reach the hall as
``keypad.key {device, key, action, digits?}`` events. See docs/drivers/keypad.md.
"""

from __future__ import annotations

from hwd.device import Device, MethodSpec
from hwd.schema import Field

MAX_TEXT = 256


def check_text(limit: int):
    """A ``check`` for a text param of at most ``limit`` characters."""

    def check(value: str) -> str | None:
        return f"at most {limit} characters" if len(value) > limit else None

    return check


class Keypad(Device):
    kind = "keypad"
    methods = (
        MethodSpec("show", (Field("text", str, check=check_text(MAX_TEXT), doc="the LCD text"),
                            Field("waiting", int, None, min=0, max=99999,
                                  doc="the window's waiting count, for LCDs that show it")),
                   offline_ok=True,
                   doc="Show text on the keypad's LCD, kept and sent when the keypad is back: {shown, "
                       "delivered?}; {shown: false} on a keypad without one."),
        MethodSpec("prompt", doc="Invite a rating (light up, say or show 请评价; an evaluator starts its "
                                 "evaluation): {prompted}; false when the keypad cannot be prompted."),
        MethodSpec("beep", doc="Sound the keypad's buzzer: {beeped}; false when it has none."),
        MethodSpec("stars", (Field("score", int, min=0, max=5, doc="the rating taken, 0 to clear"),),
                   doc="Show the stars of a rating on an evaluator: {shown}; false on a keypad without."),
    )

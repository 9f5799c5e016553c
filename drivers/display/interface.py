"""What every window screen is to the rest of hwd: the ``display.*`` RPC methods and their params.

The kind owns this contract, not its drivers: a vendor-framed LED screen, a host-rendered dot
matrix and a browser page all take ``display.show`` with these params. ``DisplayDevice``
(base.py) implements it once for them all. See docs/drivers/display.md.
"""

from __future__ import annotations

from drivers.display.styled import line_problem
from hwd.device import Device, MethodSpec
from hwd.schema import Field

EFFECTS = ("static", "scroll", "blink")
MAX_LINES = 32


def _check_lines(value: list) -> str | None:
    if len(value) > MAX_LINES:
        return f"at most {MAX_LINES} lines"
    for i, line in enumerate(value):
        problem = line_problem(line)
        if problem:
            return f"line {i + 1}: {problem}"
    return None


class Display(Device):
    kind = "display"
    methods = (
        MethodSpec("show", (Field("lines", list, items=(str, dict, list), check=_check_lines,
                                  doc='each a string, {"text": ..., "color": N}, or a list of those'),
                            Field("effect", str, "static", choices=EFFECTS)), offline_ok=True,
                   doc="Show lines on the screen (a line may carry a colour); kept and sent later if the "
                       "screen is offline: {delivered}."),
        MethodSpec("clear", offline_ok=True, doc="Blank the screen: {delivered}."),
        MethodSpec("get", offline_ok=True, in_worker=False, read_only=True,
                   doc="The content the screen should show now, and whether it does: {lines, effect, "
                       "delivered, styled?}."),
    )

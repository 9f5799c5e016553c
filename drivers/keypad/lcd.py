"""The digit LCD of a ``caller21`` caller: cells that take a digit value (00–09) or a blank (0A),
not text. Pure: no I/O.

Both public queue systems that drive these callers write digit values, never characters:

- ``ticket6`` — JackQChen/QueueSystem ``CallSystem/CallSystem/frmMain.cs``: ``SendTicket`` puts
  three blank cells and the last three digits of the called ticket (``0A 0A 0A 0 2 3`` for
  B023); ``SendWait`` puts the window's waiting count as three digits and three blanks when no
  ticket is being served (``0 0 4 0A 0A 0A``; at most 999).
- ``ticket-wait`` — uvbs/HospitalQueueSystem ``NurseStation/com/SLZCCaller.cpp``:
  ``ShowSysCallLeftNum`` puts every digit of the ticket, a blank (its comment: "0A表示_") and the
  window's waiting count (``0 2 3 0A 4``; a count of 0 is one ``00`` cell).

``cells`` turns cell values back into a string (``"___023"``, ``"023_4"``) for the emulator,
the logs and the tests.
"""

from __future__ import annotations

MODES = ("text", "ticket6", "ticket-wait")
BLANK = 0x0A


def _digits(value: str) -> list[int]:
    return [int(ch) for ch in value if "0" <= ch <= "9"]


def ticket6(text: str, waiting: int | None) -> bytes:
    """JackQChen's six cells: blanks and the ticket's last three digits, or, with no ticket
    number in ``text``, the waiting count and blanks (all blank without a count)."""
    digits = _digits(text)
    if digits:
        last = digits[-3:]
        return bytes([BLANK] * 3 + [BLANK] * (3 - len(last)) + last)
    if waiting is None:
        return bytes([BLANK] * 6)
    return bytes(_digits(f"{min(waiting, 999):03d}") + [BLANK] * 3)


def ticket_wait(text: str, waiting: int | None) -> bytes:
    """uvbs's cells: the ticket's digits, a blank, the waiting count (0 when unknown)."""
    return bytes(_digits(text) + [BLANK] + _digits(str(max(0, waiting or 0))))


def render(mode: str, text: str, waiting: int | None) -> bytes | None:
    """The cells of ``text`` for a digit LCD; None for ``mode = "text"`` (the text's own bytes)."""
    if mode == "ticket6":
        return ticket6(text, waiting)
    if mode == "ticket-wait":
        return ticket_wait(text, waiting)
    return None


def cells(data: bytes) -> str:
    """Cell values as a string: digits as themselves, a blank as ``_``, anything else ``?``."""
    return "".join(str(b) if b <= 9 else "_" if b == BLANK else "?" for b in data)

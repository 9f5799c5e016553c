"""How a hall reads numbers aloud: ticket numbers digit by digit, window numbers as numbers.

"A023" is called "A 零 二 三" (a citizen compares it with the slip, character by character);
window "12" is "十二". Pure functions, no I/O.
"""

from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九"
UNITS = ("", "十", "百", "千")


def chinese_number(n: int) -> str:
    """0-9999 in Chinese: 0 零, 10 十, 15 十五, 101 一百零一, 1010 一千零一十, 9999 九千九百九十九."""
    if not 0 <= n <= 9999:
        raise ValueError(f"{n} is outside 0-9999")
    if n == 0:
        return DIGITS[0]
    digits = [int(d) for d in str(n)]
    out: list[str] = []
    zero_pending = False
    for i, d in enumerate(digits):
        place = len(digits) - 1 - i
        if d == 0:
            zero_pending = True
            continue
        if zero_pending and out:
            out.append(DIGITS[0])
        zero_pending = False
        if not (d == 1 and place == 1 and not out):   # 10-19: 十, not 一十
            out.append(DIGITS[d])
        out.append(UNITS[place])
    return "".join(out)


def read_digits(text: str) -> str:
    """Each digit on its own: "023" → 零二三; letters are kept (read by name), upper-cased."""
    return "".join(DIGITS[int(ch)] if ch.isdigit() and ch.isascii() else ch.upper() for ch in text)


def read_ticket(ticket: str) -> str:
    """A ticket number, character by character: "A023" → "A零二三"."""
    return read_digits(str(ticket).strip())


def read_window(window: str) -> str:
    """A window name: runs of digits read as numbers ("12" → 十二, "B3" → B三)."""
    def number(match: re.Match) -> str:
        value = match.group(0)
        return chinese_number(int(value)) if len(value) <= 4 else read_digits(value)

    return re.sub(r"[0-9]+", number, str(window).strip())

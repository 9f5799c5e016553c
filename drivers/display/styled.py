"""Lines that carry a colour: what ``display.show`` takes besides plain strings, and their bytes.

Strip screens whose frame has a byte after every character give that byte the character's
colour (uvbs/HospitalQueueSystem ``NurseStation/com/SLZCWndScreen.cpp`` ``DoScreenMsg``: 0 is
red, the default; ``#1#``/``#2#`` in its text switch to 1 and 2). A line of ``display.show`` is
therefore a string, ``{"text": "请A023号", "color": 1}``, or a list of such parts for colour
within a line. Everything else in hwd sees the plain text (``plain``); a frame screen encodes
the parts into bytes plus one colour per byte (``encode``). Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, Union

from drivers.display.textcodec import encode_text

Line = Union[str, dict, list]
Segment = tuple[str, Union[int, None]]

MAX_PARTS = 64
MAX_COLOR = 255


def _part_problem(part: Any) -> str | None:
    if isinstance(part, str):
        return None
    if not isinstance(part, dict):
        return "a part is a string or {\"text\": ..., \"color\": N}"
    unknown = sorted(set(part) - {"text", "color"})
    if unknown:
        return f"unknown key {unknown[0]!r} (a part takes text and color)"
    if not isinstance(part.get("text"), str):
        return "text: expected a string"
    color = part.get("color")
    if color is not None and (not isinstance(color, int) or isinstance(color, bool) or not 0 <= color <= MAX_COLOR):
        return f"color: expected an integer 0..{MAX_COLOR}"
    return None


def line_problem(line: Any) -> str | None:
    """Why ``line`` is not a line of ``display.show``, or None."""
    if isinstance(line, list):
        if len(line) > MAX_PARTS:
            return f"at most {MAX_PARTS} parts in a line"
        for i, part in enumerate(line):
            problem = _part_problem(part)
            if problem:
                return f"part {i + 1}: {problem}"
        return None
    return _part_problem(line)


def segments(line: Line) -> list[Segment]:
    """The (text, colour or None) parts of a line already checked with ``line_problem``."""
    parts = line if isinstance(line, list) else [line]
    return [(p, None) if isinstance(p, str) else (p["text"], p.get("color")) for p in parts]


def plain(line: Line) -> str:
    return "".join(text for text, _ in segments(line))


def has_color(lines: list[Line]) -> bool:
    return any(color is not None for line in lines for _, color in segments(line))


def compact(line: Line) -> Line:
    """One form per line: a string when it has no colour, else its list of parts."""
    parts = segments(line)
    if all(color is None for _, color in parts):
        return "".join(text for text, _ in parts)
    return [{"text": t, "color": c} if c is not None else t for t, c in parts if t]


def join(lines: list[Line], sep: str = " ") -> list[Segment]:
    """The non-empty lines as one line, ``sep`` between them (a one-string screen)."""
    out: list[Segment] = []
    for line in lines:
        parts = [s for s in segments(line) if s[0]]
        if not parts:
            continue
        if out:
            out.append((sep, None))
        out += parts
    return out


def encode(parts: list[Segment], encoding: str, replace_char: str = "?",
           default_color: int = 0) -> tuple[bytes, list[int], list[str]]:
    """The bytes of ``parts``, the colour of each byte (its character's), and the characters
    the encoding had to replace."""
    data = bytearray()
    colors: list[int] = []
    missing: list[str] = []
    for text, color in parts:
        raw, lost = encode_text(text, encoding, replace_char)
        data += raw
        colors += [default_color if color is None else color] * len(raw)
        missing += lost
    return bytes(data), colors, missing

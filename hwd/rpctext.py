"""Which strings and shapes an RPC client may send, whatever the method.

RPC params end up in SQLite, in the outbox records sent to the county's PostgreSQL and the
province, on LED screens, tickets and CSV exports. Some text breaks one of those: a lone
surrogate (``"\\ud800"`` is valid JSON) cannot be encoded to UTF-8, so SQLite refuses it; NUL
is refused by PostgreSQL ``text``, so a record holding it would be retried forever; other
control characters garble screens and logs; the bidi embedding, override and isolate controls
(U+202A–U+202E, U+2066–U+2069) make a staff id or a note display as something else in the admin
pages and exports (the "Trojan Source" trick). Such text is refused at the door, for every
method, before any handler runs; so are strings over ``MAX_TEXT_CHARS`` (a method may declare
another limit: ``sim.control`` takes a whole burst of scans for an emulator) and params nested
deeper than ``MAX_DEPTH`` (a handler that copies or encodes them must not hit Python's
recursion limit). Tab, LF and CR are allowed.
"""

from __future__ import annotations

import re
from typing import Any

MAX_TEXT_CHARS = 4096   # per string (and per object key) anywhere in a request's params
MAX_DEPTH = 32          # nesting of objects and arrays inside params

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMES = {"\u202a": "LRE", "\u202b": "RLE", "\u202c": "PDF", "\u202d": "LRO", "\u202e": "RLO",
          "\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI", "\u2069": "PDI"}


def text_problem(value: str, max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """Why ``value`` may not be sent over RPC, or None. The message never repeats the text."""
    if len(value) > max_chars:
        return f"text of {len(value)} characters is over the limit of {max_chars}"
    found = _FORBIDDEN.search(value)
    if found is None:
        return None
    char = found.group()
    code = f"U+{ord(char):04X}"
    if "\ud800" <= char <= "\udfff":
        return f"contains a lone surrogate ({code}) at character {found.start() + 1}: not valid Unicode text"
    if char in _NAMES:
        return f"contains the bidi control {_NAMES[char]} ({code}) at character {found.start() + 1}"
    return f"contains the control character {code} at character {found.start() + 1}"


def params_problem(value: Any, max_chars: int = MAX_TEXT_CHARS, path: str = "params", depth: int = 0) -> str | None:
    """The first string or nesting problem anywhere in ``value``, as ``path: reason``, or None."""
    if isinstance(value, str):
        problem = text_problem(value, max_chars)
        return f"{path}: {problem}" if problem else None
    if not isinstance(value, (dict, list)):
        return None
    if depth >= MAX_DEPTH:
        return f"{path}: nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, list):
        for i, item in enumerate(value):
            problem = params_problem(item, max_chars, f"{path}[{i}]", depth + 1)
            if problem:
                return problem
        return None
    for key, item in value.items():
        problem = text_problem(key, max_chars)
        if problem:
            return f"{path}: a key {problem}"
        problem = params_problem(item, max_chars, f"{path}.{key}", depth + 1)
        if problem:
            return problem
    return None

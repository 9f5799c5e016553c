"""Line numbers for TOML keys.

``tomllib`` returns plain dicts with no positions, but a config error is only useful with a
line number (``FILE:LINE KEY: reason``). This module scans the source once and maps every table
header and key to the line it is on; a path that is not in the map (a missing key, a key inside
an inline table) falls back to the nearest enclosing table that is.
"""

from __future__ import annotations

import re

from hwd.schema import Path

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")
_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")


def _split_key(text: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _PART.findall(text))


def _bracket_delta(line: str, state: dict) -> int:
    """Net [ and { opened on this line, outside strings and comments; tracks multi-line strings."""
    depth = 0
    i = 0
    while i < len(line):
        if state.get("ml"):
            end = line.find(state["ml"], i)
            if end < 0:
                return depth
            i = end + 3
            state["ml"] = None
            continue
        ch = line[i]
        if line.startswith('"""', i) or line.startswith("'''", i):
            state["ml"] = line[i:i + 3]
            i += 3
            continue
        if ch in "\"'":
            j = i + 1
            while j < len(line) and line[j] != ch:
                j += 2 if (ch == '"' and line[j] == "\\") else 1
            i = j + 1
            continue
        if ch == "#":
            break
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        i += 1
    return depth


class LineMap:
    """Maps config paths such as ``("device", 2, "url")`` to 1-based line numbers."""

    def __init__(self, source: str):
        self.lines: dict[Path, int] = {}
        self._scan(source)

    def _scan(self, source: str) -> None:
        table: Path = ()
        counters: dict[tuple, int] = {}
        depth = 0
        state: dict = {}
        for lineno, line in enumerate(source.splitlines(), start=1):
            if depth == 0 and not state.get("ml"):
                header = _HEADER.match(line)
                key = _KEY.match(line) if not header else None
                if header:
                    parts = _split_key(header.group(2))
                    if header.group(1) == "[[":
                        base = self._resolve(parts)
                        index = counters.get(base, 0)
                        counters[base] = index + 1
                        table = base + (index,)
                    else:
                        table = self._resolve(parts)
                    self.lines.setdefault(table, lineno)
                    continue
                if key:
                    self.lines.setdefault(table + _split_key(key.group(1)), lineno)
            depth += _bracket_delta(line, state)
            depth = max(depth, 0)

    def _resolve(self, parts: tuple[str, ...]) -> Path:
        """Turn ``hall.window`` into ``("hall", "window")``, inserting the index of the most
        recent array-of-tables entry for any prefix that is an array (``[hall.window.x]``)."""
        out: list = []
        for part in parts:
            out.append(part)
            latest = max((p for p in self.lines if len(p) == len(out) + 1 and p[:-1] == tuple(out)
                          and isinstance(p[-1], int)), default=None, key=lambda p: p[-1])
            if latest is not None and part != parts[-1]:
                out.append(latest[-1])
        return tuple(out)

    def line_of(self, path: Path) -> int:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

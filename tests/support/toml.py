"""TOML text from Python values, for the builders (``halls``, ``devices``): a test states what its
hall has, not how TOML is spelled."""

from __future__ import annotations

import json
from typing import Any


def value(v: Any) -> str:
    """One TOML value: strings in double quotes (JSON's escapes are TOML's), lists, inline tables."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"no TOML for {v!r}")


def key(k: str) -> str:
    """A bare key where TOML allows one, else a quoted one."""
    return k if k and all(c.isascii() and (c.isalnum() or c in "_-") for c in k) else json.dumps(k, ensure_ascii=False)


def keys(values: dict[str, Any]) -> str:
    """``key = value`` lines (None values left out)."""
    return "".join(f"{key(k)} = {value(v)}\n" for k, v in values.items() if v is not None)


def table(header: str, /, **values: Any) -> str:
    """``[header]`` and its keys."""
    return f"[{header}]\n" + keys(values)


def item(header: str, /, **values: Any) -> str:
    """One ``[[header]]`` entry of an array of tables."""
    return f"[[{header}]]\n" + keys(values)

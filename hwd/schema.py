"""A small declarative checker for TOML tables, so every config section and every driver can
state its keys once and have unknown keys, wrong types and bad values reported together.

Problems are collected, never raised one at a time: the engineer sees every mistake in one run.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

REQUIRED: Any = object()

Path = tuple  # of str (keys) and int (array indexes)

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               list: "an array", dict: "a table"}


@dataclass(frozen=True)
class Field:
    """One key of a table: its type, default (or REQUIRED) and optional constraints."""

    name: str
    type: Any
    default: Any = REQUIRED
    choices: Sequence | None = None
    items: Any = None
    min: float | None = None
    max: float | None = None
    check: Callable[[Any], str | None] | None = None
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def settings(fields: Sequence[Field]) -> Callable[[type], type]:
    """Class decorator: a dataclass whose defaults are its ``fields``' own, so a section states
    each default once (in its Field) and the class adds the types.

    Every field must be annotated on the class, without a value; one set to ``REQUIRED`` has no
    default (the loader computes it, e.g. ``[daemon] rpc``). Annotated names that are not fields
    (e.g. ``path``) keep what the class gives them.
    """
    def wrap(cls: type) -> type:
        annotated = cls.__dict__.get("__annotations__", {})
        for f in fields:
            if f.name not in annotated:
                raise TypeError(f"{cls.__name__} does not declare the key {f.name!r}")
            own = cls.__dict__.get(f.name, dataclasses.MISSING)
            if own is REQUIRED:
                delattr(cls, f.name)
            elif own is not dataclasses.MISSING:
                raise TypeError(f"{cls.__name__}.{f.name}: the default is its Field's, not the class's")
            elif not f.required:
                default = f.default
                setattr(cls, f.name, dataclasses.field(default_factory=lambda d=default: copy.copy(d))
                        if isinstance(default, (list, dict)) else default)
        return dataclass(cls)
    return wrap


class Problems:
    """Collects (path, message) pairs; rendered to ``FILE:LINE KEY: reason`` by the config loader."""

    def __init__(self) -> None:
        self.items: list[tuple[Path, str]] = []

    def add(self, path: Path, message: str) -> None:
        self.items.append((tuple(path), message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def type_name(value: Any) -> str:
    for t in (bool, int, float, str, list, dict):
        if isinstance(value, t):
            return f"{_TYPE_NAMES[t]} ({value!r})" if t in (bool, int, float) else _TYPE_NAMES[t]
    return type(value).__name__


def _is_type(value: Any, wanted: Any) -> bool:
    wanted_types = wanted if isinstance(wanted, tuple) else (wanted,)
    for t in wanted_types:
        if t is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if t is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if t not in (int, float) and isinstance(value, t):
            return True
    return False


def _describe(wanted: Any) -> str:
    wanted_types = wanted if isinstance(wanted, tuple) else (wanted,)
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in wanted_types)


def check_value(field: Field, value: Any) -> str | None:
    """Return why ``value`` does not fit ``field``, or None."""
    if not _is_type(value, field.type):
        return f"expected {_describe(field.type)}, got {type_name(value)}"
    if field.items is not None and isinstance(value, list):
        for i, item in enumerate(value):
            if not _is_type(item, field.items):
                return f"item {i + 1}: expected {_describe(field.items)}, got {type_name(item)}"
    if field.choices is not None and value not in field.choices:
        return f"{value!r} is not one of {', '.join(map(repr, field.choices))}"
    if field.min is not None and isinstance(value, (int, float)) and value < field.min:
        return f"{value} is below the minimum {field.min}"
    if field.max is not None and isinstance(value, (int, float)) and value > field.max:
        return f"{value} is above the maximum {field.max}"
    if field.check is not None:
        return field.check(value)
    return None


def unknown_key_message(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")


def check_table(table: Any, fields: Sequence[Field], path: Path, problems: Problems,
                *, ignore: Iterable[str] = ()) -> dict[str, Any]:
    """Check ``table`` against ``fields``; return the values with defaults filled in.

    Keys in ``ignore`` are left for another checker (e.g. a driver's own options).
    """
    if not isinstance(table, dict):
        problems.add(path, f"expected a table, got {type_name(table)}")
        return {f.name: f.default for f in fields if not f.required}
    known = {f.name: f for f in fields}
    ignored = set(ignore)
    for key in table:
        if key not in known and key not in ignored:
            problems.add(path + (key,), unknown_key_message(key, known))
    out: dict[str, Any] = {}
    for f in fields:
        if f.name in table and not (table[f.name] is None and not f.required):
            err = check_value(f, table[f.name])
            if err:
                problems.add(path + (f.name,), err)
                if not f.required:
                    out[f.name] = f.default
            else:
                out[f.name] = table[f.name]
        elif f.required:
            problems.add(path + (f.name,), "required key is missing")
        else:
            default = f.default
            out[f.name] = list(default) if isinstance(default, list) else (
                dict(default) if isinstance(default, dict) else default)
    return out

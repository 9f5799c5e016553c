"""Changes to the config file's text that keep its comments and layout (tomlkit), so an
engineer's hand edits and the admin page's edits live in one file.

An edit is a list of ops (``config.edit``, docs/api.md):

    {"op": "set", "path": [...], "value": V}     set a key (intermediate tables are made)
    {"op": "add", "path": [...], "value": {...}} append a table to an array of tables
    {"op": "remove", "path": [...]}               remove a key, or one table of an array

A path is a list of segments: keys (strings) and, in an array, an index (an integer) or a
selector ``{"id": "w3"}`` naming the table whose ``id`` is ``w3``. hwctl writes the same paths
dotted: ``hall.window[w3].services`` (``dotted``). Also here: the parsed config as a page may
see it, without secrets (``redacted``), and the keys two configs differ in (``changed_keys``).
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array

from hwd import errors
from hwd.errors import HwdError

OPS = ("set", "add", "remove")
SECRET_RE = re.compile(r"(hash|secret|password|passwd|token|private|apikey|api_key)", re.IGNORECASE)
_SEGMENT = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


class EditError(HwdError):
    code = errors.BAD_EDIT


def apply_ops(text: str, ops: list) -> str:
    """``text`` with ``ops`` applied, comments and layout kept; EditError names the first bad op."""
    if not isinstance(ops, list) or not ops:
        raise EditError("ops: a non-empty list of {op, path, value}", errors.INVALID_PARAMS)
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise EditError(f"the config file is not valid TOML: {exc}") from None
    for i, op in enumerate(ops):
        try:
            _apply(doc, op)
        except EditError as exc:
            raise EditError(f"ops[{i}]: {exc}", exc.code) from None
        except (TOMLKitError, ValueError, TypeError, KeyError, IndexError) as exc:
            raise EditError(f"ops[{i}]: {type(exc).__name__}: {exc}") from None
    out = tomlkit.dumps(doc)
    try:
        tomllib.loads(out)
    except tomllib.TOMLDecodeError as exc:  # tomlkit wrote something TOML cannot read back
        raise EditError(f"the edit gives a file TOML cannot read: {exc}") from None
    return out


def _check_op(op: Any) -> tuple[str, list, Any]:
    if not isinstance(op, dict) or op.get("op") not in OPS:
        raise EditError(f"an op is {{\"op\": one of {', '.join(OPS)}, \"path\": [...], \"value\": ...}}",
                        errors.INVALID_PARAMS)
    path = op.get("path")
    if not isinstance(path, list) or not path:
        raise EditError("path: a non-empty list of keys, indexes and {\"id\": ...} selectors",
                        errors.INVALID_PARAMS)
    for seg in path:
        ok = (isinstance(seg, str) and seg) or (isinstance(seg, int) and not isinstance(seg, bool)) or (
            isinstance(seg, dict) and list(seg) == ["id"] and isinstance(seg["id"], str))
        if not ok:
            raise EditError(f"path segment {seg!r}: a key, an index or {{\"id\": ...}}", errors.INVALID_PARAMS)
    if op["op"] != "remove":
        if "value" not in op:
            raise EditError(f"{op['op']} needs a value", errors.INVALID_PARAMS)
        _check_value(op["value"])
    if op["op"] == "add" and not isinstance(op["value"], dict):
        raise EditError("add appends a table: value is an object", errors.INVALID_PARAMS)
    return op["op"], path, op.get("value")


def _check_value(value: Any, depth: int = 0) -> None:
    if depth > 16:
        raise EditError("value nested too deep", errors.INVALID_PARAMS)
    if value is None:
        raise EditError("TOML has no null: remove the key instead", errors.INVALID_PARAMS)
    if isinstance(value, float) and value != value:
        raise EditError("not a number", errors.INVALID_PARAMS)
    if isinstance(value, dict):
        for k, v in value.items():
            if not k:
                raise EditError("empty key", errors.INVALID_PARAMS)
            _check_value(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_value(v, depth + 1)
    elif not isinstance(value, (str, int, float, bool)):
        raise EditError(f"value of type {type(value).__name__}", errors.INVALID_PARAMS)


def _step(node: Any, seg: Any, where: str) -> Any:
    """The child of ``node`` named by ``seg``; EditError when there is none."""
    if isinstance(seg, str):
        if not hasattr(node, "keys") or seg not in node:
            raise EditError(f"no key {where}")
        return node[seg]
    if not isinstance(node, (list, AoT, Array)):
        raise EditError(f"{where}: not an array")
    if isinstance(seg, int):
        if not -len(node) <= seg < len(node):
            raise EditError(f"{where}: no index {seg} (the array has {len(node)})")
        return node[seg]
    return node[_find(node, seg["id"], where)]


def _find(array: Any, wanted: str, where: str) -> int:
    for i, item in enumerate(array):
        if hasattr(item, "get") and item.get("id") == wanted:
            return i
    raise EditError(f"{where}: no table with id {wanted!r}")


def _apply(doc: Any, op: Any) -> None:
    kind, path, value = _check_op(op)
    node = doc
    for n, seg in enumerate(path[:-1]):
        where = dotted_of(path[:n + 1])
        if kind != "remove" and isinstance(seg, str) and hasattr(node, "keys") and seg not in node:
            node[seg] = tomlkit.table()  # set/add make the tables on the way
        node = _step(node, seg, where)
    last, where = path[-1], dotted_of(path)
    if kind == "remove":
        if isinstance(last, str):
            _step(node, last, where)
            del node[last]
        else:
            _step(node, last, where)
            index = last if isinstance(last, int) else _find(node, last["id"], where)
            del node[index]
        return
    if kind == "add":
        if isinstance(last, str) and hasattr(node, "keys") and last not in node:
            array = tomlkit.aot()
            array.append(tomlkit.item(value))
            node[last] = array
            return
        target = _step(node, last, where)
        if not isinstance(target, (AoT, list, Array)):
            raise EditError(f"{where}: not an array of tables")
        if "id" in value and any(hasattr(t, "get") and t.get("id") == value["id"] for t in target):
            raise EditError(f"{where}: a table with id {value['id']!r} is there already")
        target.append(tomlkit.item(value) if isinstance(target, AoT) else value)
        return
    if isinstance(last, str):
        if not hasattr(node, "keys"):
            raise EditError(f"{where}: the parent is not a table")
        node[last] = value
    else:
        _step(node, last, where)
        index = last if isinstance(last, int) else _find(node, last["id"], where)
        node[index] = tomlkit.item(value) if isinstance(node, AoT) else value


def dotted_of(path: list) -> str:
    """A path as hwctl writes it: ``hall.window[w3].services``."""
    out = ""
    for seg in path:
        if isinstance(seg, dict):
            out += f"[{seg['id']}]"
        elif isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += ("." if out else "") + seg
    return out


def dotted(text: str) -> list:
    """``hall.window[w3].services`` as a path: ``["hall", "window", {"id": "w3"}, "services"]``;
    ``[2]`` is an index. EditError for an empty or malformed path."""
    out: list = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        if text[pos] == "." and out:
            pos += 1
        m = _SEGMENT.match(text, pos)
        if not m or m.end() == pos:
            raise EditError(f"bad path {text!r} at {pos + 1}: write keys with dots and tables of an array "
                            "as [id] or [index], e.g. hall.window[w3].services", errors.INVALID_PARAMS)
        if m.group(1) is not None:
            out.append(m.group(1))
        else:
            inner = m.group(2)
            if not inner:
                raise EditError(f"bad path {text!r}: empty []", errors.INVALID_PARAMS)
            out.append(int(inner) if re.fullmatch(r"-?\d+", inner) else {"id": inner})
        pos = m.end()
    if not out or not isinstance(out[0], str):
        raise EditError(f"bad path {text!r}", errors.INVALID_PARAMS)
    return out


def lookup(data: Any, path: list) -> Any:
    """The value at ``path`` in parsed TOML (``tomllib``'s dicts and lists); EditError if none."""
    node = data
    for n, seg in enumerate(path):
        where = dotted_of(path[:n + 1])
        if isinstance(seg, str):
            if not isinstance(node, dict) or seg not in node:
                raise EditError(f"no key {where}")
            node = node[seg]
        elif isinstance(seg, int):
            if not isinstance(node, list) or not -len(node) <= seg < len(node):
                raise EditError(f"no index {where}")
            node = node[seg]
        else:
            if not isinstance(node, list):
                raise EditError(f"{where}: not an array")
            node = node[_find(node, seg["id"], where)]
    return node


def redacted(data: Any) -> Any:
    """Parsed TOML without secrets (PIN and password hashes, secrets, tokens, private keys):
    the config a page may be shown."""
    if isinstance(data, dict):
        shown = {k: redacted(v) for k, v in data.items() if not SECRET_RE.search(k)}
        if "pin_hash" in data:  # a staff table: whether a PIN is set, not its hash
            shown["pin_set"] = bool(data["pin_hash"])
        return shown
    if isinstance(data, list):
        return [redacted(v) for v in data]
    return data


def secrets_set(data: Any) -> list[str]:
    """The dotted keys of the secrets ``redacted`` leaves out that have a value (a page shows
    "PIN set" without the hash)."""
    return sorted(k for k, v in flatten(data).items() if SECRET_RE.search(k.rsplit(".", 1)[-1]) and v)


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of parsed TOML by its dotted key; tables of an array are named by their id
    when they have one (``hall.window[w3].services``), else by their index."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
        if not data and prefix:
            out[prefix] = {}
    elif isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        for i, v in enumerate(data):
            name = v.get("id") if isinstance(v.get("id"), str) else i
            out.update(flatten(v, f"{prefix}[{name}]"))
    else:
        out[prefix] = data
    return out


def changed_keys(old: dict, new: dict) -> list[str]:
    """The dotted keys whose values differ between two parsed configs, in order."""
    a, b = flatten(old), flatten(new)
    return sorted(k for k in set(a) | set(b) if a.get(k, _MISSING) != b.get(k, _MISSING))


_MISSING = object()

"""Config edits by ops (hwd.configedit): applied then read back they give what the ops say, the
file's comments stay, and a bad op is an EditError naming it (never another exception)."""

from __future__ import annotations

import copy
import tomllib

import pytest
from hypothesis import given, settings, strategies as st

from hwd import configedit
from hwd.configedit import EditError

BASE = '''# the hall's file: this comment stays
[hall]
name = "中心"  # inline comment stays

[[hall.window]]
id = "w1"   # window one
name = "1"
services = ["a"]

[hall.hours]
mon = ["09:00-12:00"]
'''

KEYS = st.sampled_from(["name", "notice", "quota", "note", "x-y", "键"])
SCALARS = st.one_of(st.text(max_size=20).filter(lambda s: "\x00" not in s), st.integers(-2 ** 63, 2 ** 63 - 1),
                    st.floats(allow_nan=False, allow_infinity=False), st.booleans())
VALUES = st.one_of(SCALARS, st.lists(st.text(max_size=8), max_size=4), st.lists(st.integers(0, 99), max_size=4))
IDS = st.sampled_from(["w1", "w2", "w3", "w4"])


@st.composite
def ops(draw):
    kind = draw(st.sampled_from(["set_hall", "set_window", "add_window", "remove_window", "set_hours",
                                 "remove_key"]))
    if kind == "set_hall":
        return {"op": "set", "path": ["hall", draw(KEYS)], "value": draw(VALUES)}
    if kind == "set_hours":
        return {"op": "set", "path": ["hall", "hours", draw(KEYS)], "value": draw(VALUES)}
    if kind == "set_window":
        return {"op": "set", "path": ["hall", "window", {"id": draw(IDS)}, draw(KEYS)], "value": draw(VALUES)}
    if kind == "add_window":
        return {"op": "add", "path": ["hall", "window"],
                "value": {"id": draw(IDS), "name": draw(st.text(max_size=6)), "services": ["a"]}}
    if kind == "remove_window":
        return {"op": "remove", "path": ["hall", "window", {"id": draw(IDS)}]}
    return {"op": "remove", "path": ["hall", draw(KEYS)]}


def model_apply(data: dict, op: dict) -> bool:
    """The op on plain dicts; False when it names nothing (configedit must refuse it too)."""
    path, node = op["path"], data
    for seg in path[:-1]:
        if isinstance(seg, dict):
            found = [t for t in node if t.get("id") == seg["id"]]
            if not found:
                return False
            node = found[0]
        else:
            node = node.setdefault(seg, {}) if op["op"] != "remove" else node.get(seg)
            if node is None:
                return False
    last = path[-1]
    if op["op"] == "set":
        node[last] = copy.deepcopy(op["value"])
    elif op["op"] == "add":
        array = node.setdefault(last, [])
        if any(t.get("id") == op["value"]["id"] for t in array):
            return False
        array.append(copy.deepcopy(op["value"]))
    elif isinstance(last, dict):
        found = [i for i, t in enumerate(node) if t.get("id") == last["id"]]
        if not found:
            return False
        del node[found[0]]
    else:
        if last not in node:
            return False
        del node[last]
    return True


@settings(max_examples=150, deadline=None)
@given(st.lists(ops(), min_size=1, max_size=8))
def test_ops_applied_then_read_back(sequence):
    text, model = BASE, tomllib.loads(BASE)
    for op in sequence:
        expected = copy.deepcopy(model)
        if model_apply(expected, op):
            text = configedit.apply_ops(text, [op])
            model = expected
            assert tomllib.loads(text) == model
        else:
            with pytest.raises(EditError):
                configedit.apply_ops(text, [op])
    assert "# the hall's file: this comment stays" in text
    if "name" in model["hall"] and model["hall"]["name"] == "中心":
        assert "# inline comment stays" in text


def test_paths_as_hwctl_writes_them():
    assert configedit.dotted("hall.window[w3].services") == ["hall", "window", {"id": "w3"}, "services"]
    assert configedit.dotted("hall.service[0].matter[m-1].name") == ["hall", "service", 0, "matter", {"id": "m-1"},
                                                                      "name"]
    for bad in ("", "[w3]", "hall..x", "hall.window[]", "hall.window[w3"):
        with pytest.raises(EditError):
            configedit.dotted(bad)


def test_secrets_are_left_out_of_what_a_page_sees():
    data = {"hall": {"staff": [{"id": "s1", "name": "张三", "pin_hash": "x"}],
                     "upstream": {"secret": "s", "url": "u", "sm2_private_key": "k"}},
            "ui": {"admin_password_hash": "h", "session_secret_file": "f", "title": "t"}}
    assert configedit.redacted(data) == {"hall": {"staff": [{"id": "s1", "name": "张三", "pin_set": True}],
                                                  "upstream": {"url": "u"}}, "ui": {"title": "t"}}

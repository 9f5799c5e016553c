"""One table of wording per error code (hwd.wording): every refusal a person reads is written
there once, the daemon's messages and the pages' words come from it, and a message not written
there is never shown to a person as it is."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hwd import errors, wording
from hwd.client import RpcError
from hwd.wording import GENERAL, WORDS, Refusal, for_people, say
from kiosk_ui.hwdlink import message_for

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("hwd", "drivers", "kiosk_ui", "central")


def _han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _calls(name: str):
    for package in RUNTIME:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == name:
                    yield path.relative_to(ROOT), node


def test_a_codes_general_wording_takes_no_details_and_every_wording_names_a_real_code():
    codes = {v for k, v in vars(errors).items() if k.isupper() and isinstance(v, int)}
    for code, words in WORDS.items():
        assert code in codes
        assert "{" not in words.get("", ""), (code, words[""])
        assert all(_han(text) for text in words.values()), code


def test_every_refusal_in_the_code_names_a_wording_of_the_table():
    """``Refusal(errors.X, "key", …)``: X has the wording ``key`` (a typo fails here, not before a citizen)."""
    seen = 0
    for path, node in _calls("Refusal"):
        if path == Path("hwd/wording.py"):
            continue
        code = node.args[0]
        assert isinstance(code, ast.Attribute), f"{path}:{node.lineno}: the code as errors.NAME"
        key = node.args[1] if len(node.args) > 1 else ast.Constant("")
        if not isinstance(key, ast.Constant):  # chosen at run time: hours.Calendar.closed, checked below
            continue
        key = key.value
        assert key in WORDS[getattr(errors, code.attr)], f"{path}:{node.lineno}: no wording {key!r} of {code.attr}"
        seen += 1
    assert seen > 60


def test_no_chinese_error_message_is_written_outside_the_table():
    """The daemon's own ``HwdError`` messages are English (for logs and hwctl); whatever a person
    reads is a ``Refusal`` from the table."""
    wrong = [f"{path}:{node.lineno}" for path, node in _calls("HwdError")
             if node.args and _han(ast.unparse(node.args[0]))]
    assert not wrong, wrong


def test_a_refusal_says_its_wording_with_its_details_and_names_it():
    exc = Refusal(errors.BAD_STATE, "finish_first", {"window": "5"}, number="A023")
    assert (exc.code, exc.message) == (errors.BAD_STATE, "请先办结或过号当前的A023号")
    assert exc.data == {"window": "5", "wording": "finish_first"}
    with pytest.raises(KeyError):
        Refusal(errors.BAD_STATE, "no such situation")
    exists = Refusal(errors.BAD_STATE, "appointment_exists", {"code": "YY-7"}, code="YY-7")  # a detail named code
    assert exists.message == "预约码 YY-7 已存在" and exists.code == errors.BAD_STATE


def test_the_page_shows_the_tables_wording_and_nothing_else():
    said = RpcError(say(errors.CARD_TOKEN_EXPIRED), errors.CARD_TOKEN_EXPIRED, {"wording": ""})
    assert message_for(said) == "身份证信息已过期，请重新刷卡"
    # a message not made from the table, Chinese or not, is not shown as it is
    for message in ("params: service: expected a string", "身份证信息已失效（驱动）"):
        assert message_for(RpcError(message, errors.INVALID_PARAMS, None)) == WORDS[errors.INVALID_PARAMS][""]
    assert message_for(RpcError("card token unknown or expired", errors.CARD_TOKEN_EXPIRED, None)) == \
        "身份证信息已过期，请重新刷卡"
    assert for_people(errors.DEVICE_TIMEOUT, "timeout", None) == GENERAL
    assert for_people(errors.BAD_STATE, "x", {"wording": "not in the table"}) == WORDS[errors.BAD_STATE][""]
    from hwd.client import Unreachable
    assert message_for(Unreachable("no answer")) == wording.UNREACHABLE


def test_the_hours_say_why_no_ticket_can_be_taken_in_the_tables_words():
    import datetime as dt
    import zoneinfo

    from hwd.hall.config import Hours
    from hwd.hall.queue.hours import Calendar

    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    calendar = Calendar(Hours())
    key, details = calendar.closed(dt.datetime(2026, 11, 23, 7, 0, tzinfo=tz))  # a Monday before opening
    assert key in WORDS[errors.OUTSIDE_HOURS]
    assert calendar.closed_message(dt.datetime(2026, 11, 23, 7, 0, tzinfo=tz)) == say(errors.OUTSIDE_HOURS, key, **details)

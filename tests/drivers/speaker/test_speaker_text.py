"""How the hall reads numbers and fills templates (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from drivers.speaker.numbers import chinese_number, read_ticket, read_window
from drivers.speaker.templates import DEFAULT_TEMPLATES, TemplateError, announcement_text, render

VECTORS = {
    0: "零", 1: "一", 7: "七", 10: "十", 11: "十一", 19: "十九", 20: "二十", 21: "二十一", 99: "九十九",
    100: "一百", 101: "一百零一", 110: "一百一十", 111: "一百一十一", 305: "三百零五", 1000: "一千",
    1001: "一千零一", 1010: "一千零一十", 1011: "一千零一十一", 1100: "一千一百", 2020: "二千零二十",
    3005: "三千零五", 9999: "九千九百九十九",
}


@pytest.mark.parametrize("n,text", sorted(VECTORS.items()))
def test_chinese_number_vectors(n, text):
    assert chinese_number(n) == text


def parse_chinese(text: str) -> int:
    """An independent reader of the numerals, to check every reading from 0 to 9999."""
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")}
    units = {"十": 10, "百": 100, "千": 1000}
    total, current = 0, None
    for ch in text:
        if ch in digits:
            current = digits[ch]
        else:
            total += (1 if current is None else current) * units[ch]
            current = None
    return total + (current or 0)


def test_every_number_to_9999_reads_back():
    seen = set()
    for n in range(10000):
        text = chinese_number(n)
        assert parse_chinese(text) == n, (n, text)
        assert "零零" not in text and not (n and text.endswith("零")), text
        seen.add(text)
    assert len(seen) == 10000


@pytest.mark.parametrize("n", [-1, 10000])
def test_out_of_range(n):
    with pytest.raises(ValueError):
        chinese_number(n)


def test_ticket_and_window_readings():
    assert read_ticket("A023") == "A零二三"
    assert read_ticket("b100") == "B一零零"
    assert read_window("12") == "十二"
    assert read_window("5") == "五"
    assert read_window("B3") == "B三"


@given(st.from_regex(r"[A-Z][0-9]{3}", fullmatch=True))
def test_ticket_reading_is_one_character_per_character(ticket):
    spoken = read_ticket(ticket)
    assert len(spoken) == len(ticket) and spoken[0] == ticket[0]


def test_call_template():
    assert render(DEFAULT_TEMPLATES["call"], {"ticket": "A023", "window": "12"}) == "请A零二三号到十二号窗口办理"
    assert announcement_text(DEFAULT_TEMPLATES, None, "call", {"ticket": "C7", "window": 10}) == "请C七号到十号窗口办理"
    assert announcement_text(DEFAULT_TEMPLATES, "请安静", None, None) == "请安静"
    with pytest.raises(TemplateError, match="window"):
        render(DEFAULT_TEMPLATES["call"], {"ticket": "A1"})
    with pytest.raises(TemplateError, match="unknown template"):
        announcement_text(DEFAULT_TEMPLATES, None, "nope", {})

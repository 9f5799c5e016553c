"""kiosk_ui.kiosk_voice: the words each kiosk screen says (issue 24 §2–3), without a browser."""

from __future__ import annotations

from kiosk_ui import kiosk_voice


def test_every_prompt_has_short_words_and_unknown_ones_none():
    for key in kiosk_voice.PROMPTS:
        text = kiosk_voice.prompt_text(key, {"service": "不动产登记"})
        assert text and len(text) <= 40 and "{" not in text, (key, text)
    assert kiosk_voice.prompt_text("请到后门领取补贴", {}) is None
    assert kiosk_voice.prompt_text("notice", {"service": "不动产登记"}) == "不动产登记办事指南，可打印一次性告知单"
    assert kiosk_voice.prompt_text("home", {"closed": "今日已停止取号"}) == "今日已停止取号"
    # a reader or scanner that cannot serve is not pointed at
    assert kiosk_voice.prompt_text("home", {"card": False}) == "您好，请选择办理事项"
    assert "身份证" in kiosk_voice.prompt_text("home", {"card": True})
    assert kiosk_voice.prompt_text("checkin", {"scanner": False}) == "预约签到，请在屏幕上输入预约码"
    assert "扫描" in kiosk_voice.prompt_text("checkin", {"scanner": True})


def test_the_ticket_screen_says_the_number_the_place_and_what_to_take():
    t = {"number": "B003", "state": "waiting", "waiting_ahead": 2, "printed": True}
    number = kiosk_voice.ticket_text(t, card=False).split("。")[0]
    assert number.startswith("您的号码是B") and "3" not in number     # read as the broadcast reads it
    assert kiosk_voice.ticket_text(t, card=True).endswith("前面还有2人等候。请取回您的身份证和号票")
    assert kiosk_voice.ticket_text(t, card=False).endswith("请取走号票")
    lost = dict(t, printed=False)
    assert kiosk_voice.ticket_text(lost, card=True).endswith("请取回您的身份证。号票未能打印，请记住您的号码")
    again = kiosk_voice.ticket_text(t, card=False, again=True)
    assert again.startswith("您已签到，") and "本次没有再打印号票" in again and "请取走" not in again
    called = dict(t, state="called")
    assert "前面还有" not in kiosk_voice.ticket_text(called, card=False)

"""What the host writes to ``caller21`` callers and evaluators, through a real hwd and the bus
emulator: the LCD's digit cells in both formats, the beep, an evaluator's "start evaluation" and
stars, and a command that gets no answer sent once — never flooded (before, hwd re-sent an LCD
frame to a keypad that never answers one 13 times in 2 s, and every 100 ms after)."""

from __future__ import annotations

import time

import pytest

from support.waits import wait_for
from hwd import errors
from hwd.client import RpcError
from support.devices import keypad
from test_keypad_one_reader import EVALUATOR, JQ_KEYS, UV_KEYS, caller

BUS = caller("win7-caller", 0x21, "ticket6", JQ_KEYS) + caller("win8-caller", 0x22, "ticket-wait", UV_KEYS) + EVALUATOR


def lcd(d, device):
    return d.sim(device, "lcd")


def test_digit_lcds_beep_and_the_evaluator(hwd_daemon):
    d = hwd_daemon(BUS + keypad("win5-rate"))
    for device in ("win7-caller", "win8-caller", "win7-rate"):
        d.wait_state(device, "online")

    # JackQChen's six cells: blanks and the ticket's digits; its waiting count when idle
    assert d.call("keypad.show", {"device": "win7-caller", "text": "B023", "waiting": 4}) == \
        {"shown": True, "delivered": True}
    wait_for(lambda: lcd(d, "win7-caller")["lcd"] == "___023", what="___023 on the JQ caller")
    d.call("keypad.show", {"device": "win7-caller", "text": "暂停", "waiting": 12})
    wait_for(lambda: lcd(d, "win7-caller")["lcd"] == "012___", what="the waiting count on the JQ caller")

    # uvbs's cells: the ticket's digits, a blank, the waiting count — on every change of it
    d.call("keypad.show", {"device": "win8-caller", "text": "B023", "waiting": 4})
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "023_4", what="023_4 on the uvbs caller")
    d.call("keypad.show", {"device": "win8-caller", "text": "B023", "waiting": 3})
    wait_for(lambda: lcd(d, "win8-caller")["lcd"] == "023_3", what="the new waiting count")
    d.call("keypad.show", {"device": "win8-caller", "text": "B023"})      # the count it has stays
    assert lcd(d, "win8-caller")["lcd"] == "023_3"

    # FUNC 03: the caller beeps
    assert d.call("keypad.beep", {"device": "win7-caller"}) == {"beeped": True}
    wait_for(lambda: lcd(d, "win7-caller")["beeps"] == 1, what="a beep")

    # the evaluator: 01 0B starts its evaluation, 02 n shows the stars; it has no LCD, no buzzer
    assert d.call("keypad.prompt", {"device": "win7-rate"}) == {"prompted": True}
    wait_for(lambda: lcd(d, "win7-rate")["evaluating"], what="the evaluator evaluating")
    assert d.call("keypad.stars", {"device": "win7-rate", "score": 5}) == {"shown": True}
    wait_for(lambda: lcd(d, "win7-rate")["stars"] == 5, what="five stars")
    assert lcd(d, "win7-rate")["evaluating"] is False
    assert d.call("keypad.show", {"device": "win7-rate", "text": "B023"}) == {"shown": False}
    assert d.call("keypad.beep", {"device": "win7-rate"}) == {"beeped": False}
    assert d.call("keypad.stars", {"device": "win7-caller", "score": 3}) == {"shown": False}
    # a caller with digit cells cannot show 请评价
    assert d.call("keypad.prompt", {"device": "win7-caller"}) == {"prompted": False}
    with pytest.raises(RpcError) as err:
        d.call("keypad.stars", {"device": "win7-rate", "score": 6})
    assert err.value.code == errors.INVALID_PARAMS
    # a keypad without a buzzer or stars says so
    with pytest.raises(RpcError) as err:
        d.call("keypad.beep", {"device": "win5-rate"})
    assert err.value.code == errors.METHOD_NOT_FOUND and "does not support keypad.beep" in str(err.value)
    # nothing the host wrote was taken for a key, and nothing garbled
    assert all("keys" not in d.device(x)["counters"] for x in ("win7-caller", "win8-caller", "win7-rate"))
    assert d.sim("win7-caller", "status")["bad_frames"] == 0


def test_a_command_that_gets_no_answer_is_sent_once(hwd_daemon):
    """A keypad configured to answer (``answers = true``) that does not: the LCD frame goes out
    ``1 + retries`` times, then not again until the text changes."""
    d = hwd_daemon(caller("win7-caller", 0x21, "text", JQ_KEYS) + "answers = true\nretries = 1\n"
                   "reply_timeout_ms = 100\n")
    d.wait_state("win7-caller", "online")
    d.sim("win7-caller", "silent_address", on=True)
    assert d.call("keypad.show", {"device": "win7-caller", "text": "B001"}) == {"shown": True, "delivered": False}
    assert d.device("win7-caller")["counters"]["frames"] == 2
    time.sleep(1.0)          # ten polls later
    counters = d.device("win7-caller")["counters"]
    assert counters["frames"] == 2 and counters["unanswered"] == 1
    assert d.device("win7-caller")["state"] == "online"      # an unpolled keypad cannot be missed
    # new text: one more try, and when the keypad answers again, it is delivered
    d.sim("win7-caller", "silent_address", on=False)
    assert d.call("keypad.show", {"device": "win7-caller", "text": "B002"})["delivered"] is True
    assert lcd(d, "win7-caller")["lcd"] == "B002"
    assert d.device("win7-caller")["counters"]["frames"] == 3


def test_an_unpolled_keypad_gets_each_lcd_frame_once(hwd_daemon):
    """The public systems' callers never answer an LCD frame (``answers`` defaults to false for
    unpolled keypads): each change is written once, and the same content is not written again."""
    d = hwd_daemon(caller("win8-caller", 0x22, "ticket-wait", UV_KEYS))
    d.wait_state("win8-caller", "online")
    for _ in range(3):
        assert d.call("keypad.show", {"device": "win8-caller", "text": "A007", "waiting": 2})["delivered"] is True
    time.sleep(0.5)
    assert d.device("win8-caller")["counters"]["frames"] == 1
    assert lcd(d, "win8-caller")["lcd"] == "007_2"


def test_digits_and_a_key_in_one_press(hwd_daemon):
    d = hwd_daemon(caller("win8-caller", 0x22, "ticket-wait", UV_KEYS))
    d.wait_state("win8-caller", "online")
    ev = d.events("keypad.")
    d.sim("win8-caller", "press", key="call_next", digits="123")
    event = ev.wait("keypad.key", device="win8-caller", timeout=10)
    assert (event["key"], event["action"], event["digits"]) == ("0c", "call_next", "123")
    d.sim("win8-caller", "press", key="0b")           # not mapped: logged, still written back
    wait_for(lambda: "unmapped key code 0b" in d.log(), what="the unmapped key in the log")
    wait_for(lambda: lcd(d, "win8-caller")["echoed"] == 2, what="both frames written back")

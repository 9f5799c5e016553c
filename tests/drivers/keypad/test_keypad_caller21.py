"""The ``caller21`` preset against the two public queue systems that drive these callers and
evaluators (queue_system_refs.py transcribes their code, with file and lines): the LCD's digit
cells, the beep, the echo of a key frame and the evaluator's rewritten one, and the digits a
caller sends before a key. Pure bytes; the bus itself is in test_keypad_one_reader.py."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from drivers.keypad import lcd
from drivers.keypad.busframe import BusFrame
from drivers.keypad.buspresets import PRESETS, ack_frame, build_spec, command_bytes, resolved
from drivers.keypad.keymap import split_key
from queue_system_refs import (jq_key, jq_response, jq_send_beep, jq_send_ticket, jq_send_wait,
                               uv_alarm_to_system, uv_caller_command, uv_sepa_msg_num,
                               uv_show_sys_call_left_num)

SPEC = build_spec({"protocol": "caller21"})
CALLER = command_bytes({"protocol": "caller21"})
EVALUATOR = command_bytes({"protocol": "caller21", "role": "evaluator"})
# the keys of a caller as JQ (lines 240–294) and uvbs (HardWareDef.h 12–17, SLZCCaller.cpp
# DoCallerMsg) send them: digits 00–09, then the key
KEYS = {b"\x0c": "call_next", b"\x0d": "recall", b"\x0a": "transfer", b"\x0f": "login",
        b"\x06\x0f": "no_show", b"\x00\x0f": "pause", b"\x12": "pause"}


def lcd_frame(mode: str, text: str, waiting: int | None, addr: int = 5) -> bytes:
    return SPEC.encode(addr, CALLER["text"][0], lcd.render(mode, text, waiting))


def test_ticket6_is_what_jackqchen_sends():
    # the bytes for B023 at address 5, and JQ SendTicket's (frmMain.cs 663–685)
    want = bytes.fromhex("ff 68 08 08 68 05 02 0a 0a 0a 00 02 03 2a 16")
    assert lcd_frame("ticket6", "B023", 4) == want == jq_send_ticket(5, "023")
    assert lcd.cells(lcd.ticket6("B023", None)) == "___023"
    for addr, ticket in ((0x21, "A001"), (0xFE, "C999"), (1, "B1234")):
        assert lcd_frame("ticket6", ticket, None, addr) == jq_send_ticket(addr, ticket[-3:])


@pytest.mark.parametrize("waiting", [0, 4, 12, 999, 1500])
def test_ticket6_without_a_ticket_shows_the_waiting_count_as_sendwait_does(waiting):
    # JQ SendWait (frmMain.cs 687–712) after an evaluation, a give-up, a transfer: no ticket
    assert lcd_frame("ticket6", "暂停", waiting) == jq_send_wait(5, waiting)
    assert lcd.cells(lcd.ticket6("", None)) == "______"


def test_ticket_wait_is_what_uvbs_sends_with_the_framings_end_marker():
    want = bytes.fromhex("ff 68 07 07 68 05 02 00 02 03 0a 04 1a 16")     # the bytes
    assert lcd_frame("ticket-wait", "B023", 4) == want
    assert lcd.cells(lcd.ticket_wait("B023", 4)) == "023_4"
    # uvbs ShowSysCallLeftNum (SLZCCaller.cpp 559–636) builds the same frame but ends it with
    # 00 (line 632), where its ShowSystemNum (line 451) and every other frame of the protocol
    # end with 16: hwd keeps 16
    for ticket, waiting in (("B023", 4), ("A001", 0), ("C120", 12), ("A5", 105)):
        ours, theirs = lcd_frame("ticket-wait", ticket, waiting), uv_show_sys_call_left_num(5, waiting, ticket)
        assert ours[:-1] == theirs[:-1] and (ours[-1], theirs[-1]) == (0x16, 0x00)


def test_text_lcd_keeps_the_old_bytes():
    assert lcd.render("text", "B001", 3) is None
    assert SPEC.encode(0x21, CALLER["text"][0], "B001".encode("gb2312")) == \
        bytes.fromhex("FF 68 06 06 68 21 02 42 30 30 31 F6 16")


def test_beep_is_function_03_as_both_sources_send_it():
    for addr in (1, 5, 0x21, 0xFD):
        frame = SPEC.encode(addr, CALLER["beep"][0], CALLER["beep"][1:])
        assert frame == jq_send_beep(addr) == uv_alarm_to_system(addr)
    assert SPEC.encode(5, CALLER["beep"][0]) == bytes.fromhex("ff 68 02 02 68 05 03 08 16")


def test_evaluator_commands_are_hardwaredefs():
    # HardWareDef.h 28–31: 11 evaluator→system, 01 system→evaluator (with 0B: start the
    # evaluation), 02 stars
    assert EVALUATOR["key"] == b"\x11" and EVALUATOR["evaluate"] == b"\x01\x0b" and EVALUATOR["stars"] == b"\x02"
    assert SPEC.encode(0x81, EVALUATOR["evaluate"][0], EVALUATOR["evaluate"][1:]) == \
        bytes.fromhex("ff 68 03 03 68 81 01 0b 8d 16")
    assert SPEC.encode(0x81, EVALUATOR["stars"][0], bytes([5])) == bytes.fromhex("ff 68 03 03 68 81 02 05 88 16")
    assert resolved({"protocol": "caller21"})["ack"] == "echo"


@given(addr=st.integers(0, 255), digits=st.lists(st.integers(0, 9), max_size=6),
       key=st.sampled_from([0x0A, 0x0B, 0x0C, 0x0D, 0x0F, 0x12, 0x13]))
def test_a_caller_frame_is_written_back_unchanged(addr, digits, key):
    frame = SPEC.encode(addr, CALLER["key"][0], bytes(digits + [key]))
    parsed = SPEC.check(frame)
    assert isinstance(parsed, BusFrame)
    echo = ack_frame(SPEC, parsed, PRESETS["caller21"]["ack_rewrite"])
    assert echo == frame == jq_response(frame)       # JQ sp_DataReceived 217–234
    assert jq_key(frame) == key


@given(addr=st.integers(0, 255), grade=st.integers(0, 4))
def test_an_evaluator_frame_comes_back_as_function_01_its_checksum_0x10_lower(addr, grade):
    frame = SPEC.encode(addr, 0x11, bytes([grade]))
    ack = ack_frame(SPEC, SPEC.check(frame), PRESETS["caller21"]["ack_rewrite"])
    assert ack[:6] == frame[:6] and ack[6] == 0x01 and ack[7] == frame[7] and ack[-1] == 0x16
    assert ack[8] == (frame[8] - 0x10) & 0xFF


def test_digits_before_a_key():
    # the "01 02 03 0C calls number 123", and uvbs's reading of the same frames
    frame = SPEC.encode(5, 1, bytes.fromhex("01 02 03 0c"))
    assert uv_caller_command(frame) == "cmdCallNum" and uv_sepa_msg_num(frame) == bytes([1, 2, 3])
    assert split_key(bytes.fromhex("01 02 03 0c"), KEYS) == (b"\x0c", "call_next", "123")
    assert uv_caller_command(SPEC.encode(5, 1, b"\x0c")) == "cmdCall"
    assert split_key(b"\x0c", KEYS) == (b"\x0c", "call_next", "")
    # digits + 0A (开始): transfer to queue N; digits + 0F (功能): clerk N logs in
    assert uv_caller_command(SPEC.encode(5, 1, bytes([0, 7, 0x0A]))) == "cmdExChange"
    assert split_key(bytes([0, 7, 0x0A]), KEYS) == (b"\x0a", "transfer", "07")
    assert uv_caller_command(SPEC.encode(5, 1, bytes([1, 2, 0x0F]))) == "cmdLogin"
    assert split_key(bytes([1, 2, 0x0F]), KEYS) == (b"\x0f", "login", "12")
    # a digit and a key mapped whole win over digits: JQ's "06 0F" gives up the ticket (line
    # 260), "00 0F" hangs it up (264); uvbs's "00 0F" pauses (SLZCCaller.cpp 215)
    assert split_key(b"\x06\x0f", KEYS) == (b"\x06\x0f", "no_show", "")
    assert split_key(b"\x00\x0f", KEYS) == (b"\x00\x0f", "pause", "")
    assert uv_caller_command(SPEC.encode(5, 1, b"\x00\x0f")) == "cmdPause"
    # such a key is the whole frame only: digits before 0F log a clerk in (uvbs: size > 11)
    keys = {**KEYS, b"\x05\x0f": "no_show"}
    assert split_key(bytes([0, 8, 1, 5, 0x0F]), keys) == (b"\x0f", "login", "0815")
    assert uv_caller_command(SPEC.encode(5, 1, bytes([0, 8, 1, 5, 0x0F]))) == "cmdLogin"
    assert split_key(bytes([5, 0x0F]), keys) == (b"\x05\x0f", "no_show", "")
    assert uv_caller_command(SPEC.encode(5, 1, bytes([5, 0x0F]))) == "cmdDiscard"
    # bytes that are neither a key nor digits and a key
    assert split_key(b"\x0b", KEYS) is None
    assert split_key(bytes([1, 0x20, 0x0c]), KEYS) is None
    assert split_key(bytes([1] * 13 + [0x0c]), KEYS) is None       # more digits than a caller has


@given(st.lists(st.integers(0, 9), min_size=1, max_size=12))
def test_any_digits_reach_the_key(digits):
    assert split_key(bytes(digits) + b"\x0d", KEYS) == (b"\x0d", "recall", "".join(map(str, digits)))

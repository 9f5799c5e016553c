"""The WKLY frame (drivers/locker/protocol.py) against the bytes of the two public sources
(wkly_refs.py: junerver/LockDemo and an independent ESP32 driver), and property tests of the
decoder (garbage, split frames, corrupted bytes)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import wkly_refs as ref
from drivers.locker import protocol as wkly
from hwd.stream import Skip, StreamDecoder


def test_the_start_code_and_command_table_are_the_sources():
    assert wkly.START == ref.START == b"WKLY"
    assert wkly.COMMANDS == ref.COMMANDS
    assert (wkly.SUCCESS, wkly.FAILED, wkly.DOOR_OPEN, wkly.DOOR_CLOSED) == (0x00, 0xFF, 0x00, 0x01)


@pytest.mark.parametrize("command, board, arg, expected", ref.HOST)
def test_hwd_builds_the_host_frames_of_the_sources(command, board, arg, expected):
    if command == "open":
        built = wkly.open_door(board, arg)
    elif command == "status":
        built = wkly.query_door(board, arg)
    elif command == "status_all":
        built = wkly.query_all(board)
    elif command in ("open_several", "open_sequential"):
        built = wkly.open_several(board, arg, sequential=command == "open_sequential")
    else:
        code = {v: k for k, v in ref.COMMANDS.items()}[command]
        built = wkly.encode(board, code, b"" if arg is None else bytes([arg]))
    assert built == ref.hx(expected)
    # LockDemo's buildCommand, run step by step, gives the same bytes
    assert built == ref.ld_build_command(built[5], built[6], built[7:-1])


@pytest.mark.parametrize("cmd, text", sorted(ref.DOC_DEMO.items()))
def test_every_demo_reply_of_the_vendor_document_is_one_frame(cmd, text):
    raw = ref.hx(text)
    assert ref.ld_validate(raw)
    frame = wkly.check(raw, 0)
    assert isinstance(frame, wkly.Frame) and frame.raw == raw
    assert (frame.addr, frame.cmd) == (0, cmd)
    assert wkly.reply(0, cmd, frame.data) == raw   # hwd's emulator writes these bytes


def test_replies_read_as_the_sources_read_them():
    opened = wkly.door_reply(wkly.check(ref.hx(ref.DOC_DEMO[0x82])))
    assert (opened.status, opened.channel, opened.door) == (0x00, 1, "open")
    shut = wkly.door_reply(wkly.check(ref.hx(ref.OPEN_DOOR5_STILL_SHUT)))
    assert (shut.ok, shut.channel, shut.door) == (True, 5, "closed")       # the lock did not release
    seven = wkly.door_reply(wkly.check(ref.hx(ref.STATUS_DOOR7_OPEN)))
    assert (seven.channel, seven.door) == (7, "open")
    up = wkly.door_reply(wkly.check(ref.hx(ref.UPLOAD_DOOR2_OPEN)))
    assert (up.status, up.channel, up.door) == (None, 2, "open")
    up = wkly.door_reply(wkly.check(ref.hx(ref.DOC_DEMO[0x85])))
    assert (up.channel, up.door) == (1, "closed")
    assert wkly.all_doors(wkly.check(ref.hx(ref.STATUS_ALL_FOUR))) == (0x00, [0x00, 0x01, 0x01, 0x00])
    status, states = wkly.all_doors(wkly.check(ref.hx(ref.DOC_DEMO[0x84])))
    assert status == 0 and len(states) == 24
    assert wkly.status_of(wkly.check(ref.hx(ref.OPEN_SEVERAL_FAILED))) == wkly.FAILED
    for text in (ref.KEEP_OPEN_DOOR2, ref.CLOSE_CHANNEL3):
        frame = wkly.check(ref.hx(text))
        assert isinstance(frame, wkly.Frame) and wkly.status_of(frame) == 0


def test_the_esp32_drivers_board_1_frames():
    reply = wkly.check(ref.hx(ref.E32_OPEN_DOOR4_REPLY))
    assert (reply.addr, reply.cmd) == (1, wkly.OPEN)
    got = wkly.door_reply(reply)
    assert (got.ok, got.channel, got.door) == (True, 4, "open")
    upload = wkly.check(ref.hx(ref.E32_UPLOAD_DOOR4_OPENED))
    assert wkly.door_reply(upload) == wkly.DoorReply(None, 4, wkly.DOOR_OPEN)
    assert wkly.encode(1, wkly.UPLOAD, bytes([4, 0])) == ref.hx(ref.E32_UPLOAD_DOOR4_OPENED)


@pytest.mark.parametrize("text", [ref.BAD_CHECKSUM, ref.TOO_SHORT])
def test_frames_the_sources_reject_are_rejected(text):
    raw = ref.hx(text)
    assert not ref.ld_validate(raw)
    decoder = StreamDecoder(wkly.check)
    out = decoder.feed(raw) + decoder.flush()
    assert out and all(isinstance(item, Skip) for item in out)


def test_a_real_frame_behind_a_false_start_is_found():
    # the ESP32 parser's note: "57 57 4B 4C 59" must not lose the real frame
    raw = ref.hx(ref.DOC_DEMO[0x82])
    decoder = StreamDecoder(wkly.check)
    out = decoder.feed(b"\x57" + raw[:3]) + decoder.feed(raw[3:])
    assert [x.raw for x in out if isinstance(x, wkly.Frame)] == [raw]


def test_a_frame_too_long_for_one_length_byte_is_refused():
    with pytest.raises(wkly.WklyError):
        wkly.encode(0, wkly.OPEN_SEVERAL, bytes(248))


frames = st.builds(lambda addr, cmd, data: wkly.encode(addr, cmd, data),
                   st.integers(0, 31), st.sampled_from(sorted(wkly.COMMANDS)), st.binary(max_size=30))
garbage = st.binary(max_size=12).filter(lambda b: b"W" not in b)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(garbage, frames), min_size=1, max_size=8), st.integers(1, 9))
def test_every_frame_is_found_among_garbage_whatever_the_pieces(parts, chunk):
    stream = b"".join(g + f for g, f in parts)
    decoder = StreamDecoder(wkly.check)
    found = []
    for i in range(0, len(stream), chunk):
        found += [x.raw for x in decoder.feed(stream[i:i + chunk]) if isinstance(x, wkly.Frame)]
    assert found == [f for _, f in parts]


@settings(max_examples=200, deadline=None)
@given(frames, st.data())
def test_a_changed_byte_never_yields_a_different_frame(frame, data):
    i = data.draw(st.integers(0, len(frame) - 1))
    flip = data.draw(st.integers(1, 255))
    bad = frame[:i] + bytes([frame[i] ^ flip]) + frame[i + 1:]
    decoder = StreamDecoder(wkly.check)
    out = [x.raw for x in decoder.feed(bad) + decoder.flush() if isinstance(x, wkly.Frame)]
    # one changed byte breaks the XOR, the start code or the length: the frame is not taken as sent
    assert frame not in out and bad not in out

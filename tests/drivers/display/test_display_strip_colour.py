"""The ``A0 90`` strip screen as uvbs/HospitalQueueSystem drives it (``NurseStation/com/SLZCWndScreen.cpp``,
commit a1ed218, transcribed below with its lines): the byte after each character is the
character's colour, the length is written ``n / 255, n % 255``, and ``InitScreen`` comes first.
hwd's ``zhongyi`` preset sends the same bytes, and ``display.show`` takes a line with a colour."""

from __future__ import annotations

import pytest

from support.waits import wait_for
from drivers.display import styled
from drivers.display.presets import PRESETS
from drivers.display.protocol import Frame, FrameError, FrameSpec
from hwd import errors
from hwd.client import RpcError
from hwd.stream import Skip


def uv_do_screen_msg(msg: str, address: int, counter_bits: int = 8) -> bytes:
    """SLZCWndScreen.cpp ``DoScreenMsg``, lines 49–154. ``#0#``/``#1#``/``#2#`` set the colour of
    the characters after them (lines 73–103); a character ≤ 255 is sent with its colour (108–114),
    another as its two code-page-936 bytes and its colour (116–143); the count is an ``unsigned
    char`` (line 65, ``counter_bits``) written ``/255`` and ``%255`` (145–146); the XOR covers the
    address to the last colour byte (147–150)."""
    buf = [0xA0, 0x90, address & 0xFF, 0xA5, 0, 0]
    color, count, i = 0, 0, 0
    while i < len(msg):
        w = msg[i]
        if ord(w) <= 255:
            if w == "#" and i + 2 < len(msg) and msg[i + 1] in "012" and msg[i + 2] == "#":
                color = int(msg[i + 1])
                i += 3
                continue
            buf += [ord(w), color]
            count += 2
        else:
            buf += [*w.encode("gbk"), color]
            count += 3
        count &= (1 << counter_bits) - 1
        i += 1
    buf[4], buf[5] = count // 255, count % 255
    xor = 0
    for b in buf[2:]:
        xor ^= b
    return bytes(buf + [xor])


def uv_init_screen(address: int) -> bytes:
    """SLZCWndScreen.cpp ``InitScreen``, lines 182–193: A0 90 addr A1 00 00 and the XOR of
    addr..00 (it returns 8, counting the string's terminator; the frame is 7 bytes)."""
    return bytes([0xA0, 0x90, address, 0xA1, 0x00, 0x00, address ^ 0xA1])


def ours(lines: list, addr: int = 7) -> bytes:
    """What the zhongyi preset sends for one content, the way the frame driver builds it."""
    codec = PRESETS["zhongyi"].build({})
    data, colors, _ = styled.encode(styled.join(lines), "gbk")
    [frame] = codec.update([data], addr, "static", colors=[colors])
    return frame


@pytest.mark.parametrize("lines, marked", [
    (["请A023号"], "请A023号"),
    ([{"text": "请A023号", "color": 1}], "#1#请A023号"),
    ([[{"text": "请", "color": 0}, {"text": "A023", "color": 2}, {"text": "号", "color": 0}], "5号窗口"],
     "请#2#A023#0#号 5号窗口"),
    ([{"text": "暂停服务", "color": 2}], "#2#暂停服务"),
])
def test_coloured_lines_are_uvbs_frames(lines, marked):
    assert ours(lines) == uv_do_screen_msg(marked, 7)


def test_the_colour_byte_for_red_is_imm9012s_zero():
    # red (0) everywhere is the frame the preset sent before, for wangenheng's IMM9012
    # (docs/drivers/display.md, "A call at address 5")
    assert ours(["请A023号 5号窗口"], addr=5) == bytes.fromhex(
        "A0 90 05 A5 00 1B C7 EB 00 41 00 30 00 32 00 33 00 BA C5 00 20 00 35 00 BA C5 00 B4 B0 00 BF DA 00 93")


def test_long_texts_have_their_length_in_base_255():
    text = "号" * 85                                   # 255 data bytes: uvbs writes 01 00
    frame = ours([text])
    assert frame[4:6] == b"\x01\x00" and frame == uv_do_screen_msg(text, 7)
    # longer: uvbs's one-byte counter wraps (line 65); hwd writes the whole count the same way
    text = "号" * 100 + "A"                           # 302 bytes
    frame = ours([text])
    assert frame[4:6] == bytes([1, 47]) and frame == uv_do_screen_msg(text, 7, counter_bits=16)
    assert uv_do_screen_msg(text, 7)[4:6] == bytes([0, 46])   # the reference's own wrapped count
    # the emulator reads it back
    dec = PRESETS["zhongyi"].build({}).decoder()
    [got] = dec.feed(frame)
    assert isinstance(got, Frame) and got.fields["text"] == text.encode("gbk")


def test_the_connect_frame_is_initscreen():
    codec = PRESETS["zhongyi"].build({})
    for addr in (1, 7, 0x5A, 0xFE):
        assert codec.hello(addr) == [uv_init_screen(addr)]
    [got] = codec.decoder().feed(uv_init_screen(7))
    assert got.fields["kind"] == "connect" and got.fields["addr"] == 7


def test_len_base_in_the_dsl():
    spec = FrameSpec.parse(["A0", "{addr}", "{len16 base=255}", "{text}", "{xor8}"])
    frame = spec.encode(b"x" * 600, addr=1)
    assert frame[2:4] == bytes([2, 90])                # 600 = 2 * 255 + 90
    assert spec.decode(frame, 0).fields["text"] == b"x" * 600
    bad = bytearray(frame)
    bad[3] = 0xFF                                      # not a digit of base 255
    assert isinstance(spec.decode(bytes(bad), 0), Skip)
    assert spec.capacity() == min(255 * 255 - 1, spec.max_payload)
    with pytest.raises(FrameError, match="base=300 is out of range"):
        FrameSpec.parse(["A0", "{len base=300}", "{text}", "{xor8}"])
    with pytest.raises(FrameError, match="does not take 'base'"):
        FrameSpec.parse(["A0", "{addr base=255}", "{len}", "{text}", "{xor8}"])


def test_colours_in_the_dsl_round_trip():
    spec = FrameSpec.parse(["A0", "{len16 over=2}", "{text color_interleave}", "{xor}"])
    data, colors, _ = styled.encode([("请", 1), ("A0", 2)], "gbk")
    frame = spec.encode(data, colors=colors)
    assert frame[3:3 + 7] == bytes.fromhex("C7 EB 01 41 02 30 02")
    got = spec.decode(frame, 0)
    assert got.fields["text"] == data and got.fields["colors"] == [1, 1, 2, 2]
    # the old name still works, and without colours every character is red
    old = FrameSpec.parse(["A0", "{len16 over=2}", "{text zero_interleave}", "{xor}"])
    assert old.encode(data) == spec.encode(data)


STRIP = '''
[[device]]
id = "win7-strip"
kind = "display"
driver = "frame"
url = "sim://strip"
protocol = "zhongyi"
address = 7
'''


def test_display_show_takes_a_line_with_a_colour(hwd_daemon):
    d = hwd_daemon(STRIP)
    d.wait_state("win7-strip", "online")
    ev = d.events("display.")
    lines = [{"text": "请A023号", "color": 1}, "5号窗口"]
    assert d.call("display.show", {"device": "win7-strip", "lines": lines})["delivered"] is True
    screen = wait_for(lambda: (lambda c: c if c["lines"] == ["请A023号 5号窗口"] else None)(
        d.sim("win7-strip", "content", address=7)), what="the coloured call on the strip")
    assert screen["colors"] == [1] * 6 + [0] * 5
    assert d.sim("win7-strip", "frames", address=7)[-1]["hex"] == uv_do_screen_msg("#1#请A023号#0# 5号窗口", 7).hex().upper()
    # whoever only shows text gets text, and the coloured form beside it
    event = ev.wait("display.content", device="win7-strip")
    assert event["lines"] == ["请A023号", "5号窗口"] and event["styled"] == [[lines[0]], "5号窗口"]
    got = d.call("display.get", {"device": "win7-strip"})
    assert got["lines"] == ["请A023号", "5号窗口"] and got["delivered"] is True
    assert d.device("win7-strip")["lines"] == ["请A023号", "5号窗口"]
    # plain lines: no styled, as before
    d.call("display.show", {"device": "win7-strip", "lines": ["5号窗口", "暂停服务"]})
    assert "styled" not in ev.wait("display.content", device="win7-strip", lines=["5号窗口", "暂停服务"])
    assert d.sim("win7-strip", "status")["connect_frames"] == 1


@pytest.mark.parametrize("line, needle", [
    ({"text": 1}, "text: expected a string"),
    ({"text": "A", "color": 300}, "color: expected an integer 0..255"),
    ({"text": "A", "colour": 1}, "unknown key 'colour'"),
    ([{"text": "A"}, 5], "part 2"),
    (7, "expected"),
])
def test_a_bad_line_is_refused(hwd_daemon, line, needle):
    d = hwd_daemon(STRIP)
    with pytest.raises(RpcError) as err:
        d.call("display.show", {"device": "win7-strip", "lines": ["ok", line]})
    assert err.value.code == errors.INVALID_PARAMS and needle in str(err.value), str(err.value)

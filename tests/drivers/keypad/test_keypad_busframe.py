"""The keypad bus frame (drivers/keypad/busframe.py): the "21键点阵液晶呼叫器通讯协议" framing
rebuilt from its public text, and property tests of the decoder (garbage, split frames).

Reference: 21键点阵液晶呼叫器通讯协议 §1 通讯帧格式,
https://max.book118.com/html/2020/0406/7033135055002126.shtm —
"ffH 68H 数据长度 数据长度 68H 通讯地址 命令字 数据区 校验和 16H … 数据长度：从通讯地址开始到校验和之前
所有数据的字节总数". The checksum's coverage (the counted bytes, as in the M-Bus long frame) is
derived, not stated in that text.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from drivers.keypad.busframe import BusFrame, BusFrameError, BusFrameSpec
from drivers.keypad.buspresets import build_spec
from hwd.stream import Skip

CALLER = build_spec({"protocol": "caller21"})


def test_caller21_frame_from_the_reference_layout():
    # address 0x21, command 0x02, data "B001": 数据长度 = 1 (addr) + 1 (cmd) + 4 (data) = 6, twice;
    # sum 21+02+42+30+30+31 = 0xF6
    frame = CALLER.encode(0x21, 0x02, b"B001")
    assert frame == bytes.fromhex("FF 68 06 06 68 21 02 42 30 30 31") + bytes([(0x21 + 0x02 + 0x42 + 0x30 * 2 + 0x31) & 0xFF]) + b"\x16"
    assert frame.hex(" ") == "ff 68 06 06 68 21 02 42 30 30 31 f6 16"
    # an empty poll: length 2 (address and command)
    assert CALLER.encode(0x01, 0x01).hex(" ") == "ff 68 02 02 68 01 01 02 16"
    # 暂停 in GB2312 on the LCD: 22+02+D4+DD+CD+A3 = 0x345 -> 45
    assert CALLER.encode(0x22, 0x02, "暂停".encode("gb2312")).hex(" ") == "ff 68 06 06 68 22 02 d4 dd cd a3 45 16"


def test_decoder_rejects_what_is_wrong():
    good = CALLER.encode(1, 1, b"\x05")
    assert CALLER.decoder().feed(good) == [BusFrame(1, 1, b"\x05", good)]
    bad_sum = good[:-2] + bytes([good[-2] ^ 1]) + good[-1:]
    assert [x.reason for x in CALLER.decoder().feed(bad_sum) if isinstance(x, Skip)][0] == "checksum"
    differ = good[:3] + b"\x04" + good[4:]
    assert Skip(1, "length copies differ") in CALLER.decoder().feed(differ)
    no_end = good[:-1] + b"\x17"
    assert "bad marker" in [x.reason for x in CALLER.decoder().feed(no_end) if isinstance(x, Skip)]


@pytest.mark.parametrize("tokens, message", [
    (["{addr}", "16"], "first token must be a literal"),
    (["FF", "{adr}"], "unknown token"),
    (["FF", "{data}", "16"], "needs a {len}"),
    (["FF", "{len}", "{sum8}", "{xor8}"], "only one checksum"),
    (["FF", "{addr}", "{addr}"], "only once"),
])
def test_bad_descriptions(tokens, message):
    with pytest.raises(BusFrameError, match=message):
        BusFrameSpec.parse(tokens)


frames = st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=40))
noise = st.binary(max_size=30).map(lambda b: b.replace(b"\xff", b""))   # no start marker inside


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(noise, frames), max_size=6), noise)
def test_every_frame_is_found_behind_garbage(items, tail):
    stream = b"".join(g + CALLER.encode(*f) for g, f in items) + tail
    out = [x for x in CALLER.decoder().feed(stream) if isinstance(x, BusFrame)]
    assert [(x.addr, x.cmd, x.data) for x in out] == [f for _, f in items]


@settings(max_examples=300, deadline=None)
@given(st.lists(frames, min_size=1, max_size=5), st.lists(st.integers(1, 7), min_size=1, max_size=40))
def test_split_frames_decode_as_whole_ones(fs, cuts):
    stream = b"".join(CALLER.encode(*f) for f in fs)
    decoder, out, pos, i = CALLER.decoder(), [], 0, 0
    while pos < len(stream):
        step = cuts[i % len(cuts)]
        out += decoder.feed(stream[pos:pos + step])
        pos, i = pos + step, i + 1
    assert [(x.addr, x.cmd, x.data) for x in out if isinstance(x, BusFrame)] == fs
    assert not [x for x in out if isinstance(x, Skip)]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), frames)
def test_resync_after_any_bytes_then_silence(junk, f):
    """Whatever came before, once the decoder is reset (a new poll) the next reply is found;
    and arbitrary bytes never raise."""
    decoder = CALLER.decoder()
    decoder.feed(junk)
    decoder.reset()
    assert [x for x in decoder.feed(CALLER.encode(*f)) if isinstance(x, BusFrame)][0].data == f[2]

"""The configurable frame: byte vectors worked out by hand, and property tests of encode/decode."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from drivers.display.protocol import (Frame, FrameError, FrameSpec, frame_decoder, crc16_ccitt,
                                      crc16_modbus, sum8, xor8)
from drivers.display.textcodec import encode_text
from hwd.stream import Skip

ONBON = {"A5": "A602", "A6": "A601", "5A": "5B02", "5B": "5B01"}


def hx(text: str) -> bytes:
    return bytes.fromhex(text)


# -- checksums against published check values ------------------------------------------------
def test_checksum_check_values():
    assert crc16_modbus(b"123456789") == 0x4B37      # CRC-16/MODBUS catalogue check value
    assert crc16_ccitt(b"123456789") == 0x29B1       # CRC-16/CCITT-FALSE catalogue check value
    assert crc16_modbus(hx("01030000000A")) == 0xCDC5
    assert sum8(hx("FF02")) == 0x01
    assert xor8(hx("053132 03")) == 0x05


# -- frames worked out by hand ---------------------------------------------------------------
def test_modbus_request_crc_low_byte_first():
    # the classic MODBUS "read 10 holding registers of slave 1": 01 03 00 00 00 0A C5 CD
    spec = FrameSpec.parse(["01", "03", "0000", "000A", "{crc16_modbus}"], checksum_from=0)
    assert spec.encode() == hx("01 03 00 00 00 0A C5 CD")


def test_sum8_with_addr16_line_and_len16():
    spec = FrameSpec.parse(["AA", "{addr16}", "31", "{line}", "{len16}", "{text}", "{sum8}", "55"])
    # sum of 01 02 31 00 00 02 41 31 = 0xA8
    frame = spec.encode(b"A1", addr=0x0102, line=0)
    assert frame == hx("AA 01 02 31 00 00 02 41 31 A8 55")
    assert spec.decode(frame) == Frame({"addr": 0x0102, "line": 0, "len": 2, "text": b"A1"}, len(frame), frame)


def test_xor_after_the_end_marker():
    spec = FrameSpec.parse(["02", "{addr}", "{text}", "03", "{xor}"])
    # 05 ^ 31 ^ 32 ^ 03 = 05: the checksum covers the end marker before it
    frame = spec.encode(b"12", addr=5)
    assert frame == hx("02 05 31 32 03 05")
    assert spec.decode(frame).fields == {"addr": 5, "text": b"12"}


def test_gb2312_text_with_sum8():
    spec = FrameSpec.parse(["A5", "{addr}", "01", "{len}", "{text}", "{sum8}", "5A"])
    payload, missing = encode_text("请", "gb2312")
    assert payload == hx("C7EB") and missing == []
    # 01 + 01 + 02 + C7 + EB = 0x1B6 -> B6
    assert spec.encode(payload, addr=1) == hx("A5 01 01 02 C7 EB B6 5A")


def test_onbon_style_escaping():
    spec = FrameSpec.parse(["A5", "{addr}", "{len}", "{text}", "{xor}", "5A"], escape=ONBON)
    # raw: A5 | 5A 02 A5 41 BC | 5A; xor(5A 02 A5 41) = BC; 5A -> 5B 02, A5 -> A6 02
    frame = spec.encode(hx("A541"), addr=0x5A)
    assert frame == hx("A5 5B02 02 A602 41 BC 5A")
    assert spec.decode(frame).fields == {"addr": 0x5A, "len": 2, "text": hx("A541")}
    # the checksum is escaped too: xor(01 01 A6) = A6 -> A6 01
    frame = spec.encode(hx("A6"), addr=1)
    assert frame == hx("A5 01 01 A601 A601 5A")
    assert spec.decode(frame).fields["text"] == hx("A6")


def test_len16le_and_ccitt_over_the_payload_only():
    spec = FrameSpec.parse(["7E", "{len16le}", "{text}", "{crc16_ccitt}", "7F"], checksum_from=2)
    frame = spec.encode(b"123456789")
    assert frame == hx("7E 09 00") + b"123456789" + hx("29 B1 7F")


def test_crc16_modbus_end_marker_without_length():
    spec = FrameSpec.parse(["A5", "{text}", "{crc16_modbus}", "5A"])
    frame = spec.encode(b"123456789")
    assert frame == hx("A5") + b"123456789" + hx("37 4B 5A")
    assert spec.decode(frame).fields == {"text": b"123456789"}


def test_len_adjust_counts_extra_bytes():
    spec = FrameSpec.parse(["A5", "{len}", "{text}", "{sum8}", "5A"], len_adjust=1)
    assert spec.encode(b"AB") == hx("A5 03 41 42") + bytes([(3 + 0x41 + 0x42) & 0xFF]) + hx("5A")


# -- decoding faults -------------------------------------------------------------------------
def test_bad_checksum_and_partial_and_garbage():
    spec = FrameSpec.parse(["A5", "{addr}", "{len}", "{text}", "{crc16_modbus}", "5A"], escape=ONBON)
    good = spec.encode(b"hello", addr=3)
    assert spec.decode(good[:-3]) is None
    corrupt = bytearray(good)
    corrupt[4] ^= 0x01
    result = spec.decode(bytes(corrupt))
    assert isinstance(result, Skip) and "crc16_modbus" in result.reason
    decoder = frame_decoder(spec)
    out = decoder.feed(b"\x00\xff" + bytes(corrupt) + good[:4])
    out += decoder.feed(good[4:])
    frames = [r for r in out if isinstance(r, Frame)]
    assert [f.fields["text"] for f in frames] == [b"hello"]
    assert any(isinstance(r, Skip) and "crc" in r.reason for r in out)


@pytest.mark.parametrize("frame,escape,message", [
    (["A5", "{adr}", "{text}", "5A"], {}, "unknown token"),
    (["{addr}", "{text}", "5A"], {}, "must start with a hex literal"),
    (["A5", "ZZ", "{text}", "5A"], {}, "not hex bytes"),
    (["A5", "{text}", "{xor}"], {}, "needs a literal"),
    (["A5", "{text}", "{len}", "5A"], {}, "length token must come before"),
    (["A5", "{xor}", "{sum8}", "{text}", "5A"], {}, "covers no tokens"),
    (["A5", "{text}", "{text}", "5A"], {}, "more than one payload"),
    (["A5", "{len}", "{text}", "5A"], {"A5A5": "00"}, "must be one byte"),
])
def test_bad_specs(frame, escape, message):
    with pytest.raises(FrameError, match=message):
        FrameSpec.parse(frame, escape)


def test_unencodable_characters_replaced_not_raised():
    data, missing = encode_text("A𠀀号", "gb2312", "□")
    assert data == b"A" + "□".encode("gb2312") + "号".encode("gb2312")
    assert missing == ["𠀀"]
    data, missing = encode_text("请", "ascii", "□")   # replacement itself unencodable: "?"
    assert data == b"?" and missing == ["请"]


# -- properties ------------------------------------------------------------------------------
@st.composite
def specs(draw):
    escaped = draw(st.booleans())
    start = hx("A5") if escaped else draw(st.binary(min_size=1, max_size=3))
    tokens = [start.hex()]
    tokens += draw(st.sampled_from([[], ["{addr}"], ["{addr16}"]]))
    tokens += draw(st.sampled_from([[], ["01"], ["{line}"], ["{effect}", "{line}"]]))
    length = draw(st.sampled_from([[], ["{len}"], ["{len16}"], ["{len16le}"]])) if escaped else \
        draw(st.sampled_from([["{len}"], ["{len16}"], ["{len16le}"]]))
    tokens += length + ["{text}"]
    checksum = draw(st.sampled_from([[], ["{xor}"], ["{sum8}"], ["{crc16_modbus}"], ["{crc16_ccitt}"]]))
    end = ["5A"] if escaped else draw(st.sampled_from([[], ["5A"], ["0D0A"]]))
    tokens += checksum + end
    checksum_from = None
    if checksum and draw(st.booleans()):
        checksum_from = draw(st.integers(0, tokens.index(checksum[0]) - 1))
    return FrameSpec.parse(tokens, ONBON if escaped else {}, checksum_from)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), payload=st.binary(max_size=40), addr=st.integers(0, 255), line=st.integers(0, 255))
def test_round_trip(spec, payload, addr, line):
    frame = spec.encode(payload, addr=addr, line=line, effect=line)
    result = spec.decode(frame)
    assert isinstance(result, Frame), result
    assert result.size == len(frame)
    assert result.fields["text"] == payload
    if spec.has("addr") or spec.has("addr16"):
        assert result.fields["addr"] == addr
    if spec.has("line"):
        assert result.fields["line"] == line
    # every cut short is "need more", never a wrong frame
    for cut in range(1, len(frame)):
        partial = spec.decode(frame[:cut])
        assert not isinstance(partial, Frame) or partial.size <= cut


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), payloads=st.lists(st.binary(max_size=20), min_size=1, max_size=4),
       noise=st.binary(max_size=10), chunk=st.integers(1, 7))
def test_stream_with_noise_in_chunks(spec, payloads, noise, chunk):
    start = spec.tokens[0].literal
    noise = bytes(b for b in noise if b not in start)
    stream = noise + b"".join(spec.encode(p, addr=7) for p in payloads)
    decoder = frame_decoder(spec)
    out = []
    for i in range(0, len(stream), chunk):
        out += decoder.feed(stream[i:i + chunk])
    assert [r.fields["text"] for r in out if isinstance(r, Frame)] == payloads


@settings(max_examples=300, deadline=None)
@given(spec=specs(), data=st.binary(max_size=200))
def test_decode_never_crashes(spec, data):
    decoder = frame_decoder(spec)
    for result in decoder.feed(data):
        assert isinstance(result, (Frame, Skip))
    assert len(decoder.buffer) <= len(data)

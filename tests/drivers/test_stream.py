"""The one stream decoder (hwd/stream.py) under every framed protocol of the drivers: whatever
garbage comes between valid frames and however the bytes are cut into reads, every valid frame
comes out, in order, and every byte of garbage is counted as skipped.

Garbage never holds the first byte of the protocol's start marker (else it could begin a frame
that swallows a real one, which no decoder can tell from a real frame without a check); Ruize
frames have no start byte, only an address range (80–BF), which the garbage avoids."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from drivers.display.presets import PRESETS
from drivers.display.protocol import FrameSpec, frame_decoder
from drivers.idcard import protocol as sam
from drivers.keypad.buspresets import build_spec
from hwd.stream import Skip, StreamDecoder, first_of

CALLER = build_spec({"protocol": "caller21"})
DSL = FrameSpec.parse(["A5", "{addr}", "01", "{line}", "{len}", "{text}", "{crc16_modbus}", "5A"],
                      {"A5": "A602", "A6": "A601", "5A": "5B02", "5B": "5B01"})
ZHONGYI = PRESETS["zhongyi"].build({})
ONBON = PRESETS["onbon-bx5"].build({})
RUIZE = PRESETS["ruize"].build({})


BYTES = st.binary(min_size=1, max_size=30)
# the text transforms of Ruize (nibbles) and Zhongyi (zero after each character) are for GBK text
GBK = st.text(alphabet="0123456789ABZ 请号窗口办理", min_size=1, max_size=12).map(lambda t: t.encode("gbk"))

# each protocol: (a decoder, frames from payloads, what a decoded frame says, bytes garbage avoids,
# payloads)
PROTOCOLS = {
    "caller21": (lambda: CALLER.decoder(), lambda p: CALLER.encode(0x21, 0x02, p), lambda f: f.data, b"\xff", BYTES),
    "sam": (lambda: sam.decoder(), lambda p: sam.build_frame(b"\x00\x00\x90" + p), lambda f: f.body[3:], b"\xaa", BYTES),
    "dsl": (lambda: frame_decoder(DSL), lambda p: DSL.encode(p, addr=5, line=1), lambda f: f.fields["text"], b"\xa5", BYTES),
    "zhongyi": (lambda: ZHONGYI.decoder(), lambda p: ZHONGYI.update([p], 7, "static")[0],
                lambda f: f.fields["text"], b"\xa0", GBK),
    "onbon-bx5": (lambda: ONBON.decoder(), lambda p: ONBON.update([p], 3, "static")[0],
                  lambda f: f.fields["lines"][0], b"\xa5", BYTES),
    "ruize": (lambda: RUIZE.decoder(), lambda p: RUIZE.update([p], 9, "static")[0], lambda f: f.fields["text"],
              bytes(range(0x80, 0xC0)), GBK),
}


def garbage_without(avoid: bytes):
    return st.binary(max_size=24).map(lambda b: bytes(x for x in b if x not in avoid))


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_every_frame_comes_out_in_order_and_garbage_is_counted(name):
    make, encode, payload_of, avoid, payloads = PROTOCOLS[name]

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.tuples(garbage_without(avoid), payloads), max_size=6),
           garbage_without(avoid), st.lists(st.integers(1, 9), min_size=1, max_size=20))
    def run(items, tail, cuts):
        stream = b"".join(g + encode(p) for g, p in items) + tail
        decoder = make()
        out, pos, i = [], 0, 0
        while pos < len(stream):
            n = cuts[i % len(cuts)]
            out += decoder.feed(stream[pos:pos + n])
            pos, i = pos + n, i + 1
        out += decoder.flush()
        frames = [x for x in out if not isinstance(x, Skip)]
        assert [payload_of(f) for f in frames] == [p for _, p in items]
        garbage = sum(len(g) for g, _ in items) + len(tail)
        assert decoder.counters["skipped_bytes"] == garbage
        assert decoder.counters["bad_frames"] == 0 and decoder.counters["frames"] == len(items)
        assert sum(x.size for x in out if isinstance(x, Skip)) == garbage
        assert decoder.pending == 0

    run()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=8))
def test_any_bytes_never_raise_and_the_buffer_stays_bounded(chunks):
    for make, *_ in PROTOCOLS.values():
        decoder = make()
        fed = 0
        for chunk in chunks:
            for item in decoder.feed(chunk):
                assert isinstance(item, Skip) or item.size >= 1
            fed += len(chunk)
        assert decoder.pending <= fed
        decoder.flush()
        assert decoder.pending == 0


def test_a_rejected_frame_is_counted_and_the_frame_behind_it_found():
    good = CALLER.encode(1, 1, b"\x05")
    bad = good[:-2] + bytes([good[-2] ^ 1]) + good[-1:]
    decoder = CALLER.decoder()
    out = decoder.feed(bad + good)
    assert [x.data for x in out if not isinstance(x, Skip)] == [b"\x05"]
    assert decoder.counters["bad_frames"] == 1
    assert decoder.counters["skipped_bytes"] == len(bad)


def test_two_protocols_on_one_stream():
    """``first_of``: caller frames and SAM frames interleaved with noise, each read by its own check."""
    decoder = StreamDecoder(first_of([("caller", CALLER.check), ("sam", sam.check)]))
    stream = b"\x00" + CALLER.encode(3, 1, b"\xf1") + b"\x13\x37" + sam.build_frame(b"\x00\x00\x90") \
        + CALLER.encode(4, 1, b"")
    out = [x for x in decoder.feed(stream) if not isinstance(x, Skip)]
    assert [x.tag for x in out] == ["caller", "sam", "caller"]
    assert out[0].frame.addr == 3 and out[1].frame.sw3 == 0x90 and out[2].frame.addr == 4
    assert decoder.counters["skipped_bytes"] == 3


def test_quiet_decides_what_a_waiting_head_is():
    """A check that waits for more (a key that may be the start of a longer key) is answered by
    ``quiet`` once the line goes quiet; without it, the head is a frame cut short."""
    from drivers.keypad.keymap import SequenceDecoder

    keys = SequenceDecoder({"1b41": "call_next", "1b4142": "recall"}, 0.0, lambda: 0.0)
    assert keys.feed(b"\x1b\x41") == []
    assert keys.flush() == [("1b41", "call_next")]
    decoder = CALLER.decoder()
    assert decoder.feed(CALLER.encode(1, 1, b"ab")[:-3]) == []       # FF 68 04 04 68 01 01 61
    assert decoder.flush() == [Skip(1, "frame cut short"), Skip(7, "no start marker", noise=True)]

"""Keypad actions, key maps and the decoders fed by recorded events and byte streams."""

from __future__ import annotations

from evdev import ecodes
from hypothesis import given, settings, strategies as st

from drivers.evdev_input import key_codes, key_names
from drivers.keypad.evdev_keys import KeyEventMapper, KeyPress
from drivers.keypad.keymap import SequenceDecoder, check_action, check_evdev_keys, check_serial_keys


def test_actions():
    for ok in ("rate:1", "rate:5", "call_next", "recall", "no_show", "start", "finish", "pause",
               "resume", "transfer:bdc"):
        assert check_action(ok) is None, ok
    for bad in ("rate:0", "rate:6", "transfer:", "transfer:a b", "call", "", 3):
        assert check_action(bad), bad


def test_key_map_checks():
    assert check_serial_keys({"31": "rate:5", "1b 32": "call_next"}) is None
    assert "hex" in check_serial_keys({"3g": "rate:5"})
    assert "same bytes" in check_serial_keys({"1b32": "rate:5", "1b 32": "rate:4"})
    assert "unknown action" in check_serial_keys({"31": "rate:6"})
    assert check_serial_keys({})
    assert check_evdev_keys({"KEY_F1": "rate:5", "KEY_KP5": "call_next"}) is None
    assert "KEY_BOGUS" in check_evdev_keys({"KEY_BOGUS": "rate:5"})
    assert check_evdev_keys({"f1": "rate:5"})


def test_evdev_mapper_ignores_release_and_autorepeat():
    mapper = KeyEventMapper({"KEY_F1": "rate:5", "KEY_F9": "call_next"}, key_codes(), key_names())
    recorded = [  # (type, code, value): F1 held down long enough to autorepeat, then F9, then F2
        (ecodes.EV_MSC, ecodes.MSC_SCAN, 458810),
        (ecodes.EV_KEY, ecodes.KEY_F1, 1), (ecodes.EV_SYN, 0, 0),
        (ecodes.EV_KEY, ecodes.KEY_F1, 2), (ecodes.EV_KEY, ecodes.KEY_F1, 2),
        (ecodes.EV_KEY, ecodes.KEY_F1, 0), (ecodes.EV_SYN, 0, 0),
        (ecodes.EV_KEY, ecodes.KEY_F9, 1), (ecodes.EV_KEY, ecodes.KEY_F9, 0),
        (ecodes.EV_KEY, ecodes.KEY_F2, 1), (ecodes.EV_KEY, ecodes.KEY_F2, 0),
    ]
    presses = [p for p in (mapper.feed(*e) for e in recorded) if p]
    assert presses == [KeyPress("KEY_F1", "rate:5"), KeyPress("KEY_F9", "call_next"), KeyPress("KEY_F2", None)]


def test_sequence_decoder_longest_match_and_timeout():
    now = [0.0]
    dec = SequenceDecoder({"31": "rate:5", "1b41": "call_next", "1b4142": "recall"}, 0.2, lambda: now[0])
    assert dec.feed(b"\x31\x1b") == [("31", "rate:5")]
    assert dec.feed(b"\x41") == []            # could still become 1b4142
    assert dec.flush() == []                  # not quiet long enough
    now[0] = 0.3
    assert dec.flush() == [("1b41", "call_next")]
    assert dec.feed(b"\x1b\x41\x42\x99\x31") == [("1b4142", "recall"), ("31", "rate:5")]
    assert dec.take_unknown() == b"\x99"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["31", "32", "1b41", "1b4142"]), max_size=20),
       st.lists(st.integers(1, 6), min_size=1, max_size=5))
def test_sequence_decoder_any_split_gives_the_keys(keys, cuts):
    now = [0.0]
    dec = SequenceDecoder({"31": "a", "32": "b", "1b41": "c", "1b4142": "d"}, 0.2, lambda: now[0])
    stream = b"".join(bytes.fromhex(k) for k in keys)
    out, pos, i = [], 0, 0
    while pos < len(stream):
        out += dec.feed(stream[pos:pos + cuts[i % len(cuts)]])
        pos, i = pos + cuts[i % len(cuts)], i + 1
    now[0] = 1.0
    out += dec.flush()
    assert [k for k, _ in out] == keys


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=100))
def test_sequence_decoder_never_crashes(data):
    dec = SequenceDecoder({"31": "a", "1b41": "c"}, 0.0, lambda: 10.0)
    for key, action in dec.feed(data) + dec.flush():
        assert key in ("31", "1b41")

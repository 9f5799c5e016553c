"""Keyboard-wedge scanners: recorded key sequences → text (Shift, Caps Lock, keypad keys)."""

from __future__ import annotations

from evdev import ecodes
from hypothesis import given, settings, strategies as st

from drivers.evdev_input import key_codes, key_names
from drivers.scanner.wedge import WedgeDecoder, key_events_for

K = ecodes


def run(events, timeout=0.2):
    dec = WedgeDecoder(key_names(), timeout)
    return [t for t in (dec.feed(*e) for e in events) if t], dec


def test_shift_and_keypad_keys():
    down, up = 1, 0
    t = iter(i * 0.005 for i in range(1000))
    events = [
        (K.EV_KEY, K.KEY_RIGHTSHIFT, down, next(t)), (K.EV_KEY, K.KEY_A, down, next(t)),
        (K.EV_KEY, K.KEY_A, up, next(t)), (K.EV_KEY, K.KEY_2, down, next(t)),  # shift held: "@"
        (K.EV_KEY, K.KEY_RIGHTSHIFT, up, next(t)), (K.EV_KEY, K.KEY_2, up, next(t)),
        (K.EV_SYN, 0, 0, next(t)),
        (K.EV_KEY, K.KEY_B, down, next(t)), (K.EV_KEY, K.KEY_B, 2, next(t)),  # autorepeat ignored
        (K.EV_KEY, K.KEY_KP7, down, next(t)), (K.EV_KEY, K.KEY_KPMINUS, down, next(t)),
        (K.EV_KEY, K.KEY_LEFTSHIFT, down, next(t)), (K.EV_KEY, K.KEY_KP1, down, next(t)),  # keypad: no shift
        (K.EV_KEY, K.KEY_SEMICOLON, down, next(t)), (K.EV_KEY, K.KEY_LEFTSHIFT, up, next(t)),
        (K.EV_KEY, K.KEY_F5, down, next(t)),                                     # types nothing
        (K.EV_KEY, K.KEY_KPENTER, down, next(t)),
    ]
    texts, dec = run(events)
    assert texts == ["A@b7-1:"]
    assert dec.ignored == 1


def test_caps_lock_inverts_letters_only():
    t = iter(i * 0.005 for i in range(100))
    events = [(K.EV_KEY, K.KEY_CAPSLOCK, 1, next(t)), (K.EV_KEY, K.KEY_X, 1, next(t)),
              (K.EV_KEY, K.KEY_LEFTSHIFT, 1, next(t)), (K.EV_KEY, K.KEY_Y, 1, next(t)),
              (K.EV_KEY, K.KEY_1, 1, next(t)), (K.EV_KEY, K.KEY_LEFTSHIFT, 0, next(t)),
              (K.EV_KEY, K.KEY_ENTER, 1, next(t))]
    assert run(events)[0] == ["Xy!"]


def test_pause_discards_partial_code():
    codes = key_codes()
    first = key_events_for("ABC", codes, start=0.0)[:-2]        # no Enter: cut short
    second = key_events_for("YY-2026-001", codes, start=5.0)
    texts, dec = run(first + second)
    assert texts == ["YY-2026-001"]
    assert dec.discarded == 1
    # and a partial code left alone expires
    dec = WedgeDecoder(key_names(), 0.2)
    for e in first:
        dec.feed(*e)
    assert dec.expire(first[-1][3] + 0.1) is False
    assert dec.expire(first[-1][3] + 0.5) is True


def test_enter_alone_gives_nothing():
    assert run([(K.EV_KEY, K.KEY_ENTER, 1, 0.0), (K.EV_KEY, K.KEY_ENTER, 0, 0.01)])[0] == []


printable = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(printable, st.booleans())
def test_any_ascii_code_round_trips(text, keypad):
    events = key_events_for(text, key_codes(), keypad_digits=keypad)
    assert run(events)[0] == [text]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 1, 4]), st.integers(0, 300), st.integers(0, 2),
                          st.floats(0, 100)), max_size=50))
def test_arbitrary_events_never_crash(events):
    dec = WedgeDecoder(key_names(), 0.2, max_length=16)
    for e in events:
        text = dec.feed(*e)
        assert text is None or (isinstance(text, str) and 0 < len(text) <= 16)

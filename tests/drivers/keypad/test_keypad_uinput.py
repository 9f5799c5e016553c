"""The evdev keypad and scanner drivers against a real kernel input device made with uinput.

Build machines have no /dev/uinput (the logic is covered there by recorded sequences in
test_keypad_keymap.py and test_scanner_wedge.py); this runs where a writable /dev/uinput exists.
"""

from __future__ import annotations

import os
import time

import pytest

pytestmark = pytest.mark.skipif(not os.access("/dev/uinput", os.W_OK),
                                reason="no writable /dev/uinput here (needs the uinput module and access)")


def _uinput(name):
    from evdev import UInput, ecodes

    keys = [c for n, c in ecodes.ecodes.items() if n.startswith("KEY_") and c < 0x100]
    ui = UInput({ecodes.EV_KEY: sorted(set(keys))}, name=name)
    deadline = time.monotonic() + 5
    while not os.path.exists(ui.device.path) and time.monotonic() < deadline:
        time.sleep(0.02)
    return ui


def _tap(ui, code, shift=False):
    from evdev import ecodes

    if shift:
        ui.write(ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 1)
    ui.write(ecodes.EV_KEY, code, 1)
    ui.syn()
    ui.write(ecodes.EV_KEY, code, 0)
    if shift:
        ui.write(ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 0)
    ui.syn()


def test_keypad_and_scanner_through_uinput(hwd_daemon):
    from evdev import ecodes

    pad, scanner = _uinput("hwd-test-keypad"), _uinput("hwd-test-scanner")
    try:
        d = hwd_daemon(f'''
[[device]]
id = "pad"
kind = "keypad"
driver = "evdev"
url = "evdev://{pad.device.path}"
keys = {{ KEY_F1 = "rate:5", KEY_F9 = "call_next" }}

[[device]]
id = "scan"
kind = "scanner"
driver = "evdev"
url = "evdev://{scanner.device.path}"
''')
        d.wait_state("pad", "online")
        d.wait_state("scan", "online")
        ev = d.events("keypad.", "scanner.")
        _tap(pad, ecodes.KEY_F1)
        assert ev.wait("keypad.key", device="pad")["action"] == "rate:5"
        for code, shift in ((ecodes.KEY_A, True), (ecodes.KEY_1, False), (ecodes.KEY_KP2, False),
                            (ecodes.KEY_ENTER, False)):
            _tap(scanner, code, shift)
        assert ev.wait("scanner.scan", device="scan")["text"] == "A12"
        pad.close()
        d.wait_state("pad", "offline")
    finally:
        for ui in (pad, scanner):
            try:
                ui.close()
            except OSError:
                pass

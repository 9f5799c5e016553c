"""The evdev drivers' wiring, fed by recorded event sequences (no /dev/uinput here), and their
offline state in a real daemon when the device path is absent."""

from __future__ import annotations

from pathlib import Path

from evdev import ecodes

from drivers.evdev_input import key_codes
from drivers.keypad.evdev_keypad import EvdevKeypad
from drivers.scanner.evdev_scanner import EvdevScanner
from drivers.scanner.wedge import key_events_for
from hwd import url
from hwd.config import DeviceConfig
from hwd.device import DeviceContext
from hwd.ports import PortRegistry


class Recorded:
    """Stands where the EvdevInput stands, replaying events recorded from a device."""

    def __init__(self, events):
        self.events = list(events)
        self.path, self.name = "/dev/input/recorded", "recorded"

    def read(self):
        events, self.events = self.events[:5], self.events[5:]
        return events

    def close(self):
        pass


def _device(cls, kind, options, tmp_path):
    published = []
    cfg = DeviceConfig("d1", kind, cls.driver, url.parse("evdev:///dev/input/recorded"), options)
    dev = cls(cfg, DeviceContext(lambda topic, data: published.append((topic, data)), tmp_path, PortRegistry()))
    return dev, published


def test_scanner_driver_publishes_scans(tmp_path):
    dev, published = _device(EvdevScanner, "scanner", {"timeout_ms": 200, "max_length": 64, "grab": True}, tmp_path)
    from drivers.evdev_input import key_names
    from drivers.scanner.wedge import WedgeDecoder
    dev.decoder = WedgeDecoder(key_names(), 0.2, 64)
    import time
    now = time.time()
    dev.input = Recorded(key_events_for("YY-0042", key_codes(), start=now)
                         + key_events_for("QR:ab", key_codes(), start=now + 0.2, keypad_digits=True))
    for _ in range(20):
        dev.poll()
    assert [d["text"] for t, d in published if t == "scanner.scan"] == ["YY-0042", "QR:ab"]


def test_keypad_driver_publishes_actions(tmp_path):
    dev, published = _device(EvdevKeypad, "keypad", {"keys": {"KEY_F1": "rate:5", "KEY_KP9": "call_next"},
                                                    "grab": True}, tmp_path)
    from drivers.evdev_input import key_names
    from drivers.keypad.evdev_keys import KeyEventMapper
    dev.mapper = KeyEventMapper(dev.opts["keys"], key_codes(), key_names())
    dev.input = Recorded([(ecodes.EV_KEY, ecodes.KEY_F1, 1, 0.0), (ecodes.EV_KEY, ecodes.KEY_F1, 2, 0.1),
                          (ecodes.EV_KEY, ecodes.KEY_F1, 0, 0.2), (ecodes.EV_KEY, ecodes.KEY_F3, 1, 0.3),
                          (ecodes.EV_KEY, ecodes.KEY_KP9, 1, 0.4)])
    dev.poll()
    assert [(d["key"], d["action"]) for t, d in published if t == "keypad.key"] == [
        ("KEY_F1", "rate:5"), ("KEY_KP9", "call_next")]
    assert dev.counters == {"keys": 2, "unmapped_keys": 1}


def test_absent_evdev_devices_are_offline_not_fatal(hwd_daemon, tmp_path):
    missing = tmp_path / "no-such-event-kbd"
    d = hwd_daemon(f'''
[[device]]
id = "pad"
kind = "keypad"
driver = "evdev"
url = "evdev://{missing}"
keys = {{ KEY_F1 = "rate:5" }}

[[device]]
id = "scan"
kind = "scanner"
driver = "evdev"
url = "evdev://{missing}"
''')
    import time
    for dev in ("pad", "scan"):
        deadline = time.monotonic() + 10
        while "not there" not in (row := d.device(dev))["detail"]:
            assert time.monotonic() < deadline, row
            time.sleep(0.05)
        assert row["state"] == "offline"
    assert d.call("devices.list")
    assert not Path(missing).exists()

"""Driver ``evdev``: a USB HID keypad (or any keyboard-like evaluator), grabbed exclusively.

``url = "evdev:///dev/input/by-id/usb-...-event-kbd"``, ``keys = { KEY_F1 = "rate:5", ... }``.
Grabbing keeps the key presses away from the kiosk browser. Unplugging makes the device
offline; plugging it back makes it online and grabbed again (the worker reopens the path).
"""

from __future__ import annotations

from drivers.evdev_input import EvdevInput, key_codes, key_names
from drivers.keypad.evdev_keys import KeyEventMapper
from drivers.keypad.interface import Keypad
from drivers.keypad.keymap import check_evdev_keys
from hwd.schema import Field


class EvdevKeypad(Keypad):
    driver = "evdev"
    unsupported = ("beep", "stars")      # no buzzer, no stars to show
    schemes = ("evdev",)
    requires = (("evdev", "evdev"),)
    poll_interval = 0.02
    options = (
        Field("keys", dict, check=check_evdev_keys, doc='key name → action, e.g. { KEY_F1 = "rate:5" }'),
        Field("grab", bool, True, doc="take the device exclusively (keys never reach other programs)"),
    )

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.input = EvdevInput(self.url.target, self.opts["grab"])
        self.mapper: KeyEventMapper | None = None

    def open(self) -> None:
        if self.mapper is None:
            self.mapper = KeyEventMapper(self.opts["keys"], key_codes(), key_names())
        self.input.open()
        self.log.info("opened %s (%s)", self.input.path, self.input.name)

    def close(self) -> None:
        self.input.close()

    def poll(self) -> None:
        for type_, code, value, _ in self.input.read():
            self.handle(type_, code, value)

    def handle(self, type_: int, code: int, value: int) -> None:
        press = self.mapper.feed(type_, code, value)
        if press is None:
            return
        if press.action is None:
            self.count("unmapped_keys")
            self.log.info("unmapped key %s (add it to keys to use it)", press.key)
            return
        self.count("keys")
        self.publish("keypad.key", key=press.key, action=press.action)

    # -- RPC (drivers/keypad/interface.py) ------------------------------------------------------
    def rpc_show(self, params: dict) -> dict:
        """This keypad has no display: always ``{shown: false}``."""
        return {"shown": False}

    def rpc_prompt(self, params: dict) -> dict:
        """HID keypads cannot be prompted: always ``{prompted: false}``."""
        return {"prompted": False}

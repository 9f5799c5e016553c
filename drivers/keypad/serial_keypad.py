"""Driver ``serial``: a keypad that sends a byte (or a short byte sequence) per key.

Many evaluation keypads (评价器) are serial devices: each key sends fixed bytes, configured as
``keys = { "31" = "rate:5", "32" = "rate:4", ... }`` (hex; multi-byte sequences allowed).
``prompt`` (hex) is sent by ``keypad.prompt``, for evaluators that light up or say "请评价".
Unmapped bytes are logged in hex (never personal data) so an engineer can complete the map.
"""

from __future__ import annotations

from drivers.hexbytes import parse_hex
from drivers.keypad.interface import Keypad
from drivers.keypad.keymap import SequenceDecoder, check_serial_keys
from hwd.errors import DeviceLost
from hwd.ports import open_serial
from hwd.schema import Field


def _check_prompt(value: str) -> str | None:
    try:
        parse_hex(value)
    except ValueError:
        return "write the bytes in hex, e.g. \"a5 01 5a\""
    return None


class SerialKeypad(Keypad):
    driver = "serial"
    unsupported = ("beep", "stars")      # no buzzer, no stars to show
    schemes = ("serial", "tcp")
    requires = (("serial", "pyserial"),)
    emulator = "drivers.keypad.emulator:KeypadEmulator"
    poll_interval = 0.02
    options = (
        Field("keys", dict, check=check_serial_keys, doc='hex bytes → action, e.g. { "31" = "rate:5" }'),
        Field("baudrate", int, 9600, min=300, max=921600),
        Field("prompt", str, None, check=_check_prompt, doc="hex bytes sent by keypad.prompt"),
        Field("sequence_timeout_ms", int, 200, min=10, max=5000,
              doc="wait this long for the rest of a multi-byte key"),
    )

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.port = None
        self.decoder = SequenceDecoder(self.opts["keys"], self.opts["sequence_timeout_ms"] / 1000)

    def open(self) -> None:
        self.port = open_serial(self.url, baudrate=self.opts["baudrate"], timeout=0)
        self.decoder.reset()

    def close(self) -> None:
        if self.port is not None:
            try:
                self.port.close()
            finally:
                self.port = None

    def poll(self) -> None:
        try:
            data = self.port.read(4096)
        except OSError as exc:
            raise DeviceLost(str(exc)) from exc
        keys = self.decoder.feed(data) if data else self.decoder.flush()
        for key, action in keys:
            self.count("keys")
            self.publish("keypad.key", key=key, action=action)
        unknown = self.decoder.take_unknown()
        if unknown:
            self.count("unmapped_bytes", len(unknown))
            self.log.info("unmapped bytes %s (add them to keys to use them)", unknown.hex(" "))

    # -- RPC (drivers/keypad/interface.py) ------------------------------------------------------
    def rpc_show(self, params: dict) -> dict:
        """This keypad has no display: always ``{shown: false}``."""
        return {"shown": False}

    def rpc_prompt(self, params: dict) -> dict:
        """Invite a rating: send the configured ``prompt`` bytes. ``{prompted: false}`` without one."""
        if not self.opts["prompt"]:
            return {"prompted": False}
        self.port.write(parse_hex(self.opts["prompt"]))
        self.port.flush()
        return {"prompted": True}

"""Driver ``bus``: a caller keypad or evaluator at an address on an RS-485 bus, polled by the host.

On a half-duplex bus a keypad may only talk when asked, so the host polls each keypad's address
(``poll_ms``) and the keypad answers with the key pressed since the last poll, or with nothing.
A keypad on a port of its own may instead send its key frames by itself (``polled = false``).
The host also sends text to the keypad's LCD: the called ticket number, 暂停, a rating prompt.
Every keypad on a port shares one ``SharedPort`` with the window screens on it (hwd/ports.py):
a poll and its reply, or a text frame and its ack, is one transaction under the port's lock, so
no screen frame ever lands in the middle of a keypad's answer. See docs/drivers/keypad.md.
"""

from __future__ import annotations

import time
from typing import Any

from drivers.display.textcodec import ENCODINGS, encode_text
from drivers.keypad.busframe import BusFrame, BusFrameError
from drivers.keypad.buspresets import PRESETS, build_spec, command_bytes, resolved
from drivers.keypad.interface import Keypad, check_text
from drivers.keypad.keymap import check_serial_keys
from hwd.device import narrows
from hwd.errors import DeviceLost
from hwd.ports import open_serial, port_key
from hwd.schema import Field
from hwd.stream import Skip


LCD_TEXT = 64   # characters the caller's LCD takes


class BusKeypad(Keypad):
    driver = "bus"
    schemes = ("serial", "tcp")
    requires = (("serial", "pyserial"),)
    emulator = "drivers.keypad.bus_emulator:KeypadBusEmulator"
    poll_interval = 0.1
    options = (
        Field("protocol", str, None, choices=tuple(PRESETS), doc="a named framing (docs/drivers/keypad.md)"),
        Field("address", int, 1, min=0, max=255, doc="the keypad's bus address"),
        Field("keys", dict, check=check_serial_keys, doc='key code (hex, the reply data) → action'),
        Field("frame", list, None, items=str, doc="the frame as tokens, when no protocol fits"),
        Field("length_from", int, None, min=0, doc="token index where the length starts counting"),
        Field("checksum_from", int, None, min=0, doc="token index where the checksum starts"),
        Field("commands", dict, {}, doc='command bytes, e.g. { poll = "01", text = "02" }'),
        Field("encoding", str, None, choices=ENCODINGS, doc="LCD text encoding (preset: gb2312)"),
        Field("baudrate", int, None, min=300, max=921600),
        Field("polled", bool, True, doc="ask the keypad for keys (a shared RS-485 bus); false: it sends "
                                        "its key frames by itself (only on a port of its own)"),
        Field("poll_ms", int, 100, min=20, max=5000, doc="how often the keypad is asked for a key"),
        Field("reply_timeout_ms", int, 200, min=10, max=5000),
        Field("retries", int, 1, min=0, max=5, doc="re-sends after a bad or missing reply"),
        Field("max_silence", int, 5, min=1, max=100, doc="unanswered polls in a row before offline"),
        Field("prompt_text", str, "请评价", check=check_text(LCD_TEXT), doc="LCD text of keypad.prompt"),
    )

    @classmethod
    def validate(cls, options: dict, problems: Any, path: tuple) -> None:
        try:
            build_spec(options)
        except BusFrameError as exc:
            problems.add(path + ("frame",) + ((exc.index,) if exc.index is not None else ()), str(exc))
        try:
            command_bytes(options)
        except ValueError as exc:
            problems.add(path + ("commands",), str(exc))

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.settings = resolved(self.opts)
        self.spec = build_spec(self.opts)
        self.commands = command_bytes(self.opts)
        self.decoder = self.spec.decoder(logger=self.log)
        self.keys = {bytes.fromhex(k.replace(" ", "")): a for k, a in self.opts["keys"].items()}
        self.poll_interval = self.opts["poll_ms"] / 1000
        self.shared = None
        self.silence = 0
        self.text: str | None = None        # what the LCD should show
        self.shown: str | None = None       # what it shows, as far as we know

    # -- link --------------------------------------------------------------------------------
    def open(self) -> None:
        url, baudrate = self.url, self.settings["baudrate"]
        self.shared = self.ctx.ports.get(port_key(url), lambda: open_serial(url, baudrate=baudrate, timeout=0))
        self.silence = 0
        if not self.opts["polled"]:
            self.decoder.reset()
            self.shown = None
            if self.text is not None:
                self._deliver()
            return
        reply = self.exchange("poll", b"")
        if reply is None:
            raise DeviceLost(f"keypad at address {self.opts['address']} does not answer; "
                             "check its address, wiring and protocol")
        if reply.data:
            self._key(reply.data)       # a key pressed while the keypad was away is not lost
        self.shown = None
        if self.text is not None:
            self._deliver()

    def close(self) -> None:
        if self.shared is not None:
            self.ctx.ports.release(self.shared)
            self.shared = None

    def info(self) -> dict:
        return {"lcd": self.text} if self.text is not None else {}

    # -- one exchange on the bus -------------------------------------------------------------
    def exchange(self, command: str, data: bytes) -> BusFrame | None:
        """Send one frame to this keypad and return its reply (None: no valid reply)."""
        if self.shared is None:
            raise DeviceLost("port closed")
        frame = self.spec.encode(self.opts["address"], self.commands[command], data)
        with self.shared.transaction() as port:
            for _ in range(1 + self.opts["retries"]):
                stray = port.read(4096)
                if stray:
                    self.count("stray_bytes", len(stray))
                self.decoder.reset()
                port.write(frame)
                port.flush()
                self.count("frames")
                reply = self._wait_reply(port, self.commands[command])
                if reply is not None:
                    return reply
        return None

    def _wait_reply(self, port: Any, command: int) -> BusFrame | None:
        deadline = time.monotonic() + self.opts["reply_timeout_ms"] / 1000
        while time.monotonic() < deadline:
            data = port.read(256)
            if not data:
                time.sleep(0.002)
                continue
            for item in self.decoder.feed(data):
                if isinstance(item, Skip):
                    if not item.noise:
                        self.count("bad_frames")
                        return None   # a garbled reply: ask again
                    self.count("noise_bytes", item.size)
                elif item.addr != self.opts["address"]:
                    self.count("foreign_frames")
                elif item.cmd == command or self.opts["polled"]:
                    return item
                elif item.data:
                    self._key(item.data)      # a keypad that talks by itself pressed a key meanwhile
        self.count("timeouts")
        return None

    # -- polling -----------------------------------------------------------------------------
    def poll(self) -> None:
        if not self.opts["polled"]:
            self._listen()
            return
        reply = self.exchange("poll", b"")
        if reply is None:
            self.silence += 1
            if self.silence >= self.opts["max_silence"]:
                raise DeviceLost(f"keypad at address {self.opts['address']} stopped answering")
            return
        self.silence = 0
        if reply.data:
            self._key(reply.data)
        if self.text != self.shown:
            self._deliver()

    def _listen(self) -> None:
        """A keypad that is not polled: take the key frames it sent since the last look."""
        with self.shared.transaction() as port:
            data = port.read(4096)
        for item in self.decoder.feed(data) if data else []:
            if isinstance(item, Skip):
                self.count("noise_bytes" if item.noise else "bad_frames", item.size if item.noise else 1)
            elif item.addr != self.opts["address"]:
                self.count("foreign_frames")
            elif item.data:
                self._key(item.data)
        if self.text != self.shown:
            self._deliver()

    def _key(self, code: bytes) -> None:
        action = self.keys.get(code)
        if action is None:
            self.count("unmapped_keys")
            self.log.info("unmapped key code %s (add it to keys to use it)", code.hex(" "))
            return
        self.count("keys")
        self.publish("keypad.key", key=code.hex(), action=action)

    # -- the LCD -----------------------------------------------------------------------------
    def _deliver(self) -> bool:
        text = self.text or ""
        data, missing = encode_text(text, self.settings["encoding"])
        if missing:
            self.count("replaced_chars", len(missing))
        ok = self.exchange("text", data) is not None
        if ok:
            self.shown = text if self.text is not None else None
        return ok

    # -- RPC (drivers/keypad/interface.py) ------------------------------------------------------
    @narrows(Field("text", str, check=check_text(LCD_TEXT)))
    def rpc_show(self, params: dict) -> dict:
        """The text is kept and sent when the keypad is back."""
        self.text = params["text"]
        delivered = self.connected and self._deliver()
        return {"shown": True, "delivered": bool(delivered)}

    def rpc_prompt(self, params: dict) -> dict:
        """Invite a rating: ``prompt_text`` on the LCD."""
        self.text = self.opts["prompt_text"]
        return {"prompted": self._deliver()}

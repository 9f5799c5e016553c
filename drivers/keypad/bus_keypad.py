"""Driver ``bus``: a caller keypad or evaluator at an address on an RS-485 bus.

A polled keypad (``polled = true``) talks only when asked: the host polls its address
(``poll_ms``) and it answers with the key pressed since the last poll, or with nothing. Many
callers and evaluators instead send their key frames unasked (``polled = false``), as the public
queue systems that drive them expect. The host also sends text to the keypad's LCD: the called
ticket number, 暂停, a rating prompt.

Every device on a port shares one ``SharedPort`` (hwd/sharedport.py) with one reader, which
decodes every frame on the bus and hands this keypad the frames at its address, so unpolled
keypads on one bus never take each other's presses. A poll and its reply, or a text frame and
its reply, is one transaction, so no other frame is written in the middle of a keypad's answer.
See docs/drivers/keypad.md.
"""

from __future__ import annotations

import queue
import time
from typing import Any

from drivers.display.textcodec import ENCODINGS, encode_text
from drivers.hexbytes import parse_hex
from drivers.keypad.busframe import BusFrame, BusFrameError
from drivers.keypad.buspresets import PRESETS, build_spec, command_bytes, resolved
from drivers.keypad.interface import Keypad, check_text
from drivers.keypad.keymap import check_serial_keys
from hwd.device import narrows
from hwd.errors import DeviceLost
from hwd.schema import Field
from hwd.sharedport import Listener
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
        Field("polled", bool, True, doc="ask the keypad for keys; false: it sends its key frames by itself"),
        Field("poll_ms", int, 100, min=20, max=5000,
              doc="how often the keypad is asked for a key (unpolled: how often its frames are taken)"),
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
        self.keys = {parse_hex(k): a for k, a in self.opts["keys"].items()}
        self.poll_interval = self.opts["poll_ms"] / 1000
        self.address = self.opts["address"]
        self.shared = None
        self.generation = 0
        self.silence = 0
        self.text: str | None = None        # what the LCD should show
        self.shown: str | None = None       # what it shows, as far as we know
        # the frames at this keypad's address, as the port's reader finds them, and the
        # rejected frames (Skip) of the bus while this keypad holds it waiting for a reply
        self.inbox: queue.Queue = queue.Queue(maxsize=1000)
        s = self.settings
        self.ear = Listener(self.id, ("bus", tuple(s["frame"]), s["length_from"], s["checksum_from"]),
                            self.spec.check, self.address, lambda frame: frame.addr, self._take,
                            on_bad=self._take, what="keypad frame")

    # -- link --------------------------------------------------------------------------------
    def open(self) -> None:
        self.shared = self.ctx.ports.open_shared(self.url, self.settings["baudrate"], self.id)
        self.shared.attach(self.ear)
        self.shared.ensure_open()
        self.generation = self.shared.generation
        self.silence = 0
        self.shown = None
        if self.opts["polled"]:
            reply = self.exchange("poll", b"")
            if reply is None:
                raise DeviceLost(f"keypad at address {self.address} does not answer; "
                                 "check its address, wiring and protocol")
            if reply.data:
                self._key(reply.data)       # a key pressed while the keypad was away is not lost
        if self.text is not None:
            self._deliver()

    def close(self) -> None:
        if self.shared is not None:
            self.shared.detach(self.ear)
            self.ctx.ports.release(self.shared, self.id)
            self.shared = None

    def info(self) -> dict:
        return {"lcd": self.text} if self.text is not None else {}

    def describe(self) -> dict:
        shared = self.shared
        return {**super().describe(), **({"port": shared.describe()} if shared is not None else {})}

    def _take(self, item: Any) -> None:
        """A frame at this keypad's address, or a rejected frame while it waits (reader thread)."""
        try:
            self.inbox.put_nowait(item)
        except queue.Full:
            self.count("dropped_frames")

    # -- one exchange on the bus -------------------------------------------------------------
    def exchange(self, command: str, data: bytes) -> BusFrame | None:
        """Send one frame to this keypad and return its reply (None: no valid reply)."""
        if self.shared is None:
            raise DeviceLost("port closed")
        frame = self.spec.encode(self.address, self.commands[command], data)
        with self.shared.transaction(self.ear) as port:
            for _ in range(1 + self.opts["retries"]):
                self._take_keys()           # what came unasked (or too late) before this frame
                port.write(frame)
                port.flush()
                self.count("frames")
                reply = self._wait_reply(self.commands[command])
                if reply is not None:
                    return reply
        return None

    def _wait_reply(self, command: int) -> BusFrame | None:
        deadline = time.monotonic() + self.opts["reply_timeout_ms"] / 1000
        while True:
            left = deadline - time.monotonic()
            try:
                item = self.inbox.get(timeout=left) if left > 0 else self.inbox.get_nowait()
            except queue.Empty:
                self.count("timeouts")
                return None
            if isinstance(item, Skip):
                self.count("bad_frames")
                return None                  # a garbled reply: ask again
            if item.cmd == command or self.opts["polled"]:
                return item
            if item.data:
                self._key(item.data)         # a keypad that talks by itself pressed a key meanwhile

    def _take_keys(self) -> None:
        """The frames the reader handed over since the last look: the keys in them."""
        while True:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, BusFrame) and item.data and item.cmd == self.commands["poll"]:
                self._key(item.data)

    # -- polling -----------------------------------------------------------------------------
    def poll(self) -> None:
        self.shared.ensure_open()         # a port its reader lost is reopened, or this keypad is offline
        if self.generation != self.shared.generation:
            self.generation = self.shared.generation
            self.shown = None               # the bus was down: the LCD may have lost its text
        if not self.opts["polled"]:
            self._take_keys()
            if self.text != self.shown:
                self._deliver()
            return
        reply = self.exchange("poll", b"")
        if reply is None:
            self.silence += 1
            if self.silence >= self.opts["max_silence"]:
                raise DeviceLost(f"keypad at address {self.address} stopped answering")
            return
        self.silence = 0
        if reply.data:
            self._key(reply.data)
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

"""Driver ``bus``: a caller keypad or evaluator at an address on an RS-485 bus.

A polled keypad (``polled = true``) talks only when asked: the host polls its address
(``poll_ms``) and it answers with the key pressed since the last poll, or with nothing. The
callers and evaluators that the public queue systems drive instead send each key frame unasked
(``polled = false``) and expect it written back at once (``ack = "echo"``; an evaluator's frame
goes back with the function code the preset rewrites it to). Digit keys pressed before a key
arrive in the same frame and reach the event as ``digits``. The host also writes to the keypad:
the called ticket on its LCD (text, or digit cells: ``lcd.py``), a beep, an evaluator's "start
evaluation" and stars. A keypad that does not answer the host's frames (``answers = false``,
unpolled keypads by default) gets each one once; one that should answer and does not gets it
``1 + retries`` times and then not again until there is something new to send.

Every device on a port shares one ``SharedPort`` (hwd/sharedport.py) with one reader, which
decodes every frame on the bus and hands this keypad the frames at its address, so unpolled
keypads on one bus never take each other's presses. The reader wakes this keypad's worker, which
writes the acknowledgements in a transaction of the port, so they never land inside another
device's frame. A poll and its reply, or a text frame and its reply, is one transaction too.
See docs/drivers/keypad.md.
"""

from __future__ import annotations

import collections
import time
from typing import Any

from drivers.display.textcodec import ENCODINGS, encode_text
from drivers.hexbytes import parse_hex
from drivers.keypad import lcd
from drivers.keypad.busframe import BusFrame, BusFrameError
from drivers.keypad.buspresets import ACKS, PRESETS, ROLES, ack_frame, build_spec, command_bytes, resolved
from drivers.keypad.interface import Keypad, check_text
from drivers.keypad.keymap import check_serial_keys, split_key
from hwd.device import narrows
from hwd.errors import DeviceLost
from hwd.schema import Field
from hwd.sharedport import Inbox, Listener

LCD_TEXT = 64        # characters the caller's LCD takes
OWN_ACK_S = 0.05     # a frame equal to an ack written this recently is that ack, heard back by the transceiver


class BusKeypad(Keypad):
    driver = "bus"
    schemes = ("serial", "tcp")
    requires = (("serial", "pyserial"),)
    emulator = "drivers.keypad.bus_emulator:KeypadBusEmulator"
    poll_interval = 0.1
    options = (
        Field("protocol", str, None, choices=tuple(PRESETS), doc="a named framing (docs/drivers/keypad.md)"),
        Field("address", int, 1, min=0, max=255, doc="the keypad's bus address"),
        Field("keys", dict, check=check_serial_keys, doc='key code (hex, the frame\'s data) → action'),
        Field("role", str, "caller", choices=ROLES, doc="caller (呼叫器) or evaluator (评价器): its commands"),
        Field("frame", list, None, items=str, doc="the frame as tokens, when no protocol fits"),
        Field("length_from", int, None, min=0, doc="token index where the length starts counting"),
        Field("checksum_from", int, None, min=0, doc="token index where the checksum starts"),
        Field("commands", dict, {}, doc='function codes (and fixed data), e.g. { poll = "01", text = "02" }'),
        Field("encoding", str, None, choices=ENCODINGS, doc="LCD text encoding (preset: gb2312)"),
        Field("baudrate", int, None, min=300, max=921600),
        Field("polled", bool, True, doc="ask the keypad for keys; false: it sends its key frames by itself"),
        Field("ack", str, None, choices=ACKS,
              doc="unpolled keypads: echo writes each key frame back (the preset's), none writes nothing"),
        Field("answers", bool, None, doc="the keypad answers the host's frames (default: when polled)"),
        Field("lcd", str, "text", choices=lcd.MODES,
              doc="text, or digit cells: ticket6 (JackQChen) or ticket-wait (uvbs, with the waiting count)"),
        Field("poll_ms", int, 100, min=20, max=5000,
              doc="how often the keypad is asked for a key (unpolled: how often its frames are taken)"),
        Field("reply_timeout_ms", int, 200, min=10, max=5000),
        Field("retries", int, 1, min=0, max=5, doc="re-sends of a frame that got a bad or no reply"),
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
        if options.get("role") == "evaluator" and options.get("lcd", "text") != "text":
            problems.add(path + ("lcd",), "an evaluator has no LCD; lcd is for callers")

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.settings = resolved(self.opts)
        self.spec = build_spec(self.opts)
        self.commands = command_bytes(self.opts)
        self.keys = {parse_hex(k): a for k, a in self.opts["keys"].items()}
        self.poll_interval = self.opts["poll_ms"] / 1000
        self.address = self.opts["address"]
        self.role = self.settings["role"]
        self.polled = self.opts["polled"]
        self.answers = self.polled if self.opts["answers"] is None else self.opts["answers"]
        self.acking = not self.polled and self.settings["ack"] == "echo"
        self.shared = None
        self.generation = 0
        self.silence = 0
        self.text: str | None = None        # what the LCD should show
        self.waiting: int | None = None     # the window's waiting count, for digit LCDs
        self.shown: bytes | None = None     # the LCD frame's data it shows, as far as we know
        self.unanswered: bytes | None = None  # LCD data sent without an answer: not sent again
        # the frames at this keypad's address, as the port's reader finds them, and the
        # rejected frames (Skip) of the bus while this keypad holds it waiting for a reply
        self.inbox = Inbox(self)
        self._acked: collections.deque = collections.deque(maxlen=16)   # (ack, when written)
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
        self.shown = self.unanswered = None
        if self.polled:
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
        """A frame at this keypad's address, or a rejected frame while it waits (reader thread):
        queued, and an unpolled keypad's worker woken to acknowledge it at once."""
        self.inbox.put(item, self._serve if not self.polled and isinstance(item, BusFrame) else None)

    def _serve(self) -> None:
        """Worker: acknowledge and publish what the reader handed over."""
        if self.shared is not None:
            self._take_keys()

    # -- the wire ----------------------------------------------------------------------------
    def _write(self, port: Any, frame: bytes) -> None:
        port.write(frame)
        port.flush()
        self.count("frames")

    def _own(self, frame: BusFrame) -> bool:
        """An ack we just wrote, heard back (a transceiver that hears its own output): taking it
        for a key frame would ack it again, and again."""
        now = time.monotonic()
        if any(raw == frame.raw and now - when < OWN_ACK_S for raw, when in self._acked):
            self.count("own_frames")
            return True
        return False

    def _take_keys(self, port: Any = None) -> None:
        """The frames the reader handed over since the last look: acknowledged (unpolled
        keypads), then published as keys. ``port``: the transaction already held."""
        frames = []
        for item in self.inbox.drain():
            if not isinstance(item, BusFrame) or self._own(item):
                continue
            if self.polled and not (item.data and item.cmd == self.commands["poll"][0]):
                continue                    # a late reply to a poll that carried no key
            frames.append(item)
        self._key_frames(frames, port)

    def _key_frames(self, frames: list[BusFrame], port: Any = None) -> None:
        if not frames:
            return
        if self.acking:
            acks = [ack_frame(self.spec, f, self.settings["ack_rewrite"]) for f in frames]
            if port is not None:
                for ack in acks:
                    self._write(port, ack)
            else:
                with self.shared.transaction(self.ear) as held:
                    for ack in acks:
                        self._write(held, ack)
            now = time.monotonic()
            self._acked.extend((ack, now) for ack in acks)
            self.count("acks", len(acks))
        for frame in frames:
            self._key(frame.data)

    def _frame(self, command: str, data: bytes) -> bytes:
        code = self.commands[command]
        return self.spec.encode(self.address, code[0], code[1:] + data)

    def exchange(self, command: str, data: bytes) -> BusFrame | None:
        """Send one frame to this keypad and return its reply (None: no valid reply after
        ``1 + retries`` tries)."""
        if self.shared is None:
            raise DeviceLost("port closed")
        frame = self._frame(command, data)
        code = self.commands[command][0]
        with self.shared.transaction(self.ear) as port:
            for _ in range(1 + self.opts["retries"]):
                self._take_keys(port)       # what came unasked (or too late) before this frame
                self._write(port, frame)
                reply = self._wait_reply(code, port)
                if reply is not None:
                    return reply
        return None

    def _wait_reply(self, code: int, port: Any) -> BusFrame | None:
        deadline = time.monotonic() + self.opts["reply_timeout_ms"] / 1000
        while True:
            item = self.inbox.next(deadline)
            if item is None:
                return None                  # no reply, or a garbled one: ask again
            if self._own(item):
                continue
            if item.cmd == code or self.polled:
                return item
            self._key_frames([item], port)   # a keypad that talks by itself pressed a key meanwhile

    def send(self, command: str, data: bytes = b"") -> bool:
        """One command to the keypad: waited for when the keypad answers, else written once."""
        if self.shared is None:
            raise DeviceLost("port closed")
        if self.answers:
            return self.exchange(command, data) is not None
        frame = self._frame(command, data)
        with self.shared.transaction(self.ear) as port:
            self._take_keys(port)
            self._write(port, frame)
        return True

    # -- polling -----------------------------------------------------------------------------
    def poll(self) -> None:
        self.shared.ensure_open()         # a port its reader lost is reopened, or this keypad is offline
        if self.generation != self.shared.generation:
            self.generation = self.shared.generation
            self.shown = self.unanswered = None   # the bus was down: the LCD may have lost its text
        if not self.polled:
            self._take_keys()
            self._refresh()
            return
        reply = self.exchange("poll", b"")
        if reply is None:
            self.silence += 1
            if self.silence >= self.opts["max_silence"]:
                raise DeviceLost(f"keypad at address {self.address} stopped answering")
            return
        if self.silence:
            self.silence = 0
            self.unanswered = None          # it answers again: what it missed is worth one more try
        if reply.data:
            self._key(reply.data)
        self._refresh()

    def _key(self, data: bytes) -> None:
        found = split_key(data, self.keys)
        if found is None:
            self.count("unmapped_keys")
            self.log.info("unmapped key code %s (add it to keys to use it)", data.hex(" "))
            return
        key, action, digits = found
        self.count("keys")
        self.publish("keypad.key", key=key.hex(), action=action, digits=digits)

    # -- the LCD -----------------------------------------------------------------------------
    @property
    def has_lcd(self) -> bool:
        return self.role == "caller" and "text" in self.commands

    def _lcd_data(self) -> bytes:
        text = self.text or ""
        cells = lcd.render(self.opts["lcd"], text, self.waiting)
        if cells is not None:
            return cells
        data, missing = encode_text(text, self.settings["encoding"])
        if missing:
            self.count("replaced_chars", len(missing))
        return data

    def _refresh(self) -> None:
        """Send the LCD content if it changed, unless it already went unanswered."""
        if self.text is None or not self.has_lcd:
            return
        data = self._lcd_data()
        if data != self.shown and data != self.unanswered:
            self._deliver()

    def _deliver(self) -> bool:
        data = self._lcd_data()
        if data == self.shown:
            return True
        if self.send("text", data):
            self.shown, self.unanswered = data, None
            return True
        self.unanswered = data
        self.count("unanswered")
        self.log.warning("keypad at address %s did not answer the LCD frame (%d tries); it is sent again "
                         "when the content changes or the keypad is back", self.address, 1 + self.opts["retries"])
        return False

    # -- RPC (drivers/keypad/interface.py) ------------------------------------------------------
    @narrows(Field("text", str, check=check_text(LCD_TEXT)))
    def rpc_show(self, params: dict) -> dict:
        """The text (and waiting count) is kept and sent when the keypad is back."""
        if not self.has_lcd:
            return {"shown": False}
        self.text = params["text"]
        if params.get("waiting") is not None:
            self.waiting = params["waiting"]
        delivered = self.connected and self._deliver()
        return {"shown": True, "delivered": bool(delivered)}

    def rpc_prompt(self, params: dict) -> dict:
        """An evaluator starts its evaluation; a caller with a text LCD shows ``prompt_text``."""
        if self.role == "evaluator":
            return {"prompted": "evaluate" in self.commands and self.send("evaluate")}
        if not self.has_lcd or self.opts["lcd"] != "text":
            return {"prompted": False}
        self.text = self.opts["prompt_text"]
        return {"prompted": self._deliver()}

    def rpc_beep(self, params: dict) -> dict:
        return {"beeped": "beep" in self.commands and self.send("beep")}

    def rpc_stars(self, params: dict) -> dict:
        return {"shown": "stars" in self.commands and self.send("stars", bytes([params["score"]]))}

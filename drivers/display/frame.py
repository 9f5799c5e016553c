"""Driver ``frame``: a text window screen that speaks a vendor frame declared in the config.

The frame is either declared as tokens (``frame``, with ``init``/``commit`` frames around an
update and ``connect`` frames sent once on connecting) or named (``protocol = "onbon-bx5"`` and
the other presets in ``presets.py``); both give a codec (``codec.py``) that turns lines into
frames. The screen is on a serial line, usually an RS-485 bus shared with other screens and
keypads at other addresses, or on the network (``udp://``, one datagram per frame,
``udp.py``); every device on one port shares one ``SharedPort`` (hwd/sharedport.py), whose one
reader hands this screen its acks, and a frame and its ack are one uninterrupted transaction on
the bus. Text is encoded in the screen's legacy encoding, with each character's colour for
frames that carry one (``styled.py``); characters it cannot hold are replaced and logged.
See docs/drivers/display.md.
"""

from __future__ import annotations

import queue
import time
from typing import Any

from drivers.display import styled
from drivers.display.base import DisplayDevice
from drivers.display.codec import DslCodec
from drivers.display.interface import EFFECTS
from drivers.display.presets import FRAME_KEYS, PRESETS
from drivers.display.protocol import FrameError, FrameSpec
from drivers.display.textcodec import ENCODINGS
from drivers.display.udp import UdpPort
from drivers.hexbytes import parse_hex
from hwd.errors import DeviceError, DeviceLost
from hwd.ports import port_key
from hwd.schema import Field
from hwd.sharedport import Listener
from hwd.stream import literal

DEFAULT_FRAME = ["A5", "{addr}", "01", "{len}", "{text}", "{crc16_modbus}", "5A"]


def _hex_or_empty(value: str) -> str | None:
    if value == "":
        return None
    try:
        parse_hex(value.replace("{addr}", "00"))
    except ValueError as exc:
        return str(exc)
    return None


FRAME_OPTIONS = (
    Field("frame", list, DEFAULT_FRAME, items=str, doc="the frame as tokens (docs/drivers/display.md)"),
    Field("escape", dict, {}, doc="byte -> replacement sequence, e.g. { A5 = \"A602\" }"),
    Field("checksum_from", int, None, min=0, doc="index of the first token the checksum covers"),
    Field("len_adjust", int, 0, min=-16, max=16, doc="added to the payload length in {len}"),
    Field("address", int, 1, min=0, max=0xFFFF, doc="the screen's bus address"),
    Field("ack", str, None, check=_hex_or_empty, doc="reply the screen sends for each frame (hex; "
                                                       "{addr} is the address byte)"),
    Field("ack_timeout_ms", int, 300, min=10, max=10000),
    Field("retries", int, 2, min=0, max=10, doc="re-sends of a frame that got no ack"),
    Field("frame_gap_ms", int, 0, min=0, max=1000, doc="pause after each frame (slow controllers)"),
    Field("baudrate", int, 9600, min=300, max=921600),
    Field("effects", dict, {"static": 0, "scroll": 1, "blink": 2}, doc="value of {effect} per effect"),
)


def _frames(value: list) -> str | None:
    if not all(isinstance(f, list) and all(isinstance(t, str) for t in f) for f in value):
        return "expected a list of frames, each a list of tokens, e.g. [[\"AA\", \"{addr}\", \"51\"]]"
    return None


def build_codec(options: dict, payload: str = "text"):
    """The codec a ``frame`` screen's options describe: a preset's, or the declared frames'.

    Raise FrameError naming the bad key (and token). The emulator calls it too."""
    name = options.get("protocol")
    if name:
        return PRESETS[name].build(options)
    spec = FrameSpec.parse(options.get("frame") or DEFAULT_FRAME, options.get("escape") or {},
                           options.get("checksum_from"), options.get("len_adjust", 0), payload)
    around = {}
    for key in ("init", "commit", "connect"):
        specs = []
        for n, tokens in enumerate(options.get(key) or []):
            try:
                specs.append(FrameSpec.parse(tokens, options.get("escape") or {}, None,
                                             options.get("len_adjust", 0), payload, need_payload=False))
            except FrameError as exc:
                where = "" if exc.index is None else f"token {exc.index}: "
                raise FrameError(f"{where}{exc}", n, key=key) from None
        around[key] = specs
    sep = options.get("line_separator")
    joiner = None if sep is None else (parse_hex(sep) if sep else b"")
    return DslCodec(spec, around["init"], around["commit"], joiner, options.get("line_base", 0),
                    options.get("effects"), options.get("encoding") or "gb2312", around["connect"])


class FrameScreen(DisplayDevice):
    driver = "frame"
    schemes = ("serial", "tcp", "udp")
    requires = (("serial", "pyserial"), ("crccheck", "crccheck"))
    emulator = "drivers.display.emulator:ScreenEmulator"
    poll_interval = 1.0          # a read that notices an unplugged adapter
    payload = "text"
    options = FRAME_OPTIONS + (
        Field("protocol", str, None, choices=tuple(PRESETS),
              doc="a vendor's protocol by name; then only address is needed (docs/drivers/display.md)"),
        Field("init", list, None, check=_frames, doc="frames (token lists) sent before each frame of an update"),
        Field("commit", list, None, check=_frames, doc="frames (token lists) sent after an update"),
        Field("connect", list, None, check=_frames,
              doc="frames (token lists) sent once whenever hwd (re)connects to the screen"),
        Field("width", int, None, min=8, max=4096, doc="dots across (protocol onbon-bx5: default 64)"),
        Field("height", int, None, min=8, max=4096, doc="dots down (protocol onbon-bx5: default 16 per line)"),
        Field("encoding", str, None, choices=ENCODINGS, doc="default gb2312, or the protocol's"),
        Field("lines", int, 1, min=1, max=16, doc="text lines the screen has"),
        Field("line_separator", str, None, check=_hex_or_empty,
              doc="hex bytes joining the lines into one frame; unset: one frame per line with {line}"),
        Field("line_base", int, 0, min=0, max=1, doc="{line} of the first line"),
        Field("replace_char", str, "?", doc="shown instead of characters the encoding lacks"),
    )

    @classmethod
    def validate(cls, options: dict, problems: Any, path: tuple) -> None:
        if options.get("protocol"):
            defaults = {f.name: f.default for f in cls.options}
            for key in FRAME_KEYS:
                if options.get(key) != defaults.get(key):
                    problems.add(path + (key,), f"protocol = {options['protocol']!r} decides the frame; "
                                 f"remove {key} (or remove protocol and declare the frame)")
        try:
            codec = cls.check_frames(options)
        except FrameError as exc:
            key = path + (exc.key,) + ((exc.index,) if exc.index is not None else ())
            problems.add(key, str(exc))
        else:
            try:
                codec.update([b""], options.get("address", 1), "static")
            except ValueError as exc:
                problems.add(path + ("address",), f"{exc} of this frame")
        effects = options.get("effects") or {}
        for name, value in effects.items():
            if name not in EFFECTS:
                problems.add(path + ("effects", name), f"unknown effect; known: {', '.join(EFFECTS)}")
            elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 255:
                problems.add(path + ("effects", name), "expected a byte value 0-255")
        if len(options.get("replace_char", "?")) != 1:
            problems.add(path + ("replace_char",), "expected one character")

    @classmethod
    def check_frames(cls, options: dict):
        return build_codec(options, cls.payload)

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.codec = build_codec(self.opts, self.payload)
        self.preset = self.opts.get("protocol")
        self.encoding = self.opts.get("encoding") or self.codec.encoding
        self.spec = getattr(self.codec, "spec", None)   # the declared data frame (bitmap animates it)
        self.shared = None
        self.generation = 0
        ack = self.opts.get("ack")
        self.ack = parse_hex(ack.replace("{addr}", f"{self.opts['address'] & 0xFF:02X}")) if ack else b""
        self.acks: queue.Queue = queue.Queue(maxsize=64)
        # the acks for this screen, as the port's reader finds them (an ack names its screen)
        self.ear = Listener(self.id, ("ack", self.ack), literal(self.ack), None, lambda frame: None,
                            self._on_ack, what="screen ack") if self.ack else None

    # -- link --------------------------------------------------------------------------------
    def open(self) -> None:
        if self.url.scheme == "udp":
            host, port = self.url.host, self.url.port
            self.shared = self.ctx.ports.get(port_key(self.url), lambda: UdpPort(host, port), self.id)
        else:
            self.shared = self.ctx.ports.open_shared(self.url, self.opts["baudrate"], self.id)
        if self.ear is not None:
            self.shared.attach(self.ear)
        with self.shared.transaction():
            self.generation = self.shared.generation
        self.sent = None
        self.send_frames(self.codec.hello(self.opts["address"]))
        content = {"lines": list(self.content["lines"]), "effect": self.content["effect"]}
        self.send_content(content)   # a screen back on the bus gets its content at once
        self.sent = content

    def close(self) -> None:
        if self.shared is not None:
            if self.ear is not None:
                self.shared.detach(self.ear)
            self.ctx.ports.release(self.shared, self.id)
            self.shared = None

    def describe(self) -> dict:
        shared = self.shared
        return {**super().describe(), **({"port": shared.describe()} if shared is not None else {})}

    def poll(self) -> None:
        self.shared.ensure_open()      # a port its reader lost is reopened, or this screen is offline
        reopened = self.generation != self.shared.generation
        self.generation = self.shared.generation
        if reopened:
            # another screen on this bus lost the port and reopened it before this one noticed:
            # the bus was gone, so this screen may have lost its content too
            self.log.info("the bus was reopened; sending the content again")
            try:
                self.send_frames(self.codec.hello(self.opts["address"]))
            except (DeviceLost, DeviceError, OSError) as exc:
                self.link_lost(exc)
                return
            self.deliver(force=True)

    # -- content -----------------------------------------------------------------------------
    def encode_line(self, parts: list[styled.Segment], max_bytes: int) -> tuple[bytes, list[int]]:
        """A line's bytes and each byte's colour, cut at a character boundary to ``max_bytes``."""
        replace = self.opts["replace_char"]
        data, colors, missing = styled.encode(parts, self.encoding, replace)
        if missing:
            self.count("replaced_chars", len(missing))
            self.log.warning("%d character(s) not in %s shown as %r: %s", len(missing),
                             self.encoding, replace, "".join(missing[:10]))
        if len(data) > max_bytes:
            self.count("truncated")
            self.log.warning("text of %d bytes cut to the frame's %d", len(data), max_bytes)
            chars = [(ch, color) for text, color in parts for ch in text]
            while len(data) > max_bytes and chars:
                chars.pop()
                data, colors, _ = styled.encode(chars, self.encoding, replace)
        return data, colors

    def screen_lines(self, content: dict) -> list[list[styled.Segment]]:
        """The content's lines as this screen has them, each as its (text, colour) parts."""
        n = self.opts["lines"]
        given = list(content["lines"])
        if self.preset and (n == 1 or self.codec.one_string):
            # the vendor's software sends one string: the call and the window name side by side
            return [styled.join(given)]
        if len(given) > n:
            self.log.warning("%d lines for a %d-line screen; the rest is dropped", len(given), n)
        return [styled.segments(line) for line in (given + [""] * n)[:n]]

    def frames_for(self, content: dict) -> list[bytes]:
        lines = self.screen_lines(content)
        limit = self.codec.capacity(len(lines))
        encoded = [self.encode_line(line, limit) for line in lines]
        return self.codec.update([data for data, _ in encoded], self.opts["address"], content["effect"],
                                 colors=[colors for _, colors in encoded])

    def send_content(self, content: dict) -> None:
        self.send_frames(self.frames_for(content))

    def send_frames(self, frames: list[bytes]) -> None:
        if self.shared is None:
            raise DeviceLost("port closed")
        with self.shared.transaction() as port:
            for frame in frames:
                self._send_frame(port, frame)

    def _send_frame(self, port: Any, frame: bytes) -> None:
        tries = 1 + (self.opts["retries"] if self.ack else 0)
        for attempt in range(tries):
            while not self.acks.empty():          # a late ack of an earlier frame
                self.acks.get_nowait()
            port.write(frame)
            port.flush()
            self.count("frames")
            if not self.ack or self._wait_ack():
                if self.opts["frame_gap_ms"]:
                    time.sleep(self.opts["frame_gap_ms"] / 1000)
                return
            self.count("ack_timeouts")
            self.log.warning("no ack for frame (try %d of %d)", attempt + 1, tries)
        raise DeviceError(f"screen at address {self.opts['address']} does not acknowledge "
                          f"({tries} tries); check its address, wiring and frame config")

    def _on_ack(self, frame: Any) -> None:
        """The port's reader found this screen's ack."""
        try:
            self.acks.put_nowait(frame)
        except queue.Full:
            pass

    def _wait_ack(self) -> bool:
        try:
            self.acks.get(timeout=self.opts["ack_timeout_ms"] / 1000)
        except queue.Empty:
            return False
        return True

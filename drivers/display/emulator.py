"""Emulator of an RS-485 bus of window screens, at the far end of a pty (or a loopback socket).

It decodes frames with the same frame config as the driver (a declared frame, or a named
``protocol``: the vendor codec's decoder), verifies checksums and lengths, counts init, commit
and connect frames, keeps what each address shows (and in which colours, for frames that carry
them) and renders it as ``screen-<addr>.png`` (red dots on black) in its workdir, so the demo
and the tests see the screens. Several ``sim://busname`` devices share one emulator, as several
screens share one bus. ``sim://NAME?transport=udp`` listens on a loopback UDP port instead, as a
screen with an IP address (drivers/display/udp.py).

Faults: ``noack`` (stop acknowledging), ``garbage`` (noise towards the driver), ``ack_delay``
(a slow controller; bytes arriving before it has answered count as bus ``collisions``, which on a
half-duplex RS-485 bus garble both frames), ``unplug``/``plug`` (the screen loses power and its
content), ``silent``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from drivers.display.frame import build_codec
from drivers.display.protocol import Frame
from drivers.display.textcodec import decode_text
from drivers.display.udp import UdpLink
from drivers.hexbytes import parse_hex
from hwd.sim import Emulator
from hwd.stream import Skip

IDLE_GAP_S = 0.2   # quiet time after which a partial frame is given up


class ScreenEmulator(Emulator):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        opts = self.options
        self.codec = build_codec(opts, payload=None)
        self.decoder = self.codec.decoder(f"sim {self.name}")
        self.encoding = opts.get("encoding") or self.codec.encoding
        self.ack = opts.get("ack") or ""
        self.screens: dict[int, dict] = {}
        self.counters = {"frames": 0, "bad_frames": 0, "noise_bytes": 0, "collisions": 0, "acks": 0,
                         "init_frames": 0, "commit_frames": 0, "connect_frames": 0, "datagrams": 0}
        self.last_bad: list[str] = []
        self.wire_log: list[dict] = []   # the last frames as received, for tests and field checks
        self.pending_init: dict[int, int | None] = {}   # address -> length its init frame announced
        self.noack = False
        self.ack_delay = 0.0
        self.busy_until = 0.0
        self.lock = threading.Lock()
        self._idle: threading.Timer | None = None

    def start(self) -> str:
        if self.params.get("transport") == "udp":
            self.link = UdpLink(self._datagram, self.name, int(self.params.get("port", 0)))
            return self.link.start()
        return super().start()

    def _datagram(self, data: bytes) -> None:
        self.counters["datagrams"] += 1
        self._received(data)

    # -- per-address config ------------------------------------------------------------------
    def options_for(self, addr: int) -> dict:
        for dc in self.devices:
            if int(dc.options.get("address", 1)) == addr:
                return dc.options
        return self.options

    # -- the wire ----------------------------------------------------------------------------
    def received(self, data: bytes) -> None:
        with self.lock:
            if time.monotonic() < self.busy_until:
                self.counters["collisions"] += 1
            results = self.decoder.feed(data)
            waiting = self.decoder.pending > 0
        self._process(results)
        if waiting:
            self._arm_idle()

    def _arm_idle(self) -> None:
        """A controller forgets a half-received frame after a quiet gap on the line."""
        if self._idle is not None:
            self._idle.cancel()
        self._idle = threading.Timer(IDLE_GAP_S, self._on_idle)
        self._idle.daemon = True
        self._idle.start()

    def _on_idle(self) -> None:
        with self.lock:
            results = self.decoder.flush()
        self._process(results)

    def _process(self, results: list) -> None:
        for result in results:
            if isinstance(result, Frame):
                self.counters["frames"] += 1
                self.handle(result)
            elif isinstance(result, Skip):
                if result.noise:
                    self.counters["noise_bytes"] += result.size
                else:
                    self.counters["bad_frames"] += 1
                    self.last_bad = (self.last_bad + [result.reason])[-10:]

    def handle(self, frame: Frame) -> None:
        addr = frame.fields.get("addr", 0)
        opts = self.options_for(addr)
        kind = frame.fields.get("kind", "data")
        self.wire_log = (self.wire_log + [{"address": addr, "kind": kind, "hex": frame.raw.hex().upper()}])[-64:]
        if kind in ("init", "commit", "connect"):
            self.counters[f"{kind}_frames"] += 1
            if kind == "init":
                self.pending_init[addr] = frame.fields.get("len")
            self.answer(addr)
            return
        if kind == "data" and getattr(self.codec, "init", None) and "text" in frame.fields:
            # a controller that wants an init frame ignores content that did not follow one
            announced = self.pending_init.pop(addr, None)
            if announced is None or announced != len(frame.fields["text"]) & 0xFF:
                self.counters["bad_frames"] += 1
                reason = "content without its init frame" if announced is None else \
                    f"init frame announced {announced} bytes, the content has {len(frame.fields['text'])}"
                self.last_bad = (self.last_bad + [reason])[-10:]
                self.log.info("bad frame: %s", reason)
                return
        screen = self.screens.setdefault(addr, {"lines": [], "effect": None, "frames": 0})
        screen["frames"] += 1
        if kind != "data":
            self.answer(addr)
            return
        if "seq" in frame.fields:
            screen["seq"] = frame.fields["seq"]
        if isinstance(frame.fields.get("effect"), str):
            screen["effect"] = frame.fields["effect"]
        elif "effect" in frame.fields:
            names = {v: k for k, v in (opts.get("effects") or {"static": 0, "scroll": 1, "blink": 2}).items()}
            screen["effect"] = names.get(frame.fields["effect"], frame.fields["effect"])
        if "bitmap" in frame.fields:
            screen["bitmap"] = frame.fields["bitmap"]
            self.render_bitmap(addr, opts, frame.fields["bitmap"])
        elif "lines" in frame.fields:
            screen["lines"] = [decode_text(t, self.encoding) for t in frame.fields["lines"]]
            self.render_text(addr, opts, screen["lines"])
        else:
            self.store_text(screen, opts, frame)
            self.render_text(addr, opts, screen["lines"])
        self.answer(addr)

    def store_text(self, screen: dict, opts: dict, frame: Frame) -> None:
        text = decode_text(frame.fields.get("text", b""), self.encoding)
        n = int(opts.get("lines", 1))
        sep = opts.get("line_separator")
        if "colors" in frame.fields:
            screen["colors"] = char_colors(frame.fields.get("text", b""), frame.fields["colors"])
        if opts.get("protocol"):
            screen["lines"] = [text]   # a preset's one-string screen (Onbon's areas are "lines")
            return
        if sep is not None:
            joiner = decode_text(parse_hex(sep), self.encoding) if sep else None
            lines = text.split(joiner) if joiner else [text]
            screen["lines"] = (lines + [""] * n)[:max(n, len(lines))]
            return
        index = frame.fields.get("line", 0) - int(opts.get("line_base", 0))
        lines = (screen["lines"] + [""] * n)[:max(n, index + 1)]
        if 0 <= index < len(lines):
            lines[index] = text
        screen["lines"] = lines

    def answer(self, addr: int) -> None:
        if not self.ack or self.noack:
            return
        reply = parse_hex(self.ack.replace("{addr}", f"{addr & 0xFF:02X}"))
        if self.ack_delay:
            with self.lock:
                self.busy_until = time.monotonic() + self.ack_delay
            timer = threading.Timer(self.ack_delay, self._send_ack, (reply,))
            timer.daemon = True
            timer.start()
        else:
            self._send_ack(reply)

    def _send_ack(self, reply: bytes) -> None:
        self.counters["acks"] += 1
        self.send(reply)

    # -- pictures ----------------------------------------------------------------------------
    def png_path(self, addr: int):
        return self.workdir / f"screen-{addr}.png"

    def render_text(self, addr: int, opts: dict, lines: list[str]) -> None:
        from drivers.display import render

        try:
            img = render.text_matrix(lines, opts.get("font"))
            self.workdir.mkdir(parents=True, exist_ok=True)
            render.led_png(img, self.png_path(addr))
        except (OSError, render.FontMissing) as exc:
            self.log.warning("cannot render screen %s: %s", addr, exc)

    def render_bitmap(self, addr: int, opts: dict, data: bytes) -> None:
        from drivers.display import render

        width, height = int(opts.get("width", 64)), int(opts.get("height", 16))
        self.workdir.mkdir(parents=True, exist_ok=True)
        render.led_png(render.unpack_bits(data, width, height), self.png_path(addr))

    # -- control -----------------------------------------------------------------------------
    def screen_status(self, addr: int) -> dict:
        screen = self.screens.get(addr, {"lines": [], "effect": None, "frames": 0})
        png = self.png_path(addr)
        out = {"address": addr, "lines": list(screen["lines"]), "effect": screen["effect"],
               "frames": screen["frames"], "png": str(png) if png.exists() else None}
        if "seq" in screen:
            out["seq"] = screen["seq"]
        if "colors" in screen:
            out["colors"] = list(screen["colors"])
        if "bitmap" in screen:
            out["bitmap"] = screen["bitmap"].hex()
        return out

    def status(self) -> dict:
        return {**super().status(), **self.counters, "last_bad": list(self.last_bad),
                "noack": self.noack, "screens": [self.screen_status(a) for a in sorted(self.screens)]}

    def act_content(self, address: int | None = None) -> Any:
        """What each screen on the bus shows (or the one at ``address``)."""
        if address is not None:
            return self.screen_status(int(address))
        return [self.screen_status(a) for a in sorted(self.screens)]

    def act_frames(self, address: int | None = None) -> list:
        """The last frames received (hex, oldest first), of every screen or the one at ``address``."""
        return [f for f in self.wire_log if address is None or f["address"] == int(address)]

    def act_noack(self, on: bool = True) -> dict:
        self.noack = bool(on)
        return self.status()

    def act_ack_delay(self, ms: int = 50) -> dict:
        self.ack_delay = max(0, int(ms)) / 1000
        return self.status()

    def act_garbage(self, data: str = "FF00A5135A5A7E") -> dict:
        """Send noise to the driver, as a screen with a failing transceiver does."""
        self.send(parse_hex(data))
        return {"sent_hex": data}

    def act_unplug(self) -> dict:
        """Pull the cable (and the screen's power: it forgets what it showed)."""
        self.screens.clear()
        self.decoder = self.codec.decoder(f"sim {self.name}")
        for path in self.workdir.glob("screen-*.png"):
            path.unlink(missing_ok=True)
        return super().act_unplug()


def char_colors(text: bytes, colors: list[int]) -> list[int]:
    """One colour per character of GB2312/GBK ``text`` (a byte ≥ 0x80 leads a two-byte one)."""
    out = []
    i = 0
    while i < len(text):
        out.append(colors[i] if i < len(colors) else 0)
        i += 2 if text[i] & 0x80 else 1
    return out

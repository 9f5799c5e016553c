"""Driver ``bitmap``: a dot-matrix screen whose controller has no font; hwd renders the text.

The lines are drawn with a CJK font into a width × height one-bit matrix and sent in the
configured frame's ``{bitmap}`` token (row-major, most significant bit first, rows padded to
whole bytes, 1 = lit). A line wider than the screen scrolls (or pages) at the configured speed;
``effect = "blink"`` alternates the text with a dark screen. The animation runs in ``poll``,
in the device's worker, so it never interleaves with other frames on the bus.
"""

from __future__ import annotations

import time
from typing import Any

from drivers.display import styled
from drivers.display.frame import FRAME_OPTIONS, FrameScreen
from hwd.schema import Field

DEFAULT_BITMAP_FRAME = ["A5", "{addr}", "02", "{len16}", "{bitmap}", "{crc16_modbus}", "5A"]


class BitmapScreen(FrameScreen):
    driver = "bitmap"
    payload = "bitmap"
    options = tuple(f for f in FRAME_OPTIONS if f.name != "frame") + (
        Field("frame", list, DEFAULT_BITMAP_FRAME, items=str),
        Field("width", int, 64, min=8, max=1024, doc="dots across"),
        Field("height", int, 16, min=8, max=256, doc="dots down"),
        Field("lines", int, 1, min=1, max=8, doc="text lines stacked on the matrix"),
        Field("font", str, None, doc="TTF/OTF/TTC font file; default: a WenQuanYi or Unifont font"),
        Field("font_size", int, None, min=6, max=256, doc="pixels; default: the line height less 2"),
        Field("overflow", str, "scroll", choices=("scroll", "page"), doc="how a too-long line moves"),
        Field("scroll_step_px", int, 2, min=1, max=64),
        Field("scroll_interval_ms", int, 100, min=20, max=5000),
        Field("page_interval_ms", int, 2000, min=200, max=60000),
        Field("blink_interval_ms", int, 500, min=100, max=10000),
    )

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.bands: list[Any] = []
        self.moving: list[bool] = []
        self.step = 0
        self.next_frame = 0.0
        self.effect = "static"
        self.animated = False
        self.poll_interval = min(1.0, self.tick() / 1000)

    def tick(self) -> int:
        if self.opts["overflow"] == "page":
            return self.opts["page_interval_ms"]
        return self.opts["scroll_interval_ms"]

    # -- rendering ---------------------------------------------------------------------------
    def prepare(self, content: dict) -> None:
        from PIL import Image

        from drivers.display import render

        n, width, height = self.opts["lines"], self.opts["width"], self.opts["height"]
        band_h = height // n
        font = render.load_font(self.opts.get("font"), self.opts.get("font_size") or max(6, band_h - 2))
        lines = [styled.plain(x) for x in content["lines"][:n]]     # one colour: the screen's
        self.effect = content["effect"]
        self.bands, self.moving, self.periods = [], [], []
        for text in lines:
            band = render.render_line(text, font, band_h)
            moving = band.width > width or (self.effect == "scroll" and bool(text))
            if moving and self.opts["overflow"] == "scroll":
                gap = max(width // 2, width - band.width)
                self.periods.append(band.width + gap)
                ext = Image.new("1", (band.width * 2 + gap, band_h), 0)
                ext.paste(band, (0, 0))
                ext.paste(band, (band.width + gap, 0))
                band = ext
            elif moving:
                self.periods.append(0)
                pages = -(-band.width // width)
                ext = Image.new("1", (pages * width, band_h), 0)
                ext.paste(band, (0, 0))
                band = ext
            else:
                self.periods.append(0)
            self.bands.append(band)
            self.moving.append(moving)
        self.step = 0
        self.animated = any(self.moving) or self.effect == "blink"

    def matrix(self, step: int) -> Any:
        from drivers.display import render

        width, height = self.opts["width"], self.opts["height"]
        if self.effect == "blink" and step % 2 == 1:
            return render.compose([], width, height)
        offsets = []
        for band, moving, period in zip(self.bands, self.moving, self.periods):
            if not moving:
                offsets.append(0)
            elif self.opts["overflow"] == "scroll":
                offsets.append((step * self.opts["scroll_step_px"]) % max(1, period))
            else:
                offsets.append((step * width) % band.width)
        return render.compose(self.bands, width, height, offsets)

    def frame_for_step(self, step: int) -> bytes:
        from drivers.display import render

        payload = render.pack_bits(self.matrix(step))
        effect = int(self.opts["effects"].get(self.effect, 0))
        return self.spec.encode(payload, addr=self.opts["address"], effect=effect)

    # -- the wire ----------------------------------------------------------------------------
    def send_content(self, content: dict) -> None:
        self.prepare(content)
        self.send_frames([self.frame_for_step(0)])
        self.next_frame = time.monotonic() + self.interval()

    def interval(self) -> float:
        if self.effect == "blink" and not any(self.moving):
            return self.opts["blink_interval_ms"] / 1000
        return self.tick() / 1000

    def poll(self) -> None:
        if not self.animated or self.sent is None:
            super().poll()
            return
        now = time.monotonic()
        if now < self.next_frame:
            return
        self.step += 1
        self.send_frames([self.frame_for_step(self.step)])
        self.next_frame = now + self.interval()

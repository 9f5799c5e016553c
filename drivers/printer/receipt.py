"""What the emulated printer has printed since the last cut, and how it is drawn.

``Receipt`` collects items (text lines with their attributes, QR codes, barcodes, raster images,
paper feeds) as the emulator understands the stream; at a cut it becomes a JSON description
(what a test checks) and a PNG (what a person looks at in the demo), drawn with a CJK font at the
printer's dot width: 384 px for 58 mm paper, 576 px for 80 mm.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.printer.documents import wrap

LINE_PX = 24      # one line of the 24-dot font at size 1
MARGIN = 8


@dataclass
class Receipt:
    width_px: int
    items: list[dict] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)   # Pillow images for "image" items, by index

    def add(self, item: dict, image: Any = None) -> None:
        if image is not None:
            item["index"] = len(self.images)
            self.images.append(image)
        self.items.append(item)

    @property
    def empty(self) -> bool:
        return not self.items

    def describe(self, number: int, cut: str) -> dict:
        """The JSON a test reads: text lines with attributes, QR payloads, barcodes, a cut."""
        lines = [{k: it[k] for k in ("text", "width", "height", "bold", "align")}
                 for it in self.items if it["type"] == "text"]
        return {
            "receipt": number, "cut": cut, "width_px": self.width_px, "time": time.time(),
            "lines": lines,
            "text": "\n".join(line["text"] for line in lines),
            "qr": [{k: it[k] for k in ("data", "size", "ec")} for it in self.items if it["type"] == "qr"],
            "barcodes": [{"type": it["symbology"], "data": it["data"]} for it in self.items if it["type"] == "barcode"],
            "images": [{k: it[k] for k in ("width", "height")} for it in self.items if it["type"] == "image"],
            "items": [{k: v for k, v in it.items() if k != "index"} for it in self.items],
        }

    def describe_files(self, directory: Path, number: int, cut: str) -> dict:
        """``describe`` plus the paths ``write`` will fill."""
        info = self.describe(number, cut)
        stem = Path(directory) / f"{number:05d}"
        info["png"], info["json"] = str(stem.with_suffix(".png")), str(stem.with_suffix(".json"))
        return info

    def write(self, info: dict, font_path: str = "") -> dict:
        """Draw the PNG and write the JSON named in ``info``."""
        png, path = Path(info["png"]), Path(info["json"])
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.draw(font_path).save(png)
        except Exception as exc:  # no font or a Pillow problem: the JSON is still worth having
            info["png_error"] = str(exc)
        path.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
        return info

    # -- drawing -------------------------------------------------------------------------------
    def draw(self, font_path: str = ""):
        from PIL import Image

        pieces = [self._piece(it, font_path) for it in self.items]
        height = MARGIN * 2 + sum(p.height for p in pieces)
        page = Image.new("L", (self.width_px, max(height, LINE_PX)), 255)
        y = MARGIN
        for item, piece in zip(self.items, pieces):
            align = item.get("align", "left")
            x = {"left": 0, "center": (self.width_px - piece.width) // 2,
                 "right": self.width_px - piece.width}.get(align, 0)
            page.paste(piece, (max(0, x), y))
            y += piece.height
        return page

    def _piece(self, item: dict, font_path: str):
        from PIL import Image

        kind = item["type"]
        if kind == "text":
            return _text_piece(item, self.width_px, font_path)
        if kind == "qr":
            return _qr_piece(item, self.width_px)
        if kind == "barcode":
            return _barcode_piece(item, self.width_px, font_path)
        if kind == "image":
            image = self.images[item["index"]]
            if image.width > self.width_px:
                image = image.crop((0, 0, self.width_px, image.height))
            return image.convert("L")
        return Image.new("L", (1, max(1, item.get("dots", LINE_PX))), 255)


def _text_piece(item: dict, width_px: int, font_path: str):
    from PIL import Image, ImageDraw

    from drivers.printer import fonts

    w, h = item["width"], item["height"]
    font = fonts.load(LINE_PX * h, font_path)
    stretch = w / h
    avail = int(width_px / stretch)
    rows = []
    for line in wrap(item["text"], font, avail):
        length = int(font.getlength(line)) + 2
        row = Image.new("L", (max(1, min(avail, length)), LINE_PX * h + 4), 255)
        fonts.draw_text(ImageDraw.Draw(row), (0, 0), line, font, item["bold"])
        if stretch != 1:
            row = row.resize((max(1, int(row.width * stretch)), row.height))
        rows.append(row)
    out = Image.new("L", (max(r.width for r in rows), sum(r.height for r in rows)), 255)
    y = 0
    for row in rows:
        x = {"left": 0, "center": (out.width - row.width) // 2, "right": out.width - row.width}[item["align"]]
        out.paste(row, (x, y))
        y += row.height
    return out


def _qr_piece(item: dict, width_px: int):
    """The QR as the printer draws it: ``size`` dots per module, the stored error correction."""
    import qrcode
    from PIL import Image

    levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
              "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
    code = qrcode.QRCode(error_correction=levels.get(item.get("ec", "L"), qrcode.constants.ERROR_CORRECT_L),
                         box_size=max(1, int(item.get("size") or 3)), border=2)
    code.add_data(item["data"])
    image = code.make_image().get_image().convert("L")
    if image.width > width_px:
        image = image.resize((width_px, width_px), Image.NEAREST)
    return image


def _barcode_piece(item: dict, width_px: int, font_path: str):
    """A picture of the bars (one bar pattern per byte, not a scannable code) with the text under
    it, so a person looking at the receipt sees where the barcode is and what it holds."""
    from PIL import Image, ImageDraw

    from drivers.printer import fonts

    data = str(item.get("data", ""))
    height = max(8, int(item.get("height") or 80))
    font = fonts.load(LINE_PX, font_path)
    bars_width = min(width_px, max(40, 11 * len(data.encode("utf-8", "replace")) + 20))
    image = Image.new("L", (bars_width, height + LINE_PX + 6), 255)
    draw = ImageDraw.Draw(image)
    x = 10
    for byte in data.encode("utf-8", "replace"):
        for bit in range(8):
            if byte >> (7 - bit) & 1 and x < bars_width - 10:
                draw.rectangle((x, 0, x, height), fill=0)
            x += 1
        x += 3
    caption = "".join(ch if ch.isprintable() else "·" for ch in data)
    draw.text((10, height + 3), caption, font=font, fill=0)
    return image

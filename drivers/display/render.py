"""Text to one-bit LED matrices and back to pictures, with a CJK font through Pillow.

The ``bitmap`` driver needs it for dot-matrix controllers without a font; the emulator needs it
to show what a screen looks like (red dots on black PNG). Pillow is imported lazily, inside the
functions, so importing this module costs nothing.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/unifont/unifont.otf",
    "/usr/share/fonts/truetype/unifont/unifont.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


class FontMissing(RuntimeError):
    """No CJK font was found; the message names the Debian packages that provide one."""


def find_font(path: str | None = None) -> str:
    if path:
        if not Path(path).is_file():
            raise FontMissing(f"font {path} does not exist")
        return path
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    raise FontMissing("no CJK font found: install fonts-wqy-zenhei or fonts-unifont, or set font = PATH")


@lru_cache(maxsize=8)
def load_font(path: str | None, size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(find_font(path), size)


def render_line(text: str, font: Any, height: int) -> Any:
    """One line of text as a mode-"1" image ``height`` high and as wide as the text (lit = 1)."""
    from PIL import Image, ImageDraw

    left, top, right, bottom = font.getbbox(text or " ")
    width = max(1, right - min(0, left))
    img = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"  # no anti-aliasing: an LED is on or off
    ref_top, ref_bottom = font.getbbox("国Ag")[1::2]
    y = (height - (ref_bottom - ref_top)) // 2 - ref_top
    draw.text((-min(0, left), y), text, font=font, fill=1)
    return img


def compose(bands: list[Any], width: int, height: int, offsets: list[int] | None = None,
            align: str = "center") -> Any:
    """Stack rendered lines into a ``width`` × ``height`` matrix; a line wider than the screen
    is shown from its offset (scrolling), a narrower one is aligned."""
    from PIL import Image

    out = Image.new("1", (width, height), 0)
    if not bands:
        return out
    band_h = height // len(bands)
    for i, band in enumerate(bands):
        offset = (offsets or [0] * len(bands))[i]
        if band.width <= width:
            x = (width - band.width) // 2 if align == "center" else 0
            out.paste(band, (x, i * band_h))
        else:
            out.paste(band.crop((offset, 0, offset + width, band.height)), (0, i * band_h))
    return out


def pack_bits(img: Any) -> bytes:
    """Row-major, most significant bit first, each row padded to whole bytes; 1 = lit."""
    return img.convert("1").tobytes()


def unpack_bits(data: bytes, width: int, height: int) -> Any:
    from PIL import Image

    need = (width + 7) // 8 * height
    return Image.frombytes("1", (width, height), bytes(data[:need]).ljust(need, b"\0"))


def text_matrix(lines: list[str], font_path: str | None = None, line_height: int = 16,
                min_width: int = 64) -> Any:
    """What a text screen shows: each line in its band, the matrix as wide as the longest line."""
    font = load_font(font_path, max(8, line_height - 2))
    bands = [render_line(line, font, line_height) for line in lines] or [render_line("", font, line_height)]
    width = max([min_width] + [b.width for b in bands])
    return compose(bands, width, line_height * len(bands))


def led_png(img: Any, path: str | Path, dot: int = 4) -> None:
    """Save a one-bit matrix as it looks on an LED screen: red dots on black."""
    from PIL import Image, ImageDraw

    src = img.convert("1")
    w, h = src.size
    out = Image.new("RGB", (w * dot, h * dot), (0, 0, 0))
    draw = ImageDraw.Draw(out)
    pixels = src.load()
    r = max(1, dot - 1)
    for y in range(h):
        for x in range(w):
            color = (255, 32, 16) if pixels[x, y] else (40, 6, 4)
            draw.ellipse((x * dot, y * dot, x * dot + r - 1, y * dot + r - 1), fill=color)
    tmp = Path(path).with_suffix(".tmp.png")
    out.save(tmp, "PNG")
    tmp.replace(path)

"""Finding a CJK font for raster printing and for the emulator's receipt pictures.

fontconfig answers ``fc-match :lang=zh`` with its default sans font even when that font has no
Chinese glyphs, so the match is checked against ``fc-list :lang=zh-cn`` (fonts that do cover
Simplified Chinese). Nothing runs at import; the lookup happens on first use and is cached.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

KNOWN = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


class FontNotFound(RuntimeError):
    """No font with Chinese glyphs is installed."""


def _fc(*args: str) -> list[str]:
    if shutil.which(args[0]) is None:
        return []
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


@functools.lru_cache(maxsize=8)
def find_cjk_font(configured: str = "") -> str:
    """The path of a font that covers Simplified Chinese: ``configured`` if given, else fontconfig's
    choice, else a well-known path. Raise FontNotFound with what to install."""
    if configured:
        if not Path(configured).is_file():
            raise FontNotFound(f"font {configured!r} does not exist")
        return configured
    covering = _fc("fc-list", "-f", "%{file}\n", ":lang=zh-cn")
    matched = _fc("fc-match", "-f", "%{file}\n", ":lang=zh-cn")
    for path in matched + sorted(covering, key=lambda p: ("mono" in p.lower(), p)):
        if path in covering and Path(path).is_file():
            return path
    for path in KNOWN:
        if Path(path).is_file():
            return path
    raise FontNotFound("no Chinese font found; install fonts-wqy-microhei (apt) or set font = \"/path/to/font.ttc\"")


def load(size: int, configured: str = ""):
    """A Pillow font of ``size`` pixels."""
    from PIL import ImageFont

    return ImageFont.truetype(find_cjk_font(configured), size)



@functools.lru_cache(maxsize=256)
def fonts_covering(ch: str) -> tuple[str, ...]:
    """Font files that have a glyph for ``ch`` (fontconfig's charset match)."""
    return tuple(p for p in sorted(_fc("fc-list", "-f", "%{file}\n", f":charset={ord(ch):x}")) if Path(p).is_file())


def runs(text: str, size: int, configured: str = "") -> list[tuple[object, str]]:
    """``text`` as (Pillow font, piece) runs: the main CJK font, and for each character it lacks
    a font that has it — for 生僻字 of CJK Ext A/B, HanaMin (fonts-hanazono). With none installed
    the main font draws its missing-glyph box (the rest of the line is still right)."""
    from PIL import ImageFont

    main_path = find_cjk_font(configured)
    loaded = {main_path: ImageFont.truetype(main_path, size)}
    out: list[tuple[object, str]] = []
    for ch in text:
        path = main_path
        if ord(ch) > 0x7F:
            covering = fonts_covering(ch)
            if covering and main_path not in covering:
                path = covering[0]
        font = loaded.get(path) or loaded.setdefault(path, ImageFont.truetype(path, size))
        if out and out[-1][0] is font:
            out[-1] = (font, out[-1][1] + ch)
        else:
            out.append((font, ch))
    return out


def draw_text(draw, xy: tuple[float, float], text: str, font, bold: bool = False) -> None:
    """Draw ``text`` in black; bold as a printer's emphasis does it, a second strike one dot to the
    right. (A 1-dot stroke around 24-dot CJK glyphs fills their counters: 口 turns into a blot.)"""
    x, y = xy
    draw.text((x, y), text, font=font, fill=0)
    if bold:
        draw.text((x + 1, y), text, font=font, fill=0)

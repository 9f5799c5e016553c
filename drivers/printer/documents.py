"""Documents → ESC/POS bytes.

A document is ``{"lines": [item, ...]}`` or a bare list of items; an item is one of
``{"text", "size" 1-8, "bold", "align"}``, ``{"qr", "size", "ec", "align"}``,
``{"barcode", "type", "height", "align"}``, ``{"feed": n}``, ``{"cut": "full"|"partial"}``.
``normalize`` checks a document once (when the job is accepted, so a bad one is an RPC error and
never reaches the spool); ``render`` turns it into bytes for one printer configuration.

Text mode sends the printer's own Chinese font (``FS &`` + GB18030 + ``FS .``); raster mode draws
the text with a host CJK font (Pillow) and sends ``GS v 0`` images, for printers without a
Chinese font. In text mode a line with a character the printer's font lacks (a 生僻字 outside
GBK, e.g. 䶮 U+4DAE or 𠀀 U+20000: ``font_charset``) would print as garbage, so just that line is
drawn as a ``GS v 0`` image with the host font and the rest stays printer text. QR codes and cuts are formatted by python-escpos (imported on first render).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.printer import escpos_cache, protocol

MAX_ITEMS = 500
MAX_TEXT = 2000
QR_EC = ("L", "M", "Q", "H")
DOTS = {58: 384, 80: 576}
BASE_PX = 24          # the height of one text line at size 1 (24-dot Chinese font)


class DocumentError(ValueError):
    """The document is malformed; the message names the item and the problem."""


def normalize(document: Any) -> list[dict]:
    """Check a document; return its items with defaults filled in (plain JSON, for the spool)."""
    if isinstance(document, dict):
        if set(document) - {"lines"} or not isinstance(document.get("lines"), list):
            raise DocumentError('a document is {"lines": [...]} or a list of items')
        document = document["lines"]
    if not isinstance(document, list) or not document:
        raise DocumentError("a document needs at least one item")
    if len(document) > MAX_ITEMS:
        raise DocumentError(f"a document has at most {MAX_ITEMS} items")
    return [_item(i, item) for i, item in enumerate(document)]


def _item(i: int, item: Any) -> dict:
    where = f"item {i + 1}"
    if isinstance(item, str):
        item = {"text": item}
    if not isinstance(item, dict):
        raise DocumentError(f"{where}: expected an object")
    kinds = [k for k in ("text", "qr", "barcode", "feed", "cut") if k in item]
    if len(kinds) != 1:
        raise DocumentError(f"{where}: needs exactly one of text, qr, barcode, feed, cut")
    kind = kinds[0]
    allowed = {"text": {"text", "size", "bold", "align"}, "qr": {"qr", "size", "ec", "align"},
               "barcode": {"barcode", "type", "height", "align", "hri"}, "feed": {"feed"}, "cut": {"cut"}}[kind]
    extra = set(item) - allowed
    if extra:
        raise DocumentError(f"{where}: unknown key {sorted(extra)[0]!r} for a {kind} item")
    align = item.get("align", "left" if kind == "text" else "center")
    if align not in protocol.ALIGNS:
        raise DocumentError(f"{where}: align must be left, center or right")
    if kind == "text":
        text, size, bold = item["text"], item.get("size", 1), item.get("bold", False)
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise DocumentError(f"{where}: text must be a string of at most {MAX_TEXT} characters")
        if not _int_in(size, 1, 8):
            raise DocumentError(f"{where}: size must be an integer 1..8")
        if not isinstance(bold, bool):
            raise DocumentError(f"{where}: bold must be true or false")
        return {"text": text, "size": size, "bold": bold, "align": align}
    if kind == "qr":
        data, size, ec = item["qr"], item.get("size", 6), item.get("ec", "M")
        if not isinstance(data, str) or not data or len(data.encode()) > 2000:
            raise DocumentError(f"{where}: qr must be a non-empty string of at most 2000 bytes")
        if not _int_in(size, 1, 16):
            raise DocumentError(f"{where}: qr size must be an integer 1..16")
        if ec not in QR_EC:
            raise DocumentError(f"{where}: ec must be one of L, M, Q, H")
        return {"qr": data, "size": size, "ec": ec, "align": align}
    if kind == "barcode":
        data, kind_name = item["barcode"], str(item.get("type", "CODE128")).upper()
        height, hri = item.get("height", 64), item.get("hri", True)
        if not isinstance(data, str) or not data:
            raise DocumentError(f"{where}: barcode needs its data as a string")
        if not _int_in(height, 1, 255) or not isinstance(hri, bool):
            raise DocumentError(f"{where}: height must be 1..255 and hri true or false")
        try:
            protocol.barcode(data, kind_name, height)
        except protocol.ProtocolError as exc:
            raise DocumentError(f"{where}: {exc}") from None
        return {"barcode": data, "type": kind_name, "height": height, "hri": hri, "align": align}
    if kind == "feed":
        if not _int_in(item["feed"], 0, 255):
            raise DocumentError(f"{where}: feed must be an integer 0..255")
        return {"feed": item["feed"]}
    if item["cut"] not in ("full", "partial"):
        raise DocumentError(f'{where}: cut must be "full" or "partial"')
    return {"cut": item["cut"]}


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


@dataclass(frozen=True)
class RenderOptions:
    """The printer configuration a document is rendered for."""

    mode: str = "text"
    width_mm: int = 80
    cut: str = "full"
    profile: str = "default"
    font: str = ""
    font_charset: str = "gbk"     # what the printer's own font covers (text mode)

    @property
    def dots(self) -> int:
        return DOTS[self.width_mm]


def render(items: list[dict], opts: RenderOptions) -> bytes:
    """The bytes of one job: ESC @, the items, and a cut (the device's ``cut`` if the document has
    none at its end)."""
    escpos_cache.prepare()
    from escpos.printer import Dummy

    out = Dummy(profile=opts.profile)
    out._raw(protocol.INIT)
    pending_text: list[dict] = []

    def flush_text() -> None:
        if pending_text:
            out._raw(raster_text(pending_text, opts))
            pending_text.clear()

    if not items or "cut" not in items[-1]:
        items = list(items) + [{"cut": opts.cut}]
    for item in items:
        if "text" in item and opts.mode == "raster":
            pending_text.append(item)
            continue
        flush_text()
        if "text" in item:
            for line in item["text"].split("\n"):
                out._raw(text_or_raster(line, item, opts))
        elif "qr" in item:
            out._raw(protocol.align(item["align"]))
            if out.profile.supports("qrCode"):
                out.qr(item["qr"], ec=QR_EC.index(item["ec"]), size=item["size"], native=True)
                out._raw(protocol.LF)
            else:
                out._raw(raster_qr(item, opts))
        elif "barcode" in item:
            out._raw(protocol.align(item["align"]))
            out._raw(protocol.barcode(item["barcode"], item["type"], item["height"], hri=item["hri"]))
            out._raw(protocol.LF)
        elif "feed" in item:
            out._raw(protocol.feed(item["feed"]))
        else:
            out._raw(protocol.reset_style())
            out.cut(mode="FULL" if item["cut"] == "full" else "PART")
    flush_text()
    return out.output


def outside(text: str, charset: str) -> list[str]:
    """The characters of ``text`` that ``charset`` (the printer font's coverage) cannot hold."""
    missing = []
    for ch in text:
        try:
            ch.encode(charset)
        except UnicodeEncodeError:
            missing.append(ch)
    return missing


def text_or_raster(line: str, item: dict, opts: RenderOptions) -> bytes:
    """One text-mode line: printer text, or a raster image when its font lacks a character."""
    if not outside(line, opts.font_charset):
        return protocol.text_line(line, item["size"], item["bold"], item["align"])
    from drivers.printer import fonts

    try:
        return protocol.reset_style() + raster_line(line, item, opts)
    except fonts.FontNotFound:
        # no host font: the printer's font shows the rest of the line; the rare characters are lost
        return protocol.text_line(line, item["size"], item["bold"], item["align"])


# -- raster -------------------------------------------------------------------------------------
def image_rows(image) -> tuple[int, int, bytes]:
    """A Pillow image → (width, height, GS v 0 rows) with black = 1."""
    from PIL import ImageOps

    mono = ImageOps.invert(image.convert("L")).convert("1", dither=0)
    width = mono.width
    padded = width + (-width) % 8
    if padded != width:
        from PIL import Image

        canvas = Image.new("1", (padded, mono.height), 0)
        canvas.paste(mono, (0, 0))
        mono = canvas
    return padded, mono.height, mono.tobytes()


def raster_text(items: list[dict], opts: RenderOptions) -> bytes:
    """Draw text items full width with the CJK font; return GS v 0 bands of at most 256 rows."""
    from PIL import Image, ImageDraw

    from drivers.printer import fonts

    lines: list[tuple[Any, str, dict]] = []
    for item in items:
        font = fonts.load(BASE_PX * item["size"], opts.font)
        for paragraph in item["text"].split("\n"):
            for line in wrap(paragraph, font, opts.dots):
                lines.append((font, line, item))
    heights = [BASE_PX * it["size"] + 4 for _, _, it in lines]
    image = Image.new("L", (opts.dots, max(1, sum(heights))), 255)
    draw = ImageDraw.Draw(image)
    y = 0
    for (font, line, item), h in zip(lines, heights):
        width = draw.textlength(line, font=font)
        x = {"left": 0, "center": (opts.dots - width) / 2, "right": opts.dots - width}[item["align"]]
        fonts.draw_text(draw, (max(0, x), y), line, font, item["bold"])
        y += h
    return raster_bands(image)


def raster_line(line: str, item: dict, opts: RenderOptions) -> bytes:
    """One text line drawn full width, each character in a font that has it (fonts.runs)."""
    from PIL import Image, ImageDraw

    from drivers.printer import fonts

    size = BASE_PX * item["size"]
    pieces = fonts.runs(line, size, opts.font)
    widths = [font.getlength(text) for font, text in pieces]
    height = size + 4
    image = Image.new("L", (opts.dots, height), 255)
    draw = ImageDraw.Draw(image)
    total = sum(widths)
    x = {"left": 0.0, "center": (opts.dots - total) / 2, "right": opts.dots - total}[item["align"]]
    x = max(0.0, x)
    for (font, text), width in zip(pieces, widths):
        draw.text((x, 0), text, font=font, fill=0, stroke_width=1 if item["bold"] else 0, stroke_fill=0)
        x += width
    return raster_bands(image)


def raster_bands(image, band: int = 256) -> bytes:
    """Split an image into GS v 0 bands so no printer buffer overflows."""
    parts = []
    for top in range(0, image.height, band):
        piece = image.crop((0, top, image.width, min(image.height, top + band)))
        width, height, rows = image_rows(piece)
        parts.append(protocol.raster(width, height, rows))
    return b"".join(parts)


def raster_qr(item: dict, opts: RenderOptions) -> bytes:
    """A QR code drawn on the host, for printers (profiles) without GS ( k."""
    import qrcode
    from PIL import Image

    code = qrcode.QRCode(border=1, box_size=item["size"],
                         error_correction=getattr(qrcode.constants, f"ERROR_CORRECT_{item['ec']}"))
    code.add_data(item["qr"])
    code.make(fit=True)
    qr_image = code.make_image().get_image().convert("L")
    if qr_image.width > opts.dots:
        qr_image = qr_image.resize((opts.dots, opts.dots))
    canvas = Image.new("L", (opts.dots, qr_image.height), 255)
    x = {"left": 0, "center": (opts.dots - qr_image.width) // 2, "right": opts.dots - qr_image.width}[item["align"]]
    canvas.paste(qr_image, (x, 0))
    return raster_bands(canvas)


def wrap(text: str, font, width: int) -> list[str]:
    """Break a line so each piece fits ``width`` pixels (character by character: CJK has no spaces)."""
    if not text:
        return [""]
    lines, current = [], ""
    for ch in text:
        if current and font.getlength(current + ch) > width:
            lines.append(current)
            current = ch
        else:
            current += ch
    lines.append(current)
    return lines

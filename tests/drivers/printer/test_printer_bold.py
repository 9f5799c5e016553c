"""Bold text on raster tickets and notices stays readable: emphasis darkens the strokes of CJK
glyphs without closing the white between them, as a printer's own ESC E double strike does.

The bytes are the driver's real GS v 0 bands (documents.raster_text), decoded back to dots here."""

from __future__ import annotations

import pytest

from drivers.printer import documents, fonts

try:
    fonts.find_cjk_font()
    HAVE_FONT = True
except fonts.FontNotFound:
    HAVE_FONT = False

pytestmark = pytest.mark.skipif(not HAVE_FONT, reason="no CJK font installed (fonts-wqy-microhei)")


def dots(data: bytes) -> list[list[bool]]:
    """GS v 0 m xL xH yL yH rows... (one or more bands) → rows of dots, True = black."""
    rows: list[list[bool]] = []
    i = 0
    while i < len(data):
        assert data[i:i + 4] == b"\x1dv0\x00", data[i:i + 4]
        width_bytes = data[i + 4] | data[i + 5] << 8
        height = data[i + 6] | data[i + 7] << 8
        body = data[i + 8:i + 8 + width_bytes * height]
        for y in range(height):
            row = body[y * width_bytes:(y + 1) * width_bytes]
            rows.append([bool(b >> (7 - bit) & 1) for b in row for bit in range(8)])
        i += 8 + width_bytes * height
    return rows


def ink(text: str, size: int, bold: bool) -> int:
    opts = documents.RenderOptions(mode="raster")
    grid = dots(documents.raster_text([{"text": text, "size": size, "bold": bold, "align": "left"}], opts))
    return sum(map(sum, grid))


@pytest.mark.parametrize("size", [1, 2])
@pytest.mark.parametrize("text", ["所需材料：", "办理事项：不动产登记", "一次性告知单"])
def test_bold_is_darker_but_does_not_smear(text, size):
    """A 1-dot outline around strokes one or two dots wide doubles the ink and closes the gaps
    between strokes (the smear); a second strike one dot over darkens by about a third."""
    plain, bold = ink(text, size, False), ink(text, size, True)
    assert bold > 1.15 * plain, "bold must look bold"
    assert bold < 1.6 * plain, f"bold smears: {bold / plain:.2f} times the ink of regular text"

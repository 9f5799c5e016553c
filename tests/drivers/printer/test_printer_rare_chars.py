"""Rare characters (生僻字) on tickets in text mode: a line with a character outside the printer
font's GBK is drawn as a GS v 0 raster image with the host CJK font, every other line stays
printer text — checked as bytes and through the printer emulator (sim://)."""

from __future__ import annotations

import pytest

from drivers.printer import documents, fonts, protocol
from drivers.printer.documents import RenderOptions, normalize, outside, render

RARE = "\u4dae"          # 䶮 (CJK Ext A): GB18030 FE 9F, not in GBK
EXT_B = "\U00020000"     # 𠀀 (CJK Ext B): GB18030 four bytes 95 32 82 36, not in GBK

try:
    fonts.find_cjk_font()
    HAVE_FONT = True
except fonts.FontNotFound:
    HAVE_FONT = False
needs_font = pytest.mark.skipif(not HAVE_FONT, reason="no CJK font installed (apt install fonts-wqy-microhei)")


def test_which_characters_are_outside_gbk():
    assert outside(f"姓名：刘{RARE}", "gbk") == [RARE]
    assert outside(f"王{EXT_B}", "gbk") == [EXT_B]
    assert RARE.encode("gb18030") == b"\xfe\x9f" and EXT_B.encode("gb18030") == bytes.fromhex("95328236")
    assert outside(f"刘{RARE}{EXT_B}", "gb18030") == []
    assert outside("不动产登记", "gbk") == []


@needs_font
@pytest.mark.parametrize("rare", [RARE, EXT_B])
def test_only_the_rare_line_is_raster(rare):
    items = normalize([{"text": "不动产登记"}, {"text": f"姓名：刘{rare}", "size": 2}, {"text": "A023", "bold": True}])
    data = render(items, RenderOptions(mode="text", width_mm=80))
    assert protocol.text_line("不动产登记") in data
    assert protocol.text_line("A023", bold=True) in data
    assert rare.encode("gb18030") not in data            # never sent to the printer's font
    assert "刘".encode("gb18030") not in data              # the whole line is the picture
    raster = data.index(b"\x1dv0\x00")                     # GS v 0, normal density
    assert data.index(protocol.text_line("不动产登记")) < raster < data.index(protocol.text_line("A023", bold=True))
    width_bytes = int.from_bytes(data[raster + 4:raster + 6], "little")
    height = int.from_bytes(data[raster + 6:raster + 8], "little")
    assert width_bytes == 576 // 8 and height == documents.BASE_PX * 2 + 4


def test_a_printer_with_a_gb18030_font_gets_text():
    items = normalize([{"text": f"姓名：刘{RARE}"}])
    data = render(items, RenderOptions(mode="text", font_charset="gb18030"))
    assert protocol.text_line(f"姓名：刘{RARE}") in data and b"\x1dv0" not in data


@needs_font
def test_rare_line_through_the_printer_emulator(hwd_daemon):
    from PIL import Image

    d = hwd_daemon('''
[[device]]
id = "p1"
kind = "printer"
driver = "escpos"
url = "sim://p1"
status_interval = 0.2
''')
    d.wait_state("p1", "online")
    doc = {"lines": [{"text": "某某县政务服务中心", "align": "center"}, {"text": f"持证人：王{EXT_B}明"},
                     {"text": "B001", "size": 3}]}
    assert d.call("printer.print", {"device": "p1", "document": doc, "wait_ms": 10000})["state"] == "printed"
    [receipt] = d.sim("p1", "receipts")
    assert [line["text"] for line in receipt["lines"]] == ["某某县政务服务中心", "B001"]
    kinds = [item["type"] for item in receipt["items"] if item["type"] in ("text", "image")]
    assert kinds == ["text", "image", "text"]            # the rare line, drawn, in its place
    [image] = receipt["images"]
    assert image["width"] == 576 and image["height"] == documents.BASE_PX + 4
    picture = Image.open(receipt["png"]).convert("L")
    assert sum(picture.histogram()[:128]) > 200          # the drawn line has ink on it


@needs_font
def test_the_rare_character_is_drawn_with_a_font_that_has_it():
    """With a font covering CJK Ext A/B installed (fonts-hanazono), the rare character is not the
    main font's missing-glyph box: the run for it uses that font."""
    covering = fonts.fonts_covering(EXT_B)
    if not covering:
        pytest.skip("no font with CJK Ext B installed (apt install fonts-hanazono)")
    pieces = fonts.runs(f"刘{RARE}王{EXT_B}明", 24)
    texts = [text for _, text in pieces]
    assert "".join(texts) == f"刘{RARE}王{EXT_B}明"
    by_char = {text: font.path for font, text in pieces}
    assert by_char[EXT_B] in covering and by_char["刘"] == fonts.find_cjk_font()

"""Exact ESC/POS bytes: the ticket in text mode, status decoding, documents and templates."""

from __future__ import annotations

import pytest

from drivers.printer import documents, protocol, templates

TICKET = {"hall_name": "某某县政务服务中心", "number": "A023", "service_name": "不动产登记",
          "waiting_ahead": 3, "issued_at": "2026-03-02T01:05:00Z", "qr": "https://hall.example/t/A023",
          "footer": ["请留意叫号，过号请重新取号"]}


def line(text: str, align: int, bold: int, size: int) -> bytes:
    """One line as the ESC/POS manuals build it: ESC a, ESC E, GS !, FS &, GB18030, FS ., LF."""
    return (bytes([0x1B, 0x61, align, 0x1B, 0x45, bold, 0x1D, 0x21, size, 0x1C, 0x26])
            + text.encode("gb18030") + bytes([0x1C, 0x2E, 0x0A]))


def test_ticket_text_mode_exact_bytes():
    qr = b"https://hall.example/t/A023"
    expected = (
        b"\x1b\x40"
        + line("某某县政务服务中心", 1, 1, 0x11)
        + line("排队号", 1, 0, 0x00)
        + line("A023", 1, 1, 0x55)
        + line("不动产登记", 1, 0, 0x11)
        + line("您前面还有 3 人等候", 1, 0, 0x00)
        + line("取号时间：2026-03-02 09:05:00", 1, 0, 0x00)
        + b"\x1b\x61\x01"
        + bytes.fromhex("1d286b0400314132 00") + bytes.fromhex("1d286b03003143 06")
        + bytes.fromhex("1d286b03003145 31")
        + bytes([0x1D, 0x28, 0x6B, len(qr) + 3, 0x00, 0x31, 0x50, 0x30]) + qr
        + bytes.fromhex("1d286b0300315130") + b"\n"
        + line("请留意叫号，过号请重新取号", 1, 0, 0x00)
        + bytes.fromhex("1b6100 1b4500 1d2100")
        + bytes.fromhex("1b6406 1d5600")
    )
    items = documents.normalize(templates.build("ticket", TICKET, 80))
    assert documents.render(items, documents.RenderOptions(mode="text", width_mm=80)) == expected


def test_partial_cut_and_explicit_cut_not_doubled():
    items = documents.normalize([{"text": "x"}, {"cut": "partial"}])
    data = documents.render(items, documents.RenderOptions(cut="full"))
    assert data.endswith(bytes.fromhex("1b6406 1d5601"))
    assert data.count(b"\x1d\x56") == 1


def test_chinese_punctuation_goes_as_gb18030():
    # python-escpos would send "，。" through a code page and print "?"; we send GB18030
    assert protocol.text_line("，。") == bytes.fromhex("1b6100 1b4500 1d2100 1c26 a3ac a1a3 1c2e 0a")


def test_size_byte_and_limits():
    assert protocol.size_byte(1, 1) == 0x00
    assert protocol.size_byte(8, 8) == 0x77
    assert protocol.size_byte(2, 3) == 0x12
    with pytest.raises(protocol.ProtocolError):
        protocol.size_byte(9, 1)


def test_barcode_code128_gets_code_set_b():
    assert protocol.barcode("A001", "CODE128", 64, 2) == bytes.fromhex("1d6840 1d7702 1d4802 1d6b49 06") + b"{BA001"
    with pytest.raises(protocol.ProtocolError):
        protocol.barcode("号", "CODE128")


def test_raster_header():
    assert protocol.raster(16, 2, b"\x80\x00\x00\x01") == bytes.fromhex("1d763000 0200 0200 80000001")
    with pytest.raises(protocol.ProtocolError):
        protocol.raster(16, 2, b"\x00")


@pytest.mark.parametrize("replies,fault,paper", [
    ((0x12, 0x12, 0x12), "", "ok"),
    ((0x12, 0x12, 0x1E), "", "low"),
    ((0x1A, 0x32, 0x72), "paper_out", "out"),
    ((0x1A, 0x16, 0x12), "cover_open", "ok"),
    ((0x1A, 0x52, 0x12), "error", "ok"),
    ((0x1A, 0x12, 0x12), "printer_offline", "ok"),
])
def test_decode_status(replies, fault, paper):
    status = protocol.decode_status(*replies)
    assert status.fault == fault
    assert status.paper == paper


@pytest.mark.parametrize("bad", [0x00, 0xFF, 0x13, 0x92, 0x02, 0x10])
def test_decode_status_rejects_wrong_shape(bad):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_status(0x12, bad, 0x12)


@pytest.mark.parametrize("state", [dict(), dict(paper="near_end"), dict(paper="out"), dict(cover_open=True),
                                   dict(offline=True), dict(error=True)])
def test_encode_decode_status_agree(state):
    status = protocol.decode_status(*(protocol.encode_status(n, **state) for n in (1, 2, 4)))
    assert status.paper == {"near_end": "low", "out": "out"}.get(state.get("paper", "ok"), "ok")
    assert bool(status.fault) == (state.get("paper") == "out" or any(state.get(k) for k in ("cover_open", "offline", "error")))


@pytest.mark.parametrize("doc", [
    [], {"lines": "x"}, [{"text": "x", "size": 0}], [{"text": "x", "bold": 1}], [{"text": "x", "align": "middle"}],
    [{"qr": "", "size": 3}], [{"qr": "x", "size": 17}], [{"barcode": "x", "type": "NOPE"}], [{"feed": -1}],
    [{"cut": "half"}], [{"text": "x", "qr": "y"}], [{"text": "x", "colour": "red"}], [42],
])
def test_bad_documents(doc):
    with pytest.raises(documents.DocumentError):
        documents.normalize(doc)


def test_document_forms():
    assert documents.normalize({"lines": ["a", {"text": "b", "size": 2}]}) == [
        {"text": "a", "size": 1, "bold": False, "align": "left"},
        {"text": "b", "size": 2, "bold": False, "align": "left"}]


def test_notice_template():
    doc = templates.build("notice", {"matter": "不动产登记", "materials": ["身份证原件", "不动产权证书"],
                                     "conditions": "申请人为产权人", "time_limit": "5个工作日", "fees": "不收费",
                                     "hall_name": "某某县政务服务中心", "issued_at": "2026-03-02T17:00:00Z"})
    texts = [item.get("text") for item in doc]
    assert texts[0] == "一次性告知单"
    assert "办理事项：不动产登记" in texts
    assert "1. 身份证原件" in texts and "2. 不动产权证书" in texts
    assert "办理时限：5个工作日" in texts and "收费标准：不收费" in texts
    assert "告知日期：2026-03-03" in texts          # 17:00 UTC is the next day in Shanghai
    documents.normalize(doc)
    with pytest.raises(documents.DocumentError):
        templates.build("notice", {"materials": []})


def test_ticket_template_requires_number_and_fits_58mm():
    with pytest.raises(documents.DocumentError):
        templates.build("ticket", {"service_name": "x"})
    doc = templates.build("ticket", {"number": "B1234"}, 58)
    number = next(item for item in doc if item.get("text") == "B1234")
    assert number["size"] * 12 * 5 <= 384
    assert doc[-1]["text"] == "请留意叫号，过号请重新取号"


def test_raster_mode_draws_text_at_paper_width():
    items = documents.normalize([{"text": "政务服务中心", "size": 2, "align": "center"}])
    data = documents.render(items, documents.RenderOptions(mode="raster", width_mm=58))
    assert b"\x1c\x26" not in data                      # no printer-font text at all
    assert data[2:6] == bytes.fromhex("1d763000")
    assert int.from_bytes(data[6:8], "little") * 8 == 384

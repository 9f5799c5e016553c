"""The emulator's stream parser: property tests (never crashes, chunking does not matter) and
what the emulator understands of the driver's bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings, strategies as st

from drivers.printer import documents, protocol, templates
from drivers.printer.emulator import PrinterEmulator

COMMANDS = [bytes.fromhex(h) for h in (
    "1b40", "1b4501", "1b6101", "1d2111", "1c26", "1c2e", "0a", "1d5600", "1d564200", "100401", "100404",
    "1d286b0300314306", "1d286b0400315030", "1d6b4903", "1d6b0431", "1d76300001000100", "1b2a00", "1b64")]


def emulator(directory: str, **options) -> PrinterEmulator:
    return PrinterEmulator("t", options, Path(directory))


def merged(tokens: list) -> list:
    """Tokens with adjacent text runs joined (a run may arrive in pieces)."""
    out: list = []
    for t in tokens:
        if t.kind == "text" and out and out[-1][0] == "text":
            out[-1] = ("text", "", b"", out[-1][3] + t.data)
        else:
            out.append((t.kind, t.name, t.args, t.data))
    return out


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_parser_never_crashes_and_consumes_or_waits(data):
    parser = protocol.StreamParser()
    tokens = parser.feed(data)
    assert all(t.kind in ("text", "ctl", "cmd", "unknown") for t in tokens)
    assert len(parser.buffer) <= len(data)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(COMMANDS), st.binary(max_size=12)), max_size=30), st.data())
def test_chunking_does_not_change_tokens(parts, data):
    stream = b"".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    parser = protocol.StreamParser()
    chunked = []
    last = 0
    for cut in cuts + [len(stream)]:
        chunked += parser.feed(stream[last:cut])
        last = cut
    whole = protocol.StreamParser()
    expected = whole.feed(stream)
    assert merged(chunked) == merged(expected)
    assert parser.buffer == whole.buffer


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(COMMANDS), st.binary(max_size=20)), max_size=25))
def test_emulator_never_crashes_on_garbage(parts):
    with tempfile.TemporaryDirectory() as tmp:
        emu = emulator(tmp)
        for part in parts:
            emu.received(part)
        receipts = emu.act_receipts()           # waits for the pictures: they must draw too
        assert all("png_error" not in r for r in receipts)
        assert emu.status()["receipts"] == len(receipts)


def test_emulator_understands_a_ticket(tmp_path):
    data = {"hall_name": "某某中心", "number": "B007", "service_name": "社保卡补办", "waiting_ahead": 0,
            "qr": "https://hall.example/t/B007", "footer": ["过号请重新取号"]}
    raw = documents.render(documents.normalize(templates.build("ticket", data, 58)),
                           documents.RenderOptions(width_mm=58))
    emu = emulator(str(tmp_path), width_mm=58)
    for i in range(0, len(raw), 7):         # arrives in small pieces, as from a slow serial line
        emu.received(raw[i:i + 7])
    [receipt] = emu.act_receipts()
    assert [l["text"] for l in receipt["lines"]][:3] == ["某某中心", "排队号", "B007"]
    assert {"text": "社保卡补办", "width": 2, "height": 2, "bold": False, "align": "center"} in receipt["lines"]
    assert receipt["qr"] == [{"data": "https://hall.example/t/B007", "size": 5, "ec": "M"}]
    assert receipt["cut"] == "full"
    assert emu.status()["unknown_bytes"] == 0
    assert Path(receipt["png"]).stat().st_size > 1000


def test_emulator_barcode_and_unknown_bytes(tmp_path):
    emu = emulator(str(tmp_path))
    emu.received(b"\x1b\x40" + protocol.barcode("HWD-1", "CODE128") + b"\n" + b"\x1b\xf0" + b"x\n" + b"\x1d\x56\x01")
    [receipt] = emu.act_receipts()
    assert receipt["barcodes"] == [{"type": "CODE128", "data": "HWD-1"}]
    assert receipt["cut"] == "partial"
    assert emu.status()["unknown_bytes"] == 2


def test_emulator_drops_print_data_while_paper_out(tmp_path):
    emu = emulator(str(tmp_path))
    emu.act_paper("out")
    emu.received(protocol.text_line("丢失") + protocol.CUT_FULL)
    assert emu.act_receipts() == [] and emu.status()["dropped_bytes"] > 0
    emu.act_paper("ok")
    emu.received(protocol.text_line("打印") + protocol.CUT_FULL)
    assert [r["text"] for r in emu.act_receipts()] == ["打印"]

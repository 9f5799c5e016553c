"""The escpos driver against its emulator through a real hwd daemon (sim://): tickets, paper
out and recovery, a silent printer, serial through a pty, raster mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwd.client import RpcError
from hwd.errors import INVALID_PARAMS
from support.waits import wait_for

TICKET = {"hall_name": "某某县政务服务中心", "number": "A023", "service_name": "不动产登记",
          "waiting_ahead": 3, "issued_at": "2026-03-02T01:05:00Z", "qr": "https://hall.example/t/A023-20260302",
          "footer": ["请留意叫号，过号请重新取号"]}


def printer_config(url: str = "sim://p1", **options) -> str:
    extra = "\n".join(f"{k} = {json.dumps(v)}" for k, v in options.items())
    return f'''
        [[device]]
        id = "p1"
        kind = "printer"
        driver = "escpos"
        url = "{url}"
        status_interval = 0.2
        timeout_s = 0.5
        {extra}
    '''


def receipts(d) -> list[dict]:
    return d.sim("p1", "receipts")


def test_ticket_round_trip(hwd_daemon):
    d = hwd_daemon(printer_config())
    d.wait_state("p1", "online")
    ev = d.events("printer.")
    result = d.call("printer.print", {"device": "p1", "template": "ticket", "data": TICKET,
                                      "job": "t-1", "wait_ms": 8000})
    assert result == {"job": "t-1", "state": "printed"}
    ev.wait("printer.job", job="t-1", state="queued")
    ev.wait("printer.job", job="t-1", state="printing")
    ev.wait("printer.job", job="t-1", state="printed")
    [receipt] = receipts(d)
    texts = [line["text"] for line in receipt["lines"]]
    assert "A023" in texts
    assert "不动产登记" in texts
    assert "某某县政务服务中心" in texts
    assert "您前面还有 3 人等候" in texts
    assert "取号时间：2026-03-02 09:05:00" in texts
    number = next(line for line in receipt["lines"] if line["text"] == "A023")
    assert number["width"] >= 4 and number["bold"] and number["align"] == "center"
    assert receipt["qr"][0]["data"] == TICKET["qr"]
    assert receipt["cut"] == "full"
    png = Path(receipt["png"])
    assert png.is_file() and Path(receipt["json"]).is_file()
    # idempotent: the same job id again is not printed again
    again = d.call("printer.print", {"device": "p1", "template": "ticket", "data": TICKET, "job": "t-1",
                                     "wait_ms": 500})
    assert again["state"] == "printed"
    assert len(receipts(d)) == 1
    assert d.device("p1")["paper"] == "ok"
    status = d.call("printer.status", {"device": "p1"})
    assert status["state"] == "online" and status["paper"] == "ok"


def test_paper_out_holds_then_prints_once(hwd_daemon):
    d = hwd_daemon(printer_config())
    d.wait_state("p1", "online")
    ev = d.events("printer.", "device.state")
    d.sim("p1", "paper", state="out")
    ev.wait("device.state", device="p1", state="fault", detail="paper_out")
    assert d.call("printer.status", {"device": "p1"})["paper"] == "out"
    result = d.call("printer.print", {"device": "p1", "document": [{"text": "缺纸测试 B001", "size": 2}],
                                      "job": "held-1", "wait_ms": 300})
    assert result["state"] == "queued"
    ev.wait("printer.job", job="held-1", state="queued", reason="held: paper_out")
    assert receipts(d) == []
    # a retry of the same job while held does not create a second one
    d.call("printer.print", {"device": "p1", "document": [{"text": "缺纸测试 B001", "size": 2}], "job": "held-1"})
    d.sim("p1", "paper", state="ok")
    ev.wait("printer.job", job="held-1", state="printed", timeout=10)
    d.wait_state("p1", "online")
    # a wrong second print would be queued before this one: once it is out, it would be too
    d.call("printer.print", {"device": "p1", "document": [{"text": "MARKER"}], "job": "marker-1"})
    ev.wait("printer.job", job="marker-1", state="printed", timeout=10)
    printed = [r for r in receipts(d) if "缺纸测试 B001" in r["text"]]
    assert len(printed) == 1
    jobs = d.call("printer.jobs", {"device": "p1"})
    assert [j["state"] for j in jobs if j["job"] == "held-1"] == ["printed"]


def test_paper_near_end_is_a_warning(hwd_daemon):
    d = hwd_daemon(printer_config())
    d.wait_state("p1", "online")
    d.sim("p1", "paper", state="near_end")
    wait_for(lambda: d.device("p1")["paper"] == "low", what="paper low")
    row = d.device("p1")
    assert row["state"] == "online" and row["detail"] == "paper_low"
    assert d.call("printer.print", {"device": "p1", "document": ["ok"], "wait_ms": 5000})["state"] == "printed"


def test_silent_printer_is_never_ok(hwd_daemon):
    d = hwd_daemon(printer_config())
    d.wait_state("p1", "online")
    d.sim("p1", "silent", on=True)
    row = d.wait_state("p1", "offline")
    assert row["paper"] == "unknown"
    status = d.call("printer.status", {"device": "p1"})
    assert status["state"] == "offline" and status["paper"] != "ok"
    result = d.call("printer.print", {"device": "p1", "document": ["silent"], "job": "s-1", "wait_ms": 300})
    assert result["state"] == "queued"
    d.sim("p1", "silent", on=False)
    d.wait_state("p1", "online", timeout=15)
    wait_for(lambda: d.call("printer.jobs", {"device": "p1", "state": "printed"}), what="printed job")


def test_garbage_status_is_not_ok(hwd_daemon):
    d = hwd_daemon(printer_config())
    d.wait_state("p1", "online")
    d.sim("p1", "garbage", on=True)
    row = d.wait_state("p1", "offline")
    assert row["paper"] == "unknown"


def test_old_jobs_fail_instead_of_printing(hwd_daemon):
    d = hwd_daemon(printer_config(max_age_s=1))
    d.wait_state("p1", "online")
    ev = d.events("printer.")
    d.sim("p1", "cover", open=True)
    d.wait_state("p1", "fault")
    assert d.device("p1")["detail"] == "cover_open"
    d.call("printer.print", {"device": "p1", "document": ["late"], "job": "old-1"})
    event = ev.wait("printer.job", job="old-1", state="failed", timeout=10)
    assert event["reason"].startswith("expired")
    d.sim("p1", "cover", open=False)
    d.wait_state("p1", "online")
    assert receipts(d) == []


def test_cancel_and_reprint(hwd_daemon):
    d = hwd_daemon(printer_config())
    d.wait_state("p1", "online")
    d.sim("p1", "offline", on=True)
    d.wait_state("p1", "fault")
    d.call("printer.print", {"device": "p1", "document": ["取消我"], "job": "c-1"})
    assert d.call("printer.cancel", {"device": "p1", "job": "c-1"})["state"] == "cancelled"
    d.sim("p1", "offline", on=False)
    d.wait_state("p1", "online")
    assert d.call("printer.print", {"device": "p1", "document": ["原件"], "job": "r-1", "wait_ms": 5000})["state"] == "printed"
    with pytest.raises(RpcError):
        d.call("printer.cancel", {"device": "p1", "job": "r-1"})
    copy = d.call("printer.reprint", {"device": "p1", "job": "r-1", "wait_ms": 5000})
    assert copy["state"] == "printed" and copy["job"] != "r-1"
    texts = [r["text"] for r in receipts(d)]
    assert texts == ["原件", "原件"]


def test_bad_documents_are_rejected(hwd_daemon):
    d = hwd_daemon(printer_config())
    for params in ({"document": [{"text": "x", "size": 9}]}, {"document": [{"qr": ""}]}, {},
                   {"template": "ticket", "data": {}}, {"document": [{"text": "x"}], "template": "ticket"}):
        with pytest.raises(RpcError) as err:
            d.call("printer.print", {"device": "p1", **params})
        assert err.value.code == INVALID_PARAMS


def test_serial_9600_through_pty(hwd_daemon):
    d = hwd_daemon(printer_config("sim://p1?transport=pty", width_mm=58))
    row = d.wait_state("p1", "online")
    assert row["paper"] == "ok"
    result = d.call("printer.print", {"device": "p1", "template": "ticket", "data": TICKET, "wait_ms": 15000})
    assert result["state"] == "printed"
    [receipt] = receipts(d)
    assert "A023" in receipt["text"] and receipt["qr"][0]["data"] == TICKET["qr"]
    assert receipt["width_px"] == 384


@pytest.mark.parametrize("width_mm,pixels", [(58, 384), (80, 576)])
def test_raster_receipt_png(hwd_daemon, width_mm, pixels):
    from PIL import Image

    d = hwd_daemon(printer_config(mode="raster", width_mm=width_mm))
    d.wait_state("p1", "online")
    result = d.call("printer.print", {"device": "p1", "template": "ticket", "data": TICKET, "wait_ms": 10000})
    assert result["state"] == "printed"
    [receipt] = receipts(d)
    assert receipt["lines"] == []           # no printer-font text: it came as images
    assert receipt["images"] and receipt["qr"][0]["data"] == TICKET["qr"]
    image = Image.open(receipt["png"]).convert("L")
    assert image.width == pixels
    dark = sum(image.histogram()[:128])
    assert dark > 2000                      # text and QR are on it, not a blank page


def test_unplug_and_plug_recovers_and_prints_the_spool(hwd_daemon):
    d = hwd_daemon(printer_config())
    d.wait_state("p1", "online")
    d.sim("p1", "unplug")
    d.wait_state("p1", "offline")
    assert d.call("printer.print", {"device": "p1", "document": ["拔线后"], "job": "u-1"})["state"] == "queued"
    d.sim("p1", "plug")
    d.wait_state("p1", "online", timeout=15)
    wait_for(lambda: d.call("printer.jobs", {"device": "p1", "state": "printed"}), timeout=10, what="printed job")
    assert [r["text"] for r in receipts(d)] == ["拔线后"]

"""``confirm = "gs_r"``: a job ends with ``GS r 1`` and is ``printed`` only when the printer answers
it, which it does once it has processed the job; no answer makes the job ``unknown``, and it is
never printed a second time. Before, a job was ``printed`` as soon as the real-time DLE EOT
replies said the printer was fine, which they say before the paper is out.

Gprinter's SDK ends a job with the same bytes: ``EscCommand.addQueryPrinterStatus`` is
``{29, 114, 1}`` (JameChen/kdbCashier ``app/src/main/java/com/gprinter/command/EscCommand.java``,
decompiled from gprintersdkv22.jar, the method at its line marker 1298; the SDK's demo comment:
"打印完成后，此时会接收到GpCom.ACTION_DEVICE_STATUS广播"). The answer is the paper sensor byte of
ESC/POS ``GS r 1`` (Bixolon SRP-350plus and HPRT TP809 programming manuals, "GS r n"): bits 0-1
near end (03), bits 2-3 end (0C), bits 4 and 7 fixed 0."""

from __future__ import annotations

import subprocess
import sys
import time

from support.waits import wait_for
from drivers.printer import protocol
from test_printer_daemon import TICKET, printer_config, receipts


def test_gs_r_bytes_and_answers():
    assert protocol.transmit_status(1) == bytes([29, 114, 1]) == bytes.fromhex("1d7201")
    assert [protocol.paper_sensor_reply(b) for b in (0x00, 0x03, 0x0C, 0x0F)] == ["ok", "low", "out", "out"]
    # a DLE EOT reply (bits 1 and 4 set) is not an answer to GS r
    assert protocol.paper_sensor_reply(protocol.encode_status(1)) is None
    assert [protocol.encode_paper_sensor(p) for p in ("ok", "near_end", "out")] == [0x00, 0x03, 0x0C]


def test_a_job_is_printed_only_on_the_answer_to_gs_r(hwd_daemon):
    d = hwd_daemon(printer_config(confirm="gs_r", confirm_timeout_s=1.0))
    d.wait_state("p1", "online")
    ev = d.events("printer.")
    result = d.call("printer.print", {"device": "p1", "template": "ticket", "data": TICKET, "job": "c-1",
                                      "wait_ms": 8000})
    assert result == {"job": "c-1", "state": "printed"}
    assert d.sim("p1", "status")["confirms"] == 1
    assert len(receipts(d)) == 1

    # a printer that never answers GS r: the job is unknown, not printed, and never printed again
    d.sim("p1", "no_confirm", on=True)
    result = d.call("printer.print", {"device": "p1", "template": "ticket", "data": TICKET, "job": "c-2",
                                      "wait_ms": 8000})
    assert result["state"] == "unknown" and "GS r 1" in result["reason"]
    ev.wait("printer.job", job="c-2", state="unknown")
    assert len(receipts(d)) == 2                     # it did come out once, as the printer says nothing
    time.sleep(1.0)                                  # several status polls and drains later
    assert len(receipts(d)) == 2
    assert [j["job"] for j in d.call("printer.jobs", {"device": "p1", "state": "unknown"})] == ["c-2"]
    assert d.device("p1")["counters"]["unconfirmed"] == 1
    assert d.device("p1")["state"] == "online"

    # the printer answers again: the next job is printed; the unknown one stays as it was
    d.sim("p1", "no_confirm", on=False)
    result = d.call("printer.print", {"device": "p1", "template": "ticket", "data": TICKET, "job": "c-3",
                                      "wait_ms": 8000})
    assert result["state"] == "printed"
    wait_for(lambda: len(receipts(d)) == 3, what="the third receipt")
    assert d.call("printer.jobs", {"device": "p1", "state": "unknown"})[0]["job"] == "c-2"


def test_confirm_is_off_by_default(hwd_daemon):
    d = hwd_daemon(printer_config())
    d.wait_state("p1", "online")
    assert d.call("printer.print", {"device": "p1", "document": ["A001"], "job": "d-1",
                                    "wait_ms": 8000})["state"] == "printed"
    assert d.sim("p1", "status")["confirms"] == 0


def test_gs_r_on_a_write_only_link_is_a_config_error(tmp_path):
    config = tmp_path / "hwd.toml"
    config.write_text(printer_config("file:///dev/usb/lp0", confirm="gs_r").replace(
        "status_interval = 0.2", "status_interval = 0"), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "hwd", "--config", str(config), "--check"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "confirm: gs_r needs a link that answers" in out.stderr, out.stderr

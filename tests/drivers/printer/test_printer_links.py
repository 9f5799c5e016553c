"""Write-only links (file://), restart durability, and ``hwctl print-test``."""

from __future__ import annotations

import subprocess
import sys
import time

from drivers.printer import protocol
from drivers.printer.emulator import PrinterEmulator


def test_file_link_is_write_only_and_never_claims_paper(hwd_daemon, tmp_path):
    out = tmp_path / "lp0.bin"
    d = hwd_daemon(f'''
        [[device]]
        id = "fp"
        kind = "printer"
        driver = "escpos"
        url = "file://{out}"
    ''')
    row = d.wait_state("fp", "online")
    assert row["paper"] == "unknown"
    result = d.call("printer.print", {"device": "fp", "document": [{"text": "写入文件", "size": 2}], "wait_ms": 5000})
    assert result["state"] == "printed"
    data = out.read_bytes()
    assert protocol.text_line("写入文件", 2) in data
    assert b"\x10\x04" not in data                       # no status requests on a write-only link
    emu = PrinterEmulator("check", {}, tmp_path / "emu")  # and the bytes make a receipt
    emu.received(data)
    assert emu.act_receipts()[0]["text"] == "写入文件"


def test_queued_job_survives_restart_and_prints_once(hwd_daemon):
    config = '''
        [[device]]
        id = "p1"
        kind = "printer"
        driver = "escpos"
        url = "sim://p1"
        status_interval = 0.2
        timeout_s = 0.5
    '''
    d = hwd_daemon(config)
    d.wait_state("p1", "online")
    d.sim("p1", "paper", state="out")
    d.wait_state("p1", "fault")
    assert d.call("printer.print", {"device": "p1", "document": ["重启后打印"], "job": "keep-1"})["state"] == "queued"
    d.kill()
    d.start()                                            # a fresh emulator, with paper
    d.wait_state("p1", "online")
    deadline = time.monotonic() + 10
    while d.call("printer.jobs", {"device": "p1", "state": "printed"}) == [] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [j["job"] for j in d.call("printer.jobs", {"device": "p1", "state": "printed"})] == ["keep-1"]
    assert [r["text"] for r in d.sim("p1", "receipts")] == ["重启后打印"]


def test_hwctl_print_test(hwd_daemon):
    d = hwd_daemon('''
        [[device]]
        id = "p1"
        kind = "printer"
        driver = "escpos"
        url = "sim://p1"
    ''')
    d.wait_state("p1", "online")
    proc = subprocess.run([sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), "print-test", "p1"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "printed" in proc.stdout
    [receipt] = d.sim("p1", "receipts")
    assert receipt["lines"][0]["text"] == "打印测试页"
    assert receipt["qr"] and receipt["barcodes"][0]["data"] == "HWD-TEST-123"

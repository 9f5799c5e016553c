"""``hwctl print-test DEVICE``: print a test page through the running daemon, so a field
engineer sees at once whether Chinese text, character sizes, the QR code, the barcode and the
cutter work on a freshly wired printer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

WAIT_MS = 15000


def document(device: str) -> list[dict]:
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
    doc: list[dict] = [
        {"text": "打印测试页", "size": 2, "bold": True, "align": "center"},
        {"text": f"设备 {device}  {now}", "align": "center"},
        {"text": "中文：政务服务中心 欢迎您", "align": "left"},
        {"text": "标点：，。！？（）【】《》“”", "align": "left"},
        {"text": "ASCII: 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ", "align": "left"},
        {"text": "粗体 bold", "bold": True},
        {"text": "右对齐 right", "align": "right"},
    ]
    doc += [{"text": f"{n}倍 A1", "size": n} for n in (1, 2, 3, 4)]
    doc += [
        {"qr": "https://example.invalid/hwd/print-test", "size": 6, "align": "center"},
        {"barcode": "HWD-TEST-123", "type": "CODE128", "align": "center"},
        {"text": "如能看清以上内容，打印机工作正常", "align": "center"},
    ]
    return doc


def command(args: argparse.Namespace, client: Any) -> int:
    """Queue the page and wait for it; exit 0 when printed, 1 otherwise."""
    result = client.call("printer.print", {"device": args.device, "document": document(args.device),
                                           "wait_ms": WAIT_MS}, timeout=WAIT_MS / 1000 + 3)
    state = result.get("state")
    reason = f" ({result['reason']})" if result.get("reason") else ""
    out = sys.stdout if state == "printed" else sys.stderr
    out.write(f"job {result.get('job')}: {state}{reason}\n")
    return 0 if state == "printed" else 1

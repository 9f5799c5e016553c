"""config/demo.toml is valid and every device in it comes online (run with private endpoints so
a developer's running demo does not collide with the test)."""

from __future__ import annotations

import re
import time
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.toml"


def test_demo_config_starts_with_every_device_online(hwd_daemon):
    text = DEMO.read_text(encoding="utf-8")
    body = re.sub(r"(?ms)^\[daemon\].*?(?=^\[)", "", text)
    d = hwd_daemon(body)
    deadline = time.monotonic() + 20
    while True:
        rows = d.call("devices.list")
        if all(r["state"] == "online" for r in rows) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert rows and all(r["state"] == "online" for r in rows), [(r["id"], r["state"], r["detail"]) for r in rows]

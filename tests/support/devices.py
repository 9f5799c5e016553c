"""The TOML of emulated devices (``sim://``: the real driver, the emulator at the far end of a pty
or a socket), written once. Each builder takes the device's own options as keywords, e.g.
``printer("k1-printer", status_interval=0.2)``."""

from __future__ import annotations

from typing import Any

from support.toml import item


def device(device_id: str, kind: str, driver: str, url: str | None = None, **options: Any) -> str:
    """Any ``[[device]]``; ``url`` defaults to ``sim://<id>``."""
    return "\n" + item("device", id=device_id, kind=kind, driver=driver, url=url or f"sim://{device_id}", **options)


def printer(device_id: str, **options: Any) -> str:
    """An ESC/POS ticket printer."""
    return device(device_id, "printer", "escpos", **options)


def scanner(device_id: str, **options: Any) -> str:
    """A serial QR/barcode scanner."""
    return device(device_id, "scanner", "serial", **options)


def idcard(device_id: str, **options: Any) -> str:
    """An ID-card reader (SAM module)."""
    return device(device_id, "idcard", "sam", **options)


def web_screen(device_id: str) -> str:
    """A window screen that is a web page (``/display/window/<window>``)."""
    return device(device_id, "display", "web", "null://")


ONBON_FRAME = ["A5", "{addr}", "01", "{line}", "{len}", "{text}", "{crc16_modbus}", "5A"]
ONBON_ESCAPE = {"A5": "A602", "A6": "A601", "5A": "5B02", "5B": "5B01"}


def led(device_id: str, address: int, bus: str = "ledbus", **options: Any) -> str:
    """A 2-line frame screen (Onbon-style framing, escaping and ack) at ``address`` on the emulated
    RS-485 bus ``sim://<bus>``."""
    values: dict[str, Any] = {"address": address, "lines": 2, "ack": "06{addr}", "ack_timeout_ms": 500,
                              "frame": ONBON_FRAME, "escape": ONBON_ESCAPE}
    values.update(options)
    return device(device_id, "display", "frame", f"sim://{bus}", **values)


def keypad(device_id: str = "win5-rate", **options: Any) -> str:
    """A serial evaluation keypad: 1–5 rate, ESC A calls the next ticket; it lights up on prompt."""
    values: dict[str, Any] = {"keys": {"31": "rate:5", "32": "rate:4", "33": "rate:3", "34": "rate:2",
                                       "35": "rate:1", "1b41": "call_next"},
                              "prompt": "a5 01 5a"}
    values.update(options)
    return device(device_id, "keypad", "serial", **values)


def bus_keypad(device_id: str, address: int, bus: str = "ledbus", **options: Any) -> str:
    """A caller keypad with an LCD (the "21键" caller framing) at ``address`` on the emulated bus
    ``sim://<bus>``, shared with the screens there: F1 calls the next ticket, 01..05 rate."""
    values: dict[str, Any] = {"protocol": "caller21", "address": address, "poll_ms": 50,
                              "keys": {"f1": "call_next", "f2": "recall", "f3": "pause", "f4": "resume",
                                       "05": "rate:5", "04": "rate:4", "01": "rate:1"}}
    values.update(options)
    return device(device_id, "keypad", "bus", f"sim://{bus}", **values)

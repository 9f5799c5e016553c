"""TOML of emulated devices that several scenario tests use, written once: an Onbon-style window
screen on a shared emulated RS-485 bus (with escaping and ack) and an evaluation keypad."""

from __future__ import annotations


def led(device_id: str, address: int, bus: str = "ledbus") -> str:
    """A 2-line frame screen at ``address`` on the emulated bus ``sim://<bus>``."""
    return f'''
[[device]]
id = "{device_id}"
kind = "display"
driver = "frame"
url = "sim://{bus}"
address = {address}
lines = 2
ack = "06{{addr}}"
ack_timeout_ms = 500
frame = ["A5", "{{addr}}", "01", "{{line}}", "{{len}}", "{{text}}", "{{crc16_modbus}}", "5A"]
escape = {{ A5 = "A602", A6 = "A601", 5A = "5B02", 5B = "5B01" }}
'''


def keypad(device_id: str = "win5-rate") -> str:
    """A serial evaluation keypad: 1–5 rate, ESC A calls the next ticket; it lights up on prompt."""
    return f'''
[[device]]
id = "{device_id}"
kind = "keypad"
driver = "serial"
url = "sim://{device_id}"
keys = {{ "31" = "rate:5", "32" = "rate:4", "33" = "rate:3", "34" = "rate:2", "35" = "rate:1", "1b41" = "call_next" }}
prompt = "a5 01 5a"
'''


def bus_keypad(device_id: str, address: int, bus: str = "ledbus") -> str:
    """A caller keypad with an LCD (the "21键" caller framing) at ``address`` on the emulated bus
    ``sim://<bus>``, shared with the screens there: F1 calls the next ticket, 01..05 rate."""
    return f'''
[[device]]
id = "{device_id}"
kind = "keypad"
driver = "bus"
url = "sim://{bus}"
protocol = "caller21"
address = {address}
poll_ms = 50
keys = {{ "f1" = "call_next", "f2" = "recall", "f3" = "pause", "f4" = "resume", "05" = "rate:5", "04" = "rate:4", "01" = "rate:1" }}
'''

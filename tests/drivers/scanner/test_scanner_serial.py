"""The serial (virtual COM) scanner through a real daemon: line ends, partial codes, garbage."""

from __future__ import annotations

CONFIG = '''
[[device]]
id = "s1"
kind = "scanner"
driver = "serial"
url = "sim://s1"
'''


def test_partial_code_waits_for_its_line_end(hwd_daemon):
    d = hwd_daemon(CONFIG)
    d.wait_state("s1", "online")
    ev = d.events("scanner.")
    d.sim("s1", "partial", text="YY-20")
    d.sim("s1", "scan", text="26-001")
    assert ev.wait("scanner.scan")["text"] == "YY-2026-001"
    d.sim("s1", "scan", text="二维码", end="\n")
    assert ev.wait("scanner.scan")["text"] == "二维码"


def test_garbage_is_replaced_not_fatal(hwd_daemon):
    d = hwd_daemon(CONFIG)
    d.wait_state("s1", "online")
    ev = d.events("scanner.")
    d.sim("s1", "garbage")
    assert "\ufffd" in ev.wait("scanner.scan")["text"]
    d.sim("s1", "scan", text="OK-1")
    ev.wait("scanner.scan", text="OK-1")
    assert d.device("s1")["counters"]["bad_bytes"] == 1


def test_unplug_plug(hwd_daemon):
    d = hwd_daemon(CONFIG)
    d.wait_state("s1", "online")
    d.sim("s1", "unplug")
    d.wait_state("s1", "offline")
    d.sim("s1", "plug")
    d.wait_state("s1", "online")
    ev = d.events("scanner.")
    d.sim("s1", "scan", text="AGAIN")
    ev.wait("scanner.scan", text="AGAIN")

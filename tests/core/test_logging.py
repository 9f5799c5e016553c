"""Logging: journald-friendly under systemd, timestamps otherwise, device id in device lines,
ID numbers masked, --log-level honoured — through the real daemon's stderr."""

from __future__ import annotations

import io
import logging
import re

import pytest

from hwd import log as logsetup


@pytest.fixture(autouse=True)
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level

SCANNER = '''
[[device]]
id = "s1"
kind = "scanner"
driver = "serial"
url = "sim://s1"
'''


def _emit(monkeypatch, journal: bool) -> str:
    if journal:
        monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    else:
        monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    stream = io.StringIO()
    logsetup.setup("info", stream)
    logging.getLogger("hwd.test").warning("card 110101199003071234 seen")
    logging.getLogger("hwd.test").debug("not shown at info")
    return stream.getvalue()


def test_under_journald_lines_carry_a_priority_and_no_timestamp(monkeypatch):
    text = _emit(monkeypatch, journal=True)
    assert text == "<4>hwd.test: card 110101********1234 seen\n"


def test_by_hand_lines_carry_a_timestamp(monkeypatch):
    text = _emit(monkeypatch, journal=False)
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING hwd.test: card 110101\*{8}1234 seen\n$", text)


def test_device_lines_name_their_device_and_log_level_is_honoured(hwd_daemon):
    d = hwd_daemon(SCANNER)
    d.wait_state("s1", "online")
    d.sim("s1", "unplug")
    d.wait_state("s1", "offline")
    assert "scanner 's1': offline" in d.log()
    assert " DEBUG " in d.log()  # the fixture starts hwd with --log-level debug

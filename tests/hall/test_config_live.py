"""The config file changed through hwd's ``config.*`` RPC (hwd.configstore): applied live in a
running daemon with nothing lost, refused when invalid or when the file was edited by hand,
audited, and rolled back exactly."""

from __future__ import annotations

import os

import pytest

from hwd.client import RpcError
from hwd import errors

HALL = '''
# the hall of the test (this comment must survive every edit)
[hall]
name = "某某县政务服务中心"   # the hall's name
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.service]]
id = "sb"
name = "社保"
prefix = "S"
[[hall.window]]
id = "w1"
name = "1号窗口"
services = ["bdc"]
[[hall.window]]
id = "w3"
name = "3号窗口"
services = ["sb"]
'''

WHO = {"by": "manager", "source": "127.0.0.1"}


def test_edit_applies_live_with_nothing_lost(hwd_daemon):
    d = hwd_daemon(HALL)
    pid = d.call("daemon.status")["pid"]
    ev = d.events("hall.config_changed")
    got = d.call("config.get")
    assert got["version"] == 1 and got["config"]["hall"]["name"] == "某某县政务服务中心"
    b1 = d.call("hall.issue_ticket", {"service": "bdc"})
    s1 = d.call("hall.issue_ticket", {"service": "sb"})
    s2 = d.call("hall.issue_ticket", {"service": "sb"})
    assert d.call("hall.call_next", {"window": "w1"})["number"] == b1["number"]
    d.call("hall.start", {"window": "w1"})
    # window w3 moves to serve both; w1 serves sb too; a call is in progress at w1
    reply = d.call("config.edit", {"ops": [
        {"op": "set", "path": ["hall", "window", {"id": "w3"}, "services"], "value": ["bdc", "sb"]},
        {"op": "set", "path": ["hall", "window", {"id": "w1"}, "services"], "value": ["sb", "bdc"]}],
        "base": got["digest"], **WHO, "note": "afternoon"})
    assert reply["version"] == 2 and reply["restart"] == []
    assert "hall.window[w3].services" in reply["live"]
    assert ev.wait("hall.config_changed")["version"] == 2
    text = d.config_path.read_text()
    assert "# the hall of the test (this comment must survive every edit)" in text
    assert '# the hall\'s name' in text
    assert d.call("hall.finish", {"window": "w1"})["number"] == b1["number"]
    assert d.call("hall.call_next", {"window": "w1"})["number"] == s1["number"]
    assert d.call("hall.call_next", {"window": "w3"})["number"] == s2["number"]
    assert d.call("daemon.status")["pid"] == pid
    history = d.call("config.history")["versions"]
    assert [v["version"] for v in history] == [2, 1]
    assert history[0]["by"] == "manager" and history[0]["note"] == "afternoon"

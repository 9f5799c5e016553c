"""``hwctl config`` end to end against a real hwd: apply a whole file (invalid: every problem as
FILE:LINE KEY: reason, exit 2, nothing applied), history, show, rollback, get and set."""

from __future__ import annotations

import subprocess
import sys

from test_config_live import HALL


def hwctl(d, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwd.hwctl", "--config", str(d.config_path), "config", *args],
                          capture_output=True, text=True, timeout=60)


def test_apply_history_rollback_get_set(hwd_daemon, tmp_path):
    d = hwd_daemon(HALL)
    pid = d.call("daemon.status")["pid"]
    original = d.config_path.read_text()
    new = tmp_path / "new.toml"
    new.write_text(original.replace('services = ["sb"]', 'services = ["sb", "bdc"]')
                   .replace("[daemon]\n", "[daemon]\nlog_level = \"warning\"\n"))
    out = hwctl(d, "apply", str(new), "--note", "w3 helps bdc")
    assert out.returncode == 0, out.stderr
    assert '+services = ["sb", "bdc"]' in out.stdout and "version 2 applied" in out.stdout
    assert "live now: hall.window[w3].services\n" in out.stdout
    assert "after a restart of hwd: daemon.log_level" in out.stdout
    b = d.call("hall.issue_ticket", {"service": "bdc"})
    assert d.call("hall.call_next", {"window": "w3"})["number"] == b["number"]
    d.call("hall.finish", {"window": "w3"})
    b2 = d.call("hall.issue_ticket", {"service": "bdc"})

    out = hwctl(d, "get", "hall.window[w3].services")
    assert out.returncode == 0 and out.stdout.split() == ['[', '"sb",', '"bdc"', ']']
    out = hwctl(d, "set", "hall.window[w1].name", '"1号窗口（不动产）"')
    assert out.returncode == 0, out.stderr
    assert d.call("hall.state")["windows"][0]["name"] == "1号窗口（不动产）"

    out = hwctl(d, "history")
    lines = out.stdout.splitlines()
    assert out.returncode == 0 and len(lines) == 3
    assert lines[0].split()[0] == "3" and "hall.window[w1].name" in lines[0] and "(hwctl)" in lines[0]
    assert "w3 helps bdc" in lines[1] and "restart: daemon.log_level" in lines[1]

    out = hwctl(d, "rollback", "1")
    assert out.returncode == 0, out.stderr
    assert d.config_path.read_text() == original
    assert d.call("hall.call_next", {"window": "w3"}) is None  # w3 serves sb only again
    assert d.call("hall.call_next", {"window": "w1"})["number"] == b2["number"]
    assert hwctl(d, "show", "4").stdout == original
    assert d.call("daemon.status")["pid"] == pid


def test_an_invalid_file_is_every_problem_and_exit_2(hwd_daemon, tmp_path):
    d = hwd_daemon(HALL)
    original = d.config_path.read_text()
    bad = tmp_path / "bad.toml"
    text = original.replace('services = ["sb"]', 'services = ["nope"]').replace('prefix = "S"', 'prefix = "ss"')
    bad.write_text(text)
    out = hwctl(d, "apply", str(bad))
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.startswith(str(bad))]
    line_of = {k: text.splitlines().index(v) + 1 for k, v in (("prefix", 'prefix = "ss"'),
                                                              ("services", 'services = ["nope"]'))}
    assert lines == [f"{bad}:{line_of['prefix']} hall.service[1].prefix: a ticket prefix is one or two capital "
                     "letters, e.g. \"A\"",
                     f"{bad}:{line_of['services']} hall.window[1].services[0]: unknown service 'nope'; known: bdc, sb"]
    assert "nothing was applied" in out.stderr
    out = hwctl(d, "set", "hall.window[w3].services", '["nope"]')
    assert out.returncode == 2 and "hall.window[1].services[0]: unknown service 'nope'" in out.stderr
    assert d.config_path.read_text() == original
    assert len(hwctl(d, "history").stdout.splitlines()) == 1


CATALOGUE = """取号业务,事项名称,事项编码,实施编码,申请材料,承诺时限
bdc,不动产首次登记,11330100MB0001,IMP-1,身份证；购房合同,5个工作日
bdc,不动产抵押登记,11330100MB0003,IMP-3,身份证；抵押合同,3个工作日
gs,企业开办,11330100QY0001,IMP-9,营业执照,1个工作日
"""


def test_import_a_matter_catalogue_with_a_preview(hwd_daemon, tmp_path):
    d = hwd_daemon(HALL)
    original = d.config_path.read_text()
    sheet = tmp_path / "catalogue.csv"
    sheet.write_text("\ufeff" + CATALOGUE, encoding="utf-8")
    out = hwctl(d, "import-matters", str(sheet), "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "2 matter(s) added, 0 updated, 0 unchanged" in out.stdout
    assert "no such service in this hall: gs" in out.stderr
    assert '+matter_code = "11330100MB0003"' in out.stdout
    assert d.config_path.read_text() == original  # a preview writes nothing

    out = hwctl(d, "import-matters", str(sheet))
    assert out.returncode == 0, out.stderr
    guide = d.call("hall.guide", {"service": "bdc", "matter": "11330100MB0003"})
    assert guide["materials"] == ["身份证", "抵押合同"] and guide["time_limit"] == "3个工作日"
    assert d.call("config.history")["versions"][0]["note"] == "matter catalogue catalogue.csv"

    sheet.write_text(CATALOGUE.replace("3个工作日", "2个工作日"), encoding="utf-8")
    out = hwctl(d, "import-matters", str(sheet))
    assert "0 matter(s) added, 1 updated, 1 unchanged" in out.stdout
    assert d.call("hall.guide", {"service": "bdc", "matter": "11330100MB0003"})["time_limit"] == "2个工作日"
    out = hwctl(d, "import-matters", str(sheet))
    assert "0 matter(s) added, 0 updated, 2 unchanged" in out.stdout and out.returncode == 0
    assert len(d.call("config.history")["versions"]) == 3

    bad = tmp_path / "bad.json"
    bad.write_text('{"matters": [{"service": "bdc", "name": "x", "id": "bad id!", "region": "12"}]}')
    out = hwctl(d, "import-matters", str(bad))
    assert out.returncode == 2 and "(config after the import):" in out.stderr
    assert "matter[2].region: a 区划 code is 6 or 12 digits" in out.stderr and "matter[2].id: ids are" in out.stderr


def test_a_file_edited_in_place_is_applied_as_it_is(hwd_daemon):
    """The engineer's way: edit /etc/hwd/hwd.toml by hand, then ``hwctl config apply`` it."""
    d = hwd_daemon(HALL)
    pid = d.call("daemon.status")["pid"]
    d.config_path.write_text(d.config_path.read_text().replace('name = "3号窗口"', 'name = "3号窗口（潮汐）"'))
    out = hwctl(d, "apply", str(d.config_path))
    assert out.returncode == 0, out.stderr
    assert "version 2 applied" in out.stdout and "live now: hall.window[w3].name" in out.stdout
    assert d.call("hall.state")["windows"][1]["name"] == "3号窗口（潮汐）"
    [latest, _] = d.call("config.history")["versions"]
    assert latest["by"] == "hand edit" and latest["live"] == ["hall.window[w3].name"]
    out = hwctl(d, "apply", str(d.config_path))
    assert out.returncode == 0 and "no change" in out.stdout
    assert d.call("daemon.status")["pid"] == pid

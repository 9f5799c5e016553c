"""The county pushes a matter catalogue to a hall (``hwd-central county push-matters``): stored in
the county database under the halls' row-level security, fetched by the hall over its own
``[hall.central]`` link, previewed, then imported as an audited version (source ``county``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from county_helpers import hall_config
from daemon_fixture import DaemonProcess

from hwd import errors
from hwd.client import RpcError

CATALOGUE = """取号业务,事项名称,事项编码,实施编码,申请材料,承诺时限
bdc,不动产首次登记,11330100MB0001,IMP-1,身份证；购房合同,5个工作日
bdc,不动产抵押登记,11330100MB0003,IMP-3,身份证；抵押合同,3个工作日
"""


def push(county, hall_id: str, path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "central.cli", "--config", county.config, "county", "push-matters",
                           hall_id, str(path)], capture_output=True, text=True, timeout=60)


def test_a_pushed_catalogue_is_previewed_and_imported_by_its_hall_only(tmp_path, county):
    import psycopg

    d = DaemonProcess(tmp_path, "", "h1")
    dsn = county.add_hall("h1")
    county.add_hall("h2")
    d.config_path.write_text(hall_config(d, dsn, "h1"), encoding="utf-8")
    d.start()
    try:
        with pytest.raises(RpcError) as info:  # nothing pushed yet
            d.call("config.county_matters", {"by": "manager"})
        assert info.value.code == errors.NOT_FOUND
        sheet = tmp_path / "浙江省事项目录.csv"
        sheet.write_text(CATALOGUE, encoding="utf-8")
        other = tmp_path / "other.csv"
        other.write_text(CATALOGUE.replace("不动产抵押登记", "别的大厅的事项"), encoding="utf-8")
        out = push(county, "h1", sheet)
        assert out.returncode == 0, out.stderr
        assert push(county, "h2", other).returncode == 0
        bad = tmp_path / "bad.csv"
        bad.write_text("事项名称\nx\n", encoding="utf-8")
        out = push(county, "h1", bad)
        assert out.returncode == 2 and "needs service" in out.stderr

        before = d.config_path.read_text()
        preview = d.call("config.county_matters", {"by": "manager"})
        assert preview["catalogue"]["name"] == "浙江省事项目录.csv"
        assert preview["summary"]["added"] == ["bdc/11330100MB0001", "bdc/11330100MB0003"]
        assert "不动产抵押登记" in preview["diff"] and "别的大厅" not in preview["diff"]
        assert preview["problems"] == [] and d.config_path.read_text() == before
        reply = d.call("config.county_matters", {"by": "manager", "apply": True, "base": preview["base"]})
        assert reply["version"] == 2
        latest = d.call("config.history")["versions"][0]
        assert latest["source"] == "county" and latest["by"] == "manager"
        guide = d.call("hall.guide", {"service": "bdc", "matter": "11330100MB0003"})
        assert guide["materials"] == ["身份证", "抵押合同"]

        # the hall's role reads its own catalogues only and writes none
        with psycopg.connect(dsn) as conn:
            assert {r[0] for r in conn.execute("SELECT hall_id FROM matter_catalogues")} == {"h1"}
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("INSERT INTO matter_catalogues (hall_id, name, body, pushed_by) "
                             "VALUES ('h1', 'x', 'y', 'z')")
    finally:
        d.stop()

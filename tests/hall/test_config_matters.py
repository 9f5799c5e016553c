"""Matters under services (``[[hall.service.matter]]``): added live through config.edit, picked by
the clerk at finish, and carried upstream with the rating through the real outbox and the
push-json adapter to the province's emulator; the guide shows the matter's materials."""

from __future__ import annotations

import pytest

from hwd import errors
from hwd.client import RpcError
from hwd.upstream.emulator import Province

from daemon_fixture import wait_for
from test_config_live import HALL, WHO

SECRET = "matter-secret"


def test_a_rating_carries_the_matter_handled_upstream(hwd_daemon):
    province = Province(SECRET).up()
    try:
        d = hwd_daemon(HALL + f'[hall.upstream]\nadapter = "push-json"\nurl = "{province.url}"\n'
                              f'secret = "{SECRET}"\ntimeout_s = 2\nretry_s = 0.05\nretry_max_s = 0.5\n')
        pid = d.call("daemon.status")["pid"]
        base = d.call("config.get")["digest"]
        matters = [{"id": "first", "name": "不动产首次登记", "matter_code": "11330100MB0001", "impl_code": "IMP-1",
                    "matter_version": "3", "materials": ["身份证", "购房合同"], "region": "330102000000"},
                   {"id": "mortgage", "name": "不动产抵押登记", "matter_code": "11330100MB0003",
                    "materials": ["身份证", "抵押合同"]}]
        reply = d.call("config.edit", {"ops": [
            *({"op": "add", "path": ["hall", "service", {"id": "bdc"}, "matter"], "value": m} for m in matters),
            {"op": "set", "path": ["hall", "window", {"id": "w3"}, "services"], "value": ["bdc"]}],
            "base": base, **WHO})
        assert "hall.service[bdc].matter[mortgage].matter_code" in reply["live"]
        guide = d.call("hall.guide", {"service": "bdc", "matter": "mortgage"})
        assert guide["materials"] == ["身份证", "抵押合同"] and guide["matter_code"] == "11330100MB0003"
        assert d.call("hall.guide", {"service": "bdc"})["matter"] == "不动产首次登记"  # the first by default

        def serve(matter):
            t = d.call("hall.issue_ticket", {"service": "bdc"})
            assert d.call("hall.call_next", {"window": "w3"})["number"] == t["number"]
            done = d.call("hall.finish", {"window": "w3", **({"matter": matter} if matter else {})})
            assert done.get("matter_id") == matter
            return d.call("hall.rate", {"window": "w3", "score": 5})["id"]

        with pytest.raises(RpcError) as info:
            d.call("hall.issue_ticket", {"service": "bdc"})
            d.call("hall.call_next", {"window": "w3"})
            d.call("hall.finish", {"window": "w3", "matter": "nope"})
        assert info.value.code == errors.UNKNOWN_SERVICE
        d.call("hall.finish", {"window": "w3"})
        d.call("hall.rate", {"window": "w3", "score": 4})
        mortgage = serve("mortgage")
        default = serve(None)

        def arrived():
            got = {b["rating_id"]: b for b in province.records.values() if b.get("kind") == "rating"}
            return got if {mortgage, default} <= set(got) else None

        got = wait_for(arrived, timeout=30, what="the ratings at the province")
        assert got[mortgage]["matter_code"] == "11330100MB0003" and got[mortgage]["matter_name"] == "不动产抵押登记"
        assert got[mortgage]["matter"] == "mortgage" and "province_fields" not in got[mortgage]
        assert got[default]["matter_code"] == "11330100MB0001" and got[default]["impl_code"] == "IMP-1"
        assert got[default]["region_code"] == "330102000000"
        assert d.call("daemon.status")["pid"] == pid
    finally:
        province.down()

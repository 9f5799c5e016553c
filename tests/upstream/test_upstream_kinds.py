"""Which record kinds each sink takes (issue 22 item 4): an explicit list per sink, the province's
configurable as ``[hall.upstream] kinds`` (what a provincial payload profile will set), checked
with ``FILE:LINE KEY: reason``; a sink without an explicit list is refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hwd import config as configuration
from hwd import outbox
from hwd.errors import ConfigError
from hwd.upstream import notify, sinks as upstream_sinks

HALL = '''[hall]
name = "测试政务服务中心"
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc"]
[hall.upstream]
adapter = "push-json"
url = "https://hcp.example.gov.cn/api/evaluate"
secret = "s"
'''


def load(tmp_path, extra: str = ""):
    return configuration.loads(HALL + extra, tmp_path / "hwd.toml")


def test_the_default_sinks_name_their_kinds(tmp_path):
    cfg = load(tmp_path, '[hall.notify]\nurl = "https://notify.example/hwd"\nsecret = "n"\n').hall
    [province] = upstream_sinks(cfg)
    [notices] = notify.sinks(cfg)
    assert province.kinds == ("rating", "unrated", "case", "workorder", "exclusion")
    assert notices.kinds == ("phone_notice",)
    from hwd.county.sink import PostgresSink

    assert set(PostgresSink.kinds) == set(outbox.KINDS) - set(outbox.PRIVATE_KINDS)


def test_a_profile_sets_the_provinces_kinds(tmp_path):
    cfg = load(tmp_path, 'kinds = ["rating", "case"]\n').hall
    [province] = upstream_sinks(cfg)
    assert province.kinds == ("rating", "case")


def test_bad_kinds_are_each_reported_with_their_line(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, 'kinds = ["rating", "phone_notice", "tickets", "rating"]\n')
    problems = info.value.problems
    line = (HALL.count("\n") + 1)
    for index, why in ((1, "only the [hall.notify] sink takes it"), (2, "unknown record kind 'tickets'"),
                       (3, "'rating' is listed twice")):
        assert any(p.startswith(f"{tmp_path / 'hwd.toml'}:{line} hall.upstream.kinds[{index}]: ") and why in p
                   for p in problems), problems
    with pytest.raises(ConfigError) as info:
        load(tmp_path, 'kinds = []\n')
    assert any("hall.upstream.kinds: name at least one record kind" in p for p in info.value.problems)
    with pytest.raises(ConfigError) as info:
        load(tmp_path, 'kinds = "rating"\n')
    assert any("hall.upstream.kinds: expected an array" in p for p in info.value.problems)


def test_a_sink_without_an_explicit_list_is_refused(tmp_path):
    for kinds in (None, "rating"):
        with pytest.raises(ValueError, match="explicit list"):
            outbox.Worker(tmp_path / "x.sqlite3", [SimpleNamespace(name="s", kinds=kinds, backfill=True)])


def test_an_h5_template_takes_bare_placeholders_only(tmp_path):
    """``{case_no:>99999999}`` would pad every page URL to 100 MB; ``{case_no!r}`` quotes it."""
    for template in ("projNo={case_no:>99999999}", "projNo={case_no!r}", "projNo={case_no.__class__}"):
        with pytest.raises(ConfigError) as info:
            configuration.loads(HALL.replace('adapter = "push-json"', 'adapter = "h5"')
                                + f'h5_params = "{template}"\n', tmp_path / "hwd.toml")
        assert any("hall.upstream.h5_params:" in p for p in info.value.problems), info.value.problems

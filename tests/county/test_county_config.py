"""``[hall.central]`` is checked with the rest of the hall's config: every problem on its line,
``hwd --check`` exits 2; without the section the hall has no county sink at all."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, strategies as st

from hwd import config as configuration
from hwd.hall.config.central import HALL_ID_RE
from hwd.errors import ConfigError

HALL = '''[daemon]
state_dir = "state"
[hall]
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
[[hall.window]]
id = "1"
name = "1号窗口"
services = ["bdc"]
'''


def test_a_good_section_loads_and_no_section_means_none(tmp_path):
    assert configuration.loads(HALL, tmp_path / "h.toml").hall.central is None
    cfg = configuration.loads(HALL + '[hall.central]\ndsn = "host=county.example dbname=county sslmode=verify-full"\n'
                                     'hall_id = "zhouzhi-1"\n', tmp_path / "h.toml")
    assert cfg.hall.central.hall_id == "zhouzhi-1" and "sslmode=verify-full" in cfg.hall.central.dsn
    assert cfg.hall.central.heartbeat_s == 30.0


def test_every_mistake_is_reported_on_its_line(tmp_path):
    pytest.importorskip("psycopg", reason="the dsn is parsed by libpq through psycopg")
    text = HALL + '[hall.central]\ndsn = "host=a port"\nhall_id = "两个 words"\nheartbeat_s = 0\ncolour = 1\n'
    path = tmp_path / "h.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        configuration.load(path)
    lines = info.value.problems
    start = text.splitlines().index("[hall.central]") + 1
    assert any(line.startswith(f"{path}:{start + 1} hall.central.dsn: not a libpq connection string") for line in lines), lines
    assert any(line.startswith(f"{path}:{start + 2} hall.central.hall_id:") for line in lines), lines
    assert any(line.startswith(f"{path}:{start + 3} hall.central.heartbeat_s:") for line in lines), lines
    assert any(line.startswith(f"{path}:{start + 4} hall.central.colour:") for line in lines), lines
    out = subprocess.run([sys.executable, "-m", "hwd", "--config", str(path), "--check"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "hall.central.dsn" in out.stderr


def test_a_section_without_dsn_or_hall_id_says_which_is_missing(tmp_path):
    with pytest.raises(ConfigError) as info:
        configuration.loads(HALL + '[hall.central]\n', tmp_path / "h.toml")
    text = "\n".join(info.value.problems)
    assert "hall.central.dsn: required key is missing" in text and "hall.central.hall_id: required key is missing" in text


@given(st.one_of(st.text(max_size=80), st.from_regex(r"[a-z0-9]{1,8}\n?", fullmatch=True)))
def test_hall_ids_are_safe_names(value):
    """An id becomes part of keys and page links: only these characters, never a trailing newline."""
    if HALL_ID_RE.fullmatch(value):
        assert 1 <= len(value) <= 64 and all(c.isascii() and (c.isalnum() or c in "_.-") for c in value)

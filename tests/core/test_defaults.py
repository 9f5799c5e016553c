"""Each default is stated once, in its key's Field: the settings classes take theirs from the
Fields (hwd.schema.settings) and refuse a default of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwd import config
from hwd.schema import Field, settings
from hwd.web.passwords import stored_hash


def test_a_settings_class_takes_its_defaults_from_the_fields():
    fields = (Field("name", str), Field("port", int, 8080), Field("hosts", list, []))

    @settings(fields)
    class Section:
        name: str
        port: int
        hosts: list

    a, b = Section("x"), Section("y")
    assert (a.port, a.hosts) == (8080, [])
    a.hosts.append("h")
    assert b.hosts == [], "a list default is copied, not shared"


def test_a_default_stated_twice_or_a_key_without_a_type_is_refused_at_import():
    fields = (Field("port", int, 8080),)
    with pytest.raises(TypeError, match="the default is its Field's"):
        @settings(fields)
        class Twice:
            port: int = 8081
    with pytest.raises(TypeError, match="does not declare the key 'port'"):
        @settings(fields)
        class Missing:
            host: str = ""


def test_the_daemon_defaults_are_the_documented_ones(tmp_path):
    cfg = config.loads(f'[daemon]\nstate_dir = "{tmp_path}"\n', tmp_path / "h.toml").daemon
    for f in config.DAEMON_FIELDS:
        if f.default is not None:
            assert getattr(cfg, f.name) == f.default, f.name
    with pytest.raises(TypeError):
        config.DaemonConfig()  # rpc, events and state_dir are the loader's: no default


def test_a_password_file_counts_only_when_it_holds_a_hash(tmp_path: Path):
    hashed = "pbkdf2:sha256:600000$salt$" + "0" * 64
    path = tmp_path / "pw"
    path.write_text(hashed + "\n", encoding="utf-8")
    assert stored_hash(None, path) == hashed
    assert stored_hash("scrypt:1$a$b", path) == "scrypt:1$a$b", "the section's own hash wins"
    path.write_text("secret123\n", encoding="utf-8")
    assert stored_hash(None, path) is None, "plain text is no password"
    assert stored_hash(None, tmp_path / "missing") is None and stored_hash(None, None) is None

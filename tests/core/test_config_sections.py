"""Sections the core does not own ([hall], [ui], [central]) are found through the registry
(hwd.sections, the ``hwd.config_sections`` entry points): ``hwd --check`` checks them with the
rest of the file, the core imports an owner only when the file has its section, and a section of
hwd-central's file is refused in a hall PC's."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hwd import sections
from hwd.errors import ConfigError


def _check(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwd", "--config", str(path), "--check"],
                          capture_output=True, text=True, timeout=60)


def test_every_part_registers_its_section():
    assert {"hall", "ui", "central"} <= set(sections.names())
    assert sections.get("ui").reader == sections.get("hall").reader == sections.HALL_FILE
    assert sections.get("central").reader == "hwd-central"


def test_hwd_check_reports_a_ui_mistake_with_its_line(tmp_path):
    path = tmp_path / "hall.toml"
    path.write_text('[daemon]\nlog_level = "info"\n\n[ui]\nport = 80800\nmax_streem = 3\n', encoding="utf-8")
    proc = _check(path)
    assert proc.returncode == 2
    assert f"{path}:5 ui.port: 80800 is above the maximum 65535" in proc.stderr, proc.stderr
    assert f"{path}:6 ui.max_streem: unknown key (did you mean 'max_streams'?)" in proc.stderr, proc.stderr


def test_the_core_imports_a_sections_owner_only_when_the_file_has_it(tmp_path):
    path = tmp_path / "devices.toml"
    path.write_text('[daemon]\nlog_level = "info"\n', encoding="utf-8")
    code = ("import sys\nfrom hwd import config\nconfig.load(sys.argv[1])\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'kiosk_ui', 'central', 'flask'}), "
            "'hwd.hall' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[] False", out.stderr
    path.write_text('[ui]\nport = 9000\n', encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "['kiosk_ui'] False", out.stderr


def test_a_section_of_hwd_centrals_file_is_refused_in_a_hall_pcs(tmp_path):
    path = tmp_path / "hall.toml"
    path.write_text('[daemon]\nlog_level = "info"\n[central]\ndsn = "dbname=county"\n[uii]\n', encoding="utf-8")
    proc = _check(path)
    assert proc.returncode == 2
    assert f"{path}:3 central: [central] belongs in hwd-central's own config file" in proc.stderr, proc.stderr
    assert f"{path}:5 uii: unknown key (did you mean 'ui'?) (not a section hwd knows)" in proc.stderr, proc.stderr


def test_hwd_centrals_file_takes_its_section_only(tmp_path):
    from central import settings

    path = tmp_path / "central.toml"
    path.write_text('[central]\ndsn = "dbname=county"\ntimezone = "Asia"\n[ui]\nport = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        settings.load(path)
    assert info.value.problems == [f"{path}:3 central.timezone: unknown time zone 'Asia'",
                                   f"{path}:4 ui: unknown key (this file has only [central])"], info.value.problems
    path.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        settings.load(path)
    assert info.value.problems == [f"{path}:1 central: required section [central] is missing"], info.value.problems

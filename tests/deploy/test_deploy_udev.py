"""The udev rules: every line well-formed (known keys, operators, quoted values, GOTO labels that
exist), plus, when udevadm is here, udev's own parser over a scratch copy of the rules."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RULES = [REPO / "systemd" / "60-hwd.rules", REPO / "systemd" / "61-hwd-local.rules.example"]
MATCH_KEYS = {"ACTION", "KERNEL", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS", "ATTR", "ATTRS", "ENV", "TAG",
              "KERNELS", "DEVPATH", "PROGRAM", "RESULT", "TEST", "NAME", "SYMLINK", "CONST", "SYSCTL"}
ASSIGN_KEYS = {"GROUP", "OWNER", "MODE", "SYMLINK", "ENV", "TAG", "RUN", "IMPORT", "GOTO", "LABEL", "OPTIONS",
               "ATTR", "NAME", "SECLABEL", "SYSCTL"}
TOKEN = re.compile(r'\s*([A-Z_]+)(\{[^}]*\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')


def logical_lines(path: Path) -> list[tuple[int, str]]:
    out = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#") and path.suffix == ".example":
            stripped = stripped.lstrip("#").strip()
            if "==" not in stripped:
                continue
        if stripped and not stripped.startswith("#"):
            out.append((number, stripped))
    return out


def parse(line: str) -> list[tuple[str, str, str]]:
    pos, tokens = 0, []
    while pos < len(line):
        m = TOKEN.match(line, pos)
        assert m, f"cannot parse at column {pos}: {line[pos:]!r}"
        key, _attr, op, value, _sep = m.groups()
        tokens.append((key, op, value))
        pos = m.end()
    return tokens


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.name)
def test_rules_are_well_formed(path):
    labels, gotos = set(), set()
    for number, line in logical_lines(path):
        tokens = parse(line)
        for key, op, value in tokens:
            where = f"{path.name}:{number} {key}"
            if op in ("==", "!="):
                assert key in MATCH_KEYS, where
            else:
                assert key in ASSIGN_KEYS, where
            if key == "LABEL":
                labels.add(value)
            if key == "GOTO":
                gotos.add(value)
            if key == "MODE":
                assert re.fullmatch(r"0[0-7]{3}", value), where
            if key == "SYMLINK":
                assert value.startswith("hwd/"), f"{where}: links go under /dev/hwd/"
        unguarded = not any(op in ("==", "!=") for _, op, _ in tokens) and tokens[0][0] != "LABEL"
        if unguarded:  # a line without a match must sit in a block the GOTOs above restrict
            assert gotos - labels, f"{path.name}:{number} acts on every device"
    assert gotos <= labels, gotos - labels


def test_rules_cover_the_device_families():
    text = RULES[0].read_text()
    for vid in ("1a86", "10c4", "0403", "067b"):  # CH340, CP210x, FTDI, PL2303
        assert vid in text
    assert 'KERNEL=="lp[0-9]*"' in text and "usbmisc" in text and '"*:0701??:*"' in text
    assert 'GROUP="dialout"' in text and 'GROUP="lp"' in text and "ID_MM_DEVICE_IGNORE" in text


@pytest.mark.skipif(shutil.which("udevadm") is None or shutil.which("unshare") is None or os.geteuid() != 0,
                    reason="needs root, udevadm and unshare (a private mount namespace for the scratch rules)")
def test_udevadm_parses_the_rules(tmp_path):
    """udevadm test reads /etc/udev/rules.d: give it a private one with only our rules."""
    scratch = tmp_path / "rules.d"
    scratch.mkdir()
    shutil.copy(RULES[0], scratch / "60-hwd.rules")
    bad = tmp_path / "bad.d"
    bad.mkdir()
    (bad / "60-hwd.rules").write_text(RULES[0].read_text() + '\nFOOBAR=="x", GROUP="lp"\n')
    script = 'mount --bind "$1" /etc/udev/rules.d && udevadm test /sys/class/tty/tty 2>&1'
    outputs = {}
    for name, directory in (("good", scratch), ("bad", bad)):
        done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                               str(directory)], capture_output=True, text=True, timeout=60)
        if "60-hwd.rules" not in done.stdout:
            pytest.skip(f"udevadm test did not read the scratch rules here: {done.stdout[-300:]}{done.stderr[-300:]}")
        outputs[name] = [line for line in done.stdout.splitlines() if "60-hwd.rules:" in line]
    assert outputs["good"] == [], outputs["good"]
    assert any("FOOBAR" in line for line in outputs["bad"]), outputs["bad"]

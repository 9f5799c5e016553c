"""docs/config.md is generated from the key declarations; it must be current."""

from pathlib import Path

from hwd.configdoc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_config_reference_is_current():
    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m hwd.configdoc > docs/config.md"


def test_every_section_and_driver_is_documented():
    text = render()
    for heading in ("## `[daemon]`", "## `[[device]]`", "## `[hall]`", "### `[[hall.window]]`", "## `[ui]`",
                    "### printer `escpos`", "### display `frame`", "### idcard `sam`", "### keypad `serial`",
                    "### speaker `espeak`", "### scanner `evdev`"):
        assert heading in text

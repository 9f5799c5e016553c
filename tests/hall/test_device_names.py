"""The names people read for the demo hall's devices (hwd.hall.devices.names): what each is and
whom it serves, read from the [hall] tables of config/demo.toml as the admin pages, the counter
and the county show them."""

from __future__ import annotations

from pathlib import Path

from hwd import config as configuration
from hwd.hall.devices.names import device_names, kind_name

ROOT = Path(__file__).resolve().parents[2]


def test_every_demo_device_is_named_by_its_place_and_role():
    cfg = configuration.load(ROOT / "config" / "demo.toml")
    names = device_names(cfg.devices, cfg.hall)
    assert names["kiosk1-printer"] == "取号机 k1 打印机"
    assert names["desk1-printer"] == "一楼导办台 打印机"
    assert names["win1-led"] == "综合受理 1号窗口 窗口屏"
    assert names["win1-caller"] == "综合受理 1号窗口 评价器/呼叫器"   # no evaluator: its keypad does both
    # window 7 has a caller keypad and an evaluator on one bus: each says which it is
    assert names["win7-caller"] == "综合受理 7号窗口 呼叫器"
    assert names["win7-rate"] == "综合受理 7号窗口 评价器"
    assert names["win7-strip"] == "综合受理 7号窗口 窗口屏"
    assert names["hall-speaker"] == "大厅广播"              # one speaker of several windows
    assert set(names) == {d.id for d in cfg.devices}
    assert not any(d.id in names[d.id] for d in cfg.devices if d.id in ("win7-caller", "win7-rate"))


def test_an_evaluator_keypad_is_named_one_by_kind_too():
    cfg = configuration.load(ROOT / "config" / "demo.toml")
    kinds = {d.id: kind_name(d.kind, d.options) for d in cfg.devices}
    assert kinds["win7-rate"] == "评价器"
    assert kinds["win7-caller"] == kinds["win1-caller"] == "评价器/呼叫器"     # a caller rates where no evaluator does
    assert kinds["kiosk1-printer"] == "打印机"

"""Named keypad bus protocols (``protocol = "caller21"``) and the resolution of a device's
options into one frame description and command set.

Each preset says where its bytes come from; docs/drivers/keypad.md repeats the table. What a
source does not give is marked ``derived`` there and can be overridden in the config.
"""

from __future__ import annotations

from drivers.hexbytes import parse_hex
from drivers.keypad.busframe import BusFrameSpec

COMMANDS = ("poll", "text")

PRESETS: dict[str, dict] = {
    # 21键点阵液晶呼叫器通讯协议 (a 21-key caller with a dot-matrix LCD). The framing is public
    # (https://max.book118.com/html/2020/0406/7033135055002126.shtm, §1 通讯帧格式):
    #   ffH 68H 数据长度 数据长度 68H 通讯地址 命令字 数据区 校验和 16H, where 数据长度 counts the
    #   bytes from 通讯地址 up to the checksum. The public text stops before the command table, so
    #   the checksum coverage (sum of the counted bytes, as in the M-Bus long frame this shape is
    #   copied from, EN 13757-2) and the command bytes are derived, not from a source.
    "caller21": {
        "frame": ["FF", "68", "{len}", "{len}", "68", "{addr}", "{cmd}", "{data}", "{sum8}", "16"],
        "commands": {"poll": "01", "text": "02"},
        "encoding": "gb2312",
        "baudrate": 9600,
    },
}

DEFAULT = {
    "frame": PRESETS["caller21"]["frame"],
    "commands": PRESETS["caller21"]["commands"],
    "encoding": "gb2312",
    "baudrate": 9600,
}


def resolved(options: dict) -> dict:
    """The preset's values under the device's explicit ones."""
    base = dict(PRESETS.get(options.get("protocol") or "", DEFAULT))
    for key in ("frame", "encoding", "baudrate"):
        if options.get(key) is not None:
            base[key] = options[key]
    base["commands"] = {**base["commands"], **(options.get("commands") or {})}
    base["length_from"] = options.get("length_from")
    base["checksum_from"] = options.get("checksum_from")
    return base


def build_spec(options: dict) -> BusFrameSpec:
    r = resolved(options)
    return BusFrameSpec.parse(r["frame"], r["length_from"], r["checksum_from"])


def command_bytes(options: dict) -> dict[str, int]:
    """``{poll: 0x01, text: 0x02}``; ValueError names a bad entry."""
    out: dict[str, int] = {}
    for name, value in resolved(options)["commands"].items():
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}; known: {', '.join(COMMANDS)}")
        data = parse_hex(str(value))
        if len(data) != 1:
            raise ValueError(f"command {name} is one byte, e.g. \"01\"")
        out[name] = data[0]
    return out

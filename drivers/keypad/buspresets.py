"""Named keypad bus protocols (``protocol = "caller21"``) and the resolution of a device's
options into one frame description, command set and acknowledgement rule.

Each preset says where its bytes come from; docs/drivers/keypad.md repeats the table. What a
source does not give is marked ``derived`` there and can be overridden in the config.

A command is a function code and, for some, fixed data after it: ``evaluate = "01 0B"`` is
FUNC 01 with the data byte 0B. ``key`` is the function code a keypad sends its key frames
with (the emulator's; the driver takes a frame at the keypad's address whatever its code, as
both public sources do).
"""

from __future__ import annotations

from drivers.hexbytes import parse_hex
from drivers.keypad.busframe import BusFrameSpec

COMMANDS = ("poll", "text", "key", "beep", "evaluate", "stars")
ROLES = ("caller", "evaluator")
ACKS = ("echo", "none")

PRESETS: dict[str, dict] = {
    # 21键点阵液晶呼叫器通讯协议 (a 21-key caller with a dot-matrix LCD). The framing is public
    # (https://max.book118.com/html/2020/0406/7033135055002126.shtm, §1 通讯帧格式):
    #   ffH 68H 数据长度 数据长度 68H 通讯地址 命令字 数据区 校验和 16H, where 数据长度 counts the
    #   bytes from 通讯地址 up to the checksum; the checksum is the 8-bit sum of those bytes, as
    #   JackQChen/QueueSystem CallSystem/CallSystem/frmMain.cs (SendTicket, SendWait, SendBeep) and
    #   uvbs/HospitalQueueSystem NurseStation/com/SLZCCaller.cpp (ShowSystemNum) compute it.
    # Function codes, uvbs/HospitalQueueSystem NurseStation/com/HardWareDef.h: 02 caller display
    # (HARDWARE_CALLER_SHOW), 03 system calls the caller (HARDWARE_CALLER_SYSTEM; JackQChen's
    # SendBeep), 11 evaluator to system (HARDWARE_EVALTOR_TOSYS), 01 system to evaluator
    # (HARDWARE_EVALTOR_TOEVA) with 0B to start an evaluation (HARDWARE_EVALTOR_TOSTART +
    # HARDWARE_CALLER_WAIT), 02 stars (HARDWARE_EVALTOR_TOSTAR) with the level 0-5. ``poll`` and a
    # caller's ``key`` code 01 are derived: neither source polls nor looks at a key frame's code.
    "caller21": {
        "frame": ["FF", "68", "{len}", "{len}", "68", "{addr}", "{cmd}", "{data}", "{sum8}", "16"],
        "commands": {
            "caller": {"poll": "01", "key": "01", "text": "02", "beep": "03"},
            "evaluator": {"poll": "01", "key": "11", "evaluate": "01 0B", "stars": "02"},
        },
        # every key frame is written back (JackQChen frmMain.cs sp_DataReceived, uvbs
        # NurseStation/com/DoComInOut.cpp ReadCallerThread); an evaluator's (FUNC 11) goes back
        # as FUNC 01, the rest of the frame unchanged (its checksum 0x10 lower)
        "ack": "echo",
        "ack_rewrite": {0x11: 0x01},
        "encoding": "gb2312",
        "baudrate": 9600,
    },
}

DEFAULT = PRESETS["caller21"]


def resolved(options: dict) -> dict:
    """The preset's values under the device's explicit ones."""
    base = PRESETS.get(options.get("protocol") or "", DEFAULT)
    out = {key: base[key] for key in ("frame", "encoding", "baudrate")}
    for key in ("frame", "encoding", "baudrate"):
        if options.get(key) is not None:
            out[key] = options[key]
    role = options.get("role") or "caller"
    out["role"] = role
    out["commands"] = {**base["commands"].get(role, {}), **(options.get("commands") or {})}
    out["ack"] = options.get("ack") or base["ack"]
    out["ack_rewrite"] = dict(base["ack_rewrite"])
    out["length_from"] = options.get("length_from")
    out["checksum_from"] = options.get("checksum_from")
    return out


def build_spec(options: dict) -> BusFrameSpec:
    r = resolved(options)
    return BusFrameSpec.parse(r["frame"], r["length_from"], r["checksum_from"])


def command_bytes(options: dict) -> dict[str, bytes]:
    """``{poll: b"\\x01", evaluate: b"\\x01\\x0b", …}``: the function code, then any fixed data;
    ValueError names a bad entry."""
    out: dict[str, bytes] = {}
    for name, value in resolved(options)["commands"].items():
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}; known: {', '.join(COMMANDS)}")
        data = parse_hex(str(value))
        if not data:
            raise ValueError(f"command {name} needs its function code, e.g. \"01\"")
        out[name] = data
    return out


def ack_frame(spec: BusFrameSpec, frame, rewrite: dict[int, int]) -> bytes:
    """What the host writes back for a key frame: the frame itself, or for a function code in
    ``rewrite`` the same frame with the rewritten code (and its checksum)."""
    if frame.cmd in rewrite:
        return spec.encode(frame.addr, rewrite[frame.cmd], frame.data)
    return frame.raw

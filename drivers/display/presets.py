"""Named window-screen protocols (``protocol = "…"`` on a ``frame`` display), each from public code.

A preset is what that vendor's own software sends: the frame (as DSL tokens where that reads
well, else a codec in ``vendors/``), its init frame, its text encoding. With a preset, a device
needs only ``address``; the frame keys (``frame``, ``escape``, ``init``, …) are refused, since
they would silently disagree with the vendor. docs/drivers/display.md lists the sources.

The queue-system screens come from wangenheng/gitHub ``workspace-latest/queue/screen/<model>/
<model>.cpp`` (vendor names in ``queue/cfg/framework.ini`` and each model's header); their text
is whatever the Windows program's ``char*`` holds, i.e. the ANSI code page 936, GBK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from drivers.display.codec import DslCodec
from drivers.display.protocol import FrameSpec

Q = "wangenheng/gitHub workspace-latest/queue/screen"


@dataclass(frozen=True)
class Preset:
    name: str
    vendor: str
    source: str
    encoding: str
    frame: list[str] | None = None
    init: list[list[str]] = field(default_factory=list)
    codec: Callable[[dict], Any] | None = None     # for presets written as code
    connect: list[list[str]] = field(default_factory=list)   # frames sent once on (re)connecting

    def build(self, opts: dict) -> Any:
        if self.codec is not None:
            return self.codec(opts)
        codec = DslCodec(FrameSpec.parse(self.frame, payload="text"),
                         [FrameSpec.parse(f, payload="text", need_payload=False) for f in self.init],
                         encoding=self.encoding,
                         connect=[FrameSpec.parse(f, payload="text", need_payload=False) for f in self.connect])
        codec.one_string = True
        return codec


def _onbon(opts: dict) -> Any:
    from drivers.display.vendors.onbon import OnbonCodec

    lines = max(1, int(opts.get("lines") or 1))
    return OnbonCodec(width=opts.get("width") or 64, height=opts.get("height") or 16 * lines)


def _ruize(opts: dict) -> Any:
    from drivers.display.vendors.ruize import RuizeCodec

    return RuizeCodec()


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("onbon-bx5", "仰邦 Onbon BX-5/BX-6 (font card, dynamic area)",
           "strongercjd/Onbon-Protocol-Analysis Onbon Protocol analysis/Form1.cs "
           "(and the capture in Form1.resx)", "gb2312", codec=_onbon),
    Preset("pinganlihe", "平安力合 (IMM9002/IMM90022)",
           f"{Q}/IMM9002/IMM9002.cpp IMM9002::PacketMessage", "gbk",
           # sum8 of everything after it, end marker included (str_crc(buf, 6, bytes, 256))
           frame=["AA", "{addr}", "BB 51 54", "{sum8 from=4 to=6}", "01 00 99 00 63", "{text}", "FF"]),
    Preset("ruize", "瑞泽 (IMM9003)", f"{Q}/IMM9003/IMM9003.cpp IMM9003::PacketMessage", "gbk",
           codec=_ruize),
    Preset("yongtai", "永泰新欣 (IMM90061)",
           f"{Q}/IMM90061/IMM90061.cpp PackStripScreenMsg, PackInitMessage", "gbk",
           frame=["AA 55", "{len over=2-5}", "{addr}", "F8 21 00", "{text}", "00"],
           # 8 bytes, sent as 29 (the rest of the zeroed buffer); carries the text's length
           init=[["AA 55 04", "{addr}", "F8 51", "{len}", "00" * 22]]),
    # The same A0 90 frame drives uvbs/HospitalQueueSystem's strip screens (NurseStation/com/
    # SLZCWndScreen.cpp): the byte after each character is its colour (DoScreenMsg), the length is
    # written n / 255, n % 255, and InitScreen's A0 90 addr A1 00 00 xor comes first.
    Preset("zhongyi", "重庆中意 (IMM9012)",
           f"{Q}/IMM9012/IMM9012.cpp IMM9012::PacketMessage, dataTrans; uvbs/HospitalQueueSystem "
           "NurseStation/com/SLZCWndScreen.cpp DoScreenMsg, InitScreen",
           "gbk", frame=["A0 90", "{addr}", "A5", "{len16 over=4 base=255}", "{text color_interleave}",
                         "{xor8 from=1 to=4}"],
           connect=[["A0 90", "{addr}", "A1", "00 00", "{xor8 from=1 to=3}"]]),
    Preset("yinda", "银达汇智 (IMM9013)",
           f"{Q}/IMM9013/IMM9013.cpp IMM9013::PacketMessage; framework/src/CracksAlgorithm.cpp CRC16_CCITT",
           "gbk", frame=["{addr}", "FE", "{len over=0-7}", "{seq start=1 modulo=257}", "86 3C 00 05 00", "{text}",
                         "00", "{CRC-16/XMODEM from=0 to=6 order=be}"]),
)}

# keys a preset decides; setting one next to ``protocol`` is a config error
FRAME_KEYS = ("frame", "escape", "checksum_from", "len_adjust", "init", "commit", "connect", "line_separator")

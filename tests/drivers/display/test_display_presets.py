"""The six window-screen presets against frames rebuilt from each vendor's own public code.

Every ``ref_*`` function below is a small, independent transcription of the reference code, step
by step, with the file, function and lines it mirrors; none of it calls hwd's encoders. The
presets must produce the same bytes for the three things a window screen shows all day: the
window's name (idle), a call, and 暂停服务.

References (read with the search tools):
- Q = wangenheng/gitHub @ 3d5ccf1aee5650ad911affcfaf472f47db71e72b, ``workspace-latest/``;
  vendor names in ``queue/cfg/framework.ini`` lines 10–17 (IMM9002 平安力合, IMM9003 瑞泽, IMM9012
  重庆中意); the two it does not list are named in the code: IMM90061 永泰新欣 in
  ``queue/screen/IMM90061/IMM90061.h`` line 4 and ``IMM90061.cpp`` line 160, IMM9013 银达汇智 in
  ``framework/src/CracksAlgorithm.h`` (``// 协议 - 重庆-银达汇智 CRC16`` above CRC16_CCITT).
- O = strongercjd/Onbon-Protocol-Analysis @ 082a0636995a0d6fce91306153020c4c2aaffad6,
  ``Onbon Protocol analysis/Form1.cs``; the capture in ``Form1.resx`` at its first commit 89f5b0e
  (line 121), a frame sent by Onbon's own software.

The queue programs are Windows ``char*`` code: their text is the ANSI code page 936 (GBK).
"""

from __future__ import annotations

import pytest

from drivers.display.presets import PRESETS

ADDR = 5
NAME = "5号窗口"
# what the hall shows (hwd/hall/views.py screen_lines) and, joined, what a one-string screen gets
MESSAGES = {
    "idle": ([NAME], NAME),
    "call": (["请A023号", NAME], "请A023号 5号窗口"),
    "paused": ([NAME, "暂停服务"], "5号窗口 暂停服务"),
    "暂停服务": (["暂停服务"], "暂停服务"),
}


def gbk(text: str) -> bytes:
    return text.encode("gbk")


def codec(name: str, **opts):
    return PRESETS[name].build({"protocol": name, "address": ADDR, **opts})


# -- Q framework/src/CracksAlgorithm.cpp -------------------------------------------------------
def ref_str_crc(buf: bytearray, beg: int, end: int, mode: int) -> int:
    """CracksAlgorithm::str_crc, lines 16–26: the sum of buf[beg:end] modulo ``mode``."""
    total = 0
    for i in range(beg, end):
        total += buf[i]
    return total % mode


def ref_str_xor(buf: bytearray, beg: int, end: int) -> int:
    """CracksAlgorithm::str_xor, lines 5–13."""
    value = 0
    for i in range(beg, end):
        value ^= buf[i]
    return value


def ref_crc16_ccitt(msg: bytes) -> int:
    """CracksAlgorithm::CRC16_CCITT, the live code of lines 75–91 (the reflected variant above it
    is commented out): wCRCin = 0, poly 0x1021, MSB first, no final XOR."""
    crc = 0x0000
    for ch in msg:
        crc ^= ch << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF    # unsigned short
    return crc


# -- 平安力合: Q queue/screen/IMM9002/IMM9002.cpp --------------------------------------------------
def ref_imm9002_packet(text: bytes, addr: int) -> bytes:
    """IMM9002::PacketMessage, lines 248–272 (IMM90022.cpp lines 311–335 is the same)."""
    buf = bytearray(1024)
    buf[0:11] = bytes([0xAA, addr & 0xFF, 0xBB, 0x51, 0x54, 0x00, 0x01, 0x00, 0x99, 0x00, 0x63])
    buf[11:11 + len(text)] = text                       # memcpy(sendBuffer+11, ...)
    n = 11 + len(text)
    buf[n] = 0xFF                                       # sendBuffer[bytes++] = 0XFF
    n += 1
    buf[5] = ref_str_crc(buf, 6, n, 256)                # checksum after the end marker is placed
    return bytes(buf[:n])


# -- 瑞泽: Q queue/screen/IMM9003/IMM9003.cpp -----------------------------------------------------
def ref_imm9003_packet(text: bytes, addr: int) -> bytes:
    """IMM9003::PacketMessage, lines 278–314."""
    buf = bytearray(1024)
    if addr < 64:
        buf[0], buf[1] = addr + 0x80, 0xC0
    elif addr < 128:
        buf[0], buf[1] = addr + 0x40, 0xC1
    elif addr < 192:
        buf[0], buf[1] = addr, 0xC2
    elif addr < 256:
        buf[0], buf[1] = addr - 0x40, 0xC3
    buf[2] = 0x44
    index = 3
    for b in text:
        if b & 0x80:                                    # 是汉字
            buf[index] = (b & 0xF0) >> 4
            buf[index + 1] = b & 0x0F
            index += 2
        else:
            buf[index] = b
            index += 1
    buf[index] = 0x1A
    return bytes(buf[:index + 1])


# -- 永泰新欣: Q queue/screen/IMM90061/IMM90061.cpp -------------------------------------------------
class RefIMM90061:
    """SendStripScreen (lines 161–181) packs the message first (PackStripScreenMsg, 280–303, which
    sets m_Len), then the init message (PackInitMessage, 262–278, which returns 29: the 8 bytes it
    wrote and 21 bytes of the zeroed 512-byte buffer), and writes the init message first."""

    def __init__(self) -> None:
        self.m_len = 0

    def pack_strip(self, text: bytes, addr: int) -> bytes:
        buf = bytearray(1024)
        buf[0:7] = bytes([0xAA, 0x55, 0x00, addr & 0xFF, 0xF8, 0x21, 0x00])
        buf[7:7 + len(text)] = text
        n = 7 + len(text)
        buf[n] = 0x00
        n += 1
        buf[2] = (n - 3) & 0xFF                         # 报文长度
        self.m_len = len(text)
        return bytes(buf[:n])

    def pack_init(self, addr: int) -> bytes:
        buf = bytearray(512)
        buf[0:8] = bytes([0xAA, 0x55, 0x04, addr & 0xFF, 0xF8, 0x51, self.m_len & 0xFF, 0x00])
        return bytes(buf[:29])

    def send_strip(self, text: bytes, addr: int) -> list[bytes]:
        message = self.pack_strip(text, addr)
        init = self.pack_init(addr)
        return [init, message]


# -- 重庆中意: Q queue/screen/IMM9012/IMM9012.cpp ---------------------------------------------------
def ref_imm9012_data_trans(pre: bytes) -> bytes:
    """IMM9012::dataTrans, lines 272–295: after each character (ASCII byte or two-byte 汉字) a 00."""
    aft = bytearray(1024)
    k = 0
    i = 0
    data = pre + b"\x00"                                # the C string's terminator
    while i < len(pre):
        if data[i] & 0x80:
            aft[k] = data[i]
            i += 1
            k += 1
            aft[k] = data[i]
            k += 1
            aft[k] = 0x00
        else:
            aft[k] = data[i]
            k += 1
            aft[k] = 0x00
        k += 1
        i += 1
    return bytes(aft[:k])


def ref_imm9012_packet(text: bytes, addr: int) -> bytes:
    """IMM9012::PacketMessage, lines 248–270."""
    aft = ref_imm9012_data_trans(text)
    n = len(aft)
    buf = bytearray(1024)
    buf[0:6] = bytes([0xA0, 0x90, addr & 0xFF, 0xA5, n // 256, n % 256])
    buf[6:6 + n] = aft
    size = 6 + n
    buf[size] = ref_str_xor(buf, 2, 6 + n)
    return bytes(buf[:size + 1])


# -- 银达汇智: Q queue/screen/IMM9013/IMM9013.cpp ---------------------------------------------------
class RefIMM9013:
    """IMM9013::PacketMessage, lines 248–285, with its ``static int count``."""

    def __init__(self) -> None:
        self.count = 0

    def packet(self, text: bytes, addr: int) -> bytes:
        if self.count > 255:
            self.count = 0
        else:
            self.count += 1
        buf = bytearray(1024)
        n = len(text)
        buf[0:9] = bytes([addr & 0xFF, 0xFE, (n + 12) & 0xFF, self.count & 0xFF, 0x86, 0x3C, 0x00, 0x05, 0x00])
        buf[9:9 + n] = text
        size = 9 + n
        buf[size] = 0
        size += 1
        k = ref_crc16_ccitt(bytes(buf[:size]))
        buf[size] = k // 256
        buf[size + 1] = k % 256
        size += 2
        buf[2] = size & 0xFF
        return bytes(buf[:size])


# -- Onbon: O Onbon Protocol analysis/Form1.cs ---------------------------------------------------
CAPTURE = bytes.fromhex(  # O Form1.resx @ 89f5b0e line 121: Onbon's software updating one dynamic area
    "a5a5a5a5a5a5a5a5 feff 0080 000000 00 00 00 64 02 4f00 a306 01 0000 00 01"
    " 4600 00 0080 0000 2080 2000 00 00 00 0a00 02 00 00 00 18000000"
    " c9cfbaa3d1f6b0eebfc6bcbcb9c9b7ddd3d0cfdeb9abcbbe 00 00 01 01 03 00 02 0a 0c000000"
    " d1f6b0eeb2e2cad432303139 21f9 5a".replace(" ", ""))


def ref_onbon_crc16(data: bytes) -> int:
    """Form1.cs ``crc16``, lines 2140–2167: crc = 0, reflected poly 0xA001 (CRC-16/ARC)."""
    crc = 0x0
    for b in data:
        crc = b ^ crc
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 0x1 == 1 else crc >> 1
    return crc


def ref_onbon_unescape(wire: bytes) -> bytes:
    """Form1.cs ``Data_deal_with``, lines 4743–4929: the receive state machine (leading A5s, then
    A6 01→A6, A6 02→A5, 5B 01→5B, 5B 02→5A, the last 5A ends the frame)."""
    out = bytearray()
    state = 0
    for j, b in enumerate(wire):
        if b == 0xA5:
            if state in (2, 3, 4):
                out.append(b)
                state = 4
            else:
                state = 1
        elif state != 0:
            if b == 0x5A:
                if j + 1 < len(wire):
                    out.append(b)
                    state = 4
            elif b == 0xA6:
                state = 2
            elif b == 0x5B:
                state = 3
            elif b in (0x01, 0x02) and state in (2, 3):
                out.append({(2, 1): 0xA6, (2, 2): 0xA5, (3, 1): 0x5B, (3, 2): 0x5A}[(state, b)])
                state = 1
            elif b in (0x01, 0x02):
                out.append(b)
                state = 4
            else:                                       # the default: branch
                if state == 3:
                    out.append(0x5B)
                elif state == 2:
                    out.append(0x6A)                    # sic: the analyser writes 6A, not A6
                out.append(b)
                state = 4
    return bytes(out)


def ref_onbon_escape(body: bytes) -> bytes:
    """The inverse of ref_onbon_unescape (what a sender does so that the analyser reads ``body``)."""
    table = {0xA5: b"\xA6\x02", 0xA6: b"\xA6\x01", 0x5A: b"\x5B\x02", 0x5B: b"\x5B\x01"}
    return b"".join(table.get(b, bytes([b])) for b in body)


def ref_onbon_area(text: bytes, area_id: int, y: int, width: int, height: int, display_mode: int) -> bytes:
    """One area in the order of Font_Card_Protocol_area_data_string_init (lines 2048–2118) as read by
    Font_Card_Area_Data_Protocol (4281–4657): 区域数据长度(2) 区域类型 X Y 宽 高 (2 each; bit 15 of X and
    width = pixels, line 4362) 动态区编号 行间距 运行模式 超时(2) 是否使能语音 (0: the five voice
    fields are absent, line 4516) 扩展位个数 (0: the next two are absent, line 4479) 字体对齐 单行 自动换行 显示方式
    退出方式 速度 停留时间 显示数据长度(4) 显示数据. Values not tied to the content are the capture's."""
    le = lambda v, n: v.to_bytes(n, "little")  # noqa: E731
    body = bytes([0x00]) + le(0 | 0x8000, 2) + le(y, 2) + le(width | 0x8000, 2) + le(height, 2)
    body += bytes([area_id, 0x00, 0x00]) + le(10, 2) + bytes([0x00])
    body += bytes([0x00]) + bytes([0x00, 0x01, 0x01, display_mode, 0x00, 0x02, 0x0A])
    body += le(len(text), 4) + text
    return le(len(body), 2) + body


def ref_onbon_frame(dst: int, areas: list[bytes]) -> bytes:
    """Header in the order of Font_Card_Protocol_header_string_init (lines 1487–1521): 屏地址(2)
    源地址(2) 保留(3) 是否有条码 校验模式 显示模式 设备类型 协议版本号 (0x02, checked at line 3242)
    数据域长度(2); then A3 06 per Font_Card_Protocol_A3_06_cmd_string_init (1993–2021); the CRC (LE,
    lines 3405–3407) over everything before it; escaped; A5×8 and 5A as in the capture."""
    data = bytes([0xA3, 0x06, 0x01, 0x00, 0x00, 0x00, len(areas)]) + b"".join(areas)
    header = dst.to_bytes(2, "little") + (0x8000).to_bytes(2, "little") + bytes(3)
    header += bytes([0x00, 0x00, 0x00, 0x64, 0x02]) + len(data).to_bytes(2, "little")
    body = header + data
    crc = ref_onbon_crc16(body)
    return b"\xA5" * 8 + ref_onbon_escape(body + bytes([crc & 0xFF, crc >> 8])) + b"\x5A"


def test_reference_onbon_transcription_reads_the_capture():
    """The transcription itself is checked on the real capture: CRC and the data length agree."""
    body = ref_onbon_unescape(CAPTURE)
    assert ref_onbon_crc16(body[:-2]) == body[-2] | body[-1] << 8
    assert int.from_bytes(body[12:14], "little") == len(body) - 14 - 2
    assert body.endswith("仰邦测试2019".encode("gb2312") + body[-2:])
    # and the area rebuilt by ref_onbon_area has the capture's layout once the voice is put back
    area = ref_onbon_area("仰邦测试2019".encode("gb2312"), 0, 0, 32, 32, 0x03)
    voice = bytes([0x02, 0, 0, 0]) + (24).to_bytes(4, "little") + "上海仰邦科技股份有限公司".encode("gb2312")
    spoken = area[2:16] + voice + area[17:]
    assert (len(spoken)).to_bytes(2, "little") + spoken == body[21:-2]


# -- the presets, message by message ---------------------------------------------------------
@pytest.mark.parametrize("message", list(MESSAGES))
def test_pinganlihe(message):
    text = MESSAGES[message][1]
    assert codec("pinganlihe").update([gbk(text)], ADDR, "static") == [ref_imm9002_packet(gbk(text), ADDR)]


@pytest.mark.parametrize("message", list(MESSAGES))
@pytest.mark.parametrize("addr", [5, 70, 130, 200])
def test_ruize(message, addr):
    text = MESSAGES[message][1]
    assert codec("ruize").update([gbk(text)], addr, "static") == [ref_imm9003_packet(gbk(text), addr)]


@pytest.mark.parametrize("message", list(MESSAGES))
def test_yongtai_sends_its_init_frame_first(message):
    text = MESSAGES[message][1]
    frames = codec("yongtai").update([gbk(text)], ADDR, "static")
    assert frames == RefIMM90061().send_strip(gbk(text), ADDR)
    assert len(frames[0]) == 29


@pytest.mark.parametrize("message", list(MESSAGES))
def test_zhongyi(message):
    text = MESSAGES[message][1]
    assert codec("zhongyi").update([gbk(text)], ADDR, "static") == [ref_imm9012_packet(gbk(text), ADDR)]


def test_yinda_with_its_rolling_sequence_byte():
    ours, ref = codec("yinda"), RefIMM9013()
    texts = [MESSAGES[m][1] for m in MESSAGES]
    # 300 updates: past the reference's wrap (…, FF, 00 for count 256, 00 again, 01, …)
    for i in range(300):
        text = gbk(texts[i % len(texts)])
        assert ours.update([text], ADDR, "static") == [ref.packet(text, ADDR)], f"update {i}"


@pytest.mark.parametrize("message", list(MESSAGES))
def test_onbon_bx5(message):
    lines, text = MESSAGES[message]
    frames = codec("onbon-bx5").update([text.encode("gb2312")], ADDR, "static")
    want = ref_onbon_frame(ADDR, [ref_onbon_area(text.encode("gb2312"), 0, 0, 64, 16, 0x01)])
    assert frames == [want]
    body = ref_onbon_unescape(want)
    assert ref_onbon_crc16(body[:-2]) == int.from_bytes(body[-2:], "little")


def test_onbon_bx5_two_lines_are_two_areas():
    lines = [t.encode("gb2312") for t in ("请A023号", NAME)]
    frames = codec("onbon-bx5", width=64, height=32).update(lines, 0x1234, "scroll")
    want = ref_onbon_frame(0x1234, [ref_onbon_area(lines[0], 0, 0, 64, 16, 0x03),
                                    ref_onbon_area(lines[1], 1, 16, 64, 16, 0x03)])
    assert frames == [want]


def test_onbon_codec_rebuilds_the_capture_of_onbons_software():
    from drivers.display.vendors import onbon

    area = onbon.Area("仰邦测试2019".encode("gb2312"), width=32, height=32, voice=2,
                      voice_text="上海仰邦科技股份有限公司".encode("gb2312"), display_mode=0x03)
    assert onbon.frame(0xFFFE, [area]) == CAPTURE


def test_onbon_escapes_markers_in_address_and_crc():
    # address 0x5AA5 puts both markers in the header; the reference escapes them
    text = "请A023号".encode("gb2312")
    frames = codec("onbon-bx5").update([text], 0x5AA5, "static")
    assert frames == [ref_onbon_frame(0x5AA5, [ref_onbon_area(text, 0, 0, 64, 16, 0x01)])]
    assert b"\x5A" not in frames[0][8:-1] and b"\xA5" not in frames[0][8:-1]


# -- the emulator understands each preset ------------------------------------------------------
REFERENCE_FRAMES = {
    "pinganlihe": lambda text, addr: [ref_imm9002_packet(gbk(text), addr)],
    "ruize": lambda text, addr: [ref_imm9003_packet(gbk(text), addr)],
    "yongtai": lambda text, addr: RefIMM90061().send_strip(gbk(text), addr),
    "zhongyi": lambda text, addr: [ref_imm9012_packet(gbk(text), addr)],
    "yinda": lambda text, addr: [RefIMM9013().packet(gbk(text), addr)],
    "onbon-bx5": lambda text, addr: [ref_onbon_frame(addr, [ref_onbon_area(text.encode("gb2312"), 0, 0, 64, 16, 1)])],
}


def decoded_texts(name: str, stream: bytes, chunk: int = 3):
    dec = codec(name).decoder()
    out = []
    for i in range(0, len(stream), chunk):
        out += dec.feed(stream[i:i + chunk])
    return out


@pytest.mark.parametrize("name", sorted(REFERENCE_FRAMES))
def test_emulator_decoder_reads_reference_frames_and_rejects_corrupt_ones(name):
    from drivers.display.protocol import Frame
    from hwd.stream import Skip

    enc = PRESETS[name].encoding
    texts = [MESSAGES[m][1] for m in MESSAGES]
    stream = b"".join(f for t in texts for f in REFERENCE_FRAMES[name](t, ADDR))
    results = decoded_texts(name, stream)
    frames = [r for r in results if isinstance(r, Frame) and r.fields.get("kind", "data") == "data"]
    got = [(r.fields["lines"][0] if "lines" in r.fields else r.fields["text"]).decode(enc) for r in frames]
    assert got == texts
    assert all(r.fields["addr"] == ADDR for r in frames)
    assert not [r for r in results if isinstance(r, Skip)]
    if name == "yongtai":
        assert sum(1 for r in results if isinstance(r, Frame) and r.fields.get("kind") == "init") == len(texts)
    # one flipped bit in the text is caught by the check; ruize and yongtai have none, so there
    # a broken frame is one whose framing does not hold (a text byte ≥ 0x80, a wrong length)
    good = REFERENCE_FRAMES[name]("请A023号", ADDR)[-1]
    bad = bytearray(good)
    if name == "yongtai":
        bad[2] += 1
    else:
        bad[len(bad) - 4] ^= 0x01 if name != "ruize" else 0x80
    results = decoded_texts(name, bytes(bad) + good)
    assert any(isinstance(r, Skip) and not r.noise for r in results), results
    last = [r for r in results if isinstance(r, Frame)][-1]
    assert (last.fields["lines"][0] if "lines" in last.fields else last.fields["text"]) == \
        ("请A023号".encode("gb2312") if name == "onbon-bx5" else gbk("请A023号"))


# -- config ------------------------------------------------------------------------------------
def test_every_preset_is_documented_with_its_source():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs/drivers/display.md").read_text()
    for name, preset in PRESETS.items():
        assert f'"{name}"' in doc, name
        assert preset.source.split()[0] in doc, name


def test_the_call_bytes_in_the_docs_are_the_references():
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs/drivers/display.md").read_text()
    block = doc[doc.index("A call at address 5"):]
    block = block[block.index("```") + 3:]
    block = block[:block.index("```")]
    rows: dict[str, str] = {}
    name = ""
    for line in block.splitlines():
        head = line[:12].strip()
        name = head or name
        rows[name] = rows.get(name, "") + " " + line[12:].replace("+ 21 × 00, then", "00 " * 21)
    text = MESSAGES["call"][1]
    for preset, ref in REFERENCE_FRAMES.items():
        wire = bytes.fromhex(re.sub(r"\s+", "", rows[preset]))
        assert wire == b"".join(ref(text, ADDR)), preset


def test_protocol_with_frame_keys_is_a_config_error(tmp_path):
    import subprocess
    import sys

    cfg = tmp_path / "bad.toml"
    cfg.write_text(f'''[daemon]
state_dir = "{tmp_path}/state"
rpc = "ipc://{tmp_path}/rpc"
events = "ipc://{tmp_path}/events"

[[device]]
id = "w"
kind = "display"
driver = "frame"
url = "sim://w"
protocol = "yinda"
address = 3
frame = ["A5", "{{addr}}", "{{text}}", "5A"]
escape = {{ A5 = "A602" }}

[[device]]
id = "v"
kind = "display"
driver = "frame"
url = "sim://v"
protocol = "onbon"

[[device]]
id = "u"
kind = "display"
driver = "frame"
url = "sim://u"
protocol = "ruize"
address = 300
''')
    out = subprocess.run([sys.executable, "-m", "hwd", "--config", str(cfg), "--check"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert "device[0].frame: protocol = 'yinda' decides the frame" in text, text
    assert "device[0].escape: protocol = 'yinda' decides the frame" in text, text
    assert "device[1].protocol" in text and "onbon-bx5" in text, text
    assert "device[2].address: address 300 is outside 0-255" in text, text


# -- through a real hwd: driver ↔ pty ↔ emulated bus ---------------------------------------------
def preset_screen(device_id: str, protocol: str, address: int, bus: str) -> str:
    return f'''
[[device]]
id = "{device_id}"
kind = "display"
driver = "frame"
url = "sim://{bus}"
protocol = "{protocol}"
address = {address}
'''


def test_presets_through_the_daemon_send_the_vendors_bytes(hwd_daemon):
    from support.waits import wait_for

    d = hwd_daemon(preset_screen("yt5", "yongtai", 5, "yt") + preset_screen("yt6", "yongtai", 6, "yt")
                   + preset_screen("yd7", "yinda", 7, "yd") + preset_screen("ob3", "onbon-bx5", 3, "ob")
                   + preset_screen("ob4", "onbon-bx5", 4, "ob") + "lines = 2\nheight = 32\n")
    for dev in ("yt5", "yt6", "yd7", "ob3", "ob4"):
        d.wait_state(dev, "online")
    lines, text = MESSAGES["call"]
    for dev in ("yt5", "yt6", "yd7", "ob3"):
        assert d.call("display.show", {"device": dev, "lines": lines}) == {"delivered": True}
    for dev, addr in (("yt5", 5), ("yt6", 6), ("yd7", 7), ("ob3", 3)):
        wait_for(lambda: d.sim(dev, "content", address=addr)["lines"] == [text], what=f"{dev} shows the call")
    # the wire bytes are the reference's: yongtai's init frame, then the message
    yongtai = [f["hex"] for f in d.sim("yt5", "frames", address=5)]
    assert yongtai[-2:] == [f.hex().upper() for f in RefIMM90061().send_strip(gbk(text), 5)]
    ref = RefIMM9013()
    first_open = ref.packet(gbk(""), 7)            # the (empty) content sent when the screen came online
    assert [f["hex"] for f in d.sim("yd7", "frames", address=7)] == [first_open.hex().upper(),
                                                                       ref.packet(gbk(text), 7).hex().upper()]
    onbon_want = ref_onbon_frame(3, [ref_onbon_area(text.encode("gb2312"), 0, 0, 64, 16, 0x01)])
    assert d.sim("ob3", "frames", address=3)[-1]["hex"] == onbon_want.hex().upper()
    # a two-line Onbon screen on the same bus: two dynamic areas in one frame
    assert d.call("display.show", {"device": "ob4", "lines": lines}) == {"delivered": True}
    wait_for(lambda: d.sim("ob4", "content", address=4)["lines"] == lines, what="two Onbon areas")
    two = ref_onbon_frame(4, [ref_onbon_area(lines[0].encode("gb2312"), 0, 0, 64, 16, 0x01),
                              ref_onbon_area(lines[1].encode("gb2312"), 1, 16, 64, 16, 0x01)])
    assert d.sim("ob4", "frames", address=4)[-1]["hex"] == two.hex().upper()
    status = d.sim("yt5", "status")
    assert status["bad_frames"] == 0 and status["init_frames"] >= 2
    assert d.sim("yd7", "status")["bad_frames"] == 0 and d.sim("ob3", "status")["bad_frames"] == 0
    # 暂停服务 on a paused window
    assert d.call("display.show", {"device": "yt6", "lines": MESSAGES["paused"][0]}) == {"delivered": True}
    wait_for(lambda: d.sim("yt6", "content", address=6)["lines"] == [MESSAGES["paused"][1]], what="paused")


def test_the_emulator_demands_yongtais_init_frame(tmp_path):
    from drivers.display.emulator import ScreenEmulator

    emu = ScreenEmulator("yt", {"protocol": "yongtai", "address": 5, "lines": 1}, tmp_path)
    init, message = RefIMM90061().send_strip(gbk("请A023号"), 5)
    emu.received(message)                         # no init frame: ignored
    assert emu.counters["bad_frames"] == 1 and emu.last_bad == ["content without its init frame"]
    assert emu.screen_status(5)["lines"] == []
    _, other = RefIMM90061().send_strip(gbk("5号窗口"), 5)
    emu.received(init + other)                    # an init that announced another length
    assert emu.counters["bad_frames"] == 2 and "announced 8 bytes, the content has 7" in emu.last_bad[-1]
    emu.received(init + message)                  # as the vendor sends it
    assert emu.screen_status(5)["lines"] == ["请A023号"]
    assert emu.counters["bad_frames"] == 2 and emu.counters["init_frames"] == 2

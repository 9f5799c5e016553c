"""The ``WKLY`` lock-board frames as two public sources write them, transcribed byte for byte so
the tests compare hwd's bytes with theirs.

- LD = junerver/LockDemo (Android):
  - ``app/src/main/java/xyz/junerver/android/lockdemo/lockctl/LockCtlBoardCmdHelper.java``
    (commit 69e4362): start bytes line 27, command words lines 30–39, status bytes lines 42–43,
    door states lines 46–48, ``DEFAULT_CHANNEL_COUNT = 24`` line 51, the board address "(0-31)"
    line 61, ``buildCommand`` lines 66–98 (frame length = 4 + 1 + 1 + 1 + data + 1, line 71;
    XOR of every byte before the checksum, line 93 and ``calculateChecksum`` lines 480–486),
    ``validateResponse`` lines 291–313, the 0x82 reply (status, channel, door state) lines
    345–361, 0x84 (status, count, one state per channel) lines 387–403, 0x85 (channel, state)
    lines 408–416.
  - ``app/src/test/java/xyz/junerver/android/lockdemo/ExampleUnitTest.kt`` (commit 2bc816a):
    the frames the host sends, lines 24–118; the replies its parser takes, lines 145–290; the
    vendor document's demo replies, ``testDocDemo`` lines 316–333.
- E32 = an ESP32 (ESP-IDF) driver of the same boards, written independently in Vietnamese, found in
  the public code index by ``find_string "574B4C59"``/``"0x57, 0x4B, 0x4C, 0x59"`` (the index serves
  its files by content; it did not name the repository):
  - ``lock_controller_driver.h`` lines 10–19 (the same command table, 0x80–0x89) and 22–25
    (``STATUS_SUCCESS 0x00``, ``STATUS_FAIL 0xFF``, ``DOOR_STATE_OPEN 0x00``,
    ``DOOR_STATE_CLOSED 0x01``);
  - ``lock_controller_driver.c`` line 13 (``START_CODE``), lines 22–28 (XOR checksum), line 31
    (the open command of board 0, door 1) and line 54 (its reply);
  - its application's RS-485 receive task (``main.c``, ``case CMD_OPEN_SINGLE_LOCK`` and
    ``case CMD_UPLOAD_DOOR_STATUS_CHANGE``): the open command and reply of board 1, door 4, and a
    0x85 upload of board 1 ("00: closed → open, 01: open → closed").

Where the sources disagree with themselves it is said next to the bytes.
"""

from __future__ import annotations


def hx(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


START = hx("57 4B 4C 59")   # LD line 27, E32 .c line 13: "W K L Y"

# command words: LD lines 30–39 = E32 .h lines 10–19
COMMANDS = {0x80: "open_several", 0x81: "flash", 0x82: "open", 0x83: "status", 0x84: "status_all",
            0x85: "upload", 0x86: "open_all", 0x87: "open_sequential", 0x88: "keep_open", 0x89: "close_channel"}

# -- the host's frames: LD ExampleUnitTest.kt (board, arguments) → bytes -------------------------
HOST = [
    # line 30: 同时打开0号板的1、2、3号门
    ("open_several", 0x00, [1, 2, 3], "57 4B 4C 59 0C 00 80 03 01 02 03 86"),
    # line 42: 0号板的1号通道闪烁
    ("flash", 0x00, 1, "57 4B 4C 59 09 00 81 01 80"),
    # line 54 (and E32 .c line 31): 打开0号板的1号门
    ("open", 0x00, 1, "57 4B 4C 59 09 00 82 01 83"),
    # line 66: 查询0号板的1号门状态
    ("status", 0x00, 1, "57 4B 4C 59 09 00 83 01 82"),
    # line 78: 查询0号板的全部门状态（以24路锁控板为例）
    ("status_all", 0x00, None, "57 4B 4C 59 08 00 84 85"),
    # line 90: 打开0号板的全部门
    ("open_all", 0x00, None, "57 4B 4C 59 08 00 86 87"),
    # line 102: 逐一打开0号板的1、2、3号门
    ("open_sequential", 0x00, [1, 2, 3], "57 4B 4C 59 0C 00 87 03 01 02 03 81"),
    # line 113: 1号板开单锁
    ("open", 0x01, 1, "57 4B 4C 59 09 01 82 01 82"),
    # line 118: 10号板开单锁
    ("open", 0x0A, 1, "57 4B 4C 59 09 0A 82 01 89"),
    # E32 main.c, case CMD_OPEN_SINGLE_LOCK: "Khung gửi: 57 4B 4C 59 | 09 | 01 82 04 | 87"
    ("open", 0x01, 4, "57 4B 4C 59 09 01 82 04 87"),
]

# -- the boards' replies: (command, board, status, data after the status) ------------------------
# LD testDocDemo, lines 318–332: the vendor document's demo replies of board 0
DOC_DEMO = {
    0x80: "57 4B 4C 59 09 00 80 00 80",                       # line 318: 同时开多锁 成功
    0x81: "57 4B 4C 59 0A 00 81 00 01 83",                    # line 320: 通道1闪烁 成功
    0x82: "57 4B 4C 59 0B 00 82 00 01 00 81",                 # line 322 (= E32 .c line 54): 门1 已开
    0x83: "57 4B 4C 59 0B 00 83 00 01 00 80",                 # line 324: 门1 打开
    0x84: "57 4B 4C 59 22 00 84 00 18" + " 00" * 24 + " B7",  # line 326: 24 doors, all 00 (open)
    0x85: "57 4B 4C 59 0A 00 85 01 01 86",                    # line 328: 门1 关闭 (uploaded)
    0x86: "57 4B 4C 59 09 00 86 00 86",                       # line 330: 开全部锁 成功
    0x87: "57 4B 4C 59 09 00 87 00 87",                       # line 332: 逐一开多锁 成功
}

# LD ExampleUnitTest.kt, the replies its parser is tested with (the byte arrays; three comments
# beside them give another checksum — lines 202, 223, 234 — and the arrays are the right ones)
OPEN_DOOR5_STILL_SHUT = "57 4B 4C 59 0B 00 82 00 05 01 84"     # line 219: 通道5 锁状态 关闭
STATUS_DOOR7_OPEN = "57 4B 4C 59 0B 00 83 00 07 00 86"         # line 224 (comment line 223 says 85)
UPLOAD_DOOR2_OPEN = "57 4B 4C 59 0A 00 85 02 00 84"            # line 236 (comment line 234 says 86)
STATUS_ALL_FOUR = "57 4B 4C 59 0E 00 84 00 04 00 01 01 00 87"  # line 250: 1 open, 2 3 closed, 4 open
OPEN_SEVERAL_FAILED = "57 4B 4C 59 09 00 80 FF 7F"             # line 267: 失败 (FF)
KEEP_OPEN_DOOR2 = "57 4B 4C 59 0A 00 88 00 02 89"              # line 203 (comment line 202 says 88)
CLOSE_CHANNEL3 = "57 4B 4C 59 0A 00 89 00 03 89"               # line 208

# rejected by LD validateResponse (lines 291–313)
BAD_CHECKSUM = "57 4B 4C 59 09 00 80 00 00"                    # line 283: 错误校验
TOO_SHORT = "57 4B 4C 59 05 00 80"                             # line 278: 长度不足

# E32 main.c: board 1
E32_OPEN_DOOR4_REPLY = "57 4B 4C 59 0B 01 82 00 04 00 85"      # "Phản hồi: 57 4B 4C 59 | 0B | 01 82 | 00 04 00 | 85"
# "57 4B 4C 59 | 0A | 01 85 | 04 00 | CS": the source leaves CS out; the XOR of the bytes before it
E32_UPLOAD_DOOR4_OPENED = "57 4B 4C 59 0A 01 85 04 00 83"


def xor(data: bytes) -> int:
    """LD ``calculateChecksum`` (lines 480–486), E32 ``lock_controller_calculate_checksum`` (.c
    lines 22–28): XOR of every byte from the start code to the byte before the checksum."""
    value = 0
    for b in data:
        value ^= b
    return value


def ld_build_command(board: int, command: int, data: bytes = b"") -> bytes:
    """LD ``buildCommand`` (lines 66–98), step by step."""
    frame_length = 4 + 1 + 1 + 1 + len(data) + 1
    out = bytearray(frame_length)
    out[0:4] = START
    out[4] = frame_length & 0xFF
    out[5] = board
    out[6] = command
    out[7:7 + len(data)] = data
    out[frame_length - 1] = xor(bytes(out[:frame_length - 1]))
    return bytes(out)


def ld_validate(response: bytes) -> bool:
    """LD ``validateResponse`` (lines 291–313): at least 6 bytes, the start code, the length
    byte equal to the whole frame's, the XOR."""
    if len(response) < 6 or response[:4] != START:
        return False
    if response[4] != len(response):
        return False
    return xor(response[:-1]) == response[-1]

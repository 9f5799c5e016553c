"""The ``FF 68`` caller and evaluator frames as two public queue systems build them, transcribed
line by line so the tests compare hwd's bytes with theirs.

- JQ = JackQChen/QueueSystem ``CallSystem/CallSystem/frmMain.cs`` (commit 2325e31)
- UV = uvbs/HospitalQueueSystem ``NurseStation/com/SLZCCaller.cpp`` (commit b07b0df);
  codes from ``NurseStation/com/HardWareDef.h`` (commit b07b0df), lines 11–38
"""

from __future__ import annotations

# HardWareDef.h lines 12–19 and 28–31
CALLER_START, CALLER_WAIT, CALLER_CALL, CALLER_RECALL = 0x0A, 0x0B, 0x0C, 0x0D
CALLER_CANCEL, CALLER_FUNCATION, CALLER_SHOW, CALLER_SYSTEM = 0x0E, 0x0F, 0x02, 0x03
EVALTOR_TOSYS, EVALTOR_TOEVA, EVALTOR_TOSTAR, EVALTOR_TOSTART = 0x11, 0x01, 0x02, 0x01


def jq_send_ticket(adress: int, ticket: str) -> bytes:
    """JQ ``SendTicket``, lines 663–685: three blank cells, then the ticket's three digits."""
    tfir, tsec, tthr = (int(ticket[i]) for i in range(3))
    send = [0xFF, 0x68, 0x08, 0x08, 0x68, adress & 0xFF, 0x02, 0x0A, 0x0A, 0x0A, tfir, tsec, tthr,
            (adress + 2 + tfir + tsec + tthr + 0x0A + 0x0A + 0x0A) % 256, 0x16]
    return bytes(send)


def jq_send_wait(adress: int, lcount: int) -> bytes:
    """JQ ``SendWait``, lines 687–712: the waiting count as three digits (at most 999), then blanks."""
    count = "999" if lcount > 999 else f"{lcount:03d}"
    wfir, wsec, wthr = (int(count[i]) for i in range(3))
    return bytes([0xFF, 0x68, 0x08, 0x08, 0x68, adress & 0xFF, 0x02, wfir, wsec, wthr, 0x0A, 0x0A, 0x0A,
                  (adress + 2 + wfir + wsec + wthr + 0x0A + 0x0A + 0x0A) % 256, 0x16])


def jq_send_beep(adress: int) -> bytes:
    """JQ ``SendBeep`` (叫号器蜂鸣), lines 715–728."""
    return bytes([0xFF, 0x68, 0x02, 0x02, 0x68, adress & 0xFF, 0x03, (adress + 3) % 256, 0x16])


def jq_response(frame: bytes) -> bytes:
    """JQ ``sp_DataReceived``, lines 186–234: the frame read field by field and written back
    (``#region 发送响应指令``) — the same bytes."""
    length, length2, fixedvalue, adress, funccode = frame[2], frame[3], frame[4], frame[5], frame[6]
    data = frame[7:7 + length - 2]
    check, end = frame[7 + length - 2], frame[8 + length - 2]
    return bytes([frame[0], frame[1], length, length2, fixedvalue, adress, funccode, *data, check, end])


def jq_key(frame: bytes) -> int:
    """JQ lines 240–294: the operation is the last data byte (0C call, 0D recall, 0B evaluate,
    0F confirm with 06 give up / 00 hang up / 03 call back before it, 12 pause, 13 transfer)."""
    length = frame[2]
    return frame[7:7 + length - 2][-1]


def uv_alarm_to_system(address: int) -> bytes:
    """UV ``AlarmToSystem``, lines 243–256: FUNC 03, the system calls the caller."""
    buf = [0xFF, 0x68, 0x02, 0x02, 0x68, address & 0xFF, CALLER_SYSTEM, 0, 0x16]
    buf[7] = (buf[5] + buf[6]) & 0xFF
    return bytes(buf)


def uv_show_sys_call_left_num(caller_address: int, left_num: int, call_num: str) -> bytes:
    """UV ``ShowSysCallLeftNum``, lines 559–636: the ticket's digits, 0A ("0A表示_", line 580),
    the waiting count (one 00 when 0, line 625), the checksum — and then ``buf[i+1]='\\0'``
    (line 632): uvbs ends this frame with 00 where ``ShowSystemNum`` (line 451) writes 16."""
    buf = [0xFF, 0x68, 0, 0, 0x68, caller_address & 0xFF, CALLER_SHOW]
    buf += [ord(ch) - 48 for ch in call_num if "0" <= ch <= "9"]
    buf.append(0x0A)
    buf += [int(d) for d in str(left_num)] if left_num else [0]
    i = len(buf)
    buf.append(sum(buf[5:i]) & 0xFF)
    buf.append(0x00)
    buf[2] = buf[3] = i - 5
    return bytes(buf)


def uv_sepa_msg_num(buf: bytes) -> bytes:
    """UV ``SepaMsgNum``, lines 335–345: the bytes from index 7 to the key (size - 3)."""
    return bytes(buf[7:len(buf) - 3])


def uv_caller_command(buf: bytes) -> str | None:
    """UV ``DoCallerMsg``, lines 117–241, for the keys hwd maps: the key is ``buf[size-3]``."""
    size, key = len(buf), buf[len(buf) - 3]
    if key == CALLER_CALL and size == 10:
        return "cmdCall"
    if key == CALLER_CALL and size >= 11:
        return "cmdCallNum"
    if key == CALLER_RECALL and size == 10:
        return "cmdRecall"
    if key == CALLER_FUNCATION and size > 11:
        return "cmdLogin"
    if key == CALLER_FUNCATION and size == 11 and buf[size - 4] == 0x05:
        return "cmdDiscard"
    if key == CALLER_FUNCATION and size == 11 and buf[size - 4] == 0x00:
        return "cmdPause"
    if key == CALLER_START and size >= 11:
        return "cmdExChange"
    return None

"""Readers that need a vendor handshake before the SAM frames answer: the CVR-100 challenge
rebuilt from the vendor SDK's own bytes, then the ``sam`` driver against an emulated reader
that demands it, through a real hwd daemon.

Reference: 北京海鑫智圣 THID_CVR_IDCard.c (public copy github.com/tovasLuo/cvr_lib_identify,
THID_CVR_IDCard.c): the ``CVR_100R`` build's
``cmd_init0[] = {0x02, 0x00, 0x11, 0x03, 0xAA, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
0x08, 0x09, 0xB9, 0x03}`` and ``authenticateCmdInit0``, which expects
``cmdInit0Tmp[i] = (j + 3) ^ cmd_init0[i]`` over the challenge bytes and compares 17 bytes.
"""

from __future__ import annotations

import pytest

from drivers.idcard import protocol as p
from drivers.idcard.handshake import cvr100_answer, cvr100_challenge, is_cvr100_challenge

CMD_INIT0_CVR_100R = bytes([0x02, 0x00, 0x11, 0x03, 0xAA, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                            0x07, 0x08, 0x09, 0xB9, 0x03])


def test_challenge_frame_is_the_sdks_cmd_init0():
    assert cvr100_challenge(bytes(range(10))) == CMD_INIT0_CVR_100R
    assert is_cvr100_challenge(CMD_INIT0_CVR_100R)
    # the answer authenticateCmdInit0 expects: challenge byte j XOR (j + 3), the rest unchanged
    expected = bytearray(CMD_INIT0_CVR_100R)
    for j, i in enumerate(range(5, 15)):
        expected[i] = (j + 3) ^ CMD_INIT0_CVR_100R[i]
    assert cvr100_answer(CMD_INIT0_CVR_100R) == bytes(expected)
    assert cvr100_answer(CMD_INIT0_CVR_100R).hex(" ") == \
        "02 00 11 03 aa 03 05 07 05 03 0d 0f 0d 03 05 b9 03"
    # a random challenge keeps the frame shape (length 0x0011, XOR, ETX)
    frame = cvr100_challenge(bytes.fromhex("5a" * 10))
    assert is_cvr100_challenge(frame) and len(frame) == 0x11 and frame[-1] == 0x03


def test_sw3_names():
    assert p.sw3_name(0x34) == "card_not_found_yet"
    assert p.sw3_name(0x37) == "reader_status_37_unnamed"
    assert p.sw3_name(0x3F) == "reader_status_3f_unnamed"


CONFIG = '''
[[device]]
id = "r1"
kind = "idcard"
driver = "sam"
url = "sim://r1{query}"
poll_ms = 50
{handshake}
'''


def test_reader_answers_only_after_the_handshake(hwd_daemon):
    d = hwd_daemon(CONFIG.format(query="", handshake='handshake = "cvr100"'))
    d.wait_state("r1", "online")
    status = d.sim("r1", "status")
    assert status["handshake"] == "cvr100" and status["shaken"] is True
    ev = d.events("idcard.")
    d.sim("r1", "place", card="resident")
    assert ev.wait("idcard.inserted", device="r1")["card_type"] == "resident"
    # after a power loss the reader wants the handshake again, and gets it on reconnect
    d.sim("r1", "unplug")
    d.wait_state("r1", "offline")
    d.sim("r1", "plug")
    d.wait_state("r1", "online", timeout=15)
    assert d.sim("r1", "status")["shaken"] is True
    assert d.device("r1")["counters"]["handshakes"] >= 2


def test_missing_handshake_is_a_clear_offline(hwd_daemon):
    d = hwd_daemon(CONFIG.format(query="?handshake=cvr100", handshake=""))
    d.wait_state("r1", "offline")
    import time
    deadline = time.monotonic() + 10
    while "handshake" not in d.device("r1")["detail"]:
        assert time.monotonic() < deadline, d.device("r1")
        time.sleep(0.1)
    assert 'handshake = "cvr100"' in d.device("r1")["detail"]
    assert d.sim("r1", "status")["unanswered"] >= 1


def test_wrong_answer_keeps_the_reader_offline(hwd_daemon):
    d = hwd_daemon(CONFIG.format(query="", handshake='handshake = "cvr100"'))
    d.wait_state("r1", "online")
    d.sim("r1", "bad_handshake")
    d.sim("r1", "unplug")
    d.wait_state("r1", "offline")
    d.sim("r1", "plug")
    import time
    deadline = time.monotonic() + 10
    while "wrongly" not in d.device("r1")["detail"]:
        assert time.monotonic() < deadline, d.device("r1")
        time.sleep(0.05)
    # the next attempt is answered correctly again
    d.wait_state("r1", "online", timeout=15)


@pytest.mark.parametrize("bad", ["cvr-100", "thid"])
def test_unknown_handshake_is_a_config_error(tmp_path, bad):
    import subprocess
    import sys
    path = tmp_path / "hwd.toml"
    path.write_text(CONFIG.format(query="", handshake=f'handshake = "{bad}"'), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "hwd", "--config", str(path), "--check"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "handshake" in out.stderr


from hypothesis import given, settings, strategies as st  # noqa: E402


class _Recording:
    """The emulator's handshake parser without a link: what it would send is collected."""

    def __init__(self, tmp):
        from drivers.idcard.emulator import IdCardEmulator

        self.emu = IdCardEmulator("t", {"handshake": "cvr100"}, tmp)
        self.sent: list[bytes] = []
        self.emu.send = self.sent.append


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=60).filter(lambda b: b"\x02\x00\x11" not in b), st.binary(min_size=10, max_size=10),
       st.lists(st.integers(1, 9), min_size=1, max_size=20))
def test_the_challenge_is_found_behind_garbage_and_in_pieces(tmp_path_factory, junk, challenge, cuts):
    rec = _Recording(tmp_path_factory.mktemp("emu"))
    frame = cvr100_challenge(challenge)
    stream = junk + p.request(p.SAM_STATUS) + frame + p.request(p.SAM_STATUS)
    pos, i = 0, 0
    while pos < len(stream):
        rec.emu.received(stream[pos:pos + cuts[i % len(cuts)]])
        pos, i = pos + cuts[i % len(cuts)], i + 1
    assert rec.emu.shaken
    assert rec.sent[0] == cvr100_answer(frame)
    # the SAM frame before the handshake went unanswered; the one after it was answered
    assert rec.sent[1:] == [p.reply(p.OK)]

"""Voice packs (clips joined by the manifest) and the WAV helpers under them."""

from __future__ import annotations

import math
import struct
from array import array

import pytest
from hypothesis import given, strategies as st

from drivers.speaker import wav
from drivers.speaker.voicepack import CALL_WORDS, VoicePack, VoicePackError

RATE = 16000


def tone(ms: int, freq: float = 440.0, rate: int = RATE, level: float = 0.5) -> wav.Audio:
    n = rate * ms // 1000
    return wav.Audio(rate, array("h", (int(32767 * level * math.sin(2 * math.pi * freq * i / rate))
                                       for i in range(n))))


def make_pack(directory, gap_ms=20):
    """Each word a tone; the length of clip i is 100 + 10*i ms, so the joins can be checked."""
    directory.mkdir(parents=True, exist_ok=True)
    words = CALL_WORDS + ["A", "窗"]
    lines = [f"gap_ms = {gap_ms}", "pause_ms = 200", f"rate = {RATE}", "[clips]"]
    lengths = {}
    for i, word in enumerate(words):
        lengths[word] = 100 + 10 * i
        wav.write_wav(directory / f"w{i}.wav", tone(lengths[word], 300 + 20 * i))
        lines.append(f'"{word}" = "w{i}.wav"')
    (directory / "manifest.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lengths


def test_tokens_longest_match_and_pauses(tmp_path):
    make_pack(tmp_path / "pack")
    pack = VoicePack(tmp_path / "pack").load()
    assert pack.tokens("请a零二三号到十二号窗口办理") == ["请", "A", "零", "二", "三", "号", "到", "十", "二", "号",
                                                  "窗口", "办理"]
    assert pack.tokens("请，窗") == ["请", None, "窗"]
    with pytest.raises(VoicePackError, match="no clip for: 您 好"):
        pack.tokens("您好您")


def test_synth_joins_clips_with_gaps(tmp_path):
    lengths = make_pack(tmp_path / "pack", gap_ms=20)
    pack = VoicePack(tmp_path / "pack").load()
    audio = pack.synth("请A号")
    expected_ms = lengths["请"] + lengths["A"] + lengths["号"] + 2 * 20
    assert len(audio.samples) == expected_ms * RATE // 1000
    assert wav.rms(audio) > 0.2


def test_bad_packs(tmp_path):
    with pytest.raises(VoicePackError, match="manifest.toml"):
        VoicePack(tmp_path).load()
    (tmp_path / "manifest.toml").write_text('[clips]\n"请" = "missing.wav"\n')
    with pytest.raises(VoicePackError, match="missing.wav"):
        VoicePack(tmp_path).load()


def test_voicepack_speaker_through_daemon(hwd_daemon, tmp_path):
    lengths = make_pack(tmp_path / "pack", gap_ms=20)
    out = tmp_path / "out"
    d = hwd_daemon(f'''
        [[device]]
        id = "hall-speaker"
        kind = "speaker"
        driver = "voicepack"
        url = "file://{out}/"
        voicepack = "{tmp_path / 'pack'}"
        volume = 50
    ''')
    d.wait_state("hall-speaker", "online")
    ev = d.events("speaker.")
    job = d.call("speaker.announce", {"device": "hall-speaker", "template": "call", "chime": False,
                                      "params": {"ticket": "A023", "window": "12"}})["job"]
    event = ev.wait("speaker.announced", job=job, timeout=20)
    audio = wav.read_wav(event["file"])
    words = ["请", "A", "零", "二", "三", "号", "到", "十", "二", "号", "窗口", "办理"]
    expected_ms = sum(lengths[w] for w in words) + 20 * (len(words) - 1)
    assert len(audio.samples) == expected_ms * RATE // 1000
    peak = max(abs(s) for s in audio.samples) / 32768
    assert 0.2 < peak < 0.26, "tones at 0.5 played at volume 50"
    # a word the pack lacks fails the job with a reason, and the next call still plays
    job = d.call("speaker.announce", {"device": "hall-speaker", "text": "您好"})["job"]
    assert "no clip for" in ev.wait("speaker.failed", job=job, timeout=20)["reason"]


def test_voicepack_config_problems(tmp_path):
    import subprocess
    import sys

    (tmp_path / "pack").mkdir()
    wav.write_wav(tmp_path / "pack" / "q.wav", tone(100))
    (tmp_path / "pack" / "manifest.toml").write_text('[clips]\n"请" = "q.wav"\n')
    cfg = tmp_path / "hwd.toml"
    cfg.write_text(f'''[daemon]
state_dir = "{tmp_path}/state"
rpc = "ipc://{tmp_path}/rpc"
events = "ipc://{tmp_path}/events"

[[device]]
id = "s"
kind = "speaker"
driver = "voicepack"
url = "null://"
voicepack = "{tmp_path / 'pack'}"
quiet_hours = ["25:00-07:00"]
''')
    run = subprocess.run([sys.executable, "-m", "hwd", "--config", str(cfg), "--check"],
                         capture_output=True, text=True, timeout=30)
    text = run.stdout + run.stderr
    assert run.returncode == 2
    assert "device[0].voicepack: the pack cannot read calls; no clip for: 零" in text, text
    assert "device[0].quiet_hours" in text


# -- WAV helpers -----------------------------------------------------------------------------
def test_streamed_wav_header_with_zero_sizes():
    audio = tone(250)
    data = bytearray(wav.wav_bytes(audio))
    struct.pack_into("<I", data, 4, 36)     # RIFF size and data size as a pipe writer leaves them
    struct.pack_into("<I", data, 40, 0)
    assert wav.parse_wav(bytes(data)).samples == audio.samples


def test_stereo_and_8bit_become_mono_16bit():
    header = lambda ch, bits, n: (b"RIFF" + struct.pack("<I", 36 + n) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, ch, 8000, 8000 * ch * bits // 8, ch * bits // 8, bits) + b"data" + struct.pack("<I", n))
    stereo = struct.pack("<4h", 1000, 3000, -2000, -4000)
    assert list(wav.parse_wav(header(2, 16, 8) + stereo).samples) == [2000, -3000]
    assert list(wav.parse_wav(header(1, 8, 2) + bytes([128, 255])).samples) == [0, 127 << 8]
    with pytest.raises(wav.WavError):
        wav.parse_wav(b"RIFX0000WAVE")


def test_chime_resample_gain():
    chime = wav.chime(22050)
    assert 0.7 < chime.duration < 0.9 and wav.rms(chime) > 0.05
    half = wav.resample(tone(1000, rate=16000), 8000)
    assert len(half.samples) == 8000
    loud = wav.gain(tone(100, level=0.8), 2.0)
    assert max(loud.samples) == 32767     # clipped, not wrapped


def test_starter_pack_from_espeak(tmp_path):
    import shutil

    from drivers.speaker.voicepack import build_pack

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    build_pack(tmp_path / "pack", CALL_WORDS + ["A"])
    pack = VoicePack(tmp_path / "pack").load()
    audio = pack.synth("请A零二三号到十二号窗口办理")
    assert audio.duration > 2.0 and wav.rms(audio) > 0.03


@given(st.binary(max_size=80), st.binary(max_size=60))
def test_parse_wav_never_crashes(head, tail):
    for data in (head, b"RIFF" + head[:4] + b"WAVE" + head[4:] + tail,
                 b"RIFF\0\0\0\0WAVEfmt " + head + b"data" + tail):
        try:
            audio = wav.parse_wav(data)
        except wav.WavError:
            continue
        assert audio.rate > 0 and isinstance(audio.samples, array)

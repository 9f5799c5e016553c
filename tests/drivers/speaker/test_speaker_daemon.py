"""The hall speaker through a real hwd process: announcements as WAV files and on the emulated
amplifier (aplay → ALSA file plugin → socat → loopback TCP)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.speaker import wav
from support.waits import wait_for as _wait_for
import functools

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="espeak-ng not installed (Debian package espeak-ng)")

FILE_SPEAKER = '''
[[device]]
id = "hall-speaker"
kind = "speaker"
driver = "espeak"
url = "file://{out}/"
repeat = 1
'''


wait_for = functools.partial(_wait_for, timeout=20.0)


def test_call_announcement_wav(hwd_daemon, tmp_path):
    out = tmp_path / "announce"
    d = hwd_daemon(FILE_SPEAKER.format(out=out))
    d.wait_state("hall-speaker", "online")
    ev = d.events("speaker.")
    reply = d.call("speaker.announce", {"device": "hall-speaker", "template": "call",
                                        "params": {"ticket": "A023", "window": "12"}, "repeat": 2})
    assert reply["text"] == "请A零二三号到十二号窗口办理"
    event = ev.wait("speaker.announced", job=reply["job"], timeout=30)
    audio = wav.read_wav(event["file"])
    once = wav.read_wav(next((d.state_dir / "devices" / "hall-speaker" / "phrases").glob("*.wav")))
    # chime (~0.8 s) + pause + twice the phrase with a gap
    assert audio.duration > 2 * once.duration + 0.8
    assert audio.duration < 2 * once.duration + 3.0
    assert wav.rms(audio) > 0.02, "the announcement is not silent"
    assert event["text"] == reply["text"]


def test_five_announcements_in_a_second_are_five_files_in_order(hwd_daemon, tmp_path):
    out = tmp_path / "announce"
    d = hwd_daemon(FILE_SPEAKER.format(out=out))
    d.wait_state("hall-speaker", "online")
    ev = d.events("speaker.")
    jobs = []
    for i in range(5):
        jobs.append(d.call("speaker.announce", {"device": "hall-speaker", "template": "call",
                                                "params": {"ticket": f"B00{i + 1}", "window": str(i + 1)},
                                                "chime": False})["job"])
    events = [ev.wait("speaker.announced", job=job, timeout=60) for job in jobs]
    files = sorted(out.glob("announce-*.wav"))
    assert [Path(e["file"]) for e in events] == files
    assert len(files) == 5
    durations = []
    for event in events:
        audio = wav.read_wav(event["file"])
        assert audio.duration > 1.0 and wav.rms(audio) > 0.02
        assert abs(audio.duration * 1000 - event["duration_ms"]) < 5
        durations.append(audio.duration)
    assert [e["text"][:5] for e in events] == [f"请B零零{n}" for n in "一二三四五"]


def test_bad_template_is_an_immediate_error(hwd_daemon, tmp_path):
    d = hwd_daemon(FILE_SPEAKER.format(out=tmp_path / "a"))
    d.wait_state("hall-speaker", "online")
    with pytest.raises(Exception) as err:
        d.call("speaker.announce", {"device": "hall-speaker", "template": "call", "params": {"ticket": "A1"}})
    assert "window" in str(err.value)
    with pytest.raises(Exception) as err:
        d.call("speaker.announce", {"device": "hall-speaker", "template": "nope"})
    assert "unknown template" in str(err.value)


def test_emulated_amplifier_through_aplay(hwd_daemon):
    if shutil.which("aplay") is None or shutil.which("socat") is None:
        pytest.skip("needs alsa-utils and socat")
    d = hwd_daemon('''
        [[device]]
        id = "hall-speaker"
        kind = "speaker"
        driver = "espeak"
        url = "sim://amp"
        volume = 50
    ''')
    d.wait_state("hall-speaker", "online")
    ev = d.events("speaker.")
    job = d.call("speaker.announce", {"device": "hall-speaker", "template": "call",
                                      "params": {"ticket": "C105", "window": "3"}})["job"]
    chime = d.call("speaker.chime", {"device": "hall-speaker"})["job"]
    ev.wait("speaker.announced", job=job, timeout=30)
    ev.wait("speaker.announced", job=chime, timeout=30)
    log = wait_for(lambda: (lambda entries: entries if len(entries) == 2 else None)(
        d.sim("hall-speaker", "log")), what="two announcements at the amplifier")
    call, bell = log
    assert call["job"] == job and call["text"] == "请C一零五号到三号窗口办理"
    assert bell["job"] == chime and bell["text"] == ""
    assert call["duration_s"] > 2.0 and call["rms"] > 0.01
    assert 0.6 < bell["duration_s"] < 1.5 and bell["rms"] > 0.01
    assert call["peak"] <= 0.55, "volume = 50 halves the level"
    assert Path(call["file"]).is_file()
    # amplifier off the network: the job fails and says why (the audio is larger than a pipe
    # buffer, so aplay cannot finish writing it)
    d.sim("hall-speaker", "unplug")
    job = d.call("speaker.announce", {"device": "hall-speaker", "template": "call",
                                      "params": {"ticket": "C106", "window": "3"}})["job"]
    failed = ev.wait("speaker.failed", job=job, timeout=30)
    assert "aplay" in failed["reason"]


def test_stop_drops_queued_announcements(hwd_daemon, tmp_path):
    # the command driver with a slow engine (text on stdin, WAV on stdout), so jobs pile up
    out = tmp_path / "announce"
    d = hwd_daemon(f'''
        [[device]]
        id = "hall-speaker"
        kind = "speaker"
        driver = "command"
        url = "file://{out}/"
        command = ["sh", "-c", "sleep 0.5; exec espeak-ng -v cmn --stdout"]
    ''')
    d.wait_state("hall-speaker", "online")
    ev = d.events("speaker.")
    jobs = [d.call("speaker.announce", {"device": "hall-speaker", "text": f"第{i}条测试广播"})["job"]
            for i in range(6)]
    stopped = d.call("speaker.stop", {"device": "hall-speaker"})
    assert len(stopped["cancelled"]) >= 3, stopped
    played = [job for job in jobs if job not in stopped["cancelled"]]
    for job in played:
        ev.wait("speaker.announced", job=job, timeout=30)
    assert not [e for e in ev.drain(0.3) if e.get("job") in stopped["cancelled"]]
    assert len(list(out.glob("announce-*.wav"))) == len(played)
    # the speaker still works after a stop
    job = d.call("speaker.announce", {"device": "hall-speaker", "text": "继续"})["job"]
    assert ev.wait("speaker.announced", job=job, timeout=30)["played"] is True


def test_quiet_hours_mute(hwd_daemon, tmp_path):
    out = tmp_path / "announce"
    d = hwd_daemon(FILE_SPEAKER.format(out=out) + 'quiet_hours = ["00:00-23:59"]\n')
    d.wait_state("hall-speaker", "online")
    ev = d.events("speaker.")
    job = d.call("speaker.announce", {"device": "hall-speaker", "text": "夜间测试"})["job"]
    event = ev.wait("speaker.announced", job=job, timeout=30)
    assert event["played"] is False and event["reason"] == "quiet hours"
    assert not list(out.glob("*.wav"))


def test_espeak_missing_is_a_clear_startup_error(tmp_path):
    cfg = tmp_path / "hwd.toml"
    cfg.write_text(f'''[daemon]
state_dir = "{tmp_path}/state"
rpc = "ipc://{tmp_path}/rpc"
events = "ipc://{tmp_path}/events"

[[device]]
id = "hall-speaker"
kind = "speaker"
driver = "espeak"
url = "null://"
''')
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    run = subprocess.run([sys.executable, "-m", "hwd", "--config", str(cfg)], capture_output=True,
                         text=True, env=env, timeout=30)
    assert run.returncode == 2
    text = run.stdout + run.stderr
    assert "espeak-ng" in text and "Debian package espeak-ng" in text and "device[0].driver" in text, text

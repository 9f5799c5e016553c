"""Where an announcement goes, chosen by the speaker's URL.

- ``alsa://DEVICE``: played with ``aplay`` (alsa-utils). Everything after ``alsa://`` is the ALSA
  device string (``default``, ``plughw:CARD=PCH,DEV=0``, ``file:FILE=...``). aplay rather than a
  Python binding: it ships with every Debian install that has sound, converts formats through
  ALSA's plug layer, and runs as its own process, so ``speaker.stop`` ends playback at once by
  killing it and a sound-driver crash can never take the daemon down.
- ``file:///DIR/``: one numbered WAV per announcement (``announce-000001.wav`` …); a path ending
  in ``.wav`` is overwritten with the latest announcement instead.
- ``null://``: rendered and measured, not played (a PC without a sound card).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

from drivers.speaker.wav import Audio, write_wav
from hwd.errors import DeviceError


class Output:
    def open(self) -> None:
        """Check the output can be used; raise with a reason a person can act on."""

    def play(self, audio: Audio, workdir: Path, meta: dict | None = None) -> str | None:
        """Play or store ``audio``; return the file written, if any. ``meta`` (job, text) is
        handed to aplay's environment as ``HWD_ANNOUNCE`` (base64 JSON) for the emulator."""
        raise NotImplementedError

    def stop(self) -> None:
        """Cut the announcement being played (another thread)."""


class NullOutput(Output):
    def play(self, audio: Audio, workdir: Path, meta: dict | None = None) -> str | None:
        return None


class FileOutput(Output):
    def __init__(self, target: str):
        self.path = Path(target)
        self.single = self.path.suffix.lower() == ".wav"
        self.counter = 0

    def open(self) -> None:
        directory = self.path.parent if self.single else self.path
        directory.mkdir(parents=True, exist_ok=True)
        if not os.access(directory, os.W_OK):
            raise DeviceError(f"cannot write announcements to {directory}")
        if not self.single:
            numbers = [int(m.group(1)) for p in directory.glob("announce-*.wav")
                       if (m := re.match(r"announce-(\d+)\.wav$", p.name))]
            self.counter = max(numbers, default=0)

    def play(self, audio: Audio, workdir: Path, meta: dict | None = None) -> str | None:
        if self.single:
            return str(write_wav(self.path, audio))
        self.counter += 1
        return str(write_wav(self.path / f"announce-{self.counter:06d}.wav", audio))


class AlsaOutput(Output):
    def __init__(self, device: str, aplay: str = "aplay"):
        self.device = device or "default"
        self.aplay = aplay
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()
        self.stopped = False

    def open(self) -> None:
        if shutil.which(self.aplay) is None:
            raise DeviceError(f"{self.aplay} not found: install the Debian package alsa-utils")

    def play(self, audio: Audio, workdir: Path, meta: dict | None = None) -> str | None:
        workdir.mkdir(parents=True, exist_ok=True)
        path = write_wav(workdir / "playing.wav", audio)
        tag = base64.b64encode(json.dumps(meta or {}, ensure_ascii=False).encode()).decode()
        with self.lock:
            self.stopped = False
            self.proc = subprocess.Popen([self.aplay, "-q", "-D", self.device, str(path)],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, env={**os.environ, "HWD_ANNOUNCE": tag})
        try:
            _, err = self.proc.communicate(timeout=max(30.0, audio.duration * 3 + 10))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise DeviceError(f"aplay on {self.device} hung; killed it") from None
        finally:
            code = self.proc.returncode
            with self.lock:
                self.proc = None
        if code != 0 and not self.stopped:
            message = err.decode(errors="replace").strip().splitlines()
            raise DeviceError(f"aplay -D {self.device} failed: {message[-1] if message else code}")
        return None

    def stop(self) -> None:
        with self.lock:
            if self.proc is not None and self.proc.poll() is None:
                self.stopped = True
                self.proc.terminate()


def output_for(url) -> Output:
    """The output for a parsed device URL (hwd.url.DeviceUrl)."""
    if url.scheme == "alsa":
        return AlsaOutput(url.raw[len("alsa://"):] or "default")
    if url.scheme == "file":
        return FileOutput(url.target)
    if url.scheme == "null":
        return NullOutput()
    raise DeviceError(f"a speaker cannot play to {url.scheme}://")

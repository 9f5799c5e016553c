"""Emulator of a network broadcast amplifier, reached through the real ALSA output path.

There is no sound card in a test machine or a demo VM, so ``sim://`` points the speaker's real
``alsa://`` output (aplay) at ALSA's ``file`` PCM plugin (slave ``null``, from the stock
alsa.conf), whose file is a pipe into ``socat`` that streams the WAV to this emulator over a
loopback TCP socket, as an IP broadcast amplifier would receive it. One connection is one
announcement: on end of stream the emulator stores it as ``announce-NNNN.wav`` in its workdir
and logs it: job, text, file, duration, RMS level, peak. The job and text reach it as one line of
base64 JSON before the WAV (the pipe command echoes aplay's ``HWD_ANNOUNCE``), the way an IP
amplifier's stream carries a title.

Needs the Debian packages alsa-utils and socat. Faults: ``unplug``/``plug`` (the amplifier is
off the network: aplay fails), ``silent`` (it accepts and discards audio).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import shutil
import socket
import threading
from typing import Any

from drivers.speaker import wav
from hwd.errors import HwdError
from hwd.sim import Emulator


class AmplifierEmulator(Emulator):
    transport = "tcp"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.port = int(self.params.get("port", 0))
        self.server: socket.socket | None = None
        self.announcements: list[dict] = []
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.bad = 0

    # -- network -----------------------------------------------------------------------------
    def start(self) -> str:
        for tool, package in (("aplay", "alsa-utils"), ("socat", "socat")):
            if shutil.which(tool) is None:
                raise HwdError(f"the emulated amplifier needs {tool}: install the Debian package {package}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.act_plug()
        self.thread = threading.Thread(target=self._serve, name=f"sim-{self.name}", daemon=True)
        self.thread.start()
        pcm = f'file:FILE="|{{ echo $HWD_ANNOUNCE; cat; }} | socat -u - TCP:127.0.0.1:{self.port}",FORMAT=wav'
        return f"alsa://{pcm}"

    def stop(self) -> None:
        self.stop_event.set()
        self.act_unplug()
        if self.thread:
            self.thread.join(timeout=1)

    def _serve(self) -> None:
        while not self.stop_event.is_set():
            server = self.server
            if server is None:
                self.stop_event.wait(0.05)
                continue
            try:
                conn, _ = server.accept()
            except (OSError, socket.timeout):
                continue
            with conn:
                conn.settimeout(30)
                chunks = []
                with contextlib.suppress(OSError):
                    while data := conn.recv(65536):
                        chunks.append(data)
            if not self.silent:
                self.received_announcement(b"".join(chunks))

    def received_announcement(self, data: bytes) -> None:
        meta: dict = {}
        if not data.startswith(b"RIFF") and b"\n" in data:
            line, data = data.split(b"\n", 1)
            try:
                meta = json.loads(base64.b64decode(line.strip() or b"e30=")) or {}
            except (binascii.Error, ValueError):
                self.log.warning("%s: unreadable stream title", self.name)
        try:
            audio = wav.parse_wav(data)
        except wav.WavError as exc:
            self.bad += 1
            self.log.warning("%s: not a WAV stream (%d bytes): %s", self.name, len(data), exc)
            return
        with self.lock:
            number = len(self.announcements) + 1
            path = wav.write_wav(self.workdir / f"announce-{number:04d}.wav", audio)
            entry = {"n": number, "job": meta.get("job"), "text": meta.get("text"), "file": str(path), "duration_s": round(audio.duration, 3),
                     "rms": round(wav.rms(audio), 4),
                     "peak": max((abs(s) for s in audio.samples), default=0) / 32768}
            self.announcements.append(entry)
            with open(self.workdir / "announcements.jsonl", "a", encoding="utf-8") as log:
                log.write(json.dumps(entry, ensure_ascii=False) + "\n")

    # -- control -----------------------------------------------------------------------------
    def status(self) -> dict:
        return {"name": self.name, "kind": type(self).__name__, "url": f"tcp://127.0.0.1:{self.port}",
                "plugged": self.server is not None, "silent": self.silent,
                "announcements": len(self.announcements), "bad_streams": self.bad}

    def act_log(self, last: int = 0) -> list[dict]:
        """The announcements received, oldest first (the last ``last`` only, if given)."""
        with self.lock:
            return list(self.announcements[-last:] if last else self.announcements)

    def act_unplug(self) -> dict:
        """Take the amplifier off the network."""
        server, self.server = self.server, None
        if server is not None:
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()
        return self.status()

    def act_plug(self) -> dict:
        if self.server is None:
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", self.port))
            server.listen(8)
            server.settimeout(0.2)
            self.port = server.getsockname()[1]
            self.server = server
        return self.status()

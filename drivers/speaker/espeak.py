"""Driver ``espeak``: Mandarin speech from espeak-ng (Debian package ``espeak-ng``).

Robotic but always available offline, so it is the default engine when a hall has no voice
pack. A missing espeak-ng is a config error at start-up that names the package to install.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from drivers.speaker import wav
from drivers.speaker.base import COMMON_OPTIONS, SpeakerDevice
from hwd.errors import DeviceError
from hwd.schema import Field

MISSING = "{cmd} not found: install the Debian package espeak-ng (apt install espeak-ng), or use the voicepack driver"


class EspeakEngine:
    def __init__(self, command: str = "espeak-ng", voice: str = "cmn", speed: int = 150, pitch: int = 50):
        self.command, self.voice, self.speed, self.pitch = command, voice, speed, pitch

    def identity(self) -> str:
        return f"espeak:{self.voice}:{self.speed}:{self.pitch}"

    def check(self) -> None:
        if shutil.which(self.command) is None:
            raise DeviceError(MISSING.format(cmd=self.command))

    def synth(self, text: str) -> wav.Audio:
        try:
            out = subprocess.run([self.command, "-v", self.voice, "-s", str(self.speed), "-p", str(self.pitch),
                                  "--stdout"], input=text.encode("utf-8"), capture_output=True, timeout=30)
        except FileNotFoundError:
            raise DeviceError(MISSING.format(cmd=self.command)) from None
        except subprocess.TimeoutExpired:
            raise DeviceError(f"{self.command} did not finish in 30 s") from None
        if out.returncode != 0:
            raise DeviceError(f"{self.command} failed: {out.stderr.decode(errors='replace').strip()[:200]}")
        return wav.parse_wav(out.stdout)


class EspeakSpeaker(SpeakerDevice):
    driver = "espeak"
    options = COMMON_OPTIONS + (
        Field("espeak_command", str, "espeak-ng"),
        Field("voice", str, "cmn", doc="espeak-ng voice; cmn is Mandarin"),
        Field("speed", int, 150, min=80, max=400, doc="words per minute"),
        Field("pitch", int, 50, min=0, max=99),
    )

    @classmethod
    def validate(cls, options: dict, problems: Any, path: tuple) -> None:
        command = options.get("espeak_command") or "espeak-ng"
        if shutil.which(command) is None:
            problems.add(path + ("driver",), MISSING.format(cmd=command))

    def make_engine(self) -> EspeakEngine:
        o = self.opts
        return EspeakEngine(o["espeak_command"], o["voice"], o["speed"], o["pitch"])

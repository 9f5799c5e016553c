"""Driver ``command``: any external text-to-speech program that writes WAV (piper and the like).

``command`` is the argument list; ``{text}`` is replaced by the text and ``{out}`` by the WAV
file to write. Without ``{text}`` the text goes to the program's stdin; without ``{out}`` the
WAV is read from its stdout. Example for piper:
``command = ["piper", "--model", "/opt/voices/zh_CN-huayan-medium.onnx", "--output_file", "{out}"]``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from drivers.speaker import wav
from drivers.speaker.base import COMMON_OPTIONS, SpeakerDevice
from hwd.errors import DeviceError
from hwd.schema import Field


class CommandEngine:
    def __init__(self, command: list[str], timeout: float = 30.0):
        self.command = list(command)
        self.timeout = timeout

    def identity(self) -> str:
        return "command:" + "\0".join(self.command)

    def check(self) -> None:
        if shutil.which(self.command[0]) is None:
            raise DeviceError(f"speech command {self.command[0]!r} not found")

    def synth(self, text: str) -> wav.Audio:
        with tempfile.TemporaryDirectory(prefix="hwd-tts-") as tmp:
            out = Path(tmp) / "out.wav"
            args = [a.replace("{text}", text).replace("{out}", str(out)) for a in self.command]
            stdin = None if any("{text}" in a for a in self.command) else text.encode("utf-8")
            try:
                done = subprocess.run(args, input=stdin, capture_output=True, timeout=self.timeout)
            except FileNotFoundError:
                raise DeviceError(f"speech command {self.command[0]!r} not found") from None
            except subprocess.TimeoutExpired:
                raise DeviceError(f"{self.command[0]} did not finish in {self.timeout:.0f} s") from None
            if done.returncode != 0:
                raise DeviceError(f"{self.command[0]} failed ({done.returncode}): "
                                  f"{done.stderr.decode(errors='replace').strip()[:200]}")
            if any("{out}" in a for a in self.command):
                if not out.exists():
                    raise DeviceError(f"{self.command[0]} wrote no {out.name}")
                return wav.read_wav(out)
            return wav.parse_wav(done.stdout)


class CommandSpeaker(SpeakerDevice):
    driver = "command"
    options = COMMON_OPTIONS + (
        Field("command", list, items=str, doc="program and arguments; {text} and {out} are replaced"),
        Field("command_timeout_s", float, 30.0, min=1, max=300),
    )

    @classmethod
    def validate(cls, options: dict, problems: Any, path: tuple) -> None:
        if options.get("command") == []:
            problems.add(path + ("command",), "give the program and its arguments")

    def make_engine(self) -> CommandEngine:
        return CommandEngine(self.opts["command"], self.opts["command_timeout_s"])

"""Driver ``voicepack``: announcements joined from a hall's own recorded clips.

A voice pack is a directory with ``manifest.toml`` and WAV clips (format in
docs/drivers/speaker.md). The text is cut into the longest clip names that match, left to right
(so "窗口" wins over "窗"), punctuation and spaces become pauses, and the clips are joined with
a short gap. A character without a clip fails the announcement with the list of what is
missing, never a garbled call.

``python -m drivers.speaker.voicepack DIR`` writes a starter pack spoken by espeak-ng, to be
replaced clip by clip with real recordings.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

from drivers.speaker import wav
from drivers.speaker.base import COMMON_OPTIONS, SpeakerDevice
from hwd.errors import DeviceError
from hwd.schema import Field

CALL_WORDS = list("零一二三四五六七八九十百千") + ["请", "号", "到", "窗口", "办理"]
STARTER_WORDS = CALL_WORDS + [chr(c) for c in range(ord("A"), ord("Z") + 1)] + ["暂停服务"]
PAUSES = set(" ，。、；：！？,.;:!?")


class VoicePackError(DeviceError):
    """The voice pack is unusable or lacks a clip; the message says what to fix."""


class VoicePack:
    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self.clips: dict[str, Path] = {}
        self.rate: int | None = None
        self.gap_ms = 40
        self.pause_ms = 250
        self.loaded: dict[str, wav.Audio] = {}
        self.stamp = ""

    def load(self) -> "VoicePack":
        manifest = self.dir / "manifest.toml"
        try:
            data = tomllib.loads(manifest.read_text(encoding="utf-8"))
        except OSError as exc:
            raise VoicePackError(f"voice pack {self.dir}: cannot read manifest.toml: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise VoicePackError(f"voice pack {manifest}: {exc}") from None
        clips = data.get("clips")
        if not isinstance(clips, dict) or not clips:
            raise VoicePackError(f"{manifest}: needs a [clips] table of \"word\" = \"file.wav\"")
        missing = [f for f in clips.values() if not (self.dir / str(f)).is_file()]
        if missing:
            raise VoicePackError(f"{manifest}: clip files missing: {', '.join(map(str, missing[:8]))}")
        self.clips = {self._norm(k): self.dir / str(v) for k, v in clips.items()}
        self.rate = data.get("rate")
        self.gap_ms = int(data.get("gap_ms", 40))
        self.pause_ms = int(data.get("pause_ms", 250))
        self.stamp = str(manifest.stat().st_mtime_ns)
        self.loaded.clear()
        return self

    @staticmethod
    def _norm(word: str) -> str:
        return word.upper()

    def identity(self) -> str:
        return f"voicepack:{self.dir.resolve()}:{self.stamp}"

    def check(self) -> None:
        self.load()

    def tokens(self, text: str) -> list[str | None]:
        """Clip names for ``text``; None is a pause. Raise listing the characters with no clip."""
        longest = max(map(len, self.clips), default=1)
        out: list[str | None] = []
        unknown: list[str] = []
        i, norm = 0, self._norm(text)
        while i < len(norm):
            if norm[i] in PAUSES:
                if out and out[-1] is not None:
                    out.append(None)
                i += 1
                continue
            for size in range(min(longest, len(norm) - i), 0, -1):
                if norm[i:i + size] in self.clips:
                    out.append(norm[i:i + size])
                    i += size
                    break
            else:
                unknown.append(text[i])
                i += 1
        if unknown:
            raise VoicePackError(f"voice pack {self.dir.name} has no clip for: {' '.join(dict.fromkeys(unknown))}")
        return out

    def clip(self, word: str) -> wav.Audio:
        if word not in self.loaded:
            try:
                self.loaded[word] = wav.read_wav(self.clips[word])
            except (OSError, wav.WavError) as exc:
                raise VoicePackError(f"clip {self.clips[word].name}: {exc}") from None
        return self.loaded[word]

    def synth(self, text: str) -> wav.Audio:
        parts: list[wav.Audio] = []
        words = self.tokens(text)
        rate = self.rate or (self.clip(next(w for w in words if w)).rate if any(words) else 22050)
        for i, word in enumerate(words):
            if word is None:
                parts.append(wav.silence(rate, self.pause_ms))
                continue
            if i and words[i - 1] is not None:
                parts.append(wav.silence(rate, self.gap_ms))
            parts.append(self.clip(word))
        return wav.concat(parts, rate)


def trim(audio: wav.Audio, threshold: float = 0.02) -> wav.Audio:
    """Cut the silence before and after a clip, so joined clips sound like one sentence."""
    limit = int(threshold * 32768)
    s = audio.samples
    start = next((i for i, v in enumerate(s) if abs(v) > limit), 0)
    end = next((i for i in range(len(s) - 1, -1, -1) if abs(s[i]) > limit), len(s) - 1)
    return wav.Audio(audio.rate, s[start:end + 1])


def build_pack(directory: str | Path, words: list[str] | None = None, engine: Any = None) -> Path:
    """Write a voice pack whose clips are spoken by ``engine`` (default: espeak-ng Mandarin)."""
    from drivers.speaker.espeak import EspeakEngine

    engine = engine or EspeakEngine()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["# hwd voice pack (docs/drivers/speaker.md); generated by espeak-ng: replace clips freely",
             'name = "espeak-ng starter"', "gap_ms = 30", "pause_ms = 250", "", "[clips]"]
    for n, word in enumerate(words or STARTER_WORDS):
        name = f"clip{n:03d}.wav"
        wav.write_wav(directory / name, trim(engine.synth(word)))
        lines.append(f'"{word}" = "{name}"')
    (directory / "manifest.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


class VoicePackSpeaker(SpeakerDevice):
    driver = "voicepack"
    options = COMMON_OPTIONS + (
        Field("voicepack", str, doc="directory holding manifest.toml and the WAV clips"),
    )

    @classmethod
    def validate(cls, options: dict, problems: Any, path: tuple) -> None:
        if not options.get("voicepack"):
            return
        try:
            pack = VoicePack(options["voicepack"]).load()
        except VoicePackError as exc:
            problems.add(path + ("voicepack",), str(exc))
            return
        lacking = [w for w in CALL_WORDS if w not in pack.clips]
        if lacking:
            problems.add(path + ("voicepack",), "the pack cannot read calls; no clip for: " + " ".join(lacking))

    def make_engine(self) -> VoicePack:
        return VoicePack(self.opts["voicepack"])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m drivers.speaker.voicepack DIR")
    sys.stderr.write(f"wrote {build_pack(sys.argv[1])}/manifest.toml\n")

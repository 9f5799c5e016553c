"""Just enough PCM audio for announcements: read, join, chime, volume, measure, write WAV.

Everything is mono 16-bit PCM in an ``array('h')`` (no numpy on a hall PC). The reader accepts
the headers of streamed WAVs (data size 0 or 0xFFFFFFFF, as ALSA's file plugin writes to a
pipe) by taking the rest of the bytes as data.
"""

from __future__ import annotations

import math
import os
import struct
import sys
from array import array
from dataclasses import dataclass, field
from pathlib import Path


class WavError(ValueError):
    """Not a WAV this module can read; the message says why."""


@dataclass
class Audio:
    rate: int
    samples: array = field(default_factory=lambda: array("h"))

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


def parse_wav(data: bytes) -> Audio:
    """Decode WAV bytes (PCM 8/16/24/32-bit, any channel count) to mono 16-bit."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if chunk == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise WavError("fmt chunk too short")
            fmt = struct.unpack_from("<HHIIHH", data, body)
        elif chunk == b"data":
            if fmt is None:
                raise WavError("data chunk before fmt chunk")
            end = len(data) if size in (0, 0xFFFFFFFF) or body + size > len(data) else body + size
            return _to_audio(fmt, data[body:end])
        pos = body + size + (size & 1)
    raise WavError("no data chunk")


def _to_audio(fmt: tuple, raw: bytes) -> Audio:
    tag, channels, rate, _, _, bits = fmt
    if tag not in (1, 0xFFFE) or bits not in (8, 16, 24, 32) or channels < 1 or rate < 1:
        raise WavError(f"unsupported WAV format (tag {tag}, {bits} bit): use PCM")
    width = bits // 8
    frame = width * channels
    raw = raw[:len(raw) - len(raw) % frame]
    if bits == 16:
        values = array("h", raw)
        if sys.byteorder == "big":
            values.byteswap()
    elif bits == 8:
        values = array("h", ((b - 128) << 8 for b in raw))
    else:
        values = array("h", (int.from_bytes(raw[i + width - 2:i + width], "little", signed=True)
                             for i in range(0, len(raw), width)))
    if channels > 1:
        values = array("h", (sum(values[i:i + channels]) // channels for i in range(0, len(values), channels)))
    return Audio(rate, values)


def read_wav(path: str | Path) -> Audio:
    return parse_wav(Path(path).read_bytes())


def wav_bytes(audio: Audio) -> bytes:
    samples = audio.samples
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    data = samples.tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, audio.rate, audio.rate * 2, 2, 16) + b"data" + struct.pack("<I", len(data))
    return header + data


def write_wav(path: str | Path, audio: Audio) -> Path:
    """Write atomically: a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(wav_bytes(audio))
    os.replace(tmp, path)
    return path


def silence(rate: int, ms: int) -> Audio:
    return Audio(rate, array("h", bytes(2 * (rate * ms // 1000))))


def resample(audio: Audio, rate: int) -> Audio:
    """Linear interpolation: good enough for speech clips recorded at another rate."""
    if audio.rate == rate or not audio.samples:
        return Audio(rate, array("h", audio.samples))
    src = audio.samples
    n = int(len(src) * rate / audio.rate)
    step = audio.rate / rate
    out = array("h", bytes(2 * n))
    last = len(src) - 1
    for i in range(n):
        x = i * step
        j = int(x)
        frac = x - j
        a = src[j]
        b = src[j + 1] if j < last else a
        out[i] = int(a + (b - a) * frac)
    return Audio(rate, out)


def concat(parts: list[Audio], rate: int | None = None) -> Audio:
    rate = rate or (parts[0].rate if parts else 22050)
    out = array("h")
    for part in parts:
        out.extend(resample(part, rate).samples if part.rate != rate else part.samples)
    return Audio(rate, out)


def gain(audio: Audio, factor: float) -> Audio:
    if factor == 1.0:
        return audio
    return Audio(audio.rate, array("h", (max(-32768, min(32767, int(s * factor))) for s in audio.samples)))


def rms(audio: Audio) -> float:
    """Root mean square level, 0.0 (silence) to 1.0 (full scale)."""
    if not audio.samples:
        return 0.0
    return math.sqrt(sum(s * s for s in audio.samples) / len(audio.samples)) / 32768


def chime(rate: int = 22050) -> Audio:
    """The two-tone 叮咚 before a call: 880 Hz then 660 Hz, each fading out."""
    out = array("h")
    for freq, seconds in ((880.0, 0.28), (659.3, 0.5)):
        n = int(rate * seconds)
        for i in range(n):
            t = i / rate
            level = 0.45 * math.exp(-3.5 * t / seconds) * min(1.0, i / (0.005 * rate))
            out.append(int(32767 * level * math.sin(2 * math.pi * freq * t)))
    return Audio(rate, out)

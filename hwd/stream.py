"""One stream decoder for every framed byte protocol: bytes in as they arrive, frames out.

Each protocol supplies a pure *check* function, as Klipper's ``check_packet`` (klippy/msgproto.py):
``check(buf, pos)`` looks at the bytes of ``buf`` from ``pos`` on and answers

- ``None``: need more bytes (a frame has begun and is not whole yet);
- ``Skip(n, reason)``: drop ``n`` bad bytes and look again (``noise=True``: bytes that start no
  frame at all; otherwise a frame-shaped run that was rejected, e.g. a bad checksum);
- a frame object with an integer ``size``: a frame of that many bytes.

``check`` must not change ``buf`` nor keep a reference to it (it is the decoder's buffer). The
shared ``StreamDecoder`` does the rest once for everyone: buffering without copying the buffer
per step, resynchronisation, counting skipped bytes and logging rejected frames. ``first_of``
reads several protocols that share one stream; ``literal`` reads fixed bytes (an ack).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Sequence, Union

log = logging.getLogger("hwd.stream")

Buffer = Union[bytes, bytearray]


@dataclass(frozen=True)
class Skip:
    """Bytes to drop: ``size`` of them, and why."""

    size: int
    reason: str
    noise: bool = False    # bytes that start no frame (rather than a frame that was rejected)


Check = Callable[[Buffer, int], Any]   # -> None | Skip | a frame with ``size``


@dataclass(frozen=True)
class Tagged:
    """A frame read by one of several protocols (``first_of``): which one, and the frame."""

    tag: Any
    frame: Any

    @property
    def size(self) -> int:
        return self.frame.size


@dataclass(frozen=True)
class Literal:
    """Fixed bytes read off a stream (a screen's ack)."""

    value: bytes

    @property
    def size(self) -> int:
        return len(self.value)


def literal(value: bytes) -> Check:
    """The check of one fixed byte string (``value``, not empty)."""

    def check(buf: Buffer, pos: int) -> Literal | Skip | None:
        if buf.startswith(value, pos):
            return Literal(value)
        if len(buf) - pos < len(value) and value.startswith(buf[pos:]):
            return None
        nxt = buf.find(value[:1], pos + 1)
        return Skip((nxt if nxt >= 0 else len(buf)) - pos, f"not {value.hex(' ')}", noise=True)

    return check


def first_of(checks: Sequence[tuple[Any, Check]]) -> Check:
    """One check over several protocols on one stream: at each position the first that reads a
    whole frame wins (as ``Tagged(tag, frame)``); while any still waits for bytes, so does this
    one; bytes are dropped only when every protocol drops them, the fewest of them."""
    checks = list(checks)

    def check(buf: Buffer, pos: int) -> Any:
        if not checks:
            return Skip(len(buf) - pos, "no protocol on this stream", noise=True)
        skips: list[Skip] = []
        waiting = False
        for tag, one in checks:
            result = one(buf, pos)
            if result is None:
                waiting = True
            elif isinstance(result, Skip):
                skips.append(result)
            else:
                return Tagged(tag, result)
        if waiting or not skips:
            return None
        return min(skips, key=lambda s: max(1, s.size))

    return check


class StreamDecoder:
    """Bytes of one stream → frames and ``Skip``s, in stream order.

    ``feed(data)`` returns what the bytes so far complete; ``flush()`` is for a line that went
    quiet: a frame still waiting for bytes was cut short, so its head is dropped (as one
    ``Skip("frame cut short")``) and whole frames behind it are still found. ``quiet`` may
    instead say what a waiting head is once no more bytes come (e.g. a key that is also the
    start of a longer key). Counters: ``frames``, ``noise_bytes``, ``bad_frames``,
    ``skipped_bytes`` (noise and rejected bytes together).
    """

    def __init__(self, check: Check, name: str = "", max_frame: int = 65536,
                 quiet: Check | None = None, logger: logging.Logger | logging.LoggerAdapter | None = None):
        self.check = check
        self.name = name
        self.max_frame = max_frame
        self.quiet = quiet
        self.log = logger or log
        self.buffer = bytearray()
        self.counters = {"frames": 0, "noise_bytes": 0, "bad_frames": 0, "skipped_bytes": 0}

    @property
    def pending(self) -> int:
        """Bytes waiting for the rest of a frame."""
        return len(self.buffer)

    def reset(self) -> None:
        """Forget a partial frame (e.g. before a new request on a half-duplex line)."""
        self.buffer.clear()

    def feed(self, data: bytes) -> list:
        if data:
            self.buffer += data
        out: list = []
        pos = self._decode(0, out)
        del self.buffer[:pos]
        return out

    def flush(self) -> list:
        out: list = []
        buf = self.buffer
        pos = cut = 0
        while pos < len(buf):
            result = self.check(buf, pos)
            if result is None and self.quiet is not None:
                result = self.quiet(buf, pos)
            if result is None:
                cut, pos = cut + 1, pos + 1
                continue
            if cut:
                out.append(self._skipped(Skip(cut, "frame cut short")))
                cut = 0
            pos += self._take(result, out)
        if cut:
            out.append(self._skipped(Skip(cut, "frame cut short")))
        buf.clear()
        return out

    # -- the loop ----------------------------------------------------------------------------
    def _decode(self, pos: int, out: list) -> int:
        """Decode from ``pos`` until the check needs more bytes; return the position reached."""
        buf = self.buffer
        while pos < len(buf):
            result = self.check(buf, pos)
            if result is None:
                if len(buf) - pos <= self.max_frame:
                    break
                result = Skip(1, f"no frame within {self.max_frame} bytes")
            pos += self._take(result, out)
        return pos

    def _take(self, result: Any, out: list) -> int:
        """Count and output one check result; return the bytes it consumed."""
        if isinstance(result, Skip):
            if result.size < 1:
                result = Skip(1, result.reason, result.noise)
            out.append(self._skipped(result))
            return result.size
        if result.size < 1:
            raise ValueError(f"{self.name}: a check returned a frame of {result.size} bytes")
        self.counters["frames"] += 1
        out.append(result)
        return result.size

    def _skipped(self, skip: Skip) -> Skip:
        self.counters["skipped_bytes"] += skip.size
        where = f"{self.name}: " if self.name else ""
        if skip.noise:
            self.counters["noise_bytes"] += skip.size
            self.log.debug("%s%d byte(s) skipped: %s", where, skip.size, skip.reason)
        else:
            self.counters["bad_frames"] += 1
            self.log.info("%sbad frame (%d byte(s) dropped): %s", where, skip.size, skip.reason)
        return skip

"""Recording what a device said on its port, both ways, with timestamps — and playing it back.

A field engineer cannot send us the device; a capture of its bytes is the next best thing.
Every serial-style port hwd opens (``hwd.ports.open_serial``: serial, TCP converters, any
pyserial URL) is wrapped in a ``TapPort``, modelled on pyserial's ``spy://`` handler
(serial/urlhandler/protocol_spy.py: wrap ``write``/``read``, log TX and RX with the time since
the start) but around *any* port object, not only a native one, and writing records a program
can read back. A ``Recorder`` is attached to a port for a while (``hwctl capture DEVICE``,
RPC ``devices.capture``) or for the port's life (``?capture=FILE`` on the device URL).

File format (JSON lines, one record per read or write)::

    {"format": "hwd-capture/1", "url": "serial:///dev/ttyUSB0", "started": "2026-…"}
    {"t": 0.0123, "dir": "tx", "hex": "ff68020268010102 16"}
    {"t": 0.0410, "dir": "rx", "hex": "…"}

``t`` is seconds since the capture started (time.monotonic). hwd/capture_playback.py plays a file back.

A capture holds what went over the wire — a scanned code, a ticket's text, a staff id keyed in —
so every capture file is created ``0600`` whatever the umask (``open_private``), and a symlink
where the file should be is refused rather than followed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Iterable, TextIO

FORMAT = "hwd-capture/1"
MAX_BYTES = 4 * 1024 * 1024  # of records as written (JSON lines), in memory or on disk
FLUSH_S = 0.5  # a file capture reaches the disk at least this often, not at every byte read


class Recorder:
    """Collects the traffic of one port (in memory, and to ``path`` if given) up to ``max_bytes``."""

    def __init__(self, url: str, path: Path | None = None, max_bytes: int = MAX_BYTES):
        self.url = url
        self.t0 = time.monotonic()
        self.started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        self.records: list[dict[str, Any]] = []
        self.bytes = 0
        self.max_bytes = max_bytes
        self.truncated = False
        self._lock = threading.Lock()
        self._file = None
        self._flushed = 0.0
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open_private(path)
            self._write(self.header())

    def header(self) -> dict:
        return {"format": FORMAT, "url": self.url, "started": self.started}

    def add(self, direction: str, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            record = {"t": round(time.monotonic() - self.t0, 6), "dir": direction, "hex": data.hex()}
            line = json.dumps(record) + "\n"
            if self.bytes + len(line) > self.max_bytes:  # the record as kept, not its payload: a
                self.truncated = True                     # byte-at-a-time device writes 40 per byte
                return
            self.bytes += len(line)
            if self._file is None:
                self.records.append(record)
            else:
                self._file.write(line)
                if time.monotonic() - self._flushed >= FLUSH_S:
                    self._flush()

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._flush()

    def _flush(self) -> None:
        self._file.flush()
        self._flushed = time.monotonic()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class Taps:
    """Which recorders listen on which port (by ``hwd.ports.port_key``)."""

    def __init__(self) -> None:
        self._by_key: dict[str, list[Recorder]] = {}
        self._lock = threading.Lock()

    def start(self, key: str, recorder: Recorder) -> Recorder:
        with self._lock:
            self._by_key.setdefault(key, []).append(recorder)
        return recorder

    def stop(self, key: str, recorder: Recorder) -> None:
        with self._lock:
            listeners = self._by_key.get(key, [])
            if recorder in listeners:
                listeners.remove(recorder)
            if not listeners:
                self._by_key.pop(key, None)
        recorder.close()

    def get(self, key: str) -> list[Recorder]:
        return self._by_key.get(key) or []


TAPS = Taps()


class TapPort:
    """A port that reports its reads and writes to the recorders of its key; otherwise the port."""

    def __init__(self, port: Any, key: str, own: Recorder | None = None):
        object.__setattr__(self, "_port", port)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_own", own)

    def _recorders(self) -> list[Recorder]:
        found = TAPS.get(self._key)
        return found + [self._own] if self._own is not None else found

    def write(self, data: bytes) -> Any:
        for recorder in self._recorders():
            recorder.add("tx", bytes(data))
        return self._port.write(data)

    def read(self, size: int = 1) -> bytes:
        data = self._port.read(size)
        if data:
            for recorder in self._recorders():
                recorder.add("rx", data)
        return data

    def close(self) -> None:
        try:
            self._port.close()
        finally:
            if self._own is not None:
                self._own.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._port, name, value)


# -- files -------------------------------------------------------------------------------------
PRIVATE_MODE = 0o600


def open_private(path: Path | str) -> TextIO:
    """``path`` truncated and opened for writing (UTF-8), readable by its owner only: created
    0600 (``os.open``'s mode, which the umask can only narrow) and set to 0600 when it existed
    with another mode. A symlink at ``path`` is an error (OSError), never followed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)
        return os.fdopen(fd, "w", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path | str, text: str) -> None:
    """Write a whole capture file, 0600 (``open_private``)."""
    with open_private(path) as fh:
        fh.write(text)


def dump(header: dict, records: Iterable[dict]) -> str:
    return "".join(json.dumps(x) + "\n" for x in [header, *records])


def load(path: Path | str) -> tuple[dict, list[tuple[float, str, bytes]]]:
    """Read a capture file: its header and ``(t, "tx"|"rx", data)`` records."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines:
        raise ValueError(f"{path}: empty capture")
    header = json.loads(lines[0])
    if header.get("format") != FORMAT:
        raise ValueError(f"{path}: not an hwd capture (format {header.get('format')!r})")
    records = []
    for n, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        item = json.loads(line)
        if item.get("dir") not in ("tx", "rx"):
            raise ValueError(f"{path}:{n}: dir must be tx or rx")
        records.append((float(item["t"]), item["dir"], bytes.fromhex(item["hex"])))
    return header, records


def hexdump(records: Iterable[tuple[float, str, bytes]]) -> str:
    """Human-readable lines in the layout of pyserial's spy:// hexdump (time, TX/RX, hex, ASCII)."""
    out = []
    for t, direction, data in records:
        for offset in range(0, len(data), 16):
            row = data[offset:offset + 16]
            hexes = " ".join(f"{b:02X}" for b in row)
            text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
            out.append(f"{t:010.3f} {direction.upper():4} {offset:04X}  {hexes:<47}  {text}")
    return "\n".join(out) + ("\n" if out else "")

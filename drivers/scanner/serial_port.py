"""Driver ``serial``: a scanner in serial (virtual COM) mode that sends one code per line.

Many scanners can be switched from keyboard wedge to USB-CDC or RS-232 mode; then each code
arrives as text followed by CR and/or LF. The same driver serves a scanner behind a
TCP-to-serial converter (``tcp://host:port``). Bytes that are not valid in ``encoding`` are
replaced, counted and logged, never fatal; an over-long line without a terminator is dropped,
and so is a partial code whose next byte does not come within ``char_timeout_ms`` (a scanner
sends a whole code in one burst; a half code left over must not be glued to the next scan).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from drivers.scanner.interface import Scanner
from hwd.errors import DeviceLost
from hwd.ports import open_serial
from hwd.schema import Field
from hwd.stream import Buffer, Skip, StreamDecoder


@dataclass(frozen=True)
class Line:
    """One line as it came, without its line end."""

    data: bytes
    size: int


def line_check(max_length: int):
    """hwd/stream.py's check for lines ended by CR and/or LF, at most ``max_length`` bytes."""

    def check(buf: Buffer, pos: int) -> Line | Skip | None:
        ends = [i for i in (buf.find(b"\n", pos), buf.find(b"\r", pos)) if i >= 0]
        if ends:
            return Line(bytes(buf[pos:min(ends)]), min(ends) - pos + 1)
        if len(buf) - pos > max_length:
            return Skip(len(buf) - pos, f"no line end within {max_length} bytes")
        return None

    return check


class SerialScanner(Scanner):
    driver = "serial"
    schemes = ("serial", "tcp")
    requires = (("serial", "pyserial"),)
    emulator = "drivers.scanner.emulator:ScannerEmulator"
    poll_interval = 0.02
    options = (
        Field("baudrate", int, 9600, min=300, max=921600),
        Field("encoding", str, "utf-8", choices=("utf-8", "ascii", "gb18030", "latin-1")),
        Field("max_length", int, 512, min=8, max=8192, doc="longest code accepted"),
        Field("char_timeout_ms", int, 1000, min=20, max=60000,
              doc="a partial code is dropped when its next byte takes longer than this"),
    )

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.port = None
        self.lines = StreamDecoder(line_check(self.opts["max_length"]), logger=self.log)
        self.last_byte = 0.0

    def open(self) -> None:
        self.port = open_serial(self.url, baudrate=self.opts["baudrate"], timeout=0)
        self.lines.reset()

    def close(self) -> None:
        if self.port is not None:
            self.port.close()
            self.port = None

    def poll(self) -> None:
        try:
            data = self.port.read(4096)
        except OSError as exc:
            raise DeviceLost(str(exc)) from exc
        now = time.monotonic()
        if not data:
            if self.lines.pending and now - self.last_byte > self.opts["char_timeout_ms"] / 1000:
                self.count("partial_timeout")
                self.log.warning("dropped a partial code of %d bytes: no more bytes within %d ms",
                                 self.lines.pending, self.opts["char_timeout_ms"])
                self.lines.reset()
            return
        if self.lines.pending and now - self.last_byte > self.opts["char_timeout_ms"] / 1000:
            self.count("partial_timeout")
            self.log.warning("dropped a partial code of %d bytes: the rest came too late", self.lines.pending)
            self.lines.reset()
        self.last_byte = now
        for text in self.feed(data):
            self.publish("scanner.scan", text=text)

    def feed(self, data: bytes) -> list[str]:
        """The codes that ``data`` completes."""
        codes = []
        for line in self.lines.feed(data):
            if isinstance(line, Skip):
                self.count("overlong")
                continue
            if not line.data:
                continue
            text = line.data.decode(self.opts["encoding"], errors="replace")
            if "\ufffd" in text:
                self.count("bad_bytes")
                self.log.warning("code with bytes invalid in %s", self.opts["encoding"])
            codes.append(text.strip())
        return codes

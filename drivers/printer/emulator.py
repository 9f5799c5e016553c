"""Emulator of an ESC/POS receipt printer: a network printer on a loopback TCP port by default,
or a serial printer on a pty (``sim://NAME?transport=pty``).

It parses the stream with ``protocol.StreamParser`` (ESC @, FS & / FS ., GS !, ESC E, ESC a,
GS ( k, GS k, GS v 0, GS V, DLE EOT, ...), answers DLE EOT from its injectable state, and at
every cut writes ``receipts/NNNNN.png`` (the receipt as it would look, CJK font, QR drawn) and
``NNNNN.json`` (what it understood) under its work directory. Bytes it does not understand are
counted and reported in ``status``, never fatal.

It answers ``GS r 1`` in turn with the data, once the receipt before it is cut, as a printer
does once it has processed the job (``no_confirm {on}``: it never answers it, as a printer
without the command).

Actions (``hwctl sim DEVICE ACTION JSON``): ``paper {state: ok|near_end|out}``,
``cover {open}``, ``offline {on}``, ``garbage {on}`` (answer status with invalid bytes),
``no_confirm {on}``, ``receipts {last}``, and from the base ``silent``, ``unplug``, ``plug``,
``status``. While paper is out, the cover open or the printer offline, print data is dropped
(counted) and ``GS r`` is not answered, as a stopped printer does; DLE EOT is still answered.
"""

from __future__ import annotations

import concurrent.futures
import threading
from pathlib import Path
from typing import Any

from drivers.printer import protocol
from drivers.printer.documents import DOTS
from drivers.printer.receipt import LINE_PX, Receipt
from hwd.errors import HwdError, INVALID_PARAMS
from hwd.sim import Emulator

ALIGN_NAMES = {0: "left", 1: "center", 2: "right", 0x30: "left", 0x31: "center", 0x32: "right"}
FULL_CUTS = (0, 0x30, 0x41, 0x61, 0x67)


class PrinterEmulator(Emulator):
    transport = "tcp"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.width_px = DOTS.get(int(self.options.get("width_mm", 80)), 576)
        self.font = str(self.options.get("font", ""))
        self.receipts_dir = self.workdir / "receipts"
        self.lock = threading.RLock()
        self.parser = protocol.StreamParser()
        self.unknown = protocol.Unknowns()
        self.paper = "ok"
        self.cover_open = False
        self.offline = False
        self.garbage = False
        self.no_confirm = False
        self.confirms = 0
        self.dropped = 0
        self.queries = 0
        self.printed: list[dict] = []
        self._writes: list[concurrent.futures.Future] = []
        self._writer: concurrent.futures.ThreadPoolExecutor | None = None
        self._number = 0
        self._reset_page()
        self._reset_style()
        self.chinese = True          # printers sold in China power on in Chinese mode

    def start(self) -> str:
        existing = sorted(self.receipts_dir.glob("*.json")) if self.receipts_dir.is_dir() else []
        self._number = max((int(p.stem) for p in existing if p.stem.isdigit()), default=0)
        return super().start()

    def stop(self) -> None:
        super().stop()
        if self._writer is not None:
            self._writer.shutdown(wait=True)

    # -- state ---------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self.paper != "out" and not self.cover_open and not self.offline

    def _reset_style(self) -> None:
        self.bold = False
        self.align = "left"
        self.width = self.height = 1
        self.qr = protocol.QrState()
        self.barcode_height = 162

    def _reset_page(self) -> None:
        self.page = Receipt(self.width_px)
        self.line: list[tuple[bool, bytes]] = []
        self.line_attrs: dict | None = None

    # -- the wire ------------------------------------------------------------------------------
    def received(self, data: bytes) -> None:
        with self.lock:
            for token in self.parser.feed(data):
                self._token(token)

    def _token(self, token: protocol.Token) -> None:
        if token.kind == "cmd" and token.name == "status_query":
            self._answer_status(token.args[0])
            return
        if token.kind == "cmd" and token.name == "realtime_request":
            return
        if not self.ready:
            self.dropped += len(token.data) + len(token.args) + (2 if token.kind == "cmd" else 0)
            return
        if token.kind == "text":
            if self.line_attrs is None:
                self.line_attrs = {"width": self.width, "height": self.height, "bold": self.bold, "align": self.align}
            self.line.append((self.chinese, token.data))
        elif token.kind == "ctl":
            if token.name in ("LF", "FF"):
                self._end_line(blank_feeds=True)
            elif token.name == "HT":
                self.line.append((False, b"    "))
            elif token.name == "CAN":
                self.line, self.line_attrs = [], None
        elif token.kind == "unknown":
            self.unknown.add(token.data)
            self.log.debug("unknown bytes %s", token.data.hex(" "))
        else:
            self._command(token)

    def _command(self, token: protocol.Token) -> None:
        name, args = token.name, token.args
        if name == "init":
            self.line, self.line_attrs = [], None
            self._reset_style()
        elif name == "bold":
            self.bold = bool(args[0] & 1)
        elif name == "align":
            self.align = ALIGN_NAMES.get(args[0], "left")
        elif name == "size":
            self.width, self.height = (args[0] >> 4 & 7) + 1, (args[0] & 7) + 1
        elif name == "mode":
            self.bold = bool(args[0] & 0x08)
            self.height = 2 if args[0] & 0x10 else 1
            self.width = 2 if args[0] & 0x20 else 1
        elif name == "chinese_on":
            self.chinese = True
        elif name == "chinese_off":
            self.chinese = False
        elif name == "feed_lines":
            self._end_line()
            if args[0]:
                self.page.add({"type": "feed", "dots": LINE_PX * args[0]})
        elif name == "feed_dots":
            self._end_line()
            if args[0]:
                self.page.add({"type": "feed", "dots": args[0]})
        elif name == "barcode_height":
            self.barcode_height = args[0] or 162
        elif name.startswith("gs(") and args == b"k":
            data = protocol.qr_function(token, self.qr)
            if data is not None:
                self._end_line()
                self.page.add({"type": "qr", "data": data.decode("utf-8", "replace"), "size": self.qr.module,
                               "ec": self.qr.ec, "align": self.align})
        elif name == "barcode":
            self._end_line()
            self.page.add({"type": "barcode", "align": self.align,
                           "height": self.barcode_height, **_barcode(args[0], token.data)})
        elif name == "raster":
            self._end_line()
            self._raster(args, token.data)
        elif name == "bit_image":
            self.unknown.add(b"\x1b*")  # column images are understood as bytes only
        elif name == "cut":
            self._end_line()
            self._cut("full" if args[0] in FULL_CUTS else "partial")
        elif name == "cut_partial_legacy":
            self._end_line()
            self._cut("partial")
        elif name == "status" and args[0] in (1, 0x31):
            self._end_line()
            if not self.no_confirm:
                self.confirms += 1
                self.send(bytes((protocol.encode_paper_sensor(self.paper),)))

    def _answer_status(self, n: int) -> None:
        self.queries += 1
        if self.garbage:
            self.send(b"\xff")
        elif n in (1, 2, 3, 4):
            self.send(bytes((protocol.encode_status(n, offline=self.offline, cover_open=self.cover_open,
                                                    paper=self.paper),)))
        else:
            self.unknown.add(bytes((protocol.DLE, protocol.EOT, n)))

    def _end_line(self, blank_feeds: bool = False) -> None:
        if self.line_attrs is None:
            if blank_feeds:
                self.page.add({"type": "feed", "dots": LINE_PX})   # a blank line: the line spacing
            self.line = []
            return
        text = _decode(self.line)
        self.page.add({"type": "text", "text": text, **self.line_attrs})
        self.line, self.line_attrs = [], None

    def _raster(self, args: bytes, data: bytes) -> None:
        from PIL import Image

        width_bytes, height = args[2] | args[3] << 8, args[4] | args[5] << 8
        if not width_bytes or not height:
            return
        image = Image.frombytes("1", (width_bytes * 8, height), data)
        image = image.point(lambda v: 0 if v else 255, "L")   # printer bit 1 = black dot
        self.page.add({"type": "image", "width": width_bytes * 8, "height": height, "align": self.align}, image)

    def _cut(self, mode: str) -> None:
        """Finish the receipt. Its picture is drawn in a writer thread, so status requests
        after the cut are answered at once, as a real printer answers them in real time."""
        if self.page.empty:
            return
        self._number += 1
        info = self.page.describe_files(self.receipts_dir, self._number, mode)
        if self._writer is None:
            self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"sim-{self.name}-png")
        self._writes = [f for f in self._writes if not f.done()]
        self._writes.append(self._writer.submit(self._write, self.page, info))
        self.printed.append(info)
        del self.printed[:-200]
        self.log.info("receipt %d cut (%s): %r", self._number, mode, info["text"][:60])
        self._reset_page()

    def _write(self, page: Receipt, info: dict) -> None:
        try:
            page.write(info, self.font)
        except OSError as exc:
            self.log.error("cannot write receipt %d: %s", info["receipt"], exc)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every receipt cut so far is on disk."""
        with self.lock:
            pending = list(self._writes)
        concurrent.futures.wait(pending, timeout=timeout)

    # -- actions -------------------------------------------------------------------------------
    def act_paper(self, state: str = "ok") -> dict:
        """Paper ok, near end (a warning) or out (the printer stops)."""
        if state not in ("ok", "near_end", "out"):
            raise HwdError("paper state is ok, near_end or out", INVALID_PARAMS)
        with self.lock:
            self.paper = state
        return self.status()

    def act_cover(self, open: bool = True) -> dict:  # noqa: A002 - the action's parameter name
        with self.lock:
            self.cover_open = bool(open)
        return self.status()

    def act_offline(self, on: bool = True) -> dict:
        with self.lock:
            self.offline = bool(on)
        return self.status()

    def act_garbage(self, on: bool = True) -> dict:
        """Answer status requests with bytes of the wrong shape."""
        with self.lock:
            self.garbage = bool(on)
        return self.status()

    def act_no_confirm(self, on: bool = True) -> dict:
        """Never answer GS r 1, as a printer without the command."""
        with self.lock:
            self.no_confirm = bool(on)
        return self.status()

    def act_receipts(self, last: int | None = None) -> list[dict]:
        """The receipts cut so far (JSON descriptions, with the PNG and JSON paths)."""
        self.flush()
        with self.lock:
            items = list(self.printed)
        return items[-last:] if last else items

    def status(self) -> dict:
        return {**super().status(), "paper": self.paper, "cover_open": self.cover_open, "offline": self.offline,
                "garbage": self.garbage, "no_confirm": self.no_confirm, "confirms": self.confirms,
                "receipts": len(self.printed), "receipts_dir": str(self.receipts_dir),
                "unknown_bytes": self.unknown.count, "unknown_samples": self.unknown.samples[:5],
                "dropped_bytes": self.dropped, "status_queries": self.queries}


def _decode(segments: list[tuple[bool, bytes]]) -> str:
    out = []
    i = 0
    while i < len(segments):
        chinese = segments[i][0]
        chunk = b""
        while i < len(segments) and segments[i][0] == chinese:
            chunk += segments[i][1]
            i += 1
        out.append(chunk.decode("gb18030" if chinese else "cp437", errors="replace"))
    return "".join(out)


def _barcode(m: int, data: bytes) -> dict:
    kind = protocol.barcode_name(m)
    text = data.decode("latin-1")
    if kind == "CODE128" and len(text) >= 2 and text[0] == "{" and text[1] in "ABC":
        text = text[2:].replace("{{", "{")
    return {"symbology": kind, "data": text}


def receipts_in(directory: Path) -> list[Path]:
    """The receipt JSON files in ``directory``, oldest first (for tools and tests)."""
    return sorted(Path(directory).glob("*.json"))

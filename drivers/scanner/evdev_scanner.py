"""Driver ``evdev``: a barcode/QR scanner in USB keyboard (HID wedge) mode, grabbed exclusively.

``url = "evdev:///dev/input/by-id/usb-...-event-kbd"``. The key events are turned into text by
``drivers.scanner.wedge.WedgeDecoder`` (US layout, Shift, keypad digits; Enter ends a code; a
pause longer than ``timeout_ms`` discards a partial one). Grabbing keeps the typed codes out of
the kiosk browser. Unplug → offline; plug back → online and grabbed again.
"""

from __future__ import annotations

import time

from drivers.evdev_input import EvdevInput, key_names
from drivers.scanner.wedge import WedgeDecoder
from drivers.scanner.interface import Scanner
from hwd.schema import Field


class EvdevScanner(Scanner):
    driver = "evdev"
    schemes = ("evdev",)
    requires = (("evdev", "evdev"),)
    poll_interval = 0.02
    options = (
        Field("timeout_ms", int, 200, min=20, max=10000,
              doc="a pause this long between keys discards a partial code"),
        Field("max_length", int, 512, min=8, max=8192, doc="longest code accepted"),
        Field("grab", bool, True, doc="take the device exclusively"),
    )

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.input = EvdevInput(self.url.target, self.opts["grab"])
        self.decoder: WedgeDecoder | None = None

    def open(self) -> None:
        self.decoder = WedgeDecoder(key_names(), self.opts["timeout_ms"] / 1000, self.opts["max_length"])
        self.input.open()
        self.log.info("opened %s (%s)", self.input.path, self.input.name)

    def close(self) -> None:
        self.input.close()

    def poll(self) -> None:
        for type_, code, value, timestamp in self.input.read():
            text = self.decoder.feed(type_, code, value, timestamp)
            if text:
                self.count("scans")
                self.publish("scanner.scan", text=text)
        # evdev timestamps are CLOCK_REALTIME, like time.time()
        if self.decoder.expire(time.time()):
            self.count("partial_discarded")
            self.log.warning("discarded a partial code (keys paused over %d ms)", self.opts["timeout_ms"])

"""What every barcode/QR scanner is to the rest of hwd: no RPC methods, only the
``scanner.scan {device, text}`` event, whatever the scanner's link. See docs/drivers/scanner.md.
"""

from __future__ import annotations

from hwd.device import Device


class Scanner(Device):
    kind = "scanner"
    methods = ()

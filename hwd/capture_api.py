"""RPC ``devices.capture``: record a device's port for a while and return what went over it.

Used by ``hwctl capture DEVICE`` so a field engineer can send us what a real device said
without touching the config or stopping the daemon. ID-card readers are refused, and so is any
device on a port a reader also uses: that traffic is personal data (PIPL), and a capture is a
file that travels.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hwd import errors
from hwd.capture import TAPS, Recorder
from hwd.errors import HwdError
from hwd.ports import port_key
from hwd.schema import Field

SERIAL_STYLE = ("serial", "tcp")


def register(methods: Any, manager: Any) -> None:
    async def capture(p: dict) -> dict:
        dev = manager.get(p["device"])
        if dev.kind == "idcard":
            raise HwdError(f"device {dev.id} is an ID-card reader: its traffic is personal data and "
                           "is never captured", errors.CAPTURE_REFUSED)
        if dev.url.scheme not in SERIAL_STYLE and not dev.url.is_serial_like:
            raise HwdError(f"device {dev.id} ({dev.url.scheme}://) has no serial-style port to capture",
                           errors.CAPTURE_REFUSED)
        key = port_key(dev.url)
        reader = next((o for o in manager.devices.values() if o.kind == "idcard" and port_key(o.url) == key), None)
        if reader is not None:
            raise HwdError(f"device {dev.id} shares its port with the ID-card reader {reader.id}: that traffic is "
                           "personal data and is never captured", errors.CAPTURE_REFUSED)
        recorder = TAPS.start(key, Recorder(str(dev.config.url), max_bytes=p["max_bytes"]))
        try:
            await asyncio.sleep(p["seconds"])
        finally:
            TAPS.stop(key, recorder)
        return {"device": dev.id, "header": {**recorder.header(), "device": dev.id, "driver": dev.driver,
                           "port": str(dev.url)},
                "records": recorder.records, "truncated": recorder.truncated, "bytes": recorder.bytes}

    methods.add("devices.capture", capture,
                (Field("device", str), Field("seconds", float, 10.0, min=0.1, max=600),
                 Field("max_bytes", int, 1024 * 1024, min=1, max=4 * 1024 * 1024)),
                "record a device's port, both directions with timestamps, for `seconds`", replay=False)

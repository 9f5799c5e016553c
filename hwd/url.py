"""Device URLs (the ``url`` of a ``[[device]]``, docs/config.md): parsed once at config time so a
malformed one is a config error, not a surprise when the device is opened.

Besides hwd's own schemes, the pyserial URL handlers (``spy://``, ``socket://``, ``loop://``,
``rfc2217://``, ``hwgrep://``) are accepted for serial devices and passed through untouched, so
a field engineer can wrap a port in ``spy://`` to see its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

SCHEMES = {  # hwd's own schemes: an example and what it names (docs/config.md is made from this)
    "serial": "`serial:///dev/ttyUSB0?baudrate=9600`: a serial port (pyserial); `/dev/serial/by-id/...` paths "
              "recommended; `?capture=FILE` records its traffic (docs/deploy.md)",
    "usb": "`usb://0416:5011`: a USB device by vendor:product (pyusb)",
    "tcp": "`tcp://192.168.1.50:9100`: a raw TCP device (network printers, LED controllers, TCP-serial converters)",
    "udp": "`udp://192.168.1.60:5005`: a screen with an IP address, one datagram per frame",
    "file": "`file:///dev/usb/lp0`: a character device (or a file) written as a file",
    "evdev": "`evdev:///dev/input/by-id/usb-...-event-kbd`: an input device (python-evdev), grabbed exclusively",
    "alsa": "`alsa://default`: a sound output",
    "sim": "`sim://NAME`: the driver's emulator, started by hwd at the far end of a pty or a loopback socket, so "
           "the real driver and the real bytes run (demos, training, tests; not a mock); devices with the same "
           "NAME share one emulated wire; `?transport=tcp` listens on TCP, `?replay=FILE` plays a capture back",
    "null": "`null://`: nothing at the far end (a web display's content goes out as events only)",
}
HWD_SCHEMES = tuple(SCHEMES)
PYSERIAL_SCHEMES = ("spy", "socket", "loop", "rfc2217", "hwgrep", "alt")
SERIAL_PARAMS = {"baudrate": int, "bytesize": int, "parity": str, "stopbits": float,
                 "timeout": float, "xonxoff": int, "rtscts": int}


class UrlError(ValueError):
    """The URL is malformed; the message says how."""


@dataclass(frozen=True)
class DeviceUrl:
    """A parsed device URL. ``target`` is the path, host:port, vid:pid or ALSA name."""

    raw: str
    scheme: str
    target: str = ""
    host: str = ""
    port: int = 0
    params: dict = field(default_factory=dict)

    @property
    def is_serial_like(self) -> bool:
        return self.scheme in ("serial",) + PYSERIAL_SCHEMES

    def usb_ids(self) -> tuple[int, int]:
        vid, pid = self.target.split(":")
        return int(vid, 16), int(pid, 16)

    def __str__(self) -> str:
        return self.raw


def parse(raw: str) -> DeviceUrl:
    """Parse and check a device URL; raise UrlError with a reason a person can act on."""
    if "://" not in raw:
        raise UrlError(f"{raw!r} is not a URL; write e.g. serial:///dev/ttyUSB0 or tcp://host:9100")
    scheme = raw.split("://", 1)[0].lower()
    if scheme in PYSERIAL_SCHEMES:
        return DeviceUrl(raw, scheme, raw)
    if scheme not in HWD_SCHEMES:
        raise UrlError(f"unknown scheme {scheme}://; known: "
                       + ", ".join(s + "://" for s in HWD_SCHEMES + PYSERIAL_SCHEMES))
    parts = urlsplit(raw)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if scheme in ("serial", "file", "evdev"):
        if parts.netloc:
            raise UrlError(f"{scheme}:// takes an absolute path with three slashes, "
                           f"e.g. {scheme}:///dev/... (got host {parts.netloc!r})")
        if not parts.path.startswith("/"):
            raise UrlError(f"{scheme}:// needs an absolute path")
        if scheme == "serial":
            params = _serial_params(params)
        return DeviceUrl(raw, scheme, parts.path, params=params)
    if scheme in ("tcp", "udp"):
        # udp://: a screen with an IP address, one datagram per frame (drivers/display/udp.py)
        try:
            port = parts.port
        except ValueError as exc:
            raise UrlError(f"bad port: {exc}") from None
        if not parts.hostname or not port:
            example = "tcp://192.168.1.50:9100" if scheme == "tcp" else "udp://192.168.1.60:5005"
            raise UrlError(f"{scheme}:// needs host and port, e.g. {example}")
        if scheme == "udp" and parts.path not in ("", "/"):
            raise UrlError(f"{scheme}:// takes host and port only (got the path {parts.path!r})")
        return DeviceUrl(raw, scheme, f"{parts.hostname}:{port}", parts.hostname, port, params)
    if scheme == "usb":
        target = parts.netloc
        try:
            vid, pid = target.split(":")
            if len(vid) != 4 or len(pid) != 4:
                raise ValueError
            int(vid, 16), int(pid, 16)
        except ValueError:
            raise UrlError("usb:// takes VID:PID as four hex digits each, e.g. usb://0416:5011") from None
        return DeviceUrl(raw, scheme, target.lower(), params=params)
    if scheme == "alsa":
        return DeviceUrl(raw, scheme, parts.netloc or "default", params=params)
    # sim:// and null://: the netloc names a shared emulator (e.g. several screens on one bus)
    return DeviceUrl(raw, scheme, parts.netloc, params=params)


def _serial_params(params: dict) -> dict:
    out = {}
    for key, value in params.items():
        if key == "capture":          # hwd/capture.py: record this port's traffic to a file
            out[key] = value
            continue
        if key not in SERIAL_PARAMS:
            raise UrlError(f"unknown serial parameter {key!r}; known: {', '.join(SERIAL_PARAMS)}")
        try:
            out[key] = SERIAL_PARAMS[key](value)
        except ValueError:
            raise UrlError(f"serial parameter {key}={value!r} is not a number") from None
    return out

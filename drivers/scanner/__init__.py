"""Barcode and QR scanners: appointment codes at the kiosk and the window."""

INTERFACE = "drivers.scanner.interface:Scanner"

DRIVERS = {
    "evdev": "drivers.scanner.evdev_scanner:EvdevScanner",
    "serial": "drivers.scanner.serial_port:SerialScanner",
}

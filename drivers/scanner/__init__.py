"""Barcode and QR scanners: appointment codes at the kiosk and the window."""

DRIVERS = {
    "serial": "drivers.scanner.serial_port:SerialScanner",
}

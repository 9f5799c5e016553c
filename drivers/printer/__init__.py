"""Receipt printers: the ticket printer of the numbering machine (叫号机) and kiosks."""

INTERFACE = "drivers.printer.interface:Printer"

DRIVERS = {
    "escpos": "drivers.printer.escpos_driver:EscposPrinter",
}

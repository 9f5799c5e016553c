"""Keypads: the 好差评 evaluation keypad in front of each window and the clerk's caller keypad."""

INTERFACE = "drivers.keypad.interface:Keypad"

DRIVERS = {
    "evdev": "drivers.keypad.evdev_keypad:EvdevKeypad",
    "serial": "drivers.keypad.serial_keypad:SerialKeypad",
    "bus": "drivers.keypad.bus_keypad:BusKeypad",
}

"""Lockers (智能取件柜): the lock-control boards behind a document locker's doors."""

INTERFACE = "drivers.locker.interface:Locker"

DRIVERS = {
    "board": "drivers.locker.board:LockerBoard",
}

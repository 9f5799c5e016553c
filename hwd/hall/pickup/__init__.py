"""The 24-hour area's locker (智能取件柜): results (证照、批文) deposited at the counter and picked
up at a kiosk of the area by code or ID card, every door opening audited.

    codes.py    pickup codes, and the card behind a deposit, as keyed hashes
    records.py  the deposits and alarms tables, the action log and the county's records
    alarms.py   doors left open, forced or jammed: raised, cleared, listed
    flow.py     deposit, pickup, the doors' events and the timer
    api.py      the ``hall.deposit``, ``hall.pickup`` … methods

docs/hall.md ("The 24-hour self-service area") describes the flow.
"""

"""What every ID-card reader is to the rest of hwd: the ``idcard.*`` RPC methods and their params.

The kind owns this contract, not its drivers. ``idcard.read`` and ``idcard.resolve`` return the
full card (name, ID number, address, photo): personal data that only authorised RPC clients get
(``card_data``, hwd/access.py); events and ``idcard.current`` carry the masked summary.
See docs/drivers/idcard.md.
"""

from __future__ import annotations

from hwd.device import Device, MethodSpec
from hwd.schema import Field


class IdCardReader(Device):
    kind = "idcard"
    methods = (
        MethodSpec("read", (Field("timeout_ms", int, 0, min=0, max=600000),), in_worker=False, read_only=True,
                   card_data=True,
                   doc="The card on the reader now (as read when placed), or the next one placed within "
                       "timeout_ms, else null. Full personal data: for authorised clients only."),
        MethodSpec("current", in_worker=False, read_only=True,
                   doc="The card on the reader now as events show it (masked summary, its card_token and the "
                       "seconds that token has left), or null: a kiosk page that was reloaded greets again."),
        MethodSpec("resolve", (Field("token", str),), in_worker=False, offline_ok=True, read_only=True,
                   card_data=True, doc="The full card behind a card_token while it is valid (token_ttl_s)."),
    )

"""A ticket's links: its phone page (``[ui] public_url``/t/<token>) and the text of its QR code.

The token is the ticket's own HMAC (hwd.hall.ratings.channels ``RatingChannels.token``), so the
link is a capability to follow and rate that ticket on a phone, for its business day only.
"""

from __future__ import annotations

from typing import Any

from hwd.hall.config import DEFAULT_QR


class Links:
    def __init__(self, cfg: Any, public_url: str, channels: Any):
        self.cfg, self.channels = cfg, channels
        self.base = public_url.rstrip("/")

    def phone_url(self, ticket: dict) -> str | None:
        """The ticket's phone page, or None without ``[ui] public_url``."""
        return self.token_url(self.channels.token(ticket["id"], ticket["day"]))

    def token_url(self, token: str) -> str | None:
        return f"{self.base}/t/{token}" if self.base else None

    def qr_text(self, ticket: dict) -> str:
        """The ticket's QR: ``[hall] ticket_qr``, which is the phone page once ``[ui] public_url``
        is set and the template is the default."""
        token = self.channels.token(ticket["id"], ticket["day"])
        url = self.token_url(token)
        template = self.cfg.ticket_qr
        if url and template == DEFAULT_QR:
            template = "{url}"
        return template.format(id=ticket["id"], number=ticket["number"], day=ticket["day"],
                               service=ticket["service"], token=token, url=url or "")

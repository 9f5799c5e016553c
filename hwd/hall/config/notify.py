"""The ``[hall.notify]`` table: where phone notices go (hwd.hall.phone.notices), checked into a typed
object. Without the table (or without its ``url``) no notice is written.

The receiver is the hall's or county's own gateway to WeChat, SMS or an app — hwd does not talk
to those itself (kiosks and halls are offline). It gets each notice POSTed and signed as the
``push-json`` upstream does (hwd.upstream.push_json, hwd.upstream.signing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hwd.hall.config.ratings import SIGNATURES, Upstream, _url
from hwd.schema import Field, check_table

NOTIFY_FIELDS = (
    Field("url", str, None, check=_url, doc="the gateway that receives each notice (POST, JSON); none: no notices"),
    Field("secret", str, None, doc="the signing key (X-HWD-Signature, as push-json)"),
    Field("signature", str, "hmac-sha256", choices=SIGNATURES, doc="HMAC over timestamp.body"),
    Field("alert_ahead", int, 3, min=0, max=100, doc="the 即将叫号 notice when this many or fewer are ahead"),
    Field("timeout_s", float, 10.0, min=0.5, max=120,
          doc="the deadline of one notice's delivery, connect to the reply's last byte"),
    Field("retry_s", float, 5.0, min=0.05, max=3600, doc="first retry delay; doubles per failure"),
    Field("retry_max_s", float, 120.0, min=0.05, max=86400,
          doc="cap of the retry delay (a notice is worth little late)"),
)


@dataclass(frozen=True)
class Notify:
    url: str | None = None
    secret: str | None = None
    signature: str = "hmac-sha256"
    alert_ahead: int = 3
    timeout_s: float = 10.0
    retry_s: float = 5.0
    retry_max_s: float = 120.0

    @property
    def on(self) -> bool:
        return bool(self.url)

    def upstream(self) -> Upstream:
        """The push-json settings that carry the notices."""
        return Upstream(adapter="push-json", url=self.url, secret=self.secret, signature=self.signature,
                        timeout_s=self.timeout_s, retry_s=self.retry_s, retry_max_s=self.retry_max_s)


def load_notify(table: Any, path: tuple, problems: Any) -> Notify:
    v = check_table(table, NOTIFY_FIELDS, path, problems)
    notify = Notify(**v)
    if notify.url and not notify.secret:
        problems.add(path + ("secret",), "notices are signed: give a secret")
    return notify

"""``hall.set_pin``: a clerk sets his own PIN at the first login after the hall manager added him
or reset his PIN on /admin/config (``[[hall.staff]] new_pin = true``, no ``pin_hash``).

Until then ``hall.login`` answers PIN_NOT_SET; the counter page asks for the new PIN twice and
sends it here. Only its hash reaches the config file, through the config store like every other
change (a version by the staff id, from the page's client address, note 首次设置密码), and the
engine takes it live. A staff id with no new PIN due is refused without saying why to a guesser
beyond PIN_REFUSED ``not_due``; the PIN is never logged or published.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Callable

from hwd import errors
from hwd.audit import AUDIT
from hwd.configstore import ConfigStore
from hwd.hall.pin import hash_pin
from hwd.schema import Field
from hwd.wording import Refusal

log = logging.getLogger("hwd.hall.pinset")
PIN_RE = re.compile(r"^[0-9]{4,12}$")
PARAMS = (Field("staff", str), Field("pin", str), Field("source", str, None),
          Field("window", str, None), Field("desk", str, None))


def register(methods: Any, hall: Any, store: ConfigStore, publish: Callable[[str, dict], None]) -> None:
    """Add ``hall.set_pin`` to ``methods`` for the running ``hall`` engine and the config ``store``."""

    async def set_pin(p: dict) -> dict:
        staff, source = p["staff"][:64], p["source"] or "rpc"
        person = hall.cfg.staff.get(staff)
        if person is None or person.disabled or not person.new_pin or person.pin_hash:
            AUDIT.warning(f"set-pin-refused:{staff}:{source}", "new PIN for staff %s from %s refused: none due",
                          staff, source)
            raise Refusal(errors.PIN_REFUSED, "not_due", {"staff": staff})
        if not PIN_RE.match(p["pin"]):
            raise Refusal(errors.PIN_REFUSED, "", {"staff": staff})
        hashed = await asyncio.to_thread(hash_pin, p["pin"])
        path = ["hall", "staff", {"id": staff}]
        reply = store.edit([{"op": "set", "path": path + ["pin_hash"], "value": hashed},
                            {"op": "remove", "path": path + ["new_pin"]}],
                           None, staff, source, "工作人员首次设置密码")
        publish("hall.config_changed", {"version": reply["version"], "live": reply["live"],
                                        "restart": reply["restart"]})
        AUDIT.info("staff %s set a new PIN from %s (config version %s)", staff, source, reply["version"])
        return {"staff": staff, "version": reply["version"]}

    methods.add("hall.set_pin", set_pin, PARAMS,
                "a clerk sets his own new PIN (added, or PIN reset on /admin/config): only its hash is written")

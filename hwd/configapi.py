"""The ``config.*`` RPC methods (docs/api.md): read, check, change, list and roll back the
config file through hwd.configstore, and ``hall.config_changed`` on the bus after each change so
hwd-ui and its pages reload what they show. A restart a change needs can wait for the night
(``config.restart``): the daemon then exits cleanly at ``[daemon] night_restart_at`` and systemd
starts it again (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from hwd import catalogue, configedit, errors
from hwd.configstore import ConfigStore, raw_of
from hwd.errors import HwdError
from hwd.schema import Field

WHO = (Field("by", str, doc="the account making the change"),
       Field("source", str, doc="where from: the page's client address, 'hwctl', 'county'"),
       Field("note", str, ""))
RESTART_WHEN = ("night", "cancel")


EVENT_KEYS = 100  # keys named in one hall.config_changed (a catalogue import may change thousands)


def event(reply: dict) -> dict:
    """``hall.config_changed`` of a change's reply: its version and (at most EVENT_KEYS of) its keys;
    ``more`` counts those left out (config.show has them all)."""
    live, restart = reply["live"], reply["restart"]
    more = max(0, len(live) - EVENT_KEYS) + max(0, len(restart) - EVENT_KEYS)
    return {"version": reply["version"], "live": live[:EVENT_KEYS], "restart": restart[:EVENT_KEYS],
            **({"more": more} if more else {})}


def register(methods: Any, store: ConfigStore, publish: Callable[[str, dict], None], max_text: int,
             schedule_restart: Callable[[str], dict],
             county_catalogue: Callable[[], dict | None] | None = None) -> None:
    """Add the ``config.*`` methods to ``methods``; ``max_text`` bounds a whole file's text.
    ``county_catalogue()`` (blocking: run on a worker thread) fetches the newest matter catalogue
    the county pushed to this hall ([hall.central]); without it there is no ``config.county_matters``."""
    def add(*args: Any, **kwargs: Any) -> None:  # the file's text holds hashes and credentials: hwd.access
        methods.add(*args, config_file=True, **kwargs)

    def changed(reply: dict) -> dict:
        if not reply.get("unchanged"):
            publish("hall.config_changed", event(reply))
        return reply

    add("config.get", lambda p: store.get(), (),
        "the config file: version, digest, text, the parsed config without secrets, its problems", replay=False)
    add("config.check", lambda p: {"problems": store.check(p["text"])}, (Field("text", str),),
        "every problem of a config text as hwd --check finds them: [{line, key, reason}]", replay=False,
        max_text=max_text)
    add("config.apply", lambda p: changed(store.apply(p["text"], p["base"], p["by"], p["source"], p["note"])),
        (Field("text", str), Field("base", str, None, doc="the digest the editor read"),) + WHO,
        "check, write and apply a whole config text; live keys at once, the others at a restart",
        max_text=max_text)
    add("config.edit", lambda p: changed(store.edit(p["ops"], p["base"], p["by"], p["source"], p["note"])),
        (Field("ops", list, items=dict), Field("base", str, None),) + WHO,
        "change keys of the config file by ops (set, add, remove), keeping its comments")
    add("config.history", lambda p: {"versions": store.history(p["limit"])},
        (Field("limit", int, 50, min=1, max=1000),), "the applied versions of the config, newest first",
        replay=False)
    add("config.show", lambda p: store.show(p["version"]), (Field("version", int, min=1, max=2 ** 31),),
        "one version's text and its diff against the version before", replay=False)
    add("config.rollback",
        lambda p: changed(store.rollback(p["version"], p["base"], p["by"], p["source"], p["note"])),
        (Field("version", int, None, min=1, max=2 ** 31), Field("base", str, None)) + WHO,
        "go back to an earlier version (default: the one before the latest); itself a new version")
    add("config.preview", lambda p: store.preview(configedit.apply_ops(store.current_text(), p["ops"])),
        (Field("ops", list, items=dict),),
        "what config.edit with these ops would do, nothing written: {base, problems, diff, live, restart}",
        replay=False)

    def import_matters(p: dict) -> dict:
        matters = catalogue.parse(p["catalogue"], p["format"])
        text = store.current_text()
        ops, summary = catalogue.ops(raw_of(text), matters)
        if not ops:
            return {"summary": summary, "unchanged": True, "diff": "", "live": [], "restart": []}
        if not p["apply"]:
            return {"summary": summary, **store.preview(configedit.apply_ops(text, ops))}
        reply = changed(store.edit(ops, p["base"], p["by"], p["source"], p["note"] or "matter catalogue"))
        return {"summary": summary, **reply}

    add("config.import_matters", import_matters,
        (Field("catalogue", str), Field("format", str, "auto", choices=("auto", "json", "csv")),
         Field("apply", bool, False, doc="false: only the preview"), Field("base", str, None)) + WHO,
        "a matter catalogue (JSON or CSV, the province's form) into [[hall.service.matter]]: the preview "
        "(summary, diff, problems), or applied as one audited version", max_text=max_text)
    if county_catalogue is not None:
        async def county_matters(p: dict) -> dict:
            try:
                got = await asyncio.to_thread(county_catalogue)
            except Exception as exc:  # the county link is down: say so, nothing changes
                raise HwdError(f"cannot read the county's matter catalogue: {type(exc).__name__}: {exc}",
                               errors.NODE_UNREACHABLE) from None
            if got is None:
                raise HwdError("the county has pushed no matter catalogue to this hall", errors.NOT_FOUND)
            about = {k: got[k] for k in ("id", "name", "pushed_at", "pushed_by")}
            reply = import_matters({"catalogue": got["body"], "format": got["format"], "apply": p["apply"],
                                    "base": p["base"], "by": p["by"], "source": "county",
                                    "note": p["note"] or f"county matter catalogue {got['id']} ({got['name']})"})
            return {"catalogue": about, **reply}

        add("config.county_matters", county_matters,
            (Field("apply", bool, False), Field("base", str, None), Field("by", str), Field("note", str, "")),
            "the newest matter catalogue the county pushed to this hall: its preview, or imported "
            "(source 'county')")
    add("config.restart", lambda p: schedule_restart(p["at"]),
        (Field("at", str, "night", choices=RESTART_WHEN),),
        "restart hwd at [daemon] night_restart_at (systemd starts it again) so restart-needed keys apply; "
        "cancel takes the plan back")

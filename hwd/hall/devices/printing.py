"""Printing: tickets (at a kiosk's or a guide desk's printer) and service notices (一次性告知单),
and the record of whether each ticket came out.

What ``ticket`` returns is what the citizen is told (hwd.hall.devices.outputs cancels a job that
did not print in time). A job reported printed after the kiosk gave up on it is recorded as
printed all the same (``on_job``): the record says what really happened.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Callable

from hwd.hall.queue import desk as desks
from hwd.hall.devices.outputs import Outputs

log = logging.getLogger("hwd.hall.devices.printing")


class Printing:
    def __init__(self, cfg: Any, core: Any, outputs: Outputs, qr_text: Callable[[dict], str]):
        self.cfg, self.core, self.outputs, self.qr_text = cfg, core, outputs, qr_text
        self.store, self.clock = core.store, core.clock

    def job_id(self, ticket_id: int, reprint: int = 0) -> str:
        """The printer job id of a ticket: unique for the hall database's lifetime."""
        return f"hall-{self.store.db_id}-{ticket_id}" + (f"-r{reprint}" if reprint else "")

    def on_job(self, topic: str, event: dict) -> None:
        """``printer.job``: a ticket job reported printed after the kiosk gave up on it (it should
        have been cancelled) is recorded as printed."""
        prefix = f"hall-{self.store.db_id}-"
        job = str(event.get("job") or "")
        if event.get("state") != "printed" or not job.startswith(prefix):
            return
        try:
            ticket_id = int(job[len(prefix):].split("-")[0])
            row = self.store.ticket(ticket_id)
            if row is not None and not row["printed"]:
                log.warning("ticket %s printed after the kiosk said it did not (job %s)", row["number"], job)
                with self.store.tx():
                    self.store.update_ticket(ticket_id, printed=1, print_error=None)
                    self.store.log(self.clock.time(), "printed_late", ticket_id, detail=job)
        except (ValueError, sqlite3.Error):
            log.exception("cannot record the late print of job %s", job)

    async def ticket(self, ticket: dict, kiosk: str | None, reprint: int = 0, desk: Any = None) -> dict:
        """Print ``ticket`` at the kiosk's (or the desk's) printer, record whether it came out,
        and return the ticket as the citizen is told it: ``printed``, ``qr``, ``print_error``."""
        qr = self.qr_text(ticket)
        k = self.cfg.kiosks.get(kiosk) if kiosk else None
        printer = desk.printer if desk is not None else k.printer if k is not None else None
        if not printer:
            printed, error = False, ("该导办台没有打印机，请扫码或记住号码" if desk is not None else
                                     "未指定带打印机的取号机，请记住您的号码" if k is None else "该取号机没有打印机")
        else:
            data = {"hall_name": self.cfg.name, "number": ticket["number"], "service_name": ticket["service_name"],
                    "waiting_ahead": ticket.get("waiting_ahead", 0), "issued_at": ticket["issued_at"],
                    "qr": qr, "priority": ticket.get("priority", "normal") != "normal",
                    "wait_text": (ticket.get("wait") or {}).get("text") or "",
                    "footer": desks.receipt_lines(self.core, ticket) + list(self.cfg.ticket_footer)
                    + [self.cfg.no_show_text]}
            job = self.job_id(ticket["id"], reprint)
            printed, error = await self.outputs.print(printer, "ticket", data, job, self.cfg.print_wait_ms)
        try:
            with self.store.tx():
                if printed:
                    self.store.update_ticket(ticket["id"], printed=1, print_error=None)
                elif not reprint:
                    self.store.update_ticket(ticket["id"], printed=0, print_error=error)
        except sqlite3.Error:  # the ticket is committed and valid: answer it, only the flag is lost
            log.exception("cannot record whether ticket %s was printed", ticket["number"])
        out = dict(ticket, printed=printed, qr=qr)
        out.pop("print_error", None)
        if error:
            out["print_error"] = error
        return out

    async def notice(self, guide: dict, printer: str) -> tuple[bool, str | None]:
        """Print a service's 一次性告知单 (``guide`` as ``hall.guide`` answers it): (printed, why not)."""
        data = {k: guide[k] for k in ("matter", "department", "materials", "conditions", "time_limit", "fees")}
        data["hall_name"] = self.cfg.name
        job = f"notice-{guide['service']}-{self.clock.time():.6f}"
        return await self.outputs.print(printer, "notice", data, job, self.cfg.print_wait_ms)

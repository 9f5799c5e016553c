"""Driver ``escpos``: ESC/POS receipt printers (the kiosk's ticket printer) on USB, serial, TCP
port 9100 or the usblp character device.

Jobs go through the spool (``spool.py``) so that none is lost and none prints twice: ``print``
queues and returns at once (or waits ``wait_ms``), the device worker prints queued jobs while
the printer is ready, holds them while it is faulted, and fails them when they grow older than
``max_age_s``. On links that can answer, DLE EOT 1/2/4 is polled every ``status_interval``
seconds and checked before and after each job; a printer that does not answer is offline,
never "ok". DLE EOT is answered in real time, before the paper is out; with ``confirm = "gs_r"``
a job ends with ``GS r 1``, which the printer answers only once it has processed the job, and
the job is ``printed`` only on that answer (no answer: ``unknown``, never printed again).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from drivers.printer import documents, escpos_cache, protocol, templates
from drivers.printer.spool import FINAL, Spool
from drivers.printer.transports import Link, open_link
from hwd import errors
from drivers.printer.interface import Printer
from hwd.errors import DeviceError, DeviceLost, HwdError
from hwd.schema import Field


class EscposPrinter(Printer):
    driver = "escpos"
    schemes = ("usb", "serial", "tcp", "file")
    requires = (("escpos", "python-escpos"), ("PIL", "pillow"))
    emulator = "drivers.printer.emulator:PrinterEmulator"
    options = (
        Field("mode", str, "text", choices=("text", "raster"),
              doc="text: the printer's Chinese font (FS & + GB18030); raster: host-drawn CJK text"),
        Field("width_mm", int, 80, choices=(58, 80), doc="paper width: 384 dots (58) or 576 dots (80)"),
        Field("profile", str, "default", doc="python-escpos capability profile, e.g. TM-T88V"),
        Field("cut", str, "full", choices=("full", "partial"), doc="cut after each job"),
        Field("status_interval", float, None, min=0, max=3600,
              doc="seconds between DLE EOT polls; 0 = write-only link; default 2 (0 for file://)"),
        Field("font", str, "", doc="CJK font file for raster mode; default: found with fontconfig"),
        Field("font_charset", str, "gbk", choices=("gb2312", "gbk", "gb18030"),
              doc="what the printer's own font covers; text-mode lines with other characters are drawn as raster"),
        Field("max_age_s", float, 600, min=1, doc="queued jobs older than this fail instead of printing"),
        Field("timeout_s", float, 2.0, min=0.05, max=60, doc="I/O timeout, and the wait for a status reply"),
        Field("confirm", str, "none", choices=("none", "gs_r"),
              doc="gs_r: end each job with GS r 1 and mark it printed only on the printer's answer"),
        Field("confirm_timeout_s", float, 10.0, min=0.5, max=300,
              doc="how long to wait for the answer to GS r 1 before the job is unknown"),
    )

    @classmethod
    def validate(cls, options: dict, problems: Any, path: tuple) -> None:
        if options.get("confirm") == "gs_r" and options.get("status_interval") == 0:
            problems.add(path + ("confirm",), "gs_r needs a link that answers; status_interval = 0 "
                         "says this one does not")

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        interval = self.opts.get("status_interval")
        if interval is None:
            interval = 0.0 if config.url.scheme == "file" else 2.0
        self.status_interval = float(interval)
        # the worker polls even on write-only links, to print held and newly queued jobs
        self.poll_interval = self.status_interval or 1.0
        self.link: Link | None = None
        self.paper = "unknown"
        self._last_status: protocol.PrinterStatus | None = None
        self.spool = Spool(ctx.state_dir / "spool.sqlite")
        self._spool_ready = False
        self._held: set[str] = set()
        self._drain_pending = False
        self.render_opts = documents.RenderOptions(
            mode=self.opts.get("mode", "text"), width_mm=self.opts.get("width_mm", 80),
            cut=self.opts.get("cut", "full"), profile=self.opts.get("profile", "default"),
            font=self.opts.get("font", ""), font_charset=self.opts.get("font_charset", "gbk"))

    # -- lifecycle (worker thread) -----------------------------------------------------------
    @property
    def polls_status(self) -> bool:
        return bool(self.link and self.link.bidirectional and self.status_interval > 0)

    def open(self) -> None:
        self._open_spool()
        _check_profile(self.render_opts.profile)
        self.link = open_link(self.url, self.opts.get("timeout_s", 2.0))
        if not self.polls_status:
            self.paper = "unknown"
            return
        status = self.query_status()
        if status is None:
            raise DeviceError(f"no answer to DLE EOT within {self.opts['timeout_s']} s "
                              "(printer off, wrong port or baud rate, or a write-only link: status_interval = 0)")
        self.paper = status.paper
        if status.fault:
            self.set_state("fault", status.fault)
        self._last_status = status

    def on_online(self) -> None:
        if self.polls_status and self._last_status is not None:
            self.apply_status(self._last_status)
        self.drain()

    def close(self) -> None:
        if self.link is not None:
            self.link.close()
            self.link = None
        self.paper = "unknown"

    def poll(self) -> None:
        if self.polls_status:
            status = self.query_status()
            if status is None:
                raise DeviceLost("the printer stopped answering status requests")
            self.apply_status(status)
        self.drain()

    def info(self) -> dict:
        return {"paper": self.paper}

    # -- status --------------------------------------------------------------------------------
    def query_status(self) -> protocol.PrinterStatus | None:
        """Ask DLE EOT 1, 2 and 4; None when the printer does not answer (or answers garbage twice)."""
        timeout = self.opts.get("timeout_s", 2.0)
        for _attempt in range(2):
            self.link.discard_input()
            replies = []
            for n in (1, 2, 4):
                self.link.write(protocol.status_query(n))
                reply = self.link.read(1, timeout)
                if not reply:
                    return None
                replies.append(reply[0])
            try:
                return protocol.decode_status(*replies)
            except protocol.ProtocolError as exc:
                self.count("bad_status")
                self.log.warning("%s", exc)
        return None

    def apply_status(self, status: protocol.PrinterStatus) -> None:
        self.paper = status.paper
        if status.fault:
            self.set_state("fault", status.fault)
        else:
            self._held.clear()   # a later fault announces the hold again
            self.set_state("online", "paper_low" if status.paper == "low" else "")

    # -- printing (worker thread) --------------------------------------------------------------
    def drain(self) -> None:
        """Print queued jobs in order while the printer is ready; hold them while it is not."""
        self._drain_pending = False
        self.expire()
        while self.connected and self.link is not None:
            job = self.spool.next_queued()
            if job is None:
                return
            if self.state != "online":
                self._hold(job)
                return
            self.print_job(job)

    def _hold(self, job: dict) -> None:
        if job["job"] not in self._held:
            self._held.add(job["job"])
            self.log.info("job %s held: %s", job["job"], self.detail)
            self.publish("printer.job", job=job["job"], state="queued", reason=f"held: {self.detail}")

    def print_job(self, job: dict) -> None:
        job_id = job["job"]
        if self.polls_status:
            status = self.query_status()
            if status is None:
                raise DeviceLost("the printer stopped answering status requests")
            self.apply_status(status)
            if status.fault:
                self._hold(job)
                return
        try:
            data = documents.render(self.spool.document(job_id), self.render_opts)
        except Exception as exc:  # a document that cannot be rendered here fails alone
            self.log.exception("job %s cannot be rendered", job_id)
            self._set_job(job_id, "failed", f"render: {exc}")
            return
        if self._too_old(job):
            self.expire()
            return
        if not self._set_job(job_id, "printing"):
            return  # cancelled or expired meanwhile
        self._held.discard(job_id)
        try:
            self.link.write(data)
        except OSError as exc:
            self._set_job(job_id, "failed", f"link lost while printing ({exc}); it may be partly printed",
                          from_states=("printing",))
            raise DeviceLost(f"write failed: {exc}") from exc
        self.count("jobs_sent")
        if self.opts.get("confirm") == "gs_r":
            self._confirm(job_id)
            return
        if self.polls_status:
            status = self.query_status()
            if status is None:
                self._set_job(job_id, "failed", "the printer stopped answering after the job was sent; "
                              "check whether it printed", from_states=("printing",))
                raise DeviceLost("no status reply after a job")
            self.apply_status(status)
            if status.fault:
                self._set_job(job_id, "failed", f"{status.fault} while printing; it may be partly printed",
                              from_states=("printing",))
                return
        self._set_job(job_id, "printed", from_states=("printing",))

    def _confirm(self, job_id: str) -> None:
        """Ask ``GS r 1`` after the job and wait for the answer: printed, or unknown."""
        timeout = self.opts["confirm_timeout_s"]
        self.link.write(protocol.transmit_status(1))
        paper = self.wait_processed(timeout)
        if paper is None:
            self.count("unconfirmed")
            self._set_job(job_id, "unknown", f"no answer to GS r 1 within {timeout:g} s: the ticket may or "
                          "may not have printed; it is not printed again", from_states=("printing",))
        else:
            self._set_job(job_id, "printed", from_states=("printing",))
        if self.polls_status:
            status = self.query_status()
            if status is None:
                raise DeviceLost("no status reply after a job")
            self.apply_status(status)

    def wait_processed(self, timeout: float) -> str | None:
        """The paper state in the answer to ``GS r 1``, or None when none came in ``timeout``
        seconds (bytes of another shape, e.g. a late DLE EOT reply, are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            reply = self.link.read(1, left)
            if not reply:
                return None
            paper = protocol.paper_sensor_reply(reply[0])
            if paper is not None:
                return paper
            self.count("stray_bytes")

    def expire(self) -> None:
        """Fail queued jobs older than the device's ``max_age_s`` or their own (a job's caller
        may have told the citizen it did not print: it must never come out later)."""
        max_age = self.opts.get("max_age_s", 600)
        why = self.detail if self.state != "online" else self.state
        for job in self.spool.older_than(max_age):
            self._set_job(job["job"], "failed", f"expired: not printed within {max_age:g} s ({why})")
        for job in self.spool.in_state("queued"):
            if self._too_old(job):
                self._set_job(job["job"], "failed",
                              f"expired: not printed within its {job['max_age_s']:g} s ({why})")

    def _too_old(self, job: dict) -> bool:
        own = job.get("max_age_s")
        return own is not None and self.spool.age_s(job) > own

    def _set_job(self, job_id: str, state: str, reason: str | None = None,
                 from_states: tuple[str, ...] = ("queued",)) -> bool:
        if not self.spool.transition(job_id, state, reason, from_states):
            return False
        if state in FINAL:
            self._held.discard(job_id)
        self.log.info("job %s %s%s", job_id, state, f" ({reason})" if reason else "")
        event: dict[str, Any] = {"job": job_id, "state": state}
        if reason:
            event["reason"] = reason
        self.publish("printer.job", **event)
        return True

    def _open_spool(self) -> None:
        if self._spool_ready:
            return
        self.spool.open()
        for job in self.spool.in_state("printing"):
            self._set_job(job["job"], "failed", "interrupted while printing (hwd stopped); it may have printed",
                          from_states=("printing",))
        self.spool.prune()
        self._spool_ready = True

    def _kick(self) -> None:
        if self.worker is not None and not self._drain_pending:
            self._drain_pending = True
            self.submit(self.drain)

    # -- RPC (drivers/printer/interface.py) -----------------------------------------------------
    async def rpc_print(self, p: dict) -> dict:
        if (p["document"] is None) == (p["template"] is None):
            raise HwdError("give either document or template (with data)", errors.INVALID_PARAMS)
        try:
            if p["document"] is not None:
                items = documents.normalize(p["document"])
                source: dict = {}
            else:
                items = documents.normalize(templates.build(p["template"], p["data"], self.render_opts.width_mm))
                source = {"template": p["template"]}
        except documents.DocumentError as exc:
            raise HwdError(f"bad document: {exc}", errors.INVALID_PARAMS) from None
        if p["max_age_s"] is not None:
            source["max_age_s"] = p["max_age_s"]
        return await self._enqueue(p["job"] or uuid.uuid4().hex[:16], items, source, p["wait_ms"])

    async def _enqueue(self, job_id: str, items: list, source: dict, wait_ms: int) -> dict:
        self._open_spool()
        job, created = self.spool.add(job_id, items, source)
        if created:
            self.log.info("job %s queued", job_id)
            self.publish("printer.job", job=job_id, state="queued")
            self._kick()
        deadline = time.monotonic() + wait_ms / 1000
        while job["state"] not in FINAL and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            job = self.spool.get(job_id) or job
        return _public(job)

    def rpc_status(self, p: dict) -> dict:
        self._open_spool()
        self.expire()
        return {"state": self.state, "paper": self.paper, "detail": self.detail,
                "queued": self.spool.count("queued")}

    def rpc_jobs(self, p: dict) -> list:
        self._open_spool()
        self.expire()
        return [_public(j, full=True) for j in self.spool.list(p["limit"], p["state"])]

    async def rpc_reprint(self, p: dict) -> dict:
        self._open_spool()
        items = self.spool.document(p["job"])
        if items is None:
            raise HwdError(f"no job {p['job']!r} on {self.id}", errors.NOT_FOUND)
        new_id = p["new_job"] or uuid.uuid4().hex[:16]
        return await self._enqueue(new_id, items, {"reprint_of": p["job"]}, p["wait_ms"])

    def rpc_cancel(self, p: dict) -> dict:
        self._open_spool()
        job = self.spool.get(p["job"])
        if job is None:
            raise HwdError(f"no job {p['job']!r} on {self.id}", errors.NOT_FOUND)
        if job["state"] != "cancelled" and not self._set_job(p["job"], "cancelled", "cancelled by request"):
            job = self.spool.get(p["job"])
            raise HwdError(f"job {p['job']} is {job['state']}; only a queued job can be cancelled",
                           errors.BAD_STATE, data=_public(job))
        return _public(self.spool.get(p["job"]))


def _public(job: dict, full: bool = False) -> dict:
    out = {"job": job["job"], "state": job["state"]}
    if job.get("reason"):
        out["reason"] = job["reason"]
    if full:
        out.update({k: v for k, v in job.items() if k not in out})
    return out


def _check_profile(name: str) -> None:
    escpos_cache.prepare()
    import escpos.printer  # noqa: F401 - imported here, in the worker, so the first job is not slow
    from escpos.capabilities import get_profile

    try:
        get_profile(name)
    except KeyError:
        raise DeviceError(f"unknown python-escpos profile {name!r} (e.g. default, TM-T88V, TM-T20II)") from None

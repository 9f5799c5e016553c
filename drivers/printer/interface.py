"""What every receipt printer is to the rest of hwd: the ``printer.*`` RPC methods and their params.

The kind owns this contract, not its drivers: the hall prints tickets and notices through these
methods whatever the printer's link or command set. See docs/drivers/printer.md.
"""

from __future__ import annotations

from drivers.printer.templates import TEMPLATES
from hwd.device import Device, MethodSpec
from hwd.schema import Field

JOB_STATES = ("queued", "printing", "printed", "failed", "cancelled", "unknown")


def check_job_id(value: str) -> str | None:
    if not 1 <= len(value) <= 64 or not value.isprintable():
        return "a job id is 1..64 printable characters"
    return None


class Printer(Device):
    kind = "printer"
    methods = (
        MethodSpec("print", (
            Field("document", (dict, list), None, doc='{"lines": [...]} or a list of items'),
            Field("template", str, None, choices=TEMPLATES),
            Field("data", dict, {}, doc="the template's data"),
            Field("job", str, None, check=check_job_id, doc="idempotency id chosen by the caller"),
            Field("wait_ms", int, 0, min=0, max=60000, doc="wait this long at most for printed/failed"),
            Field("max_age_s", float, None, min=0.1, max=86400,
                  doc="this job fails instead of printing once queued this long (the caller gave up on it)"),
        ), offline_ok=True, in_worker=False,
            doc="Queue a document or template: {job, state, reason?}."),
        MethodSpec("status", offline_ok=True, in_worker=False, read_only=True,
                   doc="{state, paper: ok|low|out|unknown, detail, queued}."),
        MethodSpec("jobs", (Field("limit", int, 50, min=1, max=1000), Field("state", str, None, choices=JOB_STATES)),
                   offline_ok=True, in_worker=False, read_only=True, doc="The spool's jobs, newest first."),
        MethodSpec("reprint", (Field("job", str), Field("new_job", str, None, check=check_job_id),
                               Field("wait_ms", int, 0, min=0, max=60000)), offline_ok=True, in_worker=False,
                   doc="Queue a new job with the document of job: {job, state, reason?}."),
        MethodSpec("cancel", (Field("job", str),), offline_ok=True, in_worker=False,
                   doc="Cancel a queued job; a job printing or printed cannot be cancelled."),
    )

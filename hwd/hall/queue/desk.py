"""The guide desk (导办台): hall staff give the priority classes only they can check, and book
帮办代办 (assisted) tickets.

The ID card gives the elderly class by age at the kiosk; the disabled, pregnant and military
classes (军人依法优先) need a person to look at the citizen's documents (残疾人证, 军官证 …), so
only a logged-in desk staff member may give them, and must say they checked (``verified``).

An assisted ticket is a ticket of the hall's assisted service (``[hall] assisted_service``,
by default the first service of a window of kind 帮办代办), so the engine's ordinary queue
routes it to the 帮办代办 window(s); the citizen's real matter is kept on the ticket
(``matter``) and printed on it, so the helper knows what it is about.

Login goes through ``HallCore.authenticate``, the same check the counter's ``hall.login`` uses.
"""

from __future__ import annotations

from typing import Any

from hwd import errors
from hwd.report_words import PRIORITY_CLASSES
from hwd.wording import Refusal

CHECKED_CLASSES = ("disabled", "pregnant", "military", "elderly")   # a desk may give these
CLASS_NAMES = PRIORITY_CLASSES  # the words of the reports and pages (hwd.report_words)


def desk_or_error(core: Any, desk_id: str) -> Any:
    desk = core.cfg.desks.get(desk_id)
    if desk is None:
        raise Refusal(errors.UNKNOWN_DESK, "desk", {"desk": desk_id}, desk=desk_id)
    return desk


def login(core: Any, desk_id: str, staff: str, pin: str | None, verified: bool = False) -> dict:
    """Check a desk login (the page keeps the session); logged in the action log. ``verified``:
    the engine has checked the PIN already (throttled, off the event loop)."""
    desk = desk_or_error(core, desk_id)
    if core.staff_required:
        person = core.authenticate(staff, pin, {"desk": desk_id}, verified)
        if "desk" not in person.roles:
            raise Refusal(errors.LOGIN_FAILED, "role_desk", {"desk": desk_id})
        if person.desks and desk_id not in person.desks:
            raise Refusal(errors.LOGIN_FAILED, "desk_not_allowed", {"desk": desk_id})
    with core.store.tx():
        core.store.log(core.clock.time(), "desk_login", None, None, staff, desk_id)
    return {"desk": desk.id, "name": desk.name, "staff": staff}


def issue(core: Any, desk_id: str, service: str, priority: str = "normal", staff: str | None = None,
          verified: bool = False, assisted: bool = False) -> dict:
    """Issue a ticket at a desk: ``priority`` after the documents were checked, ``assisted``
    for 帮办代办. Returns the ticket view with ``desk``, ``verified_by`` and ``matter``."""
    desk = desk_or_error(core, desk_id)
    if service not in core.cfg.services or (desk.services and service not in desk.services):
        raise Refusal(errors.UNKNOWN_SERVICE, "desk", {"service": service, "desk": desk_id})
    if priority not in ("normal",) + CHECKED_CLASSES:
        raise Refusal(errors.INVALID_PARAMS, "desk_priority", {"priority": priority}, priority=priority)
    if core.staff_required and staff not in core.cfg.staff:
        raise Refusal(errors.NOT_LOGGED_IN, "desk", {"desk": desk_id})
    if priority != "normal" and not verified:
        raise Refusal(errors.NOT_VERIFIED, "", {"priority": priority})
    queue = service
    if assisted:
        queue = core.cfg.assisted_service
        if queue is None:
            raise Refusal(errors.NO_ASSISTED_SERVICE)
    with core.store.tx():
        ticket = core.issue(queue, None, priority)
        extra = {"desk": desk_id, "verified_by": staff if priority != "normal" else None,
                 "matter": service if assisted else None}
        core.store.update_ticket(ticket["id"], **extra)
        core.store.log(core.clock.time(), "desk_issue", ticket["id"], None, staff,
                       f"{desk_id}:{priority}{':assisted:' + service if assisted else ''}")
        core.emit("hall.desk.issued", {"desk": desk_id, "ticket": ticket["id"], "number": ticket["number"],
                                       "priority": priority, "assisted": assisted, "staff": staff})
    return core.ticket_view(core.store.ticket(ticket["id"])) | {"waiting_ahead": ticket["waiting_ahead"]}


def receipt_lines(core: Any, ticket: dict) -> list[str]:
    """What a desk ticket says beyond a kiosk ticket: its priority and its assisted matter."""
    lines = []
    if ticket.get("matter"):
        svc = core.cfg.services.get(ticket["matter"])
        lines.append(f"帮办代办：{svc.name if svc else ticket['matter']}")
    if ticket.get("priority") not in (None, "normal"):
        lines.append(f"{CLASS_NAMES.get(ticket['priority'], ticket['priority'])}优先办理")
    return lines

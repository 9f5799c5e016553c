"""Work orders for 差评 (国办发〔2019〕51号: every 差评 is verified and rectified; 申诉复核 against
mistaken or malicious ratings).

    open --callback--> called_back --verify(valid|mistaken|malicious)--> verified
    verified(valid) --rectify(note)--> rectified --close--> closed
    verified(mistaken|malicious) --appeal(note)--> appealed --review(verdict)--> closed (excluded)
                                                                               or verified(valid)
    verified(mistaken|malicious) --close--> closed (not appealed: the rating keeps counting)

Each step is a new row of ``workorder_steps`` (who, when, note, verdict); the table refuses
UPDATE and DELETE. A review that upholds the appeal marks the rating excluded — it stays in the
database and in exports, and statistics count it apart. Deadlines are working days from the
hall calendar (``[hall] followup_days``, ``[hall.ratings] callback_days``).
"""

from __future__ import annotations

import logging

from hwd import errors, outbox
from hwd.hall.ratings import store as rs
from hwd.hall.ratings.store import RatingContext
from hwd.report_words import WORKORDER_STATES
from hwd.wording import Refusal

log = logging.getLogger("hwd.hall.ratings.workorders")

STATES = ("open", "called_back", "verified", "rectified", "appealed", "closed")
STEPS = ("callback", "verify", "rectify", "close", "appeal", "review")
VERDICTS = ("valid", "mistaken", "malicious")
DISPUTED = ("mistaken", "malicious")
NOTE_MAX = 2000
STEP_NAMES = {"open": "生成工单", "callback": "回访", "verify": "核实", "rectify": "整改", "close": "办结",
              "appeal": "申诉", "review": "复核"}
VERDICT_NAMES = {"valid": "属实", "mistaken": "误评", "malicious": "恶意差评"}
STATE_NAMES = WORKORDER_STATES  # the words of the reports and pages (hwd.report_words)


def next_steps(state: str, verdict: str | None) -> tuple[str, ...]:
    """The steps a work order in ``state`` (with its current verdict) allows."""
    if state == "verified":
        return ("rectify",) if verdict == "valid" else ("appeal", "close")
    return {"open": ("callback",), "called_back": ("verify",), "rectified": ("close",),
            "appealed": ("review",)}.get(state, ())


class WorkOrders:
    def __init__(self, ctx: RatingContext):
        self.ctx = ctx
        self.store = ctx.store

    def open(self, rating_row: dict, due: str) -> int:
        """Open the work order of a 差评 (inside the rating's transaction)."""
        ctx = self.ctx
        now = ctx.clock.time()
        days = ctx.cfg.ratings.callback_days
        callback_due = ctx.calendar.add_working_days(ctx.clock.now().date(), days).isoformat() if days else None
        wo_id = rs.insert_workorder(self.store, rating_row["id"], now, due, callback_due)
        self._step(rs.workorder(self.store, wo_id), rating_row, "open", "open", None, None, None, now)
        return wo_id

    def list(self, state: str | None = None, overdue: bool | None = None, limit: int = 500) -> list[dict]:
        out = [self._view(wo) for wo in rs.workorders(self.store, state, limit)]
        if overdue is not None:
            out = [w for w in out if (w["overdue"] or w["callback_overdue"]) == overdue]
        return out

    def move(self, wo_id: int, step: str, note: str | None = None, verdict: str | None = None,
             staff: str | None = None) -> dict:
        if step not in STEPS:
            raise Refusal(errors.BAD_STEP, "unknown", {"step": step, "known": list(STEPS)}, step=step)
        note = (note or "").strip() or None
        if note and len(note) > NOTE_MAX:
            raise Refusal(errors.INVALID_PARAMS, "note_too_long", {"max": NOTE_MAX}, max=NOTE_MAX)
        store = self.store
        with store.tx():
            wo = rs.workorder(store, wo_id)
            if wo is None:
                raise Refusal(errors.UNKNOWN_WORKORDER, "", {"id": wo_id})
            state, current = wo["state"], wo["verdict"]
            if step not in next_steps(state, current):
                raise Refusal(errors.BAD_STEP, "not_now", {"id": wo_id, "state": state, "step": step, "verdict": current,
                                                           "allowed": list(next_steps(state, current))},
                              state=STATE_NAMES[state], step=STEP_NAMES[step])
            if verdict is not None and step not in ("verify", "review"):
                raise Refusal(errors.BAD_VERDICT, "not_asked", {"step": step}, step=STEP_NAMES[step])
            new_verdict, exclude = current, False
            if step in ("rectify", "appeal"):
                self._need(note, step)
            if step == "verify":
                new_verdict, to = self._verdict(verdict), "verified"
            elif step == "review":
                new_verdict = self._verdict(verdict)
                exclude = new_verdict in DISPUTED
                to = "closed" if exclude else "verified"
            else:
                to = {"callback": "called_back", "rectify": "rectified", "close": "closed", "appeal": "appealed"}[step]
            now = self.ctx.clock.time()
            changes = {"state": to, "verdict": new_verdict}
            if to == "closed":
                changes["closed_ts"] = now
            rs.update_workorder(store, wo_id, **changes)
            rating_row = rs.rating(store, wo["rating"])
            self._step(rs.workorder(store, wo_id), rating_row, step, state, new_verdict if step in ("verify", "review")
                       else None, note, staff, now)
            if exclude:
                self._exclude(rating_row, wo_id, new_verdict, staff, now)
            view = self._view(rs.workorder(store, wo_id))
            self.ctx.emit("hall.workorder", {k: v for k, v in view.items() if k != "steps"})
        log.info("work order %d: %s by %s -> %s", wo_id, step, staff or "-", to)
        return view

    # -- helpers -----------------------------------------------------------------------------
    def _view(self, wo: dict) -> dict:
        return dict(rs.workorder_view(self.ctx, wo), next_steps=list(next_steps(wo["state"], wo["verdict"])))

    @staticmethod
    def _verdict(verdict: str | None) -> str:
        if verdict not in VERDICTS:
            raise Refusal(errors.BAD_VERDICT, "", {"verdict": verdict, "known": list(VERDICTS)})
        return verdict

    @staticmethod
    def _need(note: str | None, step: str) -> None:
        if not note:
            raise Refusal(errors.NOTE_REQUIRED, "step", {"step": step}, step=STEP_NAMES[step])

    def _step(self, wo: dict, rating_row: dict, step: str, from_state: str, verdict: str | None, note: str | None,
              staff: str | None, ts: float) -> None:
        sid = rs.append_step(self.store, wo["id"], step, from_state, wo["state"], ts, verdict, note, staff)
        row = self.store.one("SELECT * FROM workorder_steps WHERE id = ?", (sid,))
        outbox.put(self.store.db, "workorder", str(sid), rs.step_record(self.ctx, wo, row, rating_row), ts)

    def _exclude(self, rating_row: dict, wo_id: int, verdict: str, staff: str | None, ts: float) -> None:
        """复核 upheld the appeal: the rating no longer counts, but stays on record."""
        self.store.db.execute("UPDATE ratings SET excluded = 1 WHERE id = ?", (rating_row["id"],))
        self.store.log(ts, "exclude", rating_row["ticket"], rating_row["window"], staff, verdict)
        row = rs.rating(self.store, rating_row["id"])
        outbox.put(self.store.db, "exclusion", str(row["id"]),
                   dict(rs.rating_record(self.ctx, row), workorder_id=wo_id, verdict=verdict, excluded_by=staff), ts)

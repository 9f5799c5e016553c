"""The ``[hall]`` section's registration (hwd.sections): its loader and the tables of keys
docs/config.md shows, the hall's sub-tables included; setup.cfg's ``hwd.config_sections`` entry
point names it, so the core reads ``[hall]`` without importing the hall."""

from __future__ import annotations

from hwd.hall import config as hall
from hwd.hall.config import alerts, central, notify, pickup, ratings, standby
from hwd.sections import Section

SECTION = Section(
    "hall", hall.load,
    (("[hall]", hall.HALL_FIELDS),
     ("[[hall.service]]", hall.SERVICE_FIELDS), ("[[hall.service.matter]]", hall.MATTER_FIELDS),
     ("[[hall.window]]", hall.WINDOW_FIELDS),
     ("[[hall.kiosk]]", hall.KIOSK_FIELDS), ("[[hall.desk]]", hall.DESK_FIELDS),
     ("[[hall.staff]]", hall.STAFF_FIELDS),
     ("[hall.hours]", hall.HOURS_FIELDS), ("[[hall.hours.exception]]", hall.EXCEPTION_FIELDS),
     ("[hall.priority]", hall.PRIORITY_FIELDS), ("[hall.no_show]", hall.NO_SHOW_FIELDS),
     ("[hall.appointments]", hall.APPOINTMENT_FIELDS),
     ("[hall.ratings]", ratings.RATINGS_FIELDS),
     ("[[hall.ratings.reason]]", ratings.REASON_FIELDS),
     ("[hall.upstream]", ratings.UPSTREAM_FIELDS),
     ("[hall.central]", central.CENTRAL_FIELDS),
     ("[hall.tidal]", alerts.TIDAL_FIELDS),
     ("[hall.notify]", notify.NOTIFY_FIELDS),
     ("[hall.pickup]", pickup.PICKUP_FIELDS),
     ("[hall.standby]", standby.STANDBY_FIELDS),
     ("[[hall.standby.engine]]", standby.ENGINE_FIELDS)),
    "The hall engine runs when this section is present; see `docs/hall.md` for the rules.")

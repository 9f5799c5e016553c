"""The ``[hall]`` section's registration (hwd.sections): its loader and the tables of keys
docs/config.md shows, the hall's sub-tables included; setup.cfg's ``hwd.config_sections`` entry
point names it, so the core reads ``[hall]`` without importing the hall."""

from __future__ import annotations

from hwd.county import config as county_config
from hwd.hall import alerts_config, config as hall, notices_config, rating_config
from hwd.sections import Section
from hwd.standby import config as standby_config

SECTION = Section(
    "hall", hall.load,
    (("[hall]", hall.HALL_FIELDS),
     ("[[hall.service]]", hall.SERVICE_FIELDS), ("[[hall.window]]", hall.WINDOW_FIELDS),
     ("[[hall.kiosk]]", hall.KIOSK_FIELDS), ("[[hall.desk]]", hall.DESK_FIELDS),
     ("[[hall.staff]]", hall.STAFF_FIELDS),
     ("[hall.hours]", hall.HOURS_FIELDS), ("[[hall.hours.exception]]", hall.EXCEPTION_FIELDS),
     ("[hall.priority]", hall.PRIORITY_FIELDS), ("[hall.no_show]", hall.NO_SHOW_FIELDS),
     ("[hall.appointments]", hall.APPOINTMENT_FIELDS),
     ("[hall.ratings]", rating_config.RATINGS_FIELDS),
     ("[[hall.ratings.reason]]", rating_config.REASON_FIELDS),
     ("[hall.upstream]", rating_config.UPSTREAM_FIELDS),
     ("[hall.central]", county_config.CENTRAL_FIELDS),
     ("[hall.tidal]", alerts_config.TIDAL_FIELDS),
     ("[hall.notify]", notices_config.NOTIFY_FIELDS),
     ("[hall.standby]", standby_config.STANDBY_FIELDS),
     ("[[hall.standby.engine]]", standby_config.ENGINE_FIELDS)),
    "The hall engine runs when this section is present; see `docs/hall.md` for the rules.")

"""Error codes and exceptions shared by the daemon, its drivers and its clients.

Every error a client can see has a stable numeric code (documented in docs/api.md), so a kiosk
page can decide what to show without parsing messages. JSON-RPC reserves -32768..-32000; hwd's
own codes are positive and grouped by area.
"""

from __future__ import annotations

from typing import Any

# JSON-RPC 2.0 codes
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
REQUEST_TOO_LARGE = -32000

# devices: 1000-1099
UNKNOWN_DEVICE = 1001
DEVICE_OFFLINE = 1002
DEVICE_FAULT = 1003
DEVICE_TIMEOUT = 1004
DEVICE_DISABLED = 1005
DEVICE_ERROR = 1006
WRONG_KIND = 1007
NOT_FOUND = 1008
NODE_UNREACHABLE = 1009
# the RPC layer's own refusals (security): 1010-1019
REPLAY_MISMATCH = 1010       # a client reused a request id for a different request
REQUEST_INTERRUPTED = 1011   # a retry of a request a restart cut off: not run twice
NOT_AUTHORISED = 1012        # this RPC client may not call this method (e.g. full card data)

# hall rules: 1100-1199
HALL_DISABLED = 1100
WINDOW_PAUSED = 1101
OUTSIDE_HOURS = 1102
QUOTA_REACHED = 1103
UNKNOWN_SERVICE = 1104
UNKNOWN_WINDOW = 1105
NO_CURRENT_TICKET = 1106
BAD_STATE = 1107
NOT_LOGGED_IN = 1108
LOGIN_FAILED = 1109
ALREADY_RATED = 1110
UNKNOWN_TICKET = 1111
UNKNOWN_KIOSK = 1112
CARD_TOKEN_EXPIRED = 1113
UNKNOWN_APPOINTMENT = 1114
STORAGE_ERROR = 1115
WINDOW_CLOSED = 1116
NOT_THIS_WINDOW = 1117  # a ticket another window served: a clerk acts only on their own window's
# the 24-hour area's locker (智能取件柜, hwd.hall.pickup): 1120-1129
PICKUP_OFF = 1120       # no [hall.pickup] lockers
NO_FREE_DOOR = 1121     # every door holds a result, is open, alarmed or its locker is offline
DOOR_NOT_OPENED = 1122  # the locker did not open the door (jammed, offline)
NO_DEPOSIT = 1123       # no waiting result for this code or ID card (a wrong code)
UNKNOWN_DEPOSIT = 1124
UNKNOWN_ALARM = 1125
BAD_SLOT = 1126         # a booking slot the 24-hour kiosk did not offer, or one already full
# what citizens and clerks see (pages): 1170-1179
APPOINTMENT_USED = 1170

# capture (1030-1039)
CAPTURE_REFUSED = 1030
# the config file changed over RPC (config.*, docs/api.md): 1040-1049
CONFIG_INVALID = 1040   # the new config has problems (data.problems: line, key, reason); nothing written
CONFIG_CHANGED = 1041   # the file changed since the editor read it (data.digest): reload, nothing written
UNKNOWN_VERSION = 1042  # no such config version
BAD_EDIT = 1043         # a config.edit op names no such key, or a value TOML cannot hold

# 好差评, work orders and the outbox: 1150-1169
UNKNOWN_REASON = 1150
REASONS_NOT_ASKED = 1151
BAD_CASE_NO = 1152
UNKNOWN_WORKORDER = 1153
BAD_STEP = 1154
BAD_VERDICT = 1155
NOTE_REQUIRED = 1156
UNKNOWN_SINK = 1157
# guide desk (导办台): 1180-1189
UNKNOWN_DESK = 1180
NOT_VERIFIED = 1181
NO_ASSISTED_SERVICE = 1182
# two engines, one hall ([hall.standby], docs/standby.md): 1190-1199
NOT_ACTIVE = 1190      # this PC is the standby engine: data names the active one (rpc, events)
NOT_REPLICATED = 1191  # the change could not be made durable in the hall's quorum: nothing was done
STANDBY_REFUSED = 1192  # hwctl standby promote/demote cannot be done now (the other engine is not in sync)

# LAN hardening (security): 1130-1149
RATING_CHANNEL_REFUSED = 1130  # not the rating pad/page/keypad the hall bound to that window
UNKNOWN_PAD = 1131             # a rating pad not enrolled, or a wrong pad secret
BAD_RATING_TOKEN = 1132        # a phone rating without the ticket's own token
CARD_TOKEN_USED = 1133         # a card token already issued a ticket
CARD_TOKEN_WRONG_KIOSK = 1134  # a card token read at another kiosk's reader
LOGIN_LOCKED = 1135            # too many wrong PINs/passwords: wait (backoff)


def name_of(code: int) -> str:
    """The constant's name of an error code (``1113`` → ``CARD_TOKEN_EXPIRED``), or ``""``."""
    return next((name for name, value in globals().items() if name.isupper() and value == code
                 and isinstance(value, int)), "")


class HwdError(Exception):
    """Base of every error hwd raises on purpose; carries a client-visible code."""

    code: int = INTERNAL_ERROR

    def __init__(self, message: str, code: int | None = None, data: Any = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.data = data

    @property
    def message(self) -> str:
        return str(self)

    def to_json(self) -> dict:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


class ConfigError(HwdError):
    """The configuration is invalid; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str], items: list[tuple[int, str, str]] | None = None):
        super().__init__("\n".join(problems))
        self.problems = problems
        self.items = items or []  # the same problems as (line, key, reason), for a page or hwctl


class RpcError(HwdError):
    """An error reply to an RPC request."""


class DeviceError(HwdError):
    """A device could not do what was asked."""

    code = DEVICE_ERROR


class DeviceLost(DeviceError):
    """The link to a device broke; the worker closes it and reconnects with backoff."""

    code = DEVICE_OFFLINE


class MissingDependency(HwdError):
    """A driver's optional Python library is not installed."""


class StartupError(Exception):
    """hwd cannot start (e.g. its socket is taken, the hall database cannot be opened); the
    message says what to do. Not an RPC error: nothing is serving yet."""

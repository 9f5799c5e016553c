"""The ``[hall.tidal]`` table: when a service's wait or queue raises a tidal-window alert
(潮汐窗口, hwd.hall.queue.alerts), checked into a typed object.

Tidal windows follow published hall rules: 宁夏回族自治区政务服务中心 宁政服发〔2018〕35号
(《关于进一步改进提升窗口服务水平的通知》), its 自查自纠对照清单 items 5 "窗口设置不合理，工作人员忙闲不均",
7 "工作时间窗口未全部开放，办事群众排队时间长" and 8 "未实现按照办事群众人流量适当增减窗口数量"; 周村区
周政办字〔2022〕24号 第九条 (无差别综合受理窗口). The thresholds are the hall's to
choose; a service may have its own in ``[[hall.service]] tidal_wait_min`` / ``tidal_queue``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hwd.schema import Field, check_table

TIDAL_FIELDS = (
    Field("wait_min", int, 30, min=0, max=1440,
          doc="alert when a service's oldest waiting ticket has waited this many minutes; 0 = off"),
    Field("queue", int, 0, min=0, max=100000, doc="alert when this many tickets wait for one service; 0 = off"),
    Field("clear_percent", int, 80, min=10, max=100,
          doc="the alert clears when every measure is below this percentage of its threshold (hysteresis)"),
    Field("other_windows", bool, True,
          doc="also name idle windows of other services whose queues are empty (could be switched)"),
)
# per service, in [[hall.service]]: None = the [hall.tidal] value
SERVICE_TIDAL_FIELDS = (
    Field("tidal_wait_min", int, None, min=0, max=1440, doc="this service's [hall.tidal] wait_min; 0 = off"),
    Field("tidal_queue", int, None, min=0, max=100000, doc="this service's [hall.tidal] queue; 0 = off"),
)


@dataclass(frozen=True)
class Tidal:
    wait_min: int = 30
    queue: int = 0
    clear_percent: int = 80
    other_windows: bool = True


def load_tidal(table: Any, path: tuple, problems: Any) -> Tidal:
    v = check_table(table, TIDAL_FIELDS, path, problems)
    return Tidal(wait_min=v["wait_min"], queue=v["queue"], clear_percent=v["clear_percent"],
                 other_windows=v["other_windows"])

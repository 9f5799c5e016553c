"""What citizens and clerks read when hwd refuses something: one table of wording per error code
(hwd.errors), in Chinese, used by the daemon, the pages (hwd-ui) and hwctl alike.

A refusal meant for a person is made from the table: ``Refusal(code, key, data, **details)``
says ``WORDS[code][key]`` with the details filled in (a ticket's number, a window, the seconds to
wait), and its ``data`` names the wording it said (``data["wording"] = key``). A page shows that
message as it is (``for_people``); an error not made from the table (a developer's mistake in
the params, a driver's detail: English, for logs and hwctl) is shown to a person as its code's
general wording (key ``""``), or as ``GENERAL`` when the code has none.

One code may have several wordings, one per situation (``BAD_STATE``: finish the current ticket
first, recall before a no-show …); a situation has exactly one. A code's general wording (key
``""``) takes no details, since a page shows it for any error of that code.
"""

from __future__ import annotations

from typing import Any

from hwd import errors
from hwd.errors import HwdError

GENERAL = "操作没有成功，请重试或到服务台咨询"
UNREACHABLE = "系统连接中断，请稍候再试或到服务台咨询"
SWITCHING = "系统正在切换主机，请稍候再试"

WORDS: dict[int, dict[str, str]] = {
    # the RPC layer and devices
    errors.METHOD_NOT_FOUND: {"": "系统暂不支持这个功能"},
    errors.INVALID_PARAMS: {
        "": "输入有误，请重试",
        "score": "评价分值应为1到5",
        "appointment_code": "预约码应为1到64个可见字符",
        "desk_priority": "导办台不能给予 {priority} 优先",
        "note_too_long": "说明不能超过{max}字",
    },
    errors.DEVICE_OFFLINE: {"": "设备未连接"},
    errors.DEVICE_FAULT: {"": "设备故障"},
    errors.NOT_FOUND: {"rating": "没有找到该评价"},
    errors.NOT_AUTHORISED: {"card_data": "暂时无法读取身份证信息，请直接取号或到导办台办理"},
    # the config file (/admin/config, hwctl config)
    errors.CONFIG_INVALID: {"": "配置有误，没有保存：请按提示修改"},
    errors.CONFIG_CHANGED: {"": "配置文件已被他人修改，请刷新后再改（您的修改没有保存）"},
    errors.UNKNOWN_VERSION: {"": "没有这个配置版本"},
    errors.BAD_EDIT: {"": "修改的项目不存在或取值无效"},
    # the hall's rules
    errors.HALL_DISABLED: {"": "本机未开启排队叫号"},
    errors.WINDOW_PAUSED: {"": "该窗口已暂停服务"},
    errors.OUTSIDE_HOURS: {
        "": "当前不在取号时间，请留意大厅公告",
        "opens": "当前不在取号时间，取号开始时间：{when}",
        "holiday": "{holiday}假期，大厅暂停办理业务，取号开始时间：{when}",
    },
    errors.QUOTA_REACHED: {"": "今日该业务号源已取完"},
    errors.UNKNOWN_SERVICE: {"": "没有该业务，请重新选择", "desk": "该导办台不能办理这项业务",
                             "code": "没有编号为{code}的业务", "code_missing": "请先输入业务编号再按转移",
                             "matter": "该业务没有事项 {matter}"},
    errors.UNKNOWN_WINDOW: {"": "没有这个窗口", "window": "没有{window}号窗口"},
    errors.NO_CURRENT_TICKET: {
        "": "该窗口当前没有正在办理的号",
        "rating": "当前没有待评价的服务",
        "rating_timed_out": "当前没有待评价的服务（评价已超时）",
    },
    errors.BAD_STATE: {
        "": "当前状态下不能这样操作",
        "ticket": "{number}号当前状态不能进行此操作",
        "finish_first": "请先办结或过号当前的{number}号",
        "recall_first": "请先重呼{times}次再过号",
        "not_waiting": "{number}号不在等候中，不能调整优先",
        "reprint_gone": "{number}号已不在等候中，不能补打",
        "cancel_not_waiting": "{number}号已不在排队中，不能取消排队",
        "appointment_exists": "预约码 {code} 已存在",
        "followup_not_bad": "只有差评需要整改回访",
        "transfer_day_over": "{number}号是前一营业日的号，不能转到今天的队列；请在本窗口办结，或请群众重新取号",
        "no_h5": "未配置省级评价页面（[hall.upstream] adapter = \"h5\"）",
        "deposit": "该件已取走或不在柜中，不能取回",
    },
    errors.NOT_LOGGED_IN: {
        "": "请先登录",
        "window": "请先登录窗口",
        "not_at_window": "该工作人员未登录此窗口",
        "desk": "请先登录导办台",
    },
    errors.LOGIN_FAILED: {"": "工号或密码错误", "window_not_allowed": "您没有该窗口的登录权限",
                          "desk_not_allowed": "您没有该导办台的登录权限",
                          "role_counter": "您的岗位不是窗口受理，不能登录窗口", "role_desk": "您的岗位不是导办，不能登录导办台", "disabled": "该工号已停用，请联系大厅负责人",
                          "set_pin": "请先设置新密码（输入两次）再登录",
                          "no_pin_reset": "该工号不需要设置新密码，请用原密码登录",
                          "pin_format": "新密码应为4到12位数字",
                          "staff_missing": "请先输入工号再按登录"},
    errors.LOGIN_LOCKED: {"": "密码错误次数过多，请稍后再试", "seconds": "密码错误次数过多，请{seconds}秒后再试",
                          "pickup": "取件码错误次数过多，请{seconds}秒后再试"},
    errors.ALREADY_RATED: {"": "该次服务已评价，感谢您的参与"},
    errors.UNKNOWN_TICKET: {"": "没有找到该号", "not_waiting_here": "本窗口没有等候中的{digits}号"},
    errors.UNKNOWN_KIOSK: {"": "本机未登记为取号机，请联系管理员", "kiosk": "未知的取号机 {kiosk}"},
    errors.CARD_TOKEN_EXPIRED: {"": "身份证信息已过期，请重新刷卡"},
    errors.UNKNOWN_APPOINTMENT: {"": "未找到您的预约信息，请核对后重试或直接取号"},
    errors.STORAGE_ERROR: {"": "系统存储故障，请联系工作人员"},
    errors.WINDOW_CLOSED: {"": "该窗口未开放"},
    errors.NOT_THIS_WINDOW: {"case": "该号不是本窗口办理的，不能关联办件编号"},
    errors.APPOINTMENT_USED: {
        "": "这个预约已经签到并办理过了，如需办理请直接取号",
        "checked_in": "该预约已于{time}签到（{number}号，{what}），不能重复签到；如需办理请直接取号",
    },
    # 好差评 and work orders
    errors.UNKNOWN_REASON: {"unknown": "未知的差评原因 {reason!r}"},
    errors.REASONS_NOT_ASKED: {"": "只有不满意的评价需要选择原因"},
    errors.BAD_CASE_NO: {"": "办件编号格式不对（1-64位字母、数字或 - _ . : /）"},
    errors.UNKNOWN_WORKORDER: {"": "没有找到该工单"},
    errors.BAD_STEP: {"unknown": "未知的工单步骤 {step!r}", "not_now": "工单当前为“{state}”，不能{step}"},
    errors.BAD_VERDICT: {
        "": "请给出核实结论：valid（属实）、mistaken（误评）或 malicious（恶意差评）",
        "not_asked": "{step}不需要核实结论",
    },
    errors.NOTE_REQUIRED: {"step": "{step}需要填写说明"},
    # the guide desk
    errors.UNKNOWN_DESK: {"desk": "没有{desk}号导办台"},
    errors.NOT_VERIFIED: {"": "请先核验相关证件，再给予优先"},
    errors.NO_ASSISTED_SERVICE: {"": "本大厅未设帮办代办窗口"},
    # the 24-hour area's locker
    errors.PICKUP_OFF: {"": "本大厅未设智能取件柜"},
    errors.NO_FREE_DOOR: {"": "取件柜暂无空闲柜门"},
    errors.DOOR_NOT_OPENED: {"": "柜门未能打开", "deposit": "柜门未能打开，请换一个柜门重试或联系管理员",
                             "pickup": "柜门未能打开，{help}"},
    errors.NO_DEPOSIT: {"": "没有找到待取的办理结果", "code": "取件码不正确，请核对后重新输入",
                        "card": "没有找到您的待取件，请核对或输入取件码"},
    errors.UNKNOWN_DEPOSIT: {"": "没有找到该存件"},
    errors.UNKNOWN_ALARM: {"": "没有找到该告警"},
    errors.BAD_SLOT: {"": "该时段不可预约，请重新选择", "full": "该时段已约满，请选择其他时段"},
    # two engine PCs
    errors.NOT_ACTIVE: {"": SWITCHING},
    errors.NOT_REPLICATED: {"": SWITCHING},
    # LAN hardening
    errors.RATING_CHANNEL_REFUSED: {"": "只能评价本窗口刚办结的业务", "pad_window": "该评价器不属于这个窗口",
                                    "evaluator": "请在评价器上评价"},
    errors.UNKNOWN_PAD: {"": "本评价器未登记，请联系管理员", "revoke": "没有登记评价器 {pad}"},
    errors.BAD_RATING_TOKEN: {"": "链接无效或已过期", "ticket": "评价链接与号不符"},
    errors.CARD_TOKEN_USED: {"": "这张身份证已经取过号了，请重新刷卡"},
    errors.CARD_TOKEN_WRONG_KIOSK: {"": "请在本机重新刷身份证", "no_reader": "请在取号机上刷身份证"},
}


def say(code: int, key: str = "", /, **details: Any) -> str:
    """The wording ``key`` of ``code`` with its details filled in. KeyError for a wording that
    is not in the table: a person is never shown a message nobody wrote down here."""
    return WORDS[code][key].format(**details)


class Refusal(HwdError):
    """A refusal a person reads: its message is ``say(code, key, **details)``; ``data`` (the
    details a client acts on) also names the wording (``data["wording"]``)."""

    def __init__(self, code: int, key: str = "", data: dict | None = None, /, **details: Any):
        super().__init__(say(code, key, **details), code, {**(data or {}), "wording": key})
        self.key = key


def for_people(code: Any, message: str, data: Any) -> str:
    """What a page shows for an error from hwd: the table's wording it was made from (its
    message), else the code's general wording, else ``GENERAL``."""
    words = WORDS.get(code) if isinstance(code, int) else None
    if words is None:
        return GENERAL
    if isinstance(data, dict) and data.get("wording") in words:
        return message
    return words.get("", GENERAL)

"""What the kiosk says aloud (无障碍环境建设法 art. 33: a self-service terminal speaks): one short
prompt per screen, played on the kiosk's own speaker (``[[hall.kiosk]] speaker``, a speaker
device: its voice pack or espeak-ng, offline, as the hall broadcast), when the citizen arrives
at the screen and again on the 语音 button.

The words are this table's, filled only with what the hall itself knows (the ticket's number
and place, asked of hwd; a service's name from the config), or a refusal hwd-ui itself showed
on this kiosk (said by the endpoint that refused): a page cannot make the kiosk say text of its
own, and only the kiosk's own machine may ask it to speak at all (kiosk_ui.kiosk). Ticket
numbers are read character by character as the broadcast reads them ("B零零三").
"""

from __future__ import annotations

from typing import Any

from drivers.speaker.numbers import read_ticket

PROMPTS = {
    "home": "您好，请选择办理事项，或将身份证放在读卡区",
    "card": "已读取身份证，请选择办理事项",
    "dept": "请选择具体的办理事项",
    "checkin": "预约签到，请扫描预约二维码，或在屏幕上输入预约码",
    "guide": "请选择要查看的办事指南",
    "notice": "{service}办事指南，可打印一次性告知单",
    "card_back": "请取回您的身份证",
    "offline": "系统连接中断，请稍候，或到服务台咨询",
    "card_expired": "身份证信息已过期，请把身份证取下，再重新放上",
    "scan_failed": "签到没有成功，请看屏幕上的提示，或到服务台咨询",
}
# the same screens without the kiosk's card reader or scanner (none, or it cannot serve now)
WITHOUT = {("home", "card"): "您好，请选择办理事项",
           ("checkin", "scanner"): "预约签到，请在屏幕上输入预约码"}
TAKE_CARD = "请取回您的身份证和号票"
TAKE_TICKET = "请取走号票"
NOT_PRINTED = "号票未能打印，请记住您的号码"


def ticket_text(ticket: dict, card: bool, again: bool = False) -> str:
    """The ticket screen's prompt: the number, the place, what to take (``again``: an appointment
    checked in before, nothing printed now)."""
    out = ("您已签到，" if again else "") + f"您的号码是{read_ticket(ticket.get('number', ''))}。"
    ahead = ticket.get("waiting_ahead")
    if ticket.get("state") == "waiting" and ahead is not None:
        out += f"前面还有{int(ahead)}人等候。"
    if again:
        out += "本次没有再打印号票。" + (PROMPTS["card_back"] if card else "")
    elif card:
        out += TAKE_CARD if ticket.get("printed") else "请取回您的身份证。" + NOT_PRINTED
    else:
        out += TAKE_TICKET if ticket.get("printed") else NOT_PRINTED
    return out


def prompt_text(prompt: str, params: dict[str, Any]) -> str | None:
    """The words of ``prompt`` (None: no such prompt); ``params`` only from the hall: ``service``
    (a configured service's name), ``closed`` (the hours' message, when tickets cannot be taken),
    ``card`` / ``scanner`` (False: the kiosk's reader / scanner cannot serve, so the words do
    not send the citizen to it)."""
    if prompt == "home" and params.get("closed"):
        return str(params["closed"])
    for (screen, device), words in WITHOUT.items():
        if prompt == screen and params.get(device) is False:
            return words
    template = PROMPTS.get(prompt)
    if template is None:
        return None
    return template.format(service=params.get("service", ""))

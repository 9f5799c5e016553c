"""Announcement templates: "请{ticket}号到{window}号窗口办理" filled with spoken-form values.

``ticket`` is read character by character and ``window`` as a number (numbers.py); other
parameters are inserted as given. A hall can add or override templates in the speaker's
``templates`` option. Pure, no I/O.
"""

from __future__ import annotations

import string
from typing import Any

from drivers.speaker.numbers import read_ticket, read_window

DEFAULT_TEMPLATES = {
    "call": "请{ticket}号到{window}号窗口办理",
    "recall": "请{ticket}号到{window}号窗口办理",
    "pause": "{window}号窗口暂停服务",
    "closing": "各位办事群众，大厅即将停止取号，请带好随身物品",
}
READERS = {"ticket": read_ticket, "window": read_window}


class TemplateError(ValueError):
    """Unknown template or missing parameter; the message says which."""


def fields(template: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name]
    except ValueError as exc:
        raise TemplateError(f"bad template {template!r}: {exc}") from None


def render(template: str, params: dict[str, Any]) -> str:
    """Fill ``template``; ``params`` values are read aloud the way the hall reads them."""
    needed = fields(template)
    missing = [name for name in needed if name not in params]
    if missing:
        raise TemplateError(f"template {template!r} needs {', '.join(missing)}")
    values = {name: READERS.get(name, str)(str(params[name])) for name in needed}
    return template.format(**values)


def announcement_text(templates: dict[str, str], text: str | None, template: str | None,
                      params: dict[str, Any] | None) -> str:
    """The text to speak for an ``announce`` request: literal ``text`` or a named template."""
    if text:
        return text
    if not template:
        raise TemplateError("give text, or template and params")
    if template not in templates:
        raise TemplateError(f"unknown template {template!r}; known: {', '.join(sorted(templates))}")
    return render(templates[template], params or {})

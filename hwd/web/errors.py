"""Error answers of a web app: JSON ``{"ok": false, "error", "code"}`` to API calls, else the
app's ``error.html`` with the message — in the citizen's or supervisor's words, never a
traceback. Each app names what counts as an API call and the texts it words its own way."""

from __future__ import annotations

from typing import Any, Callable

from flask import Flask, current_app, jsonify, make_response, render_template

EXTENSION = "hwd_web_errors"
TEXTS = {400: "请求有误", 403: "没有权限", 404: "没有这个页面", 405: "请求方式不对", 413: "内容太长",
         500: "系统出了点问题，请稍候再试"}


def respond(status: int, message: str, code: Any = None) -> Any:
    """The error answer for this request."""
    if current_app.extensions[EXTENSION]():
        return make_response(jsonify({"ok": False, "error": message, "code": code}), status)
    return make_response(render_template("error.html", message=message, status=status), status)


def install(app: Flask, wants_json: Callable[[], bool], texts: dict[int, str] | None = None) -> None:
    """Answer each status of ``TEXTS`` and of the app's own ``texts`` (which win) with its text;
    ``wants_json()`` tells API calls apart."""
    app.extensions[EXTENSION] = wants_json
    for status, text in {**TEXTS, **(texts or {})}.items():
        app.register_error_handler(status, lambda exc, status=status, text=text: respond(status, text, status))

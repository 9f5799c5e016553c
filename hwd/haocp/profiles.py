"""Payload profiles: what one provincial 好差评 platform takes, chosen with ``[hall.upstream]
profile`` — the record kinds it takes, the body (a payload map, hwd.haocp.payload) and its
encoding, an envelope around it (in-body signatures, SM2), the HTTP auth, and the reply rule that
tells a delivered record from a refusal answered with 200.

Built-in (*contract* names), each transcribed from the public code of a real integration and
tested against it (tests/upstream/test_profiles.py cites the files and lines):

    push-json         hwd's own JSON object per record, HMAC headers (hwd.upstream.push_json)
    zj-offlinereport  Zhejiang 办件评价服务 ``zwztapi/offlinereport.do``: 25 form fields, HTTP Basic
                      (yupomang/YFMAPLAST WebHttpContorller.getofflinereport, SimpleHttpMessageUtilZJW)
    sd-epoint-hcp     Shandong epoint 评价上报到国家: ``txnBodyCom`` with the record list SM2-encrypted
                      and ``sign`` = SM2(time + appMark + appWord) (tempproject134 HcpController.submitTemp)
    sd-epoint-pad     Shandong epoint 评价器 → 网厅 ``{"params": {...}}`` (EvainstanceController.addEvainstance)
    zfsoft            zfsoft 正方 superwindow ``{apiKey, systemPwd, requestData: SM2(JSON), dataSign}``
                      (ManualEvaluationManager.pushManualEvaluation)

A hall writes its own in ``[hall.upstream.profiles.NAME]`` (docs/hall.md), optionally starting
from a built-in (``base``) and changing only some fields.

Data the province wants that hwd does not hold (the department's 统一社会信用代码 ``deptCode``,
``proDepartCode``, ``promiseTime`` …) is the source ``province.X``: ``[hall.upstream.province]``
for the whole hall, overridden per service by ``[[hall.service]] province`` (and, once services
have matters, per matter the same way: the innermost table wins key by key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hwd.haocp import payload

DATE = "%Y-%m-%d %H:%M:%S"
BODIES = ("json", "form")
AUTHS = ("none", "basic", "hmac")
REFUSALS = ("retry", "reject")
SM2_ORDERS = ("c1c2c3", "c1c3c2")
DEFAULT = "push-json"

# 评价渠道 (pf) of the national 好差评 rules, as the Zhejiang interface lists them: pc端=1,
# 移动端=2, 二维码=3, 政务大厅平板电脑=4, 政务大厅其他终端=5, 短信=6, 系统默认评价=7.
PF = {"pad": "4", "page": "4", "keypad": "5", "phone": "3", "rpc": "5"}

# the record fields a map may read (hwd.hall.ratings.store: rating_record, unrated_record,
# step_record; the outbox adds idempotency_key and kind)
RECORD_FIELDS = (
    "idempotency_key", "kind", "rating_id", "ticket_id", "ticket", "case_no", "score", "level", "labels",
    "label_names", "text", "region_code", "hall", "service", "matter", "matter_name", "matter_code", "impl_code",
    "matter_version", "department", "window", "window_name", "staff", "staff_name", "service_start",
    "service_end", "channel", "rated_at", "excluded", "previous_case_no", "attached_by", "attached_at",
    "workorder_id", "step_id", "step", "from_state", "state", "verdict", "note", "at", "due",
)


@dataclass(frozen=True)
class Profile:
    name: str
    kinds: tuple
    fields: dict  # output key -> spec: the record as the province takes it
    body: str = "json"  # json | form
    envelope: dict | None = None  # output key -> spec around ``body``; None: the mapped record is sent
    auth: str = "none"  # none | basic | hmac (push-json's X-HWD-Signature headers)
    success: tuple = ()  # alternatives, each {reply path: expected text}; () = any 2xx
    reason: tuple = ("message", "msg", "error")  # reply paths that say why it was refused
    refusal: str = "retry"  # a 2xx that fails ``success``: retry (stays undelivered) | reject
    content_type: str = ""
    sm2_order: str = "c1c2c3"
    source: str = ""  # where the built-in's shape comes from

    @property
    def media_type(self) -> str:
        if self.content_type:
            return self.content_type
        return ("application/x-www-form-urlencoded; charset=UTF-8" if self.body == "form"
                else "application/json; charset=utf-8")

    def uses(self, step: str) -> bool:
        return payload.uses({"object": self.fields}, step) or payload.uses({"object": self.envelope or {}}, step)

    def sources(self) -> set:
        return payload.sources({"object": self.fields}) | payload.sources({"object": self.envelope or {}})


# -- the built-ins ----------------------------------------------------------------------------
_AREA = {"from": ["province.areaCode", "region_code"], "default": ""}
_TASK_CODE = {"from": ["province.taskCode", "matter_code"], "default": ""}
_TASK_NAME = {"from": ["province.taskName", "matter_name"], "default": ""}
_DEPART = {"from": ["province.proDepart", "department"], "default": ""}
_ACCEPT = {"from": ["province.acceptDate", "service_start"], "date": DATE, "default": ""}

ZJ_OFFLINEREPORT = Profile(
    name="zj-offlinereport", kinds=("rating",), body="form", auth="basic",
    fields={
        "areaCode": _AREA,
        "areaName": {"from": "province.areaName", "default": ""},
        "deptCode": {"from": "province.deptCode", "default": ""},
        "taskCode": _TASK_CODE,
        "taskHandleItem": {"from": "province.taskHandleItem", "default": ""},  # "浙江目前不传"
        "taskName": _TASK_NAME,
        "subMatter": {"from": "province.subMatter", "default": ""},
        "projectNo": {"from": "case_no", "default": ""},
        "proStatus": {"value": "3"},  # 已完结: a rating follows the finished service
        "proDepartCode": {"from": "province.proDepartCode", "default": ""},
        "proDepart": _DEPART,
        "proManager": {"from": "staff_name", "default": ""},
        "pf": {"from": "channel", "map": PF, "default": "5"},
        # 实名评价: empty (anonymous) unless the citizen consented ([hall.upstream] real_name, docs/security.md)
        "certkeyGOV": {"from": "holder.id_number", "default": ""},
        "userName": {"from": "holder.name", "default": ""},
        "userProp": {"from": "holder.prop", "default": ""},
        "satisfaction": {"from": "score", "type": "str"},
        "evalDetail": {"from": "labels", "join": ",", "default": ""},
        "writingEvaluation": {"from": "text", "default": ""},
        "assessTime": {"from": "rated_at", "date": DATE},
        "assessNumber": {"value": "1"},
        "appStatus": {"from": "province.appStatus", "default": ""},
        "promiseTime": {"from": "province.promiseTime", "type": "str"},  # 承诺件=1, 即办件=2
        "acceptDate": _ACCEPT,
        "dataSource": {"value": "133"},  # "三位数字 浙江省填133"
    },
    success=({"result": "0"},), reason=("resultmsg", "message", "msg"),
    source="yupomang/YFMAPLAST src/com/yondervision/yfmap/controller/WebHttpContorller.java getofflinereport; "
           "common/mess/SimpleHttpMessageUtilZJW.java sendPost")

_EPOINT_RECORD = {
    "projectNo": {"from": "case_no", "prefix": "37"},  # "按照省里标准" the 37 of Shandong
    "pf": {"from": "channel", "map": PF, "default": "5"},
    "deptCode": {"from": "province.deptCode", "omit_empty": True},
    "taskCode": {**_TASK_CODE, "default": None, "omit_empty": True},
    "taskHandleItem": {"from": "province.taskHandleItem", "omit_empty": True},
    "taskName": {**_TASK_NAME, "default": None, "omit_empty": True},
    "subMatter": {"from": "province.subMatter", "omit_empty": True},
    "proStatus": {"value": "3"},
    "proDepart": {**_DEPART, "default": None, "omit_empty": True},
    # 实名评价 only (consent, docs/security.md); anonymous leaves them out. epoint's integrations send
    # userProp 1 for a person (applyertype 20) as a number and userPageType "111" (居民身份证).
    "certKey": {"from": "holder.id_number", "omit_empty": True},
    "userName": {"from": "holder.name", "omit_empty": True},
    "userProp": {"from": "holder.prop", "type": "int", "omit_empty": True},
    "userPageType": {"from": "holder.cert_type", "omit_empty": True},
    # handleUser* (an agent's identity): never, hwd does not know of an agent
    "satisfaction": {"from": "score", "type": "str"},
    "evalDetail": {"from": "labels", "join": ",", "default": ""},
    "serviceNumber": {"value": "1"},
    "writingEvaluation": {"from": "text", "default": ""},
    "assessTime": {"from": "rated_at", "date": DATE},
    "assessNumber": {"value": 1},
    "dataSource": {"value": "165"},
    "promisetime": {"from": "province.promiseTime", "type": "int", "omit_empty": True},
    "acceptDate": {**_ACCEPT, "default": None, "omit_empty": True},
}
_EPOINT_TIME = {"from": "send.time", "date": "%Y%m%d%H%M%S"}

SD_EPOINT_HCP = Profile(
    name="sd-epoint-hcp", kinds=("rating",), body="json", fields=_EPOINT_RECORD,
    envelope={
        "txnBodyCom": {"object": {
            # "即将发送时间、应用标识、应用密钥按顺序连接并进行SM2加密。time+appMark+appWord"
            "sign": {"concat": [_EPOINT_TIME, "upstream.username", "upstream.password"], "encrypt": "sm2"},
            "params": {"object": {"evaluate": {"list": {"from": "body_list", "type": "json", "encrypt": "sm2"}}}},
            "time": _EPOINT_TIME,
            "appMark": {"from": "upstream.username"},
        }},
        "txnCommCom": {"object": {}},
    },
    success=({"code": "0", "success": "true"}, {"C-Response-Desc": "success"}),
    reason=("msg", "message", "C-Response-Desc", "error"),
    source="LouisCherry/tempproject134 java/com/epoint/hcp/rest/controller/HcpController.java submitTemp")

SD_EPOINT_PAD = Profile(
    name="sd-epoint-pad", kinds=("rating",), body="json", content_type="application/json;charset=utf-8",
    fields={"params": {"object": {
        "projectno": {"from": "case_no", "prefix": "37"},
        "pf": {"value": "4"},  # the pad: 政务大厅平板电脑
        "satisfaction": {"from": "score", "type": "str"},
        "assessTime": {"from": "rated_at", "date": DATE},
        "assessNumber": {"value": 1},
        "serviceNumber": {"value": 1},
        "writingEvaluation": {"from": "text", "default": ""},
        "evalDetail": {"from": "labels", "join": ",", "default": ""},
        "Areacode": _AREA,
        "winNo": {"from": "window", "default": ""},
        "winName": {"from": "window_name", "default": ""},
        "evaluateLevel": {"from": "score", "type": "str"},  # the score under its second name
        "type": {"value": "ck"},
        "Taskname": {**_TASK_NAME, "default": None, "omit_empty": True},
        "Taskcode": {**_TASK_CODE, "default": None, "omit_empty": True},
        "Deptcode": {"from": "province.deptCode", "omit_empty": True},
        "Prodepart": {**_DEPART, "default": None, "omit_empty": True},
        # 实名评价 only (consent); Applicant and mobile never (hwd holds neither)
        "Userprop": {"from": "holder.prop", "omit_empty": True},
        "Username": {"from": "holder.name", "omit_empty": True},
        "Certkey": {"from": "holder.id_number", "omit_empty": True},
        "Certkeygov": {"from": "holder.id_number", "omit_empty": True},
        "Acceptdate": {**_ACCEPT, "default": None, "omit_empty": True},
        "taskType": {"from": "province.taskType", "omit_empty": True},
    }}},
    success=({"status.code": "200", "custom.code": "1"},), reason=("custom.text", "status.text", "message"),
    source="LouisCherry/tempproject134 java/com/epoint/evainstance/EvainstanceController.java addEvainstance")

ZFSOFT = Profile(
    name="zfsoft", kinds=("rating",), body="json",
    fields={
        "pjTerm": {"from": "score", "type": "str"},
        "content": {"from": "label_names", "join": ",", "default": ""},
        "pf": {"from": "province.pf", "default": ""},  # the platform's id, e.g. ff8080817a17b124017b5c2a7f864d31
        "evalDetail": {"from": "labels", "join": ",", "default": ""},
        "projectNo": {"from": "case_no", "default": ""},
        "appStatus": {"value": "2"},
        "assessTime": {"from": "rated_at", "date": DATE},
    },
    envelope={
        "apiKey": {"from": "upstream.username"},
        "systemPwd": {"from": "upstream.password"},
        "requestData": {"from": "body", "type": "json", "encrypt": "sm2"},
        "dataSign": {"from": "out.requestData", "sign": "sm2", "sign_id": "upstream.username"},
    },
    success=({"code": "200"}, {"success": "true"}), reason=("message", "msg", "error"),
    source="com.zfsoft.superwindow.manager.front.ManualEvaluationManager.pushManualEvaluation")

BUILTIN: dict[str, Profile] = {p.name: p for p in (ZJ_OFFLINEREPORT, SD_EPOINT_HCP, SD_EPOINT_PAD, ZFSOFT)}
NAMES = (DEFAULT,) + tuple(BUILTIN)


# -- a hall's own -----------------------------------------------------------------------------
PROFILE_KEYS = ("base", "kinds", "body", "fields", "envelope", "auth", "success", "reason", "refusal",
                "content_type", "sm2_order")


def _known(name: str) -> bool:
    return name in RECORD_FIELDS


def check_custom(name: str, table: Any, path: tuple, problems: Any, kinds_allowed: tuple) -> Profile | None:
    """``[hall.upstream.profiles.NAME]`` as a Profile (None, with problems, when it is wrong)."""
    before = len(problems)
    if not isinstance(table, dict):
        problems.add(path, "expected a table")
        return None
    for key in table:
        if key not in PROFILE_KEYS:
            problems.add(path + (key,), f"unknown key; a profile takes {', '.join(PROFILE_KEYS)}")
    base = table.get("base")
    if base is not None and base not in BUILTIN:
        problems.add(path + ("base",), f"base is a built-in profile: {', '.join(BUILTIN)}")
        return None
    start = BUILTIN[base] if base else None
    fields = dict(start.fields) if start else {}
    if "fields" in table:
        if not isinstance(table["fields"], dict):
            problems.add(path + ("fields",), "expected a table of output keys")
        else:
            for key, spec in table["fields"].items():
                if spec == "":
                    fields.pop(key, None)  # drops a field of the base
                    continue
                payload.check(spec, path + ("fields", key), problems, _known)
                fields[key] = spec
    if not fields:
        problems.add(path + ("fields",), "a profile needs fields (or a base)")
    envelope = start.envelope if start else None
    if "envelope" in table:
        if not isinstance(table["envelope"], dict):
            problems.add(path + ("envelope",), "expected a table of output keys")
        else:
            for key, spec in table["envelope"].items():
                payload.check(spec, path + ("envelope", key), problems, _known, envelope=True)
            envelope = table["envelope"] or None
    kinds = table.get("kinds", list(start.kinds) if start else ["rating"])
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        problems.add(path + ("kinds",), "expected a list of record kinds")
        kinds = []
    for i, kind in enumerate(kinds):
        if kind not in kinds_allowed:
            problems.add(path + ("kinds", i), f"unknown record kind {kind!r}; one of {', '.join(kinds_allowed)}")
    values = {}
    for key, choices in (("body", BODIES), ("auth", AUTHS), ("refusal", REFUSALS), ("sm2_order", SM2_ORDERS)):
        value = table.get(key, getattr(start, key) if start else getattr(Profile, key))
        if value not in choices:
            problems.add(path + (key,), f"one of {', '.join(choices)}")
        values[key] = value
    success = table.get("success", list(start.success) if start else [])
    if not isinstance(success, list) or not all(
            isinstance(alt, dict) and alt and all(isinstance(v, (str, int, bool)) for v in alt.values())
            for alt in success):
        problems.add(path + ("success",), "expected a list of tables {reply path = expected value}")
        success = []
    reason = table.get("reason", list(start.reason) if start else list(Profile.reason))
    if not isinstance(reason, list) or not all(isinstance(r, str) for r in reason):
        problems.add(path + ("reason",), "expected a list of reply paths")
        reason = []
    content_type = table.get("content_type", start.content_type if start else "")
    if not isinstance(content_type, str) or any(c in content_type for c in "\r\n"):
        problems.add(path + ("content_type",), "expected a media type on one line")
        content_type = ""
    if values["body"] == "form" and not envelope and any(not isinstance(s, str) and ("object" in s or "list" in s)
                                                         for s in fields.values()):
        problems.add(path + ("fields",), "a form body is flat: no object or list fields")
    if len(problems) > before:
        return None
    return Profile(name=name, kinds=tuple(kinds), fields=fields, envelope=envelope, success=tuple(success),
                   reason=tuple(reason), content_type=content_type, **values)


def check_province(table: Any, path: tuple, problems: Any) -> dict:
    """A ``province`` table (the hall's or a service's): text or numbers; ``deptCode`` is an
    18-character 统一社会信用代码 (GB 32100)."""
    if not isinstance(table, dict):
        problems.add(path, "expected a table of the province's fields, e.g. { deptCode = \"…\" }")
        return {}
    out = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            problems.add(path + (key,), "expected text or a number")
            continue
        if key == "deptCode" and value and not _uscc(str(value)):
            problems.add(path + (key,), "a 统一社会信用代码 is 18 characters of 0-9 and A-Y without I, O, Z, S, V, "
                                        "with a valid check character (GB 32100-2015)")
        out[key] = value
    return out


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _uscc(code: str) -> bool:
    """GB 32100-2015: 17 characters and a check character (weights 3^i mod 31)."""
    if len(code) != 18 or any(c not in _USCC_CHARS for c in code):
        return False
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code, _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31] == code[17]

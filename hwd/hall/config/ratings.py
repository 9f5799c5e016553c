"""The ``[hall.ratings]`` and ``[hall.upstream]`` tables: 差评 reasons, work-order deadlines and
the link to the provincial 好差评 system, checked into typed objects.

The default reason list is not invented here. GB/T 39734-2020 Annex A lists the contents of a
差评, but its text is not in the references this project could read; the default therefore
follows the rating contents a county's published rules name — 周村区人民政府办公室 周政办字〔2022〕24号
(《周村区各级政务服务大厅“三个规范化标准化”建设管理规范》) 第十九条 "服务质量、业务办理流程、受理事项范围……
办公环境" and 第九条's 评价器 "服务态度、办事效率" — plus 其他 with free text. A hall replaces it with its province's list (and codes).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

from hwd import outbox
from hwd.schema import Field, check_table
from hwd.haocp import profiles

ADAPTERS = ("none", "push-json", "h5")
SIGNATURES = ("hmac-sha256", "hmac-sm3")
H5_ENCODINGS = ("base64x2", "query")
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")

# (code, words on the button, where the category comes from)
DEFAULT_REASONS = (
    ("attitude", "服务态度不好", "周政办字〔2022〕24号 第九条 评价器: 服务态度"),
    ("efficiency", "办事效率低", "周政办字〔2022〕24号 第九条 评价器: 办事效率"),
    ("quality", "业务不熟练、解释不清", "周政办字〔2022〕24号 第十九条: 服务质量"),
    ("process", "办理流程繁琐、材料多", "周政办字〔2022〕24号 第十九条: 业务办理流程"),
    ("scope", "事项不能受理或要多跑", "周政办字〔2022〕24号 第十九条: 受理事项范围"),
    ("environment", "大厅环境或设施不好", "周政办字〔2022〕24号 第十九条: 办公环境"),
    ("other", "其他问题", "free text, as 周至 asks a reason to be picked or typed"),
)

# what the Anhui pad page gets (gtmap HcpServiceImpl.organizeRequestUrl), filled per ticket
H5_DEFAULT_PARAMS = ("key=PJQ&evaluateChannel=PJQ&projNo={case_no}&projName={matter_name}"
                     "&serviceName={matter_name}&serviceCode={matter_code}&serviceVersion={matter_version}"
                     "&serviceDepartment={department}&regionCode={region_code}&ssqdBaseCode={impl_code}"
                     "&transactionTime={service_end}&evaluatedPersonInfo={persons}")
H5_FIELDS = ("case_no", "matter_name", "matter_code", "matter_version", "impl_code", "department",
             "region_code", "window", "window_name", "staff", "staff_name", "persons", "ticket",
             "service_start", "service_end")


def _template(value: str) -> str | None:
    try:
        parts = [(n, spec, conv) for _, n, spec, conv in string.Formatter().parse(value) if n is not None]
    except ValueError as exc:
        return f"not a valid template: {exc}"
    names = {n for n, _, _ in parts}
    if any(spec or conv for _, spec, conv in parts):
        return "a placeholder is a bare {name}: no format spec or conversion"
    unknown = names - set(H5_FIELDS)
    if unknown:
        return f"unknown placeholder {{{sorted(unknown)[0]}}}; use {', '.join('{' + f + '}' for f in H5_FIELDS)}"
    return None


def region_code(value: str) -> str | None:
    return None if value == "" or re.match(r"^\d{6}(\d{6})?$", value) else "a 区划 code is 6 or 12 digits"


def _url(value: str) -> str | None:
    return None if re.match(r"^https?://[^\s/]+", value) else "expected an http:// or https:// URL"


RATINGS_FIELDS = (
    Field("reason", list, [], doc="[[hall.ratings.reason]] tables {code, name}; default: the sourced list "
                                  "in docs/hall.md (好差评)"),
    Field("ask_reasons", bool, True, doc="ask a 不满意/非常不满意 rating for reasons (once; a skip is kept)"),
    Field("callback_days", int, 0, min=0, max=60,
          doc="working days to call a 差评 back (回访); 0 = only the followup_days deadline"),
)
REASON_FIELDS = (Field("code", str), Field("name", str))
UPSTREAM_FIELDS = (
    Field("adapter", str, "none", choices=ADAPTERS, doc="how ratings reach the provincial 好差评 system"),
    Field("url", str, None, check=_url, doc="push-json: the receiving endpoint; h5: the rating page's base URL"),
    Field("secret", str, None, doc="push-json: the signing key"),
    Field("signature", str, "hmac-sha256", choices=SIGNATURES, doc="push-json: HMAC over timestamp.body"),
    Field("timeout_s", float, 10.0, min=0.5, max=120,
          doc="push-json: the deadline of one delivery, connect to the reply's last byte"),
    Field("retry_s", float, 5.0, min=0.05, max=3600, doc="first retry delay; doubles per failure"),
    Field("retry_max_s", float, 600.0, min=0.05, max=86400, doc="cap of the retry delay"),
    Field("kinds", list, list(outbox.RATING_KINDS), items=str,
          doc="push-json: the record kinds sent; of " + ", ".join(outbox.RATING_KINDS + outbox.FEED_KINDS)),
    Field("fields", dict, {}, doc="push-json: rename record fields, e.g. case_no = \"projectNo\"; \"\" drops one"),
    Field("channel_codes", dict, {}, doc="push-json: the province's code for each channel, e.g. page = \"PJQ\""),
    Field("h5_params", str, H5_DEFAULT_PARAMS, check=_template, doc="h5: the query built per ticket"),
    Field("h5_encoding", str, "base64x2", choices=H5_ENCODINGS,
          doc="h5: base64x2 appends base64(base64(query)) to url (Anhui); query appends ?query"),
    Field("profile", str, profiles.DEFAULT,
          doc="the payload profile: " + ", ".join(profiles.NAMES) + ", or one of [hall.upstream.profiles]; "
              "a profile without adapter pushes"),
    Field("username", str, None, doc="HTTP Basic user (zj-offlinereport), appMark (sd-epoint-hcp), apiKey (zfsoft)"),
    Field("password", str, None, doc="HTTP Basic password, appWord (sd-epoint-hcp), systemPwd (zfsoft)"),
    Field("urls", dict, {}, doc="a URL per record kind, e.g. workorder = \"https://…\"; other kinds go to url"),
    Field("province", dict, {}, doc="the province's data for every service: deptCode (统一社会信用代码), "
                                    "proDepartCode, promiseTime …; [[hall.service]] province overrides"),
    Field("profiles", dict, {}, doc="a hall's own payload profiles by name (docs/hall.md)"),
    Field("sm2_public_key", str, None, doc="file with the province's SM2 public key (hex 04xy), for SM2 envelopes"),
    Field("sm2_private_key", str, None, doc="file with the hall's SM2 private key (hex, 0600), for profiles that sign"),
    Field("real_name", bool, False,
          doc="实名评价: with the citizen's consent on the rating screen, send the card holder's name and ID "
              "number with the rating to the province only (sealed until sent, then erased; docs/security.md)"),
)


@dataclass
class Reason:
    code: str
    name: str


@dataclass
class Upstream:
    adapter: str = "none"
    url: str | None = None
    secret: str | None = None
    signature: str = "hmac-sha256"
    timeout_s: float = 10.0
    retry_s: float = 5.0
    retry_max_s: float = 600.0
    kinds: list = field(default_factory=lambda: list(outbox.RATING_KINDS))
    fields: dict = field(default_factory=dict)
    channel_codes: dict = field(default_factory=dict)
    h5_params: str = H5_DEFAULT_PARAMS
    h5_encoding: str = "base64x2"
    profile: str = profiles.DEFAULT
    username: str | None = None
    password: str | None = None
    urls: dict = field(default_factory=dict)
    province: dict = field(default_factory=dict)
    profiles: dict = field(default_factory=dict)  # name -> hwd.haocp.profiles.Profile (checked)
    sm2_public_key: str | None = None
    sm2_private_key: str | None = None
    real_name: bool = False

    def payload_profile(self) -> "profiles.Profile | None":
        """The profile's definition; None for push-json (hwd.upstream.push_json)."""
        return self.profiles.get(self.profile) or profiles.BUILTIN.get(self.profile)


@dataclass
class RatingRules:
    reasons: list = field(default_factory=lambda: [Reason(c, n) for c, n, _ in DEFAULT_REASONS])
    ask_reasons: bool = True
    callback_days: int = 0

    def reason_names(self) -> dict[str, str]:
        return {r.code: r.name for r in self.reasons}


def load_ratings(raw: Any, path: tuple, problems: Any) -> RatingRules:
    v = check_table(raw, RATINGS_FIELDS, path, problems)
    rules = RatingRules(ask_reasons=v["ask_reasons"], callback_days=v["callback_days"])
    if v["reason"]:
        rules.reasons, seen = [], set()
        for i, table in enumerate(v["reason"]):
            r = check_table(table, REASON_FIELDS, path + ("reason", i), problems)
            if "code" not in r or "name" not in r:
                continue
            if not CODE_RE.match(r["code"]):
                problems.add(path + ("reason", i, "code"), "a reason code is 1-32 letters, digits, '_', '.' or '-'")
            elif r["code"] in seen:
                problems.add(path + ("reason", i, "code"), f"duplicate reason code {r['code']!r}")
            seen.add(r["code"])
            rules.reasons.append(Reason(r["code"], r["name"]))
    return rules


def load_upstream(raw: Any, path: tuple, problems: Any) -> Upstream:
    v = check_table(raw, UPSTREAM_FIELDS, path, problems)
    given = raw if isinstance(raw, dict) else {}
    if "profile" in given and "adapter" not in given:
        v["adapter"] = "push-json"  # a profile is a way of pushing
    up = Upstream(**v)
    if up.adapter != "none" and not up.url:
        problems.add(path + ("url",), f"adapter {up.adapter!r} needs a url")
    for table, name in ((up.fields, "fields"), (up.channel_codes, "channel_codes")):
        for key, value in table.items():
            if not isinstance(value, str):
                problems.add(path + (name, key), "expected a string")
    up.province = profiles.check_province(up.province, path + ("province",), problems)
    own = {}
    for name, table in up.profiles.items():
        if name in profiles.NAMES:
            problems.add(path + ("profiles", name), f"{name!r} is a built-in profile: give yours another name")
            continue
        made = profiles.check_custom(name, table, path + ("profiles", name), problems,
                                     outbox.RATING_KINDS + outbox.FEED_KINDS)
        if made is not None:
            own[name] = made
    up.profiles = own
    if up.profile not in profiles.NAMES and up.profile not in v["profiles"]:
        problems.add(path + ("profile",), f"unknown profile {up.profile!r}; one of "
                                          f"{', '.join(profiles.NAMES + tuple(v['profiles']))}")
        up.kinds = check_kinds(up.kinds, path + ("kinds",), problems)
        return up
    profile = up.payload_profile()
    if up.real_name and (profile is None or up.adapter != "push-json"
                         or not any(src.startswith("holder.") for src in profile.sources())):
        problems.add(path + ("real_name",), "实名评价 needs a payload profile that sends the holder "
                                            "(holder.name, holder.id_number …): zj-offlinereport, sd-epoint-hcp, "
                                            "sd-epoint-pad or the hall's own")
    if profile is None or up.adapter != "push-json":
        if up.profile != profiles.DEFAULT and up.adapter != "push-json":
            problems.add(path + ("profile",), f"a profile pushes: adapter {up.adapter!r} takes none")
        if up.adapter == "push-json" and not up.secret:
            problems.add(path + ("secret",), "push-json signs every record: give a secret")
        up.kinds = check_kinds(up.kinds, path + ("kinds",), problems)
        return up
    _check_profile_needs(up, profile, given, path, problems)
    return up


def _check_profile_needs(up: Upstream, profile: Any, given: dict, path: tuple, problems: Any) -> None:
    """The config a profile needs: its kinds, credentials and keys."""
    if "kinds" in given:
        up.kinds = check_kinds(up.kinds, path + ("kinds",), problems)
        for i, kind in enumerate(up.kinds):
            if kind not in profile.kinds:
                problems.add(path + ("kinds", i), f"profile {profile.name!r} takes only "
                                                  f"{', '.join(profile.kinds)}: not {kind!r}")
    else:
        up.kinds = list(profile.kinds)
    for kind, url in up.urls.items():
        if kind not in up.kinds:
            problems.add(path + ("urls", kind), f"{kind!r} is not a kind this profile sends ({', '.join(up.kinds)})")
        elif not isinstance(url, str) or _url(url):
            problems.add(path + ("urls", kind), "expected an http:// or https:// URL")
    sources = profile.sources()
    for key in ("username", "password"):
        if (profile.auth == "basic" or f"upstream.{key}" in sources) and not getattr(up, key):
            problems.add(path + (key,), f"profile {profile.name!r} needs a {key}")
    if profile.auth == "hmac" and not up.secret:
        problems.add(path + ("secret",), f"profile {profile.name!r} signs with HMAC headers: give a secret")
    if profile.uses("encrypt") and not up.sm2_public_key:
        problems.add(path + ("sm2_public_key",), f"profile {profile.name!r} encrypts with SM2: name the file "
                                                 "with the province's public key")
    if profile.uses("sign") and not up.sm2_private_key:
        problems.add(path + ("sm2_private_key",), f"profile {profile.name!r} signs with SM2: name the file with "
                                                  "the hall's private key (hwctl upstream sm2-keygen)")


def check_province(table: Any, path: tuple, problems: Any) -> dict:
    """A service's ``province`` table (hwd.haocp.profiles.check_province)."""
    return profiles.check_province(table, path, problems)


def check_kinds(kinds: list, path: tuple, problems: Any) -> list:
    """A sink's configured record kinds: known, not private, each once, at least one."""
    allowed = outbox.RATING_KINDS + outbox.FEED_KINDS
    seen: list = []
    for i, kind in enumerate(kinds):
        if kind in outbox.PRIVATE_KINDS:
            problems.add(path + (i,), f"{kind!r} carries a ticket's phone link: only the [hall.notify] sink takes it")
        elif kind not in allowed:
            problems.add(path + (i,), f"unknown record kind {kind!r}; one of {', '.join(allowed)}")
        elif kind in seen:
            problems.add(path + (i,), f"{kind!r} is listed twice")
        else:
            seen.append(kind)
    if not kinds:
        problems.add(path, "name at least one record kind (adapter = \"none\" sends nothing)")
    return seen

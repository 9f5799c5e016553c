"""A matter catalogue (事项目录) as the province publishes it and the county pushes it to a hall:
read from JSON or CSV and turned into ``config.edit`` ops on the hall's ``[[hall.service.matter]]``
tables, so an import is previewed, checked, applied and audited like any other change
(docs/hall.md, "The county's matter catalogue").

A catalogue is a list of matters, each naming the hall's service it belongs to:

    JSON  {"matters": [{"service": "bdc", "name": "不动产首次登记", "matter_code": "...", ...}]}
          (or the list alone)
    CSV   a header row, in English (the keys below) or as the province's sheet has it
          (取号业务, 事项名称, 事项编码, 实施编码, 事项版本, 实施部门, 申请材料, 受理条件, 承诺时限,
          收费标准, 区划代码); 申请材料 separated by ；, ; or line breaks

A matter is matched in its service by ``matter_code`` (else by ``id``): a known one gets the
catalogue's values, a new one is added (its id: ``id``, else made from its code). Matters the
catalogue does not list are kept: a catalogue adds and updates, never removes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from hwd import errors
from hwd.errors import HwdError

KEYS = ("id", "name", "matter_code", "impl_code", "matter_version", "department", "materials", "conditions",
        "time_limit", "fees", "region")
HEADERS = {"取号业务": "service", "业务": "service", "事项名称": "name", "事项编码": "matter_code",
           "基本编码": "matter_code", "实施编码": "impl_code", "事项版本": "matter_version", "版本": "matter_version",
           "实施部门": "department", "实施主体": "department", "申请材料": "materials", "受理条件": "conditions",
           "办理条件": "conditions", "承诺时限": "time_limit", "办理时限": "time_limit", "收费标准": "fees",
           "收费": "fees", "区划代码": "region", "区划": "region", "事项标识": "id"}
MAX_MATTERS = 5000
_ID_BAD = re.compile(r"[^A-Za-z0-9_.-]")


class CatalogueError(HwdError):
    code = errors.INVALID_PARAMS


def parse(text: str, fmt: str = "auto") -> list[dict]:
    """The matters of a catalogue file's text (``fmt``: json, csv or auto); CatalogueError says
    what is wrong with which row."""
    fmt = fmt if fmt != "auto" else ("json" if text.lstrip().startswith(("{", "[")) else "csv")
    rows = _json(text) if fmt == "json" else _csv(text)
    if len(rows) > MAX_MATTERS:
        raise CatalogueError(f"the catalogue has {len(rows)} matters; at most {MAX_MATTERS}")
    return [_matter(row, n) for n, row in enumerate(rows, start=1)]


def _json(text: str) -> list:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CatalogueError(f"the catalogue is not JSON: {exc}") from None
    rows = data.get("matters") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise CatalogueError('a JSON catalogue is {"matters": [...]} or a list of matters')
    return rows


def _csv(text: str) -> list:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames:
        raise CatalogueError("the CSV catalogue has no header row")
    names = {h: HEADERS.get((h or "").strip(), (h or "").strip()) for h in reader.fieldnames}
    return [{names[k]: v for k, v in row.items() if k is not None and v not in (None, "")} for row in reader]


def _matter(row: Any, n: int) -> dict:
    if not isinstance(row, dict):
        raise CatalogueError(f"matter {n}: expected an object")
    service, name = row.get("service"), row.get("name")
    if not isinstance(service, str) or not service.strip() or not isinstance(name, str) or not name.strip():
        raise CatalogueError(f"matter {n}: needs service (取号业务) and name (事项名称)")
    out: dict[str, Any] = {"service": service.strip()}
    for key in KEYS:
        value = row.get(key)
        if value is None or value == "":
            continue
        if key == "materials":
            if isinstance(value, str):
                value = [v.strip() for v in re.split(r"[；;\n]", value) if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise CatalogueError(f"matter {n}: materials is a list of texts")
        elif not isinstance(value, (str, int)) or isinstance(value, bool):
            raise CatalogueError(f"matter {n}: {key} is a text")
        else:
            value = str(value).strip()
        out[key] = value
    if "id" not in out:
        base = out.get("matter_code") or out["name"]
        made = _ID_BAD.sub("-", base).strip("-.")[:64]
        out["id"] = made if made and made[0].isalnum() else f"m{n}"
    return out


def ops(config: dict, matters: list[dict]) -> tuple[list[dict], dict]:
    """The ``config.edit`` ops that bring ``matters`` into the parsed config ``config``, and a
    summary ``{added, updated, unchanged, unknown_services}``."""
    services = {s.get("id"): s for s in config.get("hall", {}).get("service", []) if isinstance(s, dict)}
    out: list[dict] = []
    summary: dict[str, list] = {"added": [], "updated": [], "unchanged": [], "unknown_services": []}
    pending: dict[str, list] = {}
    for m in matters:
        sid = m["service"]
        service = services.get(sid)
        if service is None:
            summary["unknown_services"].append(sid)
            continue
        known = list(service.get("matter", [])) + pending.setdefault(sid, [])
        match = next((k for k in known if m.get("matter_code") and k.get("matter_code") == m["matter_code"]), None) \
            or next((k for k in known if k.get("id") == m["id"]), None)
        values = {k: v for k, v in m.items() if k != "service"}
        if match is None:
            out.append({"op": "add", "path": ["hall", "service", {"id": sid}, "matter"], "value": values})
            pending[sid].append(values)
            summary["added"].append(f"{sid}/{values['id']}")
            continue
        changed = {k: v for k, v in values.items() if k != "id" and match.get(k) != v}
        label = f"{sid}/{match.get('id')}"
        if not changed:
            summary["unchanged"].append(label)
            continue
        for key, value in changed.items():
            out.append({"op": "set", "path": ["hall", "service", {"id": sid}, "matter", {"id": match["id"]}, key],
                        "value": value})
        summary["updated"].append(label)
    summary["unknown_services"] = sorted(set(summary["unknown_services"]))
    return out, summary

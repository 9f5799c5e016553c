"""A provincial profile gets the matter the clerk handled (``[[hall.service.matter]]``): its 事项编码
and name, and its own province data over its service's — through the real outbox and the
zj-offlinereport profile to a receiver, as tests/upstream/test_profiles.py does for a service."""

from __future__ import annotations

import asyncio
import sys
import urllib.parse
from pathlib import Path

import pytest

from hwd import outbox
from hwd.upstream.emulator import Receiver

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hall"))
from hall_helpers import EngineHarness, load_config  # noqa: E402
from test_profiles import DEPT, HALL, MONDAY, wait_until  # noqa: E402

MATTERS = '''
[[hall.service.matter]]
id = "first"
name = "不动产首次登记"
matter_code = "330100-000-XK-0026-01"
[[hall.service.matter]]
id = "mortgage"
name = "不动产抵押登记"
matter_code = "330100-000-XK-0026-03"
region = "330106000000"
province = {{ proDepartCode = "001008010" }}
'''


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_the_matter_handled_goes_to_the_province(tmp_path, receiver):
    receiver.reply = {"result": "0", "resultmsg": "成功"}
    text = HALL.format(region="330102000000", url=receiver.base + "/api/evaluate", dept=DEPT, province="",
                       upstream='profile = "zj-offlinereport"\nusername = "u"\npassword = "p"\n')
    text = text.replace("[[hall.window]]", MATTERS.format() + "[[hall.window]]", 1)
    cfg = load_config(tmp_path, text)

    async def main():
        h = await EngineHarness(cfg).start()
        try:
            await h.call("clock.set", {"now": MONDAY})
            await h.call("hall.login", {"window": "5", "staff": "s01"})
            for matter in ("mortgage", None):
                await h.call("hall.issue_ticket", {"service": "bdc"})
                await h.call("hall.call_next", {"window": "5"})
                await h.call("hall.finish", {"window": "5", **({"matter": matter} if matter else {})})
                await h.call("hall.rate", {"window": "5", "score": 5, "channel": "pad"})
            db = h.engine.store.db

            def settled():
                rows = outbox.records(db, "upstream", limit=100)
                return rows if len(rows) == 2 and all(r["state"] == "sent" for r in rows) else None
            await asyncio.to_thread(wait_until, settled, 30.0, "both ratings delivered")
        finally:
            await h.stop()
    asyncio.run(main())
    forms = [{k: v[0] for k, v in urllib.parse.parse_qs(r["body"].decode("ascii"), keep_blank_values=True).items()}
             for r in receiver.requests]
    mortgage, default = sorted(forms, key=lambda f: f["taskCode"], reverse=True)
    assert (mortgage["taskCode"], mortgage["taskName"]) == ("330100-000-XK-0026-03", "不动产抵押登记")
    assert mortgage["proDepartCode"] == "001008010" and mortgage["areaCode"] == "330106000000"
    assert (default["taskCode"], default["taskName"]) == ("330100-000-XK-0026-01", "不动产首次登记")
    assert default["proDepartCode"] == "001008009" and default["areaCode"] == "330102000000"

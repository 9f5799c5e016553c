"""The ``h5`` adapter: the provincial rating page's URL, rebuilt from 国图 gtmap
``HcpServiceImpl.organizeRequestUrl`` (Anhui; gtmap realestate exchange, hefei/HcpServiceImpl):
``key=PJQ&evaluateChannel=PJQ&projNo=…&serviceCode=…&serviceVersion=…&regionCode=…&ssqdBaseCode=…
&evaluatedPersonInfo=[{loginName,name}]``, base64 twice, appended to the page's URL; and the
rating page in chromium opening it for the province's page (hwd.upstream.emulator.ProvincePage)."""

from __future__ import annotations

import asyncio
import base64

from hall_helpers import EngineHarness, load_config
from hwd.hall.config.ratings import Upstream
from hwd.upstream import h5

HALL = '''
[hall]
name = "合肥市政务服务中心"
region_code = "340100000000"
[hall.upstream]
adapter = "h5"
url = "{url}"
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
department = "合肥市不动产登记中心"
matter_code = "340100-000-XK-0001"
impl_code = "11340100MB0000000X4000111700101"
matter_version = "7"
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc"]
[[hall.staff]]
id = "s01"
name = "王小明"
'''


def anhui_query(proj_no, name, code, version, dept, region, impl, end, login, person) -> str:
    """The query as HcpServiceImpl appends it, for the fields a hall has (no applicant data)."""
    sb = "key=PJQ" + "&evaluateChannel=PJQ"
    sb += "&projNo=" + proj_no + "&projName=" + name + "&serviceName=" + name + "&serviceCode=" + code
    sb += "&serviceVersion=" + version + "&serviceDepartment=" + dept + "&regionCode=" + region
    sb += "&ssqdBaseCode=" + impl + "&transactionTime=" + end
    sb += "&evaluatedPersonInfo=" + '[{"loginName":"%s","name":"%s"}]' % (login, person)
    return sb


def test_page_url_is_the_anhui_double_base64():
    up = Upstream(adapter="h5", url="https://hcp.ah.gov.cn/pj?param=")
    values = {"case_no": "BJ001", "matter_name": "不动产登记", "matter_code": "C1", "matter_version": "7",
              "department": "D", "region_code": "340100000000", "impl_code": "I1", "service_end": "2026-11-23 09:05:00",
              "persons": '[{"loginName":"s01","name":"王小明"}]'}
    url = h5.page_url(up, values)
    expected = anhui_query("BJ001", "不动产登记", "C1", "7", "D", "340100000000", "I1", "2026-11-23 09:05:00",
                           "s01", "王小明")
    assert url == up.url + base64.b64encode(base64.b64encode(expected.encode())).decode()
    plain = h5.page_url(Upstream(adapter="h5", url="https://x/pj", h5_encoding="query",
                                 h5_params="projNo={case_no}&name={matter_name}"), values)
    assert plain == "https://x/pj?projNo=BJ001&name=%E4%B8%8D%E5%8A%A8%E4%BA%A7%E7%99%BB%E8%AE%B0"


def test_the_rating_request_carries_the_page_of_the_ticket(tmp_path):
    async def main():
        h = await EngineHarness(load_config(tmp_path, HALL.format(url="https://hcp.ah.gov.cn/pj?param="))).start()
        try:
            await h.call("clock.set", {"now": "2026-11-23T09:00:00"})
            await h.call("hall.login", {"window": "5", "staff": "s01"})
            t = await h.call("hall.issue_ticket", {"service": "bdc"})
            await h.call("hall.call_next", {"window": "5"})
            await h.call("hall.case", {"ticket": t["id"], "case_no": "340100-2026-0001"})
            await h.call("clock.advance", {"seconds": 300})
            await h.call("hall.finish", {"window": "5"})
            [ev] = [e for topic, e in h.events if topic == "hall.rating.requested"]
            fields = h5.decode(ev["h5_url"], "https://hcp.ah.gov.cn/pj?param=")
            assert fields["evaluateChannel"] == "PJQ" and fields["projNo"] == "340100-2026-0001"
            assert (fields["serviceCode"], fields["serviceVersion"], fields["ssqdBaseCode"]) == (
                "340100-000-XK-0001", "7", "11340100MB0000000X4000111700101")
            assert fields["regionCode"] == "340100000000" and fields["transactionTime"] == "2026-11-23 09:05:00"
            assert fields["evaluatedPersonInfo"] == '[{"loginName":"s01","name":"王小明"}]'
            assert (await h.call("hall.rating_url", {"ticket": t["id"]}))["url"] == ev["h5_url"]
        finally:
            await h.stop()
    asyncio.run(main())

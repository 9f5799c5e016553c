"""The four built-in payload profiles against golden payloads transcribed from the public code of
real provincial integrations (read with the search tool; repository, file and lines cited at each
golden). Each test runs the real hall engine (method table, SQLite, test clock), rates a served
ticket, and lets the real outbox worker post the rating to a local receiver (a real HTTP server);
the body must equal the golden payload field for field. Placeholders only where the source's
caller supplies data hwd does not hold: the holder's identity (实名评价: hwd sends anonymous, see
docs/security.md) and the province's own codes, which the test configures as a hall would
(``[hall.upstream] province``, ``[[hall.service]] province``).

The SM2 envelopes are opened at the receiver with the same library (hwd.upstream.sm2 over gmssl):
the ciphertexts decrypt with the province's private key and the zfsoft signature verifies with the
hall's public key under the signer ID the source uses (its apiKey)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from hwd import hwctl, outbox
from hwd.upstream import sm2
from hwd.upstream.emulator import Receiver

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hall"))
from hall_helpers import EngineHarness, load_config  # noqa: E402

MONDAY = "2026-11-23T09:00:00"
DEPT = "11330100002489716J"  # a 统一社会信用代码 of the right form (GB 32100 check character)

HALL = '''
[hall]
name = "测试政务服务中心"
region_code = "{region}"
rating_timeout_s = 30
[hall.hours]
always_open = true
[[hall.ratings.reason]]
code = "507"
name = "服务态度不好"
[[hall.ratings.reason]]
code = "512"
name = "办事效率低"
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
department = "自然资源和规划局"
matter_code = "330100-000-XK-0026-01"
province = {{ promiseTime = "1", proDepartCode = "001008009" }}
[[hall.window]]
id = "5"
name = "不动产登记 5号窗口"
services = ["bdc"]
[[hall.staff]]
id = "s01"
name = "王小明"
[hall.upstream]
url = "{url}"
retry_s = 0.05
retry_max_s = 0.2
{upstream}
[hall.upstream.province]
deptCode = "{dept}"
areaName = "上城区"
{province}'''


def wait_until(fn, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s")


def rate_one(tmp_path, upstream: str, receiver: Receiver, region: str = "330102000000", score: int = 2,
             then=None, province: str = ""):
    """Serve a ticket at window 5, attach its case number, rate it from the pad with two reasons,
    and wait until the outbox has delivered (or failed) the rating. Returns the outbox rows."""
    text = HALL.format(region=region, url=receiver.base + "/api/evaluate", upstream=upstream, dept=DEPT,
                       province=province)
    cfg = load_config(tmp_path, text)
    (tmp_path / "hwd.toml").write_text(f'[daemon]\nstate_dir = "{tmp_path / "state"}"\n' + text, encoding="utf-8")

    async def main():
        h = await EngineHarness(cfg).start()
        try:
            await h.call("clock.set", {"now": MONDAY})
            await h.call("hall.login", {"window": "5", "staff": "s01"})
            t = await h.call("hall.issue_ticket", {"service": "bdc"})
            await h.call("hall.call_next", {"window": "5"})
            await h.call("clock.advance", {"seconds": 30})
            await h.call("hall.start", {"window": "5"})
            await h.call("clock.advance", {"seconds": 300})
            await h.call("hall.case", {"ticket": t["number"], "case_no": "330102202611230001", "staff": "s01"})
            await h.call("hall.finish", {"window": "5"})
            await h.call("clock.advance", {"seconds": 10})
            await h.call("hall.rate", {"window": "5", "score": score, "reasons": ["507", "512"],
                                       "reason": "等了很久", "channel": "pad"})
            db = h.engine.store.db

            def settled():
                rows = outbox.records(db, "upstream", limit=100)
                return rows if rows and all(r["state"] in ("sent", "error") for r in rows) else None
            rows = await asyncio.to_thread(wait_until, settled, 30.0, "the rating delivered or refused")
            if then is not None:
                rows = await asyncio.to_thread(then, h)
            kinds = [r["kind"] for r in h.engine.store.all("SELECT kind FROM outbox ORDER BY id")]
            return rows, kinds
        finally:
            await h.stop()
    return asyncio.run(main())


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def sm2_key_files(tmp_path: Path, name: str) -> tuple[str, Path, Path]:
    """A key pair in files: (private hex, private key file 0600, public key file)."""
    private, public = sm2.keygen()
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    priv_path, pub_path = keys / f"{name}.key", keys / f"{name}.pub"
    priv_path.write_text(private + "\n")
    priv_path.chmod(0o600)
    pub_path.write_text(public + "\n")
    return private, priv_path, pub_path


# -- Zhejiang --------------------------------------------------------------------------------
# yupomang/YFMAPLAST src/com/yondervision/yfmap/controller/WebHttpContorller.java, ≈ l. 1051-1152:
# getofflinereport (办件中心-办件评价服务) — its javadoc gives each field's meaning and format, its
# params.put list the 25 fields posted to "zwztapi/offlinereport.do"; common/mess/
# SimpleHttpMessageUtilZJW.java sendPost: a form POST ("application/x-www-form-urlencoded;
# charset=UTF-8") with "Authorization: Basic …" (base64 of user:password).
ZJ_GOLDEN = {
    "areaCode": "330102000000",          # 部门行政区划编码 (the hall's region_code)
    "areaName": "上城区",                 # areaCode对应的行政区域名称 (config: province.areaName)
    "deptCode": DEPT,                    # 政府办事部门18位统一社会信用编码 (config: province.deptCode)
    "taskCode": "330100-000-XK-0026-01",  # 事项统一编码 (the service's matter_code)
    "taskHandleItem": "",                # 业务办理项编码 "浙江目前不传"
    "taskName": "不动产登记",              # 事项名称
    "subMatter": "",                     # 事项主题 (none configured)
    "projectNo": "330102202611230001",   # 办件统一编号 (hall.case)
    "proStatus": "3",                    # 办件状态 已完结=3
    "proDepartCode": "001008009",        # 省统一的部门编号 (config: the service's province table)
    "proDepart": "自然资源和规划局",        # 受理部门名称 (the service's department)
    "proManager": "王小明",               # 经办人名称
    "pf": "4",                           # 评价渠道 政务大厅平板电脑=4 (the pad)
    "certkeyGOV": "",                    # placeholder: 实名 identity, anonymous (docs/security.md)
    "userName": "",                      # placeholder: idem
    "userProp": "",                      # placeholder: idem
    "satisfaction": "2",                 # 整体满意度 2不满意
    "evalDetail": "507,512",             # 测评内容代码列表 (多个代码值用英文逗号隔开)
    "writingEvaluation": "等了很久",       # 文字评价
    "assessTime": "2026-11-23 09:05:40",  # 评价时间 yyyy-MM-dd HH:mm:ss (the test clock)
    "assessNumber": "1",                 # 评价次数 首次评价=1
    "appStatus": "",                     # 审核状态 (the caller's; none configured)
    "promiseTime": "1",                  # 承诺件=1, 即办件=2 (config: the service's province table)
    "acceptDate": "2026-11-23 09:00:30",  # 收件时间 (the start of service at the counter)
    "dataSource": "133",                 # "三位数字 浙江省填133"
}


def test_zj_offlinereport_posts_the_25_form_fields_with_basic_auth(tmp_path, receiver):
    receiver.reply = {"result": "0", "resultmsg": "成功"}
    rows, kinds = rate_one(tmp_path, 'profile = "zj-offlinereport"\nusername = "nbzjw_gjj"\n'
                                     'password = "nbgjj12345"\n', receiver)
    [req] = receiver.requests  # the rating only: its work order and case records never come here
    assert {"rating", "workorder"} <= set(kinds)
    assert req["path"] == "/api/evaluate"
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded; charset=UTF-8"
    # SimpleHttpMessageUtilZJW's header is exactly this for user nbzjw_gjj, password nbgjj12345
    assert req["headers"]["Authorization"] == "Basic bmJ6andfZ2pqOm5iZ2pqMTIzNDU="
    form = urllib.parse.parse_qs(req["body"].decode("ascii"), keep_blank_values=True)
    assert {k: v[0] for k, v in form.items()} == ZJ_GOLDEN
    assert all(len(v) == 1 for v in form.values()) and len(form) == 25
    assert [r["state"] for r in rows] == ["sent"]


# -- Shandong epoint, 到国家 ------------------------------------------------------------------
# LouisCherry/tempproject134 java/com/epoint/hcp/rest/controller/HcpController.java, submitTemp
# ≈ l. 154-354: the record "json" (its json.put lines: projectNo "37"+…, pf, deptCode, taskCode,
# taskHandleItem only when not blank, taskName, subMatter, proStatus, proDepart, certKey, userName,
# userProp, userPageType, handleUserName, handleUserPageType, handleUserPageCode, satisfaction,
# evalDetail, serviceNumber, writingEvaluation, assessTime, assessNumber (an int), dataSource
# "165", promisetime (es.getInt: an int), acceptDate) is put in a list, the list's JSON text is
# SM2-encrypted into evaluate[0]; "sign" is SM2(time + appMark + appWord) with time yyyyMMddHHmmss;
# the whole is {"txnBodyCom": {sign, params: {evaluate: [...]}, time, appMark}, "txnCommCom": {}}.
# fastjson leaves null values out: the holder's fields (certKey … handleUserPageCode), null when
# rating anonymously, and subMatter / taskHandleItem, which the hall does not configure here.
EPOINT_RECORD_GOLDEN = {
    "projectNo": "37330102202611230001",
    "pf": "4",
    "deptCode": DEPT,                     # es.getStr("orgcode") (config: province.deptCode)
    "taskCode": "330100-000-XK-0026-01",
    "taskName": "不动产登记",
    "proStatus": "3",
    "proDepart": "自然资源和规划局",         # es.getStr("orgName")
    "satisfaction": "2",
    "evalDetail": "507,512",
    "serviceNumber": "1",
    "writingEvaluation": "等了很久",
    "assessTime": "2026-11-23 09:05:40",
    "assessNumber": 1,
    "dataSource": "165",
    "promisetime": 1,                     # es.getInt("projectType") (config: province.promiseTime)
    "acceptDate": "2026-11-23 09:00:30",
}


def epoint_upstream(pub: Path) -> str:
    return (f'profile = "sd-epoint-hcp"\nusername = "SHANDONG_HALL"\npassword = "app-word-secret"\n'
            f'sm2_public_key = "{pub}"\n')


def open_epoint(body: bytes, province_private: str) -> tuple[list, str, dict]:
    data = json.loads(body)
    assert set(data) == {"txnBodyCom", "txnCommCom"} and data["txnCommCom"] == {}
    com = data["txnBodyCom"]
    assert set(com) == {"sign", "params", "time", "appMark"}
    assert set(com["params"]) == {"evaluate"} and len(com["params"]["evaluate"]) == 1
    records = json.loads(sm2.decrypt(province_private, com["params"]["evaluate"][0]).decode("utf-8"))
    sign = sm2.decrypt(province_private, com["sign"]).decode("utf-8")
    return records, sign, com


def test_sd_epoint_hcp_sends_the_record_sm2_encrypted_in_txnbodycom(tmp_path, receiver):
    province_private, _, pub = sm2_key_files(tmp_path, "province-sm2")
    receiver.reply = {"code": "0", "success": "true", "msg": "成功"}
    rows, _ = rate_one(tmp_path, epoint_upstream(pub), receiver, region="370102000000")
    [req] = receiver.requests
    records, sign, com = open_epoint(req["body"], province_private)
    assert records == [EPOINT_RECORD_GOLDEN]
    assert re.fullmatch(r"\d{14}", com["time"]) and com["appMark"] == "SHANDONG_HALL"
    assert sign == com["time"] + "SHANDONG_HALL" + "app-word-secret"  # time + appMark + appWord
    assert "app-word-secret" not in req["body"].decode("utf-8")  # the appWord travels only inside SM2
    assert [r["state"] for r in rows] == ["sent"]


def test_a_refusal_inside_a_200_stays_undelivered_with_its_reason(tmp_path, receiver):
    """HcpController: success is code "0" and success "true"; a 200 saying otherwise is not sent.
    Once the province takes it (here the next try), the record is sent — once."""
    province_private, _, pub = sm2_key_files(tmp_path, "province-sm2")
    receiver.queue(200, {"code": "1", "success": "false", "msg": "没有对应的服务数据"})
    receiver.queue(200, {"code": "0", "success": "true"})

    def after(h):
        return wait_until(lambda: [r for r in outbox.records(h.engine.store.db, "upstream") if r["state"] == "sent"],
                          what="sent on the next try")
    rows, _ = rate_one(tmp_path, epoint_upstream(pub), receiver, region="370102000000", then=after)
    first, second = receiver.requests
    assert open_epoint(first["body"], province_private)[0] == open_epoint(second["body"], province_private)[0]
    [row] = rows
    assert row["state"] == "sent" and row["attempts"] == 2 and row["last_error"] is None


def test_the_refusal_reason_is_kept_while_undelivered(tmp_path, receiver):
    province_private, _, pub = sm2_key_files(tmp_path, "province-sm2")
    receiver.reply = {"code": "1", "success": "false", "msg": "本次服务已存在评价，请勿重复评价！"}
    rows, _ = rate_one(tmp_path, epoint_upstream(pub), receiver, region="370102000000")
    [row] = rows
    assert row["state"] == "error" and "本次服务已存在评价，请勿重复评价！" in row["last_error"]
    assert row["sent_ts"] is None


# -- Shandong epoint, the pad's 网厅 ---------------------------------------------------------
# LouisCherry/tempproject134 java/com/epoint/evainstance/EvainstanceController.java,
# addEvainstance: auditobject.put … in this order (projectno "37"+…, pf "4", satisfaction,
# assessTime, assessNumber = 1 and serviceNumber = assessNumber (Integers), writingEvaluation,
# evalDetail, Areacode, winNo, winName, evaluateLevel = satisfaction, type "ck", Taskname,
# Taskcode, Deptcode, Prodepart, Userprop, Username, Applicant, Certkey, Certkeygov, Acceptdate,
# mobile, taskType), sent as {"params": auditobject} with "application/json;charset=utf-8";
# success is status.code "200" and custom.code "1", else custom.text says why.
# Placeholders left out (fastjson drops nulls): Userprop, Username, Applicant, Certkey, Certkeygov,
# mobile (the holder's, anonymous) and taskType (the task's 审批类别, not configured here).
EPOINT_PAD_GOLDEN = {"params": {
    "projectno": "37330102202611230001",
    "pf": "4",
    "satisfaction": "2",
    "assessTime": "2026-11-23 09:05:40",
    "assessNumber": 1,
    "serviceNumber": 1,
    "writingEvaluation": "等了很久",
    "evalDetail": "507,512",
    "Areacode": "370102000000",
    "winNo": "5",
    "winName": "不动产登记 5号窗口",
    "evaluateLevel": "2",
    "type": "ck",
    "Taskname": "不动产登记",
    "Taskcode": "330100-000-XK-0026-01",
    "Deptcode": DEPT,
    "Prodepart": "自然资源和规划局",
    "Acceptdate": "2026-11-23 09:00:30",
}}


def test_sd_epoint_pad_sends_params_and_reads_status_and_custom(tmp_path, receiver):
    receiver.queue(200, {"status": {"code": "200"}, "custom": {"code": "0", "text": "办件信息未查询到！"}})
    receiver.queue(200, {"status": {"code": "200"}, "custom": {"code": "1", "text": "评价数据新增成功"}})

    def after(h):
        return wait_until(lambda: [r for r in outbox.records(h.engine.store.db, "upstream") if r["state"] == "sent"],
                          what="sent on the next try")
    rows, _ = rate_one(tmp_path, 'profile = "sd-epoint-pad"\n', receiver, region="370102000000", then=after)
    first, second = receiver.requests
    assert first["headers"]["Content-Type"] == "application/json;charset=utf-8"
    assert json.loads(first["body"]) == EPOINT_PAD_GOLDEN == json.loads(second["body"])
    assert list(json.loads(first["body"])["params"]) == list(EPOINT_PAD_GOLDEN["params"])  # the source's order
    [row] = rows
    assert row["state"] == "sent" and row["attempts"] == 2


# -- zfsoft 正方 -------------------------------------------------------------------------------
# com.zfsoft.superwindow.manager.front.ManualEvaluationManager.pushManualEvaluation (stored public
# copy; the search tool names no repository for it): requestDataMap {pjTerm: the score, content:
# the evaluation item's text, pf: "ff8080817a17b124017b5c2a7f864d31" (the platform's id), evalDetail:
# the evaluation code, projectNo: the case number, appStatus "2", assessTime yyyy-MM-dd HH:mm:ss};
# requestData = SM2Util.sm2Encrypt(publicKey, JSON), dataSign = SM2Util.sm2Sign(privateKey,
# apiKey, requestData) — a zfsoft SM2Util (BouncyCastle SM2Engine / SM2Signer with the apiKey as
# the signer ID, hex output); the body {apiKey, systemPwd, requestData, dataSign}.
ZFSOFT_GOLDEN = {
    "pjTerm": "2",
    "content": "服务态度不好,办事效率低",
    "pf": "ff8080817a17b124017b5c2a7f864d31",   # the source's literal, here from config (province.pf)
    "evalDetail": "507,512",
    "projectNo": "330102202611230001",
    "appStatus": "2",
    "assessTime": "2026-11-23 09:05:40",
}


def test_zfsoft_encrypts_and_signs_with_the_api_key_as_signer(tmp_path, receiver):
    province_private, _, province_pub = sm2_key_files(tmp_path, "province-sm2")
    _, hall_key, hall_pub = sm2_key_files(tmp_path, "upstream-sm2")
    receiver.reply = {"code": "200", "message": "保存成功"}
    rows, _ = rate_one(tmp_path, f'profile = "zfsoft"\nusername = "pbpj-key-01"\npassword = "pbpj-secret"\n'
                                 f'sm2_public_key = "{province_pub}"\nsm2_private_key = "{hall_key}"\n', receiver,
                       province='pf = "ff8080817a17b124017b5c2a7f864d31"\n')
    [req] = receiver.requests
    data = json.loads(req["body"])
    assert set(data) == {"apiKey", "systemPwd", "requestData", "dataSign"}
    assert (data["apiKey"], data["systemPwd"]) == ("pbpj-key-01", "pbpj-secret")
    public = hall_pub.read_text().strip()
    assert sm2.verify(public, data["requestData"].encode("ascii"), data["dataSign"], b"pbpj-key-01")
    assert not sm2.verify(public, data["requestData"].encode("ascii"), data["dataSign"])  # the ID counts
    assert json.loads(sm2.decrypt(province_private, data["requestData"])) == ZFSOFT_GOLDEN
    assert [r["state"] for r in rows] == ["sent"]


def test_basic_auth_header_is_what_the_zj_source_sends():
    """SimpleHttpMessageUtilZJW hard-codes "Basic bmJ6andfZ2pqOm5iZ2pqMTIzNDU=": that is
    nbzjw_gjj:nbgjj12345, the LoginName/LoginPwd WebHttpContorller.getauth posts."""
    assert base64.b64decode("bmJ6andfZ2pqOm5iZ2pqMTIzNDU=") == b"nbzjw_gjj:nbgjj12345"


def test_preview_prints_what_would_be_sent_with_secrets_masked(tmp_path, receiver, capsys):
    """hwctl upstream preview: the same body the receiver got, by rating id or ticket number,
    without sending; the Basic credentials and the zfsoft systemPwd masked."""
    receiver.reply = {"result": "0"}
    rate_one(tmp_path, 'profile = "zj-offlinereport"\nusername = "nbzjw_gjj"\npassword = "nbgjj12345"\n', receiver)
    [req] = receiver.requests
    for target in ("1", "B001"):
        assert hwctl.main(["--config", str(tmp_path / "hwd.toml"), "upstream", "preview", target]) == 0
        out = capsys.readouterr().out
        assert f"POST {receiver.base}/api/evaluate" in out and "Authorization: Basic ****" in out
        assert req["body"].decode("ascii") in out.splitlines()  # exactly the body that was sent
        assert "nbgjj12345" not in out and "bmJ6andfZ2pqOm5iZ2pqMTIzNDU=" not in out
        assert "deptCode = " + DEPT in out
    assert len(receiver.requests) == 1  # nothing sent
    assert hwctl.main(["--config", str(tmp_path / "hwd.toml"), "upstream", "preview", "B999"]) == 1
    assert "no rating 'B999'" in capsys.readouterr().err


def test_preview_of_an_envelope_masks_the_password_and_shows_the_record(tmp_path, receiver, capsys):
    _, _, province_pub = sm2_key_files(tmp_path, "province-sm2")
    _, hall_key, _ = sm2_key_files(tmp_path, "upstream-sm2")
    receiver.reply = {"code": "200"}
    rate_one(tmp_path, f'profile = "zfsoft"\nusername = "pbpj-key-01"\npassword = "pbpj-secret"\n'
                       f'sm2_public_key = "{province_pub}"\nsm2_private_key = "{hall_key}"\n', receiver,
             province='pf = "ff8080817a17b124017b5c2a7f864d31"\n')
    assert hwctl.main(["--config", str(tmp_path / "hwd.toml"), "upstream", "preview", "1"]) == 0
    out = capsys.readouterr().out
    body = json.loads(out.split("\n\n")[1].splitlines()[0])
    assert body["systemPwd"] == "****" and body["apiKey"] == "pbpj-key-01" and "pbpj-secret" not in out
    assert json.loads(out.rstrip().splitlines()[-1]) == ZFSOFT_GOLDEN

"""``[hall.upstream] profile`` and a hall's own profiles in config: every problem reported as
``FILE:LINE KEY: reason``; the kinds of a destination; a custom profile built on a built-in;
the SM2 module and its key files."""

from __future__ import annotations

import os

import pytest

from hwd import config as configuration
from hwd import outbox
from hwd.errors import ConfigError
from hwd.haocp import payload, profiles
from hwd.upstream import sinks, sm2, sm2keys
from hwd.upstream.profile_sink import ProfileSink

HALL = '''[hall]
name = "测试政务服务中心"
region_code = "330102000000"
[hall.hours]
always_open = true
[[hall.service]]
id = "bdc"
name = "不动产登记"
prefix = "B"
province = { deptCode = "11330100002489716J", promiseTime = "1" }
[[hall.window]]
id = "5"
name = "5号窗口"
services = ["bdc"]
[hall.upstream]
url = "https://hcp.example.gov.cn/zwztapi/offlinereport.do"
'''


def load(tmp_path, extra: str):
    return configuration.loads(HALL + extra, tmp_path / "hwd.toml")


def problems(tmp_path, extra: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, extra)
    return info.value.problems


def test_a_profile_alone_pushes_and_takes_only_its_kinds(tmp_path):
    cfg = load(tmp_path, 'profile = "zj-offlinereport"\nusername = "u"\npassword = "p"\n').hall
    assert cfg.upstream.adapter == "push-json"
    [sink] = sinks(cfg)
    assert isinstance(sink, ProfileSink) and sink.kinds == ("rating",)
    # the Zhejiang rating URL never receives the other 好差评 records
    assert not {"unrated", "case", "workorder", "exclusion"} & set(sink.kinds)


def test_kinds_beyond_the_profile_are_refused_with_their_line(tmp_path):
    text = 'profile = "zj-offlinereport"\nusername = "u"\npassword = "p"\nkinds = ["rating", "workorder"]\n'
    found = problems(tmp_path, text)
    line = (HALL + text).splitlines().index('kinds = ["rating", "workorder"]') + 1
    assert any(p.startswith(f"{tmp_path / 'hwd.toml'}:{line} hall.upstream.kinds[1]: ")
               and "takes only rating" in p for p in found), found


def test_each_missing_need_of_a_profile_is_reported(tmp_path):
    found = problems(tmp_path, 'profile = "zfsoft"\n')
    for key in ("username", "password", "sm2_public_key", "sm2_private_key"):
        assert any(f"hall.upstream.{key}: profile 'zfsoft' needs" in p or f"hall.upstream.{key}: profile 'zfsoft'"
                   in p for p in found), (key, found)
    found = problems(tmp_path, 'profile = "guangdong"\n')
    assert any("hall.upstream.profile: unknown profile 'guangdong'" in p for p in found)
    found = problems(tmp_path, 'adapter = "h5"\nprofile = "zj-offlinereport"\n')
    assert any("hall.upstream.profile: a profile pushes" in p for p in found)


def test_a_bad_credit_code_and_a_wrong_url_per_kind_are_reported(tmp_path):
    text = ('profile = "sd-epoint-pad"\nurls = { workorder = "https://x.example/wo", rating = "ftp://x" }\n'
            '[hall.upstream.province]\ndeptCode = "11330100002489716F"\n')
    found = problems(tmp_path, text)
    assert any("hall.upstream.urls.workorder: 'workorder' is not a kind this profile sends" in p for p in found)
    assert any("hall.upstream.urls.rating: expected an http:// or https:// URL" in p for p in found)
    assert any("hall.upstream.province.deptCode: a 统一社会信用代码" in p for p in found)
    text = HALL.replace('deptCode = "11330100002489716J"', 'deptCode = "123"')
    with pytest.raises(ConfigError) as info:
        configuration.loads(text + 'profile = "sd-epoint-pad"\n', tmp_path / "hwd.toml")
    assert any("hall.service[0].province.deptCode: a 统一社会信用代码" in p for p in info.value.problems)


def test_a_custom_profile_changes_a_builtin_and_is_checked(tmp_path):
    text = '''profile = "ningbo"
username = "u"
password = "p"
[hall.upstream.profiles.ningbo]
base = "zj-offlinereport"
success = [{ result = "00" }]
[hall.upstream.profiles.ningbo.fields]
dataSource = { value = "134" }
areaName = ""
sign = { concat = ["send.time", "upstream.username"], digest = "hmac-sm3" }
'''
    cfg = load(tmp_path, text).hall
    [sink] = sinks(cfg)
    assert sink.profile.body == "form" and sink.profile.auth == "basic" and sink.profile.success == ({"result": "00"},)
    rec = outbox.Record(1, "h:rating:1", "rating", "1", {"score": 5, "service": "bdc", "case_no": "C1",
                                                          "rated_at": "2026-11-23T09:05:40+08:00", "labels": []}, 0)
    body = sink.request(rec).body.decode("ascii")
    assert "dataSource=134" in body and "areaName=" not in body and "deptCode=11330100002489716J" in body
    assert "&sign=" in body and len(body.split("&sign=")[1].split("&")[0]) == 64  # an HMAC-SM3 in hex

    bad = '''profile = "mine"
[hall.upstream.profiles.mine]
body = "xml"
kinds = ["rating", "phone"]
[hall.upstream.profiles.mine.fields]
a = { from = "scroe" }
b = { value = "1", date = 5 }
c = { object = { d = "out.x" } }
e = { value = "1", encrypt = "rsa" }
f = { from = "score", value = 1 }
'''
    found = problems(tmp_path, bad)
    for expected in ("profiles.mine.body: one of json, form", "profiles.mine.kinds[1]: unknown record kind 'phone'",
                     "profiles.mine.fields.a.from: unknown source 'scroe'", "profiles.mine.fields.b.date: expected a string",
                     "fields.c.object.d: out.KEY is for envelopes", "fields.e.encrypt: the only scheme is \"sm2\"",
                     "fields.f: give exactly one of value, from, concat, object, list"):
        assert any(expected in p for p in found), (expected, found)


def test_every_builtin_profile_passes_its_own_checks():
    class Problems(list):
        def add(self, path, message):
            self.append((path, message))

    for profile in profiles.BUILTIN.values():
        found = Problems()
        for key, spec in profile.fields.items():
            payload.check(spec, (key,), found, profiles._known)
        for key, spec in (profile.envelope or {}).items():
            payload.check(spec, (key,), found, profiles._known, envelope=True)
        assert not found, (profile.name, found)


def test_payload_steps_in_order():
    ctx = {"score": 4, "labels": ["a", "b"], "rated_at": "2026-11-23T09:05:40+08:00", "case_no": None,
           "province": {"promiseTime": "2"}, "upstream": {"password": "k"}}
    fields = {"s": {"from": "score", "type": "str"}, "j": {"from": "labels", "join": ","},
              "d": {"from": "rated_at", "date": "%Y%m%d%H%M%S"}, "c": {"from": ["case_no", "province.x"], "default": "-"},
              "p": {"from": "province.promiseTime", "type": "int"}, "m": {"from": "score", "map": {"4": "满意"}},
              "o": {"from": "case_no", "omit_empty": True}, "x": {"value": "1", "prefix": "37"},
              "l": {"list": {"object": {"n": "score"}}}, "h": {"value": "abc", "digest": "sm3"}}
    assert payload.build_object(fields, ctx, payload.Crypto()) == {
        "s": "4", "j": "a,b", "d": "20261123090540", "c": "-", "p": 2, "m": "满意", "x": "371", "l": [{"n": 4}],
        "h": "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"}  # GB/T 32905 example 1
    with pytest.raises(payload.PayloadError, match="not a whole number"):
        payload.build_object({"p": {"from": "score", "type": "int"}}, {"score": "x"}, payload.Crypto())


def test_sm2_round_trip_signer_id_and_tampering():
    private, public = sm2.keygen()
    text = "{\"projectNo\":\"37…\",\"satisfaction\":\"5\"}".encode("utf-8") * 30  # longer than one SM3 block
    for order in sm2.ORDERS:
        cipher = sm2.encrypt(public, text, order)
        assert cipher.startswith("04") and sm2.decrypt(private, cipher, order) == text
        assert sm2.encrypt(public, text, order) != cipher  # a fresh k each time
        altered = cipher[:-4] + ("0000" if cipher[-4:] != "0000" else "1111")
        with pytest.raises(ValueError, match="C3 differs"):
            sm2.decrypt(private, altered, order)
    other, _ = sm2.keygen()
    with pytest.raises(ValueError):
        sm2.decrypt(other, sm2.encrypt(public, b"x"))
    signature = sm2.sign(private, b"cipher-hex", b"apiKey")
    assert sm2.verify(public, b"cipher-hex", signature, b"apiKey")
    assert not sm2.verify(public, b"cipher-hex", signature)  # another signer ID
    assert not sm2.verify(public, b"cipher-hez", signature, b"apiKey")
    assert not sm2.verify(public, b"cipher-hex", "3006020101020101", b"apiKey")
    with pytest.raises(ValueError, match="not a point"):
        sm2.point("04" + "11" * 64)


def test_sm2_agrees_with_gmssl_itself():
    """The composed encryption decrypts with gmssl's own decrypt, and a default-ID signature
    verifies with gmssl's own verify_with_sm3 (a public key whose x starts with 0 or 4 included,
    which gmssl's constructor would have cut)."""
    from gmssl import sm2 as gm

    for _ in range(4):
        private, public = sm2.keygen()
        raw = gm.CryptSM2(private_key=private, public_key="", mode=0)
        assert raw.decrypt(bytes.fromhex(sm2.encrypt(public, b"hwd")[2:])) == b"hwd"
        check = gm.CryptSM2(private_key=private, public_key="", mode=0, asn1=True)
        check.public_key = public[2:]
        assert check.verify_with_sm3(sm2.sign(private, b"m"), b"m")


def test_sm2_key_files(tmp_path):
    private, public = sm2keys.write_pair(tmp_path / "keys")
    assert (os.stat(private).st_mode & 0o777) == 0o600
    key = sm2keys.load_private(private)
    assert sm2.public_of(key) == sm2keys.load_public(public)
    with pytest.raises(sm2keys.KeyFileError, match="exists"):
        sm2keys.write_pair(tmp_path / "keys")
    os.chmod(private, 0o644)
    sm2keys.load_private(private)
    assert (os.stat(private).st_mode & 0o777) == 0o600  # made private again, as the hall keys
    (tmp_path / "bad.pub").write_text("04abcd\n")
    with pytest.raises(sm2keys.KeyFileError, match="not an SM2 public key"):
        sm2keys.load_public(tmp_path / "bad.pub")
    with pytest.raises(sm2keys.KeyFileError, match="cannot read"):
        sm2keys.load_private(tmp_path / "missing.key")


def test_preview_of_push_json_and_the_keygen_command(tmp_path, capsys):
    from hwd import hwctl
    from hwd.hall.store import Store
    from hwd.upstream import preview

    cfg = load(tmp_path, 'adapter = "push-json"\nsecret = "hmac-secret"\nfields = { case_no = "projectNo" }\n').hall
    store = Store(tmp_path / "hall.sqlite3")
    with store.tx():
        outbox.put(store.db, "rating", "7", {"rating_id": 7, "ticket": "B007", "case_no": "C7", "score": 5}, 0)
    [sink] = sinks(cfg)
    text = preview.render(sink, preview.find(store.db, "B007"))
    store.close()
    assert "X-HWD-Signature: hmac-sha256=****" in text and "hmac-secret" not in text
    assert '"projectNo":"C7"' in text and f"POST {cfg.upstream.url}" in text
    assert hwctl.main(["upstream", "sm2-keygen", str(tmp_path / "keys")]) == 0
    out = capsys.readouterr().out
    assert "upstream-sm2.pub" in out and sm2keys.load_public(tmp_path / "keys" / "upstream-sm2.pub") in out

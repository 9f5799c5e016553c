"""Card text blocks <-> the contract card dict; masking; the token store."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from drivers.idcard import cards
from hwd import privacy
from drivers.idcard.emulator import fixture_names, load_fixture
from drivers.idcard.tokens import TokenStore


def _block(**fields: tuple[int, str]) -> bytes:
    block = bytearray(" ".encode("utf-16-le") * 128)
    for offset, value in fields.values():
        data = value.encode("utf-16-le")
        block[offset:offset + len(data)] = data
    return bytes(block)


def test_fixtures_cover_every_layout_and_have_valid_check_digits():
    types = {load_fixture(n)["card_type"] for n in fixture_names()}
    assert types == set(cards.CARD_TYPES)
    for name in fixture_names():
        number = load_fixture(name)["id_number"]
        if len(number) == 18:
            assert cards.id_check_digit(number[:17]) == number[17], name


@pytest.mark.parametrize("name", ["resident", "longterm", "hkmotw", "foreign", "foreign2023"])
def test_fixtures_round_trip(name):
    card = load_fixture(name)
    extra = cards.encode_address(card["address_extra"]) if card["address_extra"] else None
    assert cards.decode(cards.encode(card), cards.encode_photo(card), extra) == card


def test_resident_block_decoded_by_offsets():
    # built by hand from the offsets in docs/drivers/idcard.md, independent of cards.encode
    text = _block(name=(0, "王小二"), sex=(30, "1"), nation=(32, "05"), birth=(36, "20000229"),
                  address=(52, "某省某市某路1号"), number=(122, "11010120000229001X"),
                  authority=(158, "某市公安局"), start=(188, "20200101"), end=(204, "长期"))
    card = cards.decode(text, b"WLf\x00~\x00")
    assert card["card_type"] == "resident"
    assert (card["name"], card["sex"], card["nation"]) == ("王小二", "男", "维吾尔")
    assert (card["birth"], card["valid_from"]) == ("2000-02-29", "2020-01-01")
    assert card["valid_to"] is None and card["long_term"] is True
    assert card["id_number"] == "11010120000229001X"
    assert base64.b64decode(card["photo_wlt"]) == b"WLf\x00~\x00"
    assert card["name_en"] is None and card["pass_number"] is None and card["nationality"] is None


def test_foreign_blocks_decoded_by_offsets():
    old = cards.decode(_block(en=(0, "DOE, JANE"), sex=(120, "2"), number=(122, "CAN110088010111"),
                              nat=(152, "CAN"), cn=(158, "简"), start=(188, "20180101"),
                              end=(204, "20280101"), birth=(220, "19880101"), ver=(236, "01"),
                              agency=(240, "1500"), flag=(248, "I")))
    assert (old["card_type"], old["name_en"], old["name"], old["sex"]) == ("foreign", "DOE, JANE", "简", "女")
    assert (old["nationality"], old["birth"], old["authority"]) == ("CAN", "1988-01-01", "1500")
    new = cards.decode(_block(cn=(0, "安娜"), sex=(30, "2"), birth=(36, "19900101"),
                              en=(52, "A" * 35), number=(122, "912345199001010011"),
                              start=(188, "20240101"), end=(204, "20340101"), en2=(220, "BC"),
                              nat=(242, "RUS"), flag=(248, "Y")))
    assert (new["card_type"], new["name_en"], new["nationality"]) == ("foreign2023", "A" * 35 + "BC", "RUS")
    assert new["nation"] is None


def test_bad_dates_become_null():
    assert cards.iso_date("20230230") is None
    assert cards.iso_date("2023013") is None
    assert cards.iso_date("20230131") == "2023-01-31"


def test_wrong_block_size_is_an_error():
    with pytest.raises(cards.CardFormatError):
        cards.decode(b"\x00" * 10)


chinese = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=15)
dates = st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)).map(dt.date.isoformat)


@settings(max_examples=100, deadline=None)
@given(name=chinese, sex=st.sampled_from(list(cards.SEX.values())),
       nation=st.sampled_from(list(cards.NATION.values())), birth=dates, address=chinese,
       start=dates, end=st.one_of(st.none(), dates),
       digits=st.text("0123456789", min_size=17, max_size=17))
def test_resident_cards_round_trip(name, sex, nation, birth, address, start, end, digits):
    card = dict.fromkeys(cards.CARD_FIELDS)
    card.update(card_type="resident", name=name, sex=sex, nation=nation, birth=birth, address=address,
                id_number=digits + cards.id_check_digit(digits), authority=address, valid_from=start,
                valid_to=end, long_term=end is None, address_extra=None)
    assert cards.decode(cards.encode(card)) == card


def test_masking():
    assert privacy.mask_name("张三丰") == "张*"
    assert privacy.mask_name(None) is None
    assert privacy.mask_id("110101199003071233") == "110101********1233"
    assert privacy.mask_id("USA310850615011") == "USA********5011"
    assert privacy.age_on("1990-03-07", dt.date(2026, 3, 6)) == 35
    assert privacy.age_on("1990-03-07", dt.date(2026, 3, 7)) == 36
    summary = privacy.masked_summary(load_fixture("foreign"), dt.date(2026, 1, 1))
    assert summary == {"name": "史*", "id_masked": "USA********5011", "age": 40, "sex": "男",
                       "card_type": "foreign"}


def test_token_store_expires_and_copies():
    now = [100.0]
    store = TokenStore(60, clock=lambda: now[0])
    card = {"name": "x"}
    token = store.issue(card)
    other = store.issue(card, ttl_s=5)
    assert token != other
    card["name"] = "changed"
    assert store.resolve(token) == {"name": "x"}
    store.resolve(token)["name"] = "changed"
    assert store.resolve(token) == {"name": "x"}
    now[0] += 5
    assert store.resolve(other) is None and store.resolve(token) is not None
    now[0] += 55
    assert store.resolve(token) is None and len(store) == 0
    assert store.resolve("nope") is None


def test_log_filter_masks_fixture_numbers_as_a_second_line_of_defence():
    from hwd.log import mask_id_numbers

    for name in fixture_names():
        number = load_fixture(name)["id_number"]
        if len(number) == 18:
            masked = mask_id_numbers(f"oops {number}!")
            assert number not in masked and masked == f"oops {privacy.mask_id(number)}!"

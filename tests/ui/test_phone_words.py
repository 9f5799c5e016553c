"""What the phone page says in each state of a ticket (kiosk_ui.phone_words): the words for
waiting, 即将叫号, the call and every recall, a transfer, a requeue after a no-show, the final
no-show, expiry and the rating — and, for any view at all, that the page alerts exactly when the
ticket is near or called and never shows another ticket's data."""

from __future__ import annotations

from hypothesis import given, strategies as st

from kiosk_ui.phone_words import page

BOARD = {"service_windows": {"bdc": ["5号窗口", "6号窗口"]}, "reasons": [{"code": "slow", "name": "等候时间长"}],
         "no_show_text": "过号请重新取号"}


def view(**kw):
    base = {"number": "B007", "service": "bdc", "service_name": "不动产登记", "state": "waiting", "priority": False,
            "ahead": 6, "wait_minutes": 12, "wait_text": "预计等候约 12 分钟", "window": None, "window_name": None,
            "recalls": 0, "transfers": 0, "requeued": False, "rating": None, "issued_at": "2026-11-23T09:00:00+08:00"}
    base.update(kw)
    return base


def test_waiting_far_and_near():
    far = page(view(), BOARD, 3)
    assert (far["tone"], far["headline"], far["alert"]) == ("wait", "排队中", False)
    assert far["lines"] == ["前面还有 6 人等候", "预计等候约 12 分钟"]
    near = page(view(ahead=3), BOARD, 3)
    assert (near["tone"], near["headline"], near["alert"]) == ("soon", "即将叫号", True)
    assert "请到5号窗口、6号窗口附近等候" in near["lines"]
    nxt = page(view(ahead=0, wait_text="即将叫号"), BOARD, 3)
    assert nxt["headline"] == "下一位就是您" and nxt["lines"][0] == "请留意叫号"


def test_called_recalled_serving():
    called = page(view(state="called", ahead=None, window="5", window_name="5号窗口"), BOARD, 3)
    assert (called["tone"], called["headline"]) == ("call", "请到5号窗口")
    again = page(view(state="called", ahead=None, window="5", window_name="5号窗口", recalls=1), BOARD, 3)
    assert again["lines"] == ["再次呼叫，请立即前往"] and again["alert_key"] != called["alert_key"]
    serving = page(view(state="serving", ahead=None, window="5", window_name="5号窗口"), BOARD, 3)
    assert serving["headline"] == "正在办理" and not serving["alert"]


def test_transfer_requeue_no_show_expiry():
    moved = page(view(service_name="社保", transfers=1, from_service_name="不动产登记", ahead=5), BOARD, 3)
    assert moved["lines"][1] == "已从「不动产登记」转至「社保」，请继续等候"
    requeued = page(view(requeued=True, ahead=4), BOARD, 3)
    assert "您曾过号，已为您重新排队" in requeued["lines"]
    gone = page(view(state="no_show", ahead=None), BOARD, 3)
    assert (gone["headline"], gone["lines"]) == ("号票已作废", ["您已过号，本号票不再叫号", "如需办理，请重新取号。"])
    expired = page(view(state="expired", ahead=None), BOARD, 3)
    assert expired["headline"] == "号票已失效" and not expired["alert"]
    assert expired["lines"] == ["今日叫号已结束。如需办理，请在办公时间重新取号。"]
    cancelled = page(view(state="cancelled", ahead=None), BOARD, 3)
    assert cancelled["headline"] == "已取消排队" and not cancelled["cancel"]
    for dead in (gone, expired, cancelled):
        assert dead["tone"] == "gone" and not dead["live"] and not dead["alert"], "no alarm, no 请勿关闭"


def test_after_the_days_issuing_never_soon():
    """Between closing and expiry: 今日已停止取号 while a window still calls, 今日叫号已结束 once none does."""
    still = page(view(ahead=0, after_hours=True, calling=True), BOARD, 3)
    assert (still["tone"], still["headline"], still["alert"]) == ("wait", "今日已停止取号", False)
    assert "即将叫号" not in still["headline"] + "".join(still["lines"]) and still["live"]
    over = page(view(ahead=0, after_hours=True, calling=False), BOARD, 3)
    assert (over["tone"], over["headline"], over["alert"], over["live"]) == ("gone", "今日叫号已结束", False, False)


def test_rating_open_done_and_timed_out():
    open_ = page(view(state="done", ahead=None, window_name="5号窗口", rating="pending"), BOARD, 3)
    assert open_["rate"] and open_["reasons"] == BOARD["reasons"] and open_["headline"] == "办理完毕，请评价"
    rated = page(view(state="done", ahead=None, rating="rated"), BOARD, 3)
    assert rated["headline"] == "感谢您的评价" and not rated["rate"]
    late = page(view(state="done", ahead=None, rating="unrated"), BOARD, 3)
    assert late["lines"] == ["评价时间已过，感谢您的耐心等候"] and not late["rate"]
    phone = page(view(state="done", ahead=None, rating="unrated", can_rate=True,
                      rate_until="2026-11-24T10:00:00+08:00"), BOARD, 3)
    assert phone["rate"] and phone["rating_deadline"] == "2026-11-24T10:00:00+08:00", "the phone's own window"


STATES = ("waiting", "called", "serving", "done", "no_show", "expired", "cancelled")


@given(state=st.sampled_from(STATES), ahead=st.one_of(st.none(), st.integers(0, 500)), alert_ahead=st.integers(0, 50),
       recalls=st.integers(0, 5), transfers=st.integers(0, 3), requeued=st.booleans(),
       rating=st.sampled_from((None, "pending", "rated", "unrated")))
def test_alerts_exactly_when_near_or_called(state, ahead, alert_ahead, recalls, transfers, requeued, rating):
    v = view(state=state, ahead=ahead if state == "waiting" else None, recalls=recalls, transfers=transfers,
             requeued=requeued, rating=rating, window="5" if state != "waiting" else None,
             window_name="5号窗口" if state != "waiting" else None, from_service_name="社保" if transfers else None)
    p = page(v, BOARD, alert_ahead)
    near = state == "waiting" and ahead is not None and ahead <= alert_ahead
    assert p["alert"] == (near or state == "called")
    assert bool(p["alert_key"]) == p["alert"]
    assert p["headline"] and all(isinstance(line, str) and line for line in p["lines"])
    assert p["number"] == "B007" and "id" not in p and "holder" not in p
    assert p["rate"] == (state == "done" and rating == "pending")
    assert p["live"] == (state in ("waiting", "called", "serving")) and p["cancel"] == (state == "waiting")


def test_the_hub_merges_a_board_of_changes_into_what_it_holds():
    from kiosk_ui.phones import PhoneHub

    boards = [
        {"version": "e:d:1", "full": True, **BOARD, "tickets": {"a" * 22: view(), "b" * 22: view(ahead=7)}},
        {"version": "e:d:2", "full": False, **BOARD, "tickets": {"b" * 22: view(ahead=2)}, "removed": ["a" * 22]},
    ]
    asked = []
    hub = PhoneHub(lambda since: (asked.append(since), boards[len(asked) - 1])[1], alert_ahead=3)
    seen = []
    hub.listeners.append(seen.append)
    hub.refresh()
    b_first = hub.get("b" * 22)
    assert hub.refresh() == {"a" * 22, "b" * 22} and asked == [None, "e:d:1"]
    assert hub.get("a" * 22) is None and hub.get("b" * 22).version > b_first.version
    assert b'"headline":"\xe5\x8d\xb3\xe5\xb0\x86\xe5\x8f\xab\xe5\x8f\xb7"' in hub.get("b" * 22).body  # 即将叫号
    assert seen[-1] == {"a" * 22, "b" * 22}

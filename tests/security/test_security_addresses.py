"""What a per-address limit counts (kiosk_ui.clients.key): one IPv4 address, the same address
written as IPv4-mapped IPv6, and an IPv6 /64 as one — a machine on the hall WiFi can pick any
address of its /64, so counting addresses there would give it endless fresh budgets."""

from __future__ import annotations

from kiosk_ui.clients import key


def test_ipv4_and_its_mapped_form_count_as_one():
    assert key("10.1.2.3") == key("::ffff:10.1.2.3") == "10.1.2.3"
    assert key("10.1.2.3") != key("10.1.2.4")


def test_an_ipv6_64_counts_as_one_address():
    assert key("2001:db8:1:2::1") == key("2001:db8:1:2:dead:beef:0:7") == key("2001:db8:1:2::9%eth0")
    assert key("2001:db8:1:3::1") != key("2001:db8:1:2::1")
    assert key("not an address") == "not an address"

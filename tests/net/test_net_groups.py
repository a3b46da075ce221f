"""Group MACs, collisions and scope notes."""

import pytest

from udpscope.addresses import is_multicast
from udpscope.net.groups import (
    MacCollision,
    collisions_by_interface,
    is_link_local_group,
    is_ssm,
    mac_collisions,
    mac_siblings,
    multicast_mac,
    scope_note,
)


@pytest.mark.parametrize("addr, expected", [
    ("224.0.0.1", True), ("239.255.255.255", True), ("223.255.255.255", False),
    ("240.0.0.1", False), ("ff02::1", True), ("ff02::1%eth0", True), ("fe80::1", False),
    ("10.0.0.1", False), ("not an address", False), ("", False), ("224.0.0", False),
])
def test_is_multicast(addr, expected):
    assert is_multicast(addr) is expected


@pytest.mark.parametrize("group, mac", [
    ("224.0.0.1", "01:00:5e:00:00:01"),
    ("239.255.255.250", "01:00:5e:7f:ff:fa"),
    ("224.128.0.1", "01:00:5e:00:00:01"),      # bit 23 is dropped
    ("232.1.2.3", "01:00:5e:01:02:03"),
    ("ff02::1", "33:33:00:00:00:01"),
    ("ff02::1:ff00:1234", "33:33:ff:00:12:34"),
    ("ff15::abcd:1234", "33:33:ab:cd:12:34"),
])
def test_multicast_mac(group, mac):
    assert multicast_mac(group) == mac


@pytest.mark.parametrize("bad", ["10.0.0.1", "fe80::1", "nope"])
def test_multicast_mac_rejects_non_groups(bad):
    with pytest.raises(ValueError):
        multicast_mac(bad)


def test_thirty_two_ipv4_groups_share_each_mac():
    sib = mac_siblings("239.1.2.3")
    assert len(sib) == len(set(sib)) == 32
    assert "239.1.2.3" in sib and "224.1.2.3" in sib and "224.129.2.3" in sib
    assert {multicast_mac(g) for g in sib} == {"01:00:5e:01:02:03"}
    assert all(is_multicast(g) for g in sib)
    assert mac_siblings("ff02::1") == ["ff02::1"]


def test_collisions_found_and_non_colliding_left_out():
    found = mac_collisions(["239.1.1.1", "224.1.1.1", "239.129.1.1", "239.1.1.2", "ff02::1",
                            "ff05::1", "10.0.0.1", "239.1.1.1"])
    assert found == [
        MacCollision("01:00:5e:01:01:01", ("239.1.1.1", "224.1.1.1", "239.129.1.1")),
        MacCollision("33:33:00:00:00:01", ("ff02::1", "ff05::1")),
    ]


def test_collisions_are_per_interface():
    """The NIC filters per interface: groups sharing a MAC collide only on the same one."""
    joined = [("eth1", "239.1.1.1"), ("eth0", "239.1.1.1"), ("eth0", "224.1.1.1"),
              ("eth1", "239.2.2.2"), ("eth2", "224.1.1.1"), ("eth0", "239.1.1.1")]
    assert collisions_by_interface(joined) == [
        ("eth0", MacCollision("01:00:5e:01:01:01", ("239.1.1.1", "224.1.1.1"))),
    ]
    assert collisions_by_interface([]) == []


def test_no_collision_for_a_single_group_written_twice():
    assert mac_collisions(["239.1.1.1", "239.1.1.1"]) == []
    assert mac_collisions(["ff02::1", "FF02:0::1"]) == []


@pytest.mark.parametrize("group, ssm", [
    ("232.0.0.1", True), ("232.255.255.255", True), ("233.0.0.1", False), ("239.1.1.1", False),
    ("ff3e::1234", True), ("ff35::99", True), ("ff3e:0030:2001:db8::1", False),
    ("ff1e::1", False), ("ff02::1", False),
])
def test_is_ssm(group, ssm):
    assert is_ssm(group) is ssm


@pytest.mark.parametrize("group, link", [
    ("224.0.0.251", True), ("224.0.1.1", False), ("239.1.1.1", False),
    ("ff02::fb", True), ("ff01::1", True), ("ff05::1", False), ("ff12::1", True),
])
def test_link_local_groups(group, link):
    assert is_link_local_group(group) is link


@pytest.mark.parametrize("group, words", [
    ("224.0.0.1", ["all hosts", "link-local", "never forward"]),
    ("224.0.0.251", ["mDNS", "link-local"]),
    ("232.1.1.1", ["source-specific", "source"]),
    ("239.1.2.3", ["administratively scoped"]),
    ("239.255.1.1", ["local scope"]),
    ("233.1.1.1", ["GLOP"]),
    ("225.1.1.1", ["globally scoped"]),
    ("ff02::1", ["all nodes", "link-local", "::%ifname"]),
    ("ff01::1", ["interface-local", "never leaves the host"]),
    ("ff05::1", ["site-local"]),
    ("ff08::1", ["organization-local"]),
    ("ff0e::1", ["global"]),
    ("ff35::1", ["site-local", "source-specific"]),
    ("ff1e::1", ["global"]),
    ("ff02::1:ff00:1", ["solicited-node"]),
])
def test_scope_notes(group, words):
    note = scope_note(group)
    assert note is not None
    for w in words:
        assert w in note


@pytest.mark.parametrize("addr", ["10.0.0.1", "::1", "garbage"])
def test_scope_note_only_for_groups(addr):
    assert scope_note(addr) is None


def test_well_known_note_absent_for_ordinary_group():
    assert "well-known" not in scope_note("ff1e::1")
    assert "well-known" in scope_note("ff0e::1")

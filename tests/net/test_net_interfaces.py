"""Interface lookup: names, indexes and addresses to the engine's join argument."""

import socket

import pytest

from udpscope.net.interfaces import (
    Interface,
    InterfaceError,
    ResolvedInterface,
    find_interface,
    interface_of_address,
    list_interfaces,
    resolve_interface,
)

LO = Interface("lo", 1, ("127.0.0.1", "::1"), True, False, True, "00:00:00:00:00:00",
               ("127.0.0.1/8", "::1/128"))
ETH = Interface("eth0", 2, ("192.0.2.10", "192.0.2.11", "2001:db8::10", "fe80::1"), True, True,
                False, "02:00:00:00:00:10")
V6ONLY = Interface("tun6", 5, ("2001:db8:1::1",), True, True, False, None)
IFACES = [LO, ETH, V6ONLY]


@pytest.mark.parametrize("spec, family, expected", [
    ("eth0", "udp4", ResolvedInterface("eth0", 2, "192.0.2.10")),
    ("eth0", "udp6", ResolvedInterface("eth0", 2, "::%eth0")),
    ("2", "udp4", ResolvedInterface("eth0", 2, "192.0.2.10")),
    (" 2 ", "udp4", ResolvedInterface("eth0", 2, "192.0.2.10")),
    ("192.0.2.11", "udp4", ResolvedInterface("eth0", 2, "192.0.2.11")),   # the typed address
    ("192.0.2.11", "udp6", ResolvedInterface("eth0", 2, "::%eth0")),
    ("2001:db8::10", "udp4", ResolvedInterface("eth0", 2, "192.0.2.10")),
    ("fe80::1%eth0", "udp6", ResolvedInterface("eth0", 2, "::%eth0")),
    ("::%eth0", "udp6", ResolvedInterface("eth0", 2, "::%eth0")),
    ("lo", "IPv4", ResolvedInterface("lo", 1, "127.0.0.1")),
    ("tun6", "udp6", ResolvedInterface("tun6", 5, "::%tun6")),
])
def test_resolve(spec, family, expected):
    assert resolve_interface(spec, family, IFACES) == expected


@pytest.mark.parametrize("spec, family, message", [
    ("eht0", "udp4", "interface: no interface named 'eht0' (have: lo, eth0, tun6)"),
    ("9", "udp4", "interface: no interface with index 9 (have: 1 lo, 2 eth0, 5 tun6)"),
    ("10.9.9.9", "udp4", "interface: no interface has the address '10.9.9.9' (have: lo, eth0, tun6)"),
    ("tun6", "udp4", "interface: tun6 has no IPv4 address"),
    ("", "udp4", "interface: empty interface name"),
    ("   ", "udp6", "interface: empty interface name"),
    ("fe80::1%lo", "udp6", "interface: no interface has the address 'fe80::1%lo'"),
])
def test_resolve_errors_are_clear(spec, family, message):
    with pytest.raises(InterfaceError) as info:
        resolve_interface(spec, family, IFACES)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)


def test_bad_family_is_a_value_error():
    with pytest.raises(ValueError, match="udp4"):
        resolve_interface("eth0", "tcp", IFACES)


def test_hostile_name_is_quoted_with_escapes():
    with pytest.raises(InterfaceError) as info:
        find_interface("eth0\x1b[31m", IFACES)
    assert "\x1b" not in str(info.value)


def test_interface_properties_split_families():
    assert ETH.ipv4 == ("192.0.2.10", "192.0.2.11")
    assert ETH.ipv6 == ("2001:db8::10", "fe80::1")


def test_interface_of_address():
    assert interface_of_address("fe80::1%eth0", IFACES) is ETH
    assert interface_of_address("127.0.0.1", IFACES) is LO
    assert interface_of_address("10.0.0.1", IFACES) is None
    assert interface_of_address("junk", IFACES) is None


def test_live_list_has_loopback_with_its_facts():
    # Only reads the host's interface table; nothing is sent or joined.
    ifaces = list_interfaces()
    lo = next(i for i in ifaces if i.loopback)
    assert lo.index == socket.if_nametoindex(lo.name)
    assert lo.up and "127.0.0.1" in lo.addresses and "127.0.0.1/8" in lo.networks
    assert [i.index for i in ifaces] == sorted(i.index for i in ifaces)
    assert {i.name for i in ifaces} == {n for _, n in socket.if_nameindex()}

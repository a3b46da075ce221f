"""Address, port, group and number validation: specific messages, and nothing but
AddressError whatever is typed."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from udpscope.addresses import (
    AddressError,
    family_of,
    is_multicast,
    parse_bind_spec,
    parse_endpoint_host,
    parse_float_range,
    parse_group_spec,
    parse_int_range,
    parse_interface_spec,
    parse_ip,
    parse_port,
)

LOOPBACK_NAME = socket.if_indextoname(1)  # "lo" on Linux


def err(fn, *args, **kwargs) -> str:
    with pytest.raises(AddressError) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def test_ports() -> None:
    assert parse_port("5000") == 5000
    assert parse_port(" 65535 ") == 65535
    assert parse_port("0", allow_zero=True) == 0
    assert err(parse_port, "70000") == "port: 70000 is out of range 1-65535"
    assert err(parse_port, "70000", allow_zero=True) == "port: 70000 is out of range 0-65535"
    assert err(parse_port, "0") == "port: 0 is out of range 1-65535"
    assert err(parse_port, "-1") == "port: -1 is out of range 1-65535"
    assert err(parse_port, "http") == "port: 'http' is not a number"
    assert err(parse_port, "") == "port: no port given"
    assert err(parse_port, "٣") == "port: '٣' is not a number"  # a non-ASCII digit
    assert "out of range" in err(parse_port, "9" * 10000)  # no int() digit-limit crash


def test_int_and_float_ranges() -> None:
    assert parse_int_range("255", 1, 255, "ttl") == 255
    assert err(parse_int_range, "300", 1, 255, "ttl") == "ttl: 300 is out of range 1-255"
    assert err(parse_int_range, "1.5", 1, 255, "ttl") == "ttl: '1.5' is not a whole number"
    assert err(parse_int_range, "-1", 1, None, "count") == "count: -1 is out of range 1 or more"
    assert parse_float_range("2.5", "rate") == 2.5
    assert err(parse_float_range, "0", "rate") == "rate: 0 must be more than 0"
    assert err(parse_float_range, "-3", "rate") == "rate: -3 must be more than 0"
    assert err(parse_float_range, "nan", "rate") == "rate: 'nan' is not a number"
    assert err(parse_float_range, "inf", "rate") == "rate: 'inf' is not a number"
    assert err(parse_float_range, "1e999", "rate") == "rate: 1e999 is too large"
    assert err(parse_float_range, "5", "rate", hi=4) == "rate: 5 must be at most 4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        (f"fe80::1%{LOOPBACK_NAME}", f"fe80::1%{LOOPBACK_NAME}"),
        ("fe80::1%1", "fe80::1%1"),
        ("localhost", "localhost"),
        ("example.com.", "example.com."),
        ("a-b.c0", "a-b.c0"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ],
)
def test_hosts_good(text: str, expected: str) -> None:
    assert parse_endpoint_host(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "host: no host given"),
        ("300.1.1.1", "host: '300.1.1.1' is not a valid IPv4 address"),
        ("127.1", "host: '127.1' is not a valid IPv4 address"),
        ("a..b", "host: 'a..b' has an empty label"),
        ("a_b.example", "host: 'a_b.example' has a bad character '_'"),
        ("bücher.de", "host: 'bücher.de' has a bad character 'ü' for a host name (write"),
        ("-a.example", "host: label '-a' starts or ends with '-'"),
        ("x" * 64 + ".example", "host: label 'xxxxxxxxxxxxxxxxxxxx…(+44 chars)' is 64 characters"),
        ("a." * 130 + "b", "host: host name is 261 characters, more than 253"),
        ("x.123", "host: 'x.123': the last label must not be all digits"),
        ("1:2", "host: '1:2' is not a valid IPv6 address"),
        ("fe80::1%nosuchif0", "host: fe80::1%nosuchif0: no interface named 'nosuchif0'"),
        ("fe80::1%99999", "host: fe80::1%99999: no interface has index 99999"),
        ("fe80::1%", "host: fe80::1%: empty scope after '%'"),
        ("127.0.0.1%lo", "host: '127.0.0.1%lo': an IPv4 address has no %scope"),
        ("evil\x1b]0;x", "host: 'evil\\e]0;x' has a bad character '\\e'"),
    ],
)
def test_hosts_bad(text: str, message: str) -> None:
    assert err(parse_endpoint_host, text).startswith(message)


def test_bind_specs() -> None:
    assert parse_bind_spec("5000") == (None, 5000)
    assert parse_bind_spec("0") == (None, 0)
    assert parse_bind_spec(":5000") == (None, 5000)
    assert parse_bind_spec("127.0.0.1:5000") == ("127.0.0.1", 5000)
    assert parse_bind_spec("[::1]:0") == ("::1", 0)
    assert parse_bind_spec("localhost:5000") == ("localhost", 5000)
    assert parse_bind_spec(f"[fe80::1%{LOOPBACK_NAME}]:5") == (f"fe80::1%{LOOPBACK_NAME}", 5)
    assert err(parse_bind_spec, "::1:5000").startswith("bind: '::1:5000': write an IPv6 address")
    assert err(parse_bind_spec, "[::1]") == "bind: '[::1]' needs a port after the brackets, e.g. [::1]:5000"
    assert err(parse_bind_spec, "[::1:5000") == "bind: '[::1:5000' has '[' without ']'"
    assert err(parse_bind_spec, "[1.2.3.4]:5") == "bind: brackets are for IPv6 addresses, not '1.2.3.4'"
    assert err(parse_bind_spec, "127.0.0.1:70000") == "port: 70000 is out of range 0-65535"
    assert err(parse_bind_spec, "300.0.0.1:5") == "bind: '300.0.0.1' is not a valid IPv4 address"
    assert err(parse_bind_spec, "") == "bind: nothing given (expected [ADDR:]PORT)"


def test_groups() -> None:
    assert parse_group_spec("239.1.2.3") == ("239.1.2.3", None)
    assert parse_group_spec("239.1.2.3@eth0") == ("239.1.2.3", "eth0")
    assert parse_group_spec("ff02::1@2") == ("ff02::1", "2")
    assert parse_group_spec("[ff02::1]@10.0.0.1") == ("ff02::1", "10.0.0.1")
    assert err(parse_group_spec, "10.0.0.1") == (
        "group: 10.0.0.1 is not a multicast address (those are in 224.0.0.0/4)")
    assert err(parse_group_spec, "2001:db8::1").startswith("group: 2001:db8::1 is not a multicast")
    assert err(parse_group_spec, "ff02::1%eth0").startswith("group: 'ff02::1%eth0': name the interface")
    assert err(parse_group_spec, "239.1.2.3@") == "group: '239.1.2.3@' has no interface after '@'"
    assert err(parse_group_spec, "@eth0") == "group: '@eth0' has no group before '@'"
    assert err(parse_group_spec, "mcast.example") == "group: 'mcast.example' is not an IP address"
    assert "too long for an interface name" in err(parse_group_spec, "239.1.2.3@" + "x" * 16)
    assert "bad character '/'" in err(parse_group_spec, "239.1.2.3@a/b")


def test_interface_and_ip() -> None:
    assert parse_interface_spec("eth0") == "eth0"
    assert parse_interface_spec("3") == "3"
    assert parse_interface_spec("10.0.0.1") == "10.0.0.1"
    assert err(parse_interface_spec, "0") == "interface: 0 is out of range 1-2147483647"
    assert err(parse_ip, "localhost", what="source") == "source: 'localhost' is not an IP address"
    assert parse_ip("[::1]") == "::1"


def test_family_and_multicast() -> None:
    assert family_of("127.0.0.1") == "udp4"
    assert family_of("::1") == "udp6"
    assert family_of("[fe80::1%eth0]") == "udp6"
    assert family_of("localhost") is None
    assert family_of(None) is None  # type: ignore[arg-type]
    assert is_multicast("239.0.0.1") and is_multicast("ff05::2")
    assert not is_multicast("10.0.0.1") and not is_multicast("nonsense")


ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=60)
NEAR = st.text(alphabet="0123456789abcdefx.:[]%@-_ lo", max_size=30)


@given(st.one_of(ANY_TEXT, NEAR))
@settings(max_examples=600)
def test_only_address_errors(text: str) -> None:
    for fn in (parse_port, lambda t: parse_port(t, allow_zero=True), parse_endpoint_host,
               parse_bind_spec, parse_group_spec, parse_interface_spec, parse_ip,
               lambda t: parse_int_range(t, 1, 255, "ttl"),
               lambda t: parse_float_range(t, "rate")):
        try:
            result = fn(text)
        except AddressError:
            continue
        assert result is not None
    assert family_of(text) in (None, "udp4", "udp6")
    assert is_multicast(text) in (True, False)

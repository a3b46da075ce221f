"""Errno hints: the common multicast mistakes get an actionable sentence."""

import pytest

from udpscope.net.hints import errno_hint


@pytest.mark.parametrize("code, syscall, words", [
    ("EACCES", "send", ["set_broadcast"]),
    ("EACCES", "bind", ["1024"]),
    ("ENOBUFS", "addMembership", ["igmp_max_memberships"]),
    ("ENOBUFS", "addSourceSpecificMembership", ["igmp_max_msf"]),
    ("EADDRNOTAVAIL", "addMembership", ["wrong interface", "IPv4 address", "::%ifname"]),
    ("EADDRNOTAVAIL", "dropMembership", ["not joined"]),
    ("EADDRNOTAVAIL", "dropSourceSpecificMembership", ["not joined"]),
    ("EADDRNOTAVAIL", "setMulticastInterface", ["interface"]),
    ("ENODEV", "addMembership", ["interface", "route"]),
    ("EINVAL", "addMembership", ["not a multicast group", "224.0.0.0/4", "ff00::/8"]),
    ("EINVAL", "setTTL", ["1-255"]),
    ("EADDRINUSE", "bind", ["reuse_addr"]),
    ("EMSGSIZE", "send", ["65507"]),
    ("ENETUNREACH", "send", ["route", "set_multicast_interface"]),
    ("ECONNREFUSED", "recvmsg", ["nothing is listening"]),
    ("EBADF", "setTTL", ["bind"]),
])
def test_hints(code, syscall, words):
    hint = errno_hint(code, syscall)
    assert hint is not None
    for w in words:
        assert w in hint


def test_generic_fallback_when_syscall_unknown_or_missing():
    assert errno_hint("ENOBUFS") is not None and "igmp_max_memberships" in errno_hint("ENOBUFS")
    assert errno_hint("EACCES", "somethingElse") == errno_hint("EACCES")
    assert errno_hint("enodev", None) == errno_hint("ENODEV")


def test_specific_hint_differs_from_generic():
    assert errno_hint("EACCES", "send") != errno_hint("EACCES", "bind")


@pytest.mark.parametrize("code", ["EWHATEVER", "", "ERR_SOCKET_BAD_PORT", None, 13])
def test_unknown_codes_have_no_hint(code):
    assert errno_hint(code, "send") is None

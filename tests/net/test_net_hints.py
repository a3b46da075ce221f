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


def test_hints_name_the_controls_of_each_interface() -> None:
    """The TUI's hints point at its panes and checkboxes, the CLI's at its flags, the library's
    at its calls: a TUI user cannot act on "call set_broadcast(True)"."""
    tui = errno_hint("EACCES", "send", words="tui")
    cli = errno_hint("EACCES", "send", words="cli")
    assert tui is not None and "broadcast" in tui and "2 Options" in tui and "set_" not in tui
    assert cli is not None and "--broadcast" in cli and "set_" not in cli
    reuse = errno_hint("EADDRINUSE", "bind", words="tui")
    assert reuse is not None and "reuse addr" in reuse and "reuse_addr" not in reuse
    for code, syscall in (("EACCES", None), ("ENETUNREACH", "send"),
                          ("EADDRNOTAVAIL", "setMulticastInterface")):
        for words in ("tui", "cli"):
            hint = errno_hint(code, syscall, words=words)
            assert hint is not None and "set_" not in hint and "()" not in hint, (code, words)

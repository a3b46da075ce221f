"""Parsing the kernel's membership files from fixture text (as a 6.x x86 kernel prints them)."""

import sys

import pytest

from udpscope.net.interfaces import Interface
from udpscope.net.membership import (
    FilterEntry,
    KernelMembership,
    SourceFilter,
    attach_filters,
    mark_own,
    parse_igmp,
    parse_igmp6,
    parse_mcfilter,
    parse_mcfilter6,
    read_memberships,
)

IGMP = (
    "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
    "1\tlo        :     1      V3\n"
    "\t\t\t\t010000E0     1 0:00000000\t\t0\n"
    "2\tveth0     :     3      V3\n"
    "\t\t\t\t010101E8     1 0:00000000\t\t0\n"
    "\t\t\t\t030201EF     2 1:000001F4\t\t1\n"
    "\t\t\t\t010000E0     1 0:00000000\t\t0\n"
    "3\tempty0    :     0      V2\n"
    "7\ta-very-long-nam:     1      V3\n"
    "\t\t\t\tFAFFFFEF     1 0:00000000\t\t0\n"
)
IGMP6 = (
    "1    lo              ff020000000000000000000000000001     1 0000000C 0\n"
    "2    veth0           ff350000000000000000000000000099     1 00000004 0\n"
    "2    veth0           ff150000000000000000000000001234     3 00000004 0\n"
    "2    veth0           ff0200000000000000000001ff6a1e46     1 00000004 0\n"
)
MCFILTER = (
    "Idx Device        MCA        SRC    INC    EXC\n"
    "  2  veth0 0xe8010101 0x0ac80101      1      0\n"
    "  2  veth0 0xe8010101 0x0ac80103      2      0\n"
    "  7 a-very 0xeffffffa 0x0a000009      0      1\n"
)
MCFILTER6 = (
    "Idx Device                Multicast Address                   Source Address    INC    EXC\n"
    "  2  veth0 ff350000000000000000000000000099 fd000200000100000000000000000001      1      0\n"
)


def test_igmp_groups_are_little_endian_words_on_x86():
    got = parse_igmp(IGMP, "little")
    assert [(m.index, m.interface, m.group, m.users) for m in got] == [
        (1, "lo", "224.0.0.1", 1),
        (2, "veth0", "232.1.1.1", 1),
        (2, "veth0", "239.1.2.3", 2),
        (2, "veth0", "224.0.0.1", 1),
        (7, "a-very-long-nam", "239.255.255.250", 1),
    ]
    assert all(m.family == "IPv4" and m.sources == () and not m.own for m in got)


def test_igmp_on_a_big_endian_host_reads_the_word_as_is():
    text = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n" \
           "2\teth0      :     1      V3\n\t\t\t\tEF010203     1 0:00000000\t\t0\n"
    assert [m.group for m in parse_igmp(text, "big")] == ["239.1.2.3"]
    assert [m.group for m in parse_igmp(text, "little")] == ["3.2.1.239"]


def test_igmp6():
    got = parse_igmp6(IGMP6)
    assert [(m.index, m.interface, m.group, m.users, m.family) for m in got] == [
        (1, "lo", "ff02::1", 1, "IPv6"),
        (2, "veth0", "ff35::99", 1, "IPv6"),
        (2, "veth0", "ff15::1234", 3, "IPv6"),
        (2, "veth0", "ff02::1:ff6a:1e46", 1, "IPv6"),
    ]


def test_mcfilter_is_printed_in_network_order():
    got = parse_mcfilter(MCFILTER)
    assert got == [
        FilterEntry(2, "veth0", "232.1.1.1", SourceFilter("10.200.1.1", 1, 0)),
        FilterEntry(2, "veth0", "232.1.1.1", SourceFilter("10.200.1.3", 2, 0)),
        FilterEntry(7, "a-very", "239.255.255.250", SourceFilter("10.0.0.9", 0, 1)),
    ]


def test_mcfilter6():
    assert parse_mcfilter6(MCFILTER6) == [
        FilterEntry(2, "veth0", "ff35::99", SourceFilter("fd00:200:1::1", 1, 0)),
    ]


def test_filters_attach_by_index_not_by_the_truncated_name():
    merged = attach_filters(parse_igmp(IGMP, "little") + parse_igmp6(IGMP6),
                            parse_mcfilter(MCFILTER) + parse_mcfilter6(MCFILTER6))
    by = {(m.interface, m.group): m for m in merged}
    ssm = by[("veth0", "232.1.1.1")]
    assert [s.source for s in ssm.sources] == ["10.200.1.1", "10.200.1.3"]
    assert ssm.source_specific
    excl = by[("a-very-long-nam", "239.255.255.250")]
    assert excl.sources == (SourceFilter("10.0.0.9", 0, 1),) and not excl.source_specific
    assert by[("veth0", "ff35::99")].sources[0].source == "fd00:200:1::1"
    assert by[("lo", "224.0.0.1")].sources == () and not by[("lo", "224.0.0.1")].source_specific


@pytest.mark.parametrize("parser", [parse_igmp, parse_igmp6, parse_mcfilter, parse_mcfilter6])
@pytest.mark.parametrize("junk", [
    "", "\n\n", "garbage line\n", "1 lo ffZZ 1 0 0\n", "\t\t\t\tZZZZZZZZ 1 0:0\t0\n",
    "  2  veth0 0xnothex 0x0 1 0\n", "\x00\xff\x1b[31m\n", "1\tlo :\n\t\t\t\t010000E0 x\n",
])
def test_parsers_ignore_junk(parser, junk):
    assert parser(junk) == []


def test_group_line_before_any_device_is_ignored():
    assert parse_igmp("\t\t\t\t010000E0     1 0:00000000\t\t0\n") == []


def test_read_memberships_from_a_directory(tmp_path):
    (tmp_path / "igmp").write_text(IGMP)
    (tmp_path / "mcfilter").write_text(MCFILTER)
    # no igmp6 / mcfilter6: IPv6 disabled
    got = read_memberships(str(tmp_path))
    assert {m.family for m in got} == {"IPv4"}
    assert len(got) == 5


def test_read_memberships_without_igmp_raises(tmp_path):
    with pytest.raises(OSError):
        read_memberships(str(tmp_path))


IFACES = [
    Interface("lo", 1, ("127.0.0.1", "::1"), True, False, True, None),
    Interface("veth0", 2, ("10.200.1.2", "fd00:200:1::2"), True, True, False, "02:00:00:00:00:02"),
]
KERNEL = attach_filters(parse_igmp(IGMP, "little") + parse_igmp6(IGMP6),
                        parse_mcfilter(MCFILTER) + parse_mcfilter6(MCFILTER6))


def owned(own, interfaces=IFACES):
    return {(m.interface, m.group) for m in mark_own(KERNEL, own, interfaces) if m.own}


def test_mark_own_by_name_index_scope_and_address():
    assert owned([("239.1.2.3", None, "veth0")]) == {("veth0", "239.1.2.3")}
    assert owned([("239.1.2.3", None, "2")]) == {("veth0", "239.1.2.3")}
    assert owned([("239.1.2.3", None, "10.200.1.2")]) == {("veth0", "239.1.2.3")}
    assert owned([("ff15::1234", None, "::%veth0")]) == {("veth0", "ff15::1234")}
    assert owned([("ff15::1234", None, "::%2")]) == {("veth0", "ff15::1234")}
    assert owned([("FF15:0::1234", None, "fd00:200:1::2")]) == {("veth0", "ff15::1234")}


def test_mark_own_without_interface_matches_any_interface():
    assert owned([("224.0.0.1", None, None)]) == {("lo", "224.0.0.1"), ("veth0", "224.0.0.1")}
    assert owned([("224.0.0.1", None, "0.0.0.0")]) == {("lo", "224.0.0.1"),
                                                       ("veth0", "224.0.0.1")}


def test_mark_own_source_specific_needs_the_source_included():
    assert owned([("232.1.1.1", "10.200.1.3", "veth0")]) == {("veth0", "232.1.1.1")}
    assert owned([("232.1.1.1", "10.200.1.9", "veth0")]) == set()
    assert owned([("239.255.255.250", "10.0.0.9", None)]) == set()   # excluded, not included
    assert owned([("ff35::99", "fd00:200:1::1", "::%veth0")]) == {("veth0", "ff35::99")}


def test_mark_own_wrong_interface_or_unknown_address_matches_nothing():
    assert owned([("239.1.2.3", None, "lo")]) == set()
    assert owned([("239.1.2.3", None, "10.9.9.9")]) == set()
    assert owned([("239.1.2.3", None, "10.200.1.2")], interfaces=[]) == set()
    assert owned([("not-a-group", None, None)]) == set()


def test_mark_own_keeps_everything_else_unchanged():
    out = mark_own(KERNEL, [("239.1.2.3", None, "veth0")], IFACES)
    assert len(out) == len(KERNEL)
    assert [(m.interface, m.group, m.users, m.sources) for m in out] == \
        [(m.interface, m.group, m.users, m.sources) for m in KERNEL]
    assert mark_own(KERNEL, [], IFACES) == KERNEL


def test_membership_records_are_plain_values():
    m = KernelMembership("eth0", 2, "239.1.1.1", "IPv4", 1)
    assert m == KernelMembership("eth0", 2, "239.1.1.1", "IPv4", 1, (), False)


def test_unavailable_elsewhere_than_linux(monkeypatch):
    from udpscope.net import membership

    monkeypatch.setattr(membership.sys, "platform", "darwin")
    assert membership.available() is False
    assert "Linux" in membership.unavailable_reason()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc only")
def test_available_here_on_linux():
    from udpscope.net import membership

    assert membership.available() is True and membership.unavailable_reason() is None

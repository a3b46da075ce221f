"""Engine memberships as the kernel sees them: joins appear, drops and closes remove them, and
the engine's errors carry codes the hints understand. All inside a namespace."""

import ipaddress

import pytest

from tests.dgram.mcast_support import close_all, open_socket
from tests.netns import inside
from udpscope import dgram
from udpscope.net import checks, membership
from udpscope.net.hints import errno_hint
from udpscope.net.interfaces import list_interfaces

pytestmark = pytest.mark.netns


def kernel(ns: str, group: str) -> list[membership.KernelMembership]:
    with inside(ns):
        return [m for m in membership.read_memberships() if m.group == group]


@pytest.mark.parametrize("family, group, iface", [
    ("udp4", "239.60.0.1", "b.v4"),
    ("udp6", "ff15::60:1", "::%veth0"),
])
async def test_join_shows_in_get_memberships_and_kernel_view_then_drop_removes(
        veth_pair, family, group, iface):
    b = veth_pair.b
    iface = b.v4 if iface == "b.v4" else iface
    s = await open_socket(b.ns, family)
    try:
        with inside(b.ns):
            s.add_membership(group, iface)
        assert s.get_memberships() == [(group, None, iface)]
        seen = kernel(b.ns, group)
        assert [(m.interface, m.users) for m in seen] == [("veth0", 1)]
        with inside(b.ns):
            marked = membership.mark_own(membership.read_memberships(), s.get_memberships(),
                                         list_interfaces())
        assert [(m.interface, m.group) for m in marked if m.own] == [("veth0", group)]
        with inside(b.ns):
            s.drop_membership(group, iface)
        assert s.get_memberships() == []
        assert kernel(b.ns, group) == []
    finally:
        close_all(s)


async def test_source_specific_membership_in_kernel_view(veth_pair):
    a, b = veth_pair.a, veth_pair.b
    group = "232.60.0.2"
    s = await open_socket(b.ns)
    try:
        with inside(b.ns):
            s.add_source_specific_membership(a.v4, group, b.v4)
        (m,) = kernel(b.ns, group)
        assert m.source_specific and [f.source for f in m.sources] == [a.v4]
        with inside(b.ns):
            s.drop_source_specific_membership(a.v4, group, b.v4)
        assert kernel(b.ns, group) == [] and s.get_memberships() == []
    finally:
        close_all(s)


async def test_close_releases_memberships(veth_pair):
    b = veth_pair.b
    s = await open_socket(b.ns)
    with inside(b.ns):
        s.add_membership("239.60.0.3", b.v4)
    assert kernel(b.ns, "239.60.0.3") != []
    s.close()
    assert kernel(b.ns, "239.60.0.3") == []


@pytest.mark.parametrize("family, group, iface", [
    ("udp4", "239.60.1.1", "b.v4"),
    ("udp6", "ff15::60:101", "::%veth0"),
])
async def test_hundred_join_leave_cycles_leave_no_membership(veth_pair, family, group, iface):
    b = veth_pair.b
    iface = b.v4 if iface == "b.v4" else iface
    s = await open_socket(b.ns, family)
    try:
        with inside(b.ns):
            before = {(m.interface, m.group) for m in membership.read_memberships()}
            for i in range(100):
                s.add_membership(group, iface)
                if i % 20 == 0:
                    assert [m.users for m in membership.read_memberships()
                            if m.group == group] == [1]
                s.drop_membership(group, iface)
            after = {(m.interface, m.group) for m in membership.read_memberships()}
        assert s.get_memberships() == []
        assert after == before
        assert ("veth0", group) not in after
    finally:
        close_all(s)


async def test_membership_errors_have_codes_and_hints(veth_pair):
    b = veth_pair.b
    s = await open_socket(b.ns)
    try:
        with inside(b.ns):
            with pytest.raises(dgram.DgramError) as not_group:
                s.add_membership("10.0.0.1", b.v4)
            with pytest.raises(dgram.DgramError) as not_joined:
                s.drop_membership("239.60.2.1", b.v4)
            with pytest.raises(dgram.DgramError) as wrong_iface:
                s.add_membership("239.60.2.2", "10.99.99.99")
        for info, code in [(not_group, "EINVAL"), (not_joined, "EADDRNOTAVAIL"),
                           (wrong_iface, "ENODEV")]:
            assert info.value.code == code, info.value
            assert errno_hint(info.value.code, info.value.syscall) is not None
        assert "multicast group" in errno_hint(not_group.value.code, not_group.value.syscall)
        assert "not joined" in errno_hint(not_joined.value.code, not_joined.value.syscall)
        assert s.get_memberships() == []
    finally:
        close_all(s)


async def test_join_limit_gives_enobufs_with_a_hint(veth_pair):
    b = veth_pair.b
    with inside(b.ns):
        limit = checks.read_system().igmp_max_memberships
    assert limit is not None
    s = await open_socket(b.ns)
    try:
        with inside(b.ns):
            for i in range(limit):
                s.add_membership(f"239.61.0.{i + 1}", b.v4)
            with pytest.raises(dgram.DgramError) as info:
                s.add_membership("239.61.1.1", b.v4)
        assert (info.value.code, info.value.syscall) == ("ENOBUFS", "addMembership")
        assert "igmp_max_memberships" in errno_hint(info.value.code, info.value.syscall)
        assert len(s.get_memberships()) == limit
        found = checks.why_no_traffic(
            checks.ReceiveSetup("239.61.0.1", interface="veth0", socket_joins=limit),
            checks.SystemView(igmp_max_memberships=limit))
        assert "at the join limit" in [f.title for f in found]
    finally:
        close_all(s)


@pytest.mark.parametrize("family, join, drop", [
    ("udp6", ("FF15:0::1", "::%veth0"), ("ff15::1", "::%veth0")),      # same group, other spelling
    ("udp4", ("239.60.3.1", None), ("239.60.3.1", "b.v4")),            # kernel's pick, then named
])
async def test_get_memberships_agrees_with_the_kernel_after_a_drop(veth_pair, family, join, drop):
    """The kernel treats both calls as the same membership; so must get_memberships()."""
    b = veth_pair.b
    drop = (drop[0], b.v4 if drop[1] == "b.v4" else drop[1])
    s = await open_socket(b.ns, family)
    try:
        with inside(b.ns):
            s.add_membership(*join)
            assert len(kernel(b.ns, str(ipaddress.ip_address(join[0])))) == 1
            s.drop_membership(*drop)   # accepted by the kernel: it was that membership
        assert kernel(b.ns, drop[0]) == []
        assert s.get_memberships() == []
    finally:
        close_all(s)

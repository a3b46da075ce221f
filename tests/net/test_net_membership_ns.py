"""The membership view and interface list against a real kernel, inside a test namespace.

Joins are made with plain sockets (not the engine) so this checks the parser against what the
kernel really prints. Every socket that joins is created inside a namespace.
"""

import socket
import struct
import threading

import pytest

from tests import netns as N
from udpscope.net import checks, interfaces, membership

pytestmark = pytest.mark.netns

IP_ADD_SOURCE_MEMBERSHIP = 39
IP_DROP_SOURCE_MEMBERSHIP = 40
MCAST_JOIN_SOURCE_GROUP = 46


def mreqn(group: str, ifindex: int) -> bytes:
    return struct.pack("4s4si", socket.inet_aton(group), b"\0" * 4, ifindex)


def mreq6(group: str, ifindex: int) -> bytes:
    return socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", ifindex)


def sockaddr_in6(addr: str) -> bytes:
    raw = struct.pack("=HHI16sI", socket.AF_INET6, 0, 0, socket.inet_pton(socket.AF_INET6, addr), 0)
    return raw + b"\0" * (128 - len(raw))   # struct sockaddr_storage


def socket_in(end: N.VethEnd, family: int = socket.AF_INET) -> tuple[socket.socket, int]:
    """A plain UDP socket created inside `end`'s namespace, and the index of its veth there."""
    with N.inside(end.ns):
        return socket.socket(family, socket.SOCK_DGRAM), socket.if_nametoindex(end.ifname)


def view(ns: str) -> dict[tuple[str, str], membership.KernelMembership]:
    with N.inside(ns):
        return {(m.interface, m.group): m for m in membership.read_memberships()}


def test_join_shows_then_leave_removes(veth_pair):
    b = veth_pair.b
    with N.inside(b.ns):
        assert membership.available()
    s, idx = socket_in(b)
    with s:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn("239.7.8.9", idx))
        m = view(b.ns)[("veth0", "239.7.8.9")]
        assert (m.index, m.family, m.users, m.sources) == (idx, "IPv4", 1, ())
        # the host never sees it: the view follows the reading thread's namespace
        assert "239.7.8.9" not in {x.group for x in membership.read_memberships()}
        s.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreqn("239.7.8.9", idx))
        assert ("veth0", "239.7.8.9") not in view(b.ns)


def test_two_sockets_count_as_two_users_and_close_drops(veth_pair):
    b = veth_pair.b
    (s1, idx), (s2, _) = socket_in(b), socket_in(b)
    for s in (s1, s2):
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn("239.1.1.2", idx))
    assert view(b.ns)[("veth0", "239.1.1.2")].users == 2
    s1.close()
    assert view(b.ns)[("veth0", "239.1.1.2")].users == 1
    s2.close()
    assert ("veth0", "239.1.1.2") not in view(b.ns)


def test_read_from_a_non_leader_thread_sees_that_threads_namespace(veth_pair):
    # /proc/net follows the process leader; only /proc/thread-self/net is right for a thread
    b = veth_pair.b
    s, idx = socket_in(b)
    result: list[set[str]] = []

    def reader() -> None:
        with N.inside(b.ns):
            result.append({m.group for m in membership.read_memberships()})

    with s:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn("239.3.3.3", idx))
        t = threading.Thread(target=reader)
        t.start()
        t.join(10)
    assert result and "239.3.3.3" in result[0]


def test_source_specific_join_shows_its_source(veth_pair):
    a, b = veth_pair.a, veth_pair.b
    s, _ = socket_in(b)
    with s:
        req = struct.pack("4s4s4s", socket.inet_aton("232.1.2.3"), socket.inet_aton(b.v4),
                          socket.inet_aton(a.v4))
        s.setsockopt(socket.IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, req)
        m = view(b.ns)[("veth0", "232.1.2.3")]
        assert m.source_specific
        assert [(f.source, f.include, f.exclude) for f in m.sources] == [(a.v4, 1, 0)]
        with N.inside(b.ns):
            own = membership.mark_own(membership.read_memberships(),
                                      [("232.1.2.3", a.v4, b.v4)], interfaces.list_interfaces())
        assert [(o.interface, o.group) for o in own if o.own] == [("veth0", "232.1.2.3")]
        s.setsockopt(socket.IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP, req)
        assert ("veth0", "232.1.2.3") not in view(b.ns)


def test_ipv6_join_and_source_specific_join(veth_pair):
    a, b = veth_pair.a, veth_pair.b
    s, idx = socket_in(b, socket.AF_INET6)
    with s:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq6("ff15::4242", idx))
        gsr = struct.pack("=I4x", idx) + sockaddr_in6("ff35::77") + sockaddr_in6(a.v6)
        s.setsockopt(socket.IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP, gsr)
        v = view(b.ns)
        assert v[("veth0", "ff15::4242")].family == "IPv6"
        assert v[("veth0", "ff15::4242")].users == 1
        assert [f.source for f in v[("veth0", "ff35::77")].sources] == [a.v6]
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_LEAVE_GROUP, mreq6("ff15::4242", idx))
        assert ("veth0", "ff15::4242") not in view(b.ns)


def test_hundred_join_leave_cycles_leave_nothing_behind(veth_pair):
    b = veth_pair.b
    s, idx = socket_in(b)
    before = view(b.ns)
    with s:
        for i in range(100):
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn("239.100.0.1", idx))
            if i % 25 == 0:
                assert view(b.ns)[("veth0", "239.100.0.1")].users == 1
            s.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreqn("239.100.0.1", idx))
    after = view(b.ns)
    assert ("veth0", "239.100.0.1") not in after
    assert after.keys() == before.keys()


def test_interfaces_inside_a_namespace_from_main_and_other_threads(veth_pair):
    b = veth_pair.b

    def look() -> tuple[list[interfaces.Interface], interfaces.ResolvedInterface]:
        with N.inside(b.ns):
            return interfaces.list_interfaces(), interfaces.resolve_interface("veth0", "udp4")

    ifaces, res = look()
    out: list = []
    t = threading.Thread(target=lambda: out.append(look()))
    t.start()
    t.join(10)
    for got_ifaces, got_res in [(ifaces, res), out[0]]:
        veth = next(i for i in got_ifaces if i.name == "veth0")
        assert veth.up and veth.multicast and not veth.loopback
        assert b.v4 in veth.addresses and b.v6 in veth.addresses
        assert f"{b.v4}/24" in veth.networks
        assert veth.mac and len(veth.mac.split(":")) == 6
        assert {i.name for i in got_ifaces} == {"lo", "veth0"}
        assert got_res == interfaces.ResolvedInterface("veth0", veth.index, b.v4)


def test_checks_on_a_live_namespace(veth_pair):
    b = veth_pair.b
    s, idx = socket_in(b)
    with s:
        with N.inside(b.ns):
            before = checks.read_system()
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn("239.5.5.5", idx))
        with N.inside(b.ns):
            after = checks.read_system()
    setup = checks.ReceiveSetup("239.5.5.5")   # interface found via the 224/4 route
    assert "kernel has no membership" in [f.title for f in checks.why_no_traffic(setup, before)]
    assert [f for f in checks.why_no_traffic(setup, after) if f.level == "error"] == []
    assert after.igmp_max_memberships is not None and after.igmp_max_memberships > 0
    assert "veth0" in after.rp_filter
    N.write_sysctl(b.ns, "net.ipv4.conf.veth0.rp_filter", 1)
    with N.inside(b.ns):
        strict = checks.read_system()
    found = checks.why_no_traffic(
        checks.ReceiveSetup("239.5.5.5", sender_address="192.168.99.1"), strict)
    assert "strict reverse-path filter" in [f.title for f in found]

"""Contract tests: socket options (TTL bounds, multicast flags, memberships that fail locally,
buffer sizes) and the udpscope read-back extras.

No test here joins a group: a successful join sends IGMP/MLD on a real interface, so joins are
tested inside network namespaces (tests/dgram/test_dgram_mcast_*.py). Failing joins and dropping a never-joined group
are refused by the kernel before anything is sent.
"""

from __future__ import annotations

import errno
import socket

import pytest

from tests.dgram.dgram_helpers import LOOPBACK
from udpscope import dgram

GROUP = {"udp4": "239.255.0.1", "udp6": "ff15::1"}
# IPv4 needs the interface named, or the kernel routes the group to find one (ENODEV without a
# multicast route); IPv6 matches any interface. Neither sends anything for a never-joined group.
LOCAL_IFACE = {"udp4": "127.0.0.1", "udp6": None}


def _raises(code: str, call, *args):
    with pytest.raises(dgram.DgramError) as info:
        call(*args)
    assert info.value.code == code, f"{call.__name__}{args}: {info.value.code} != {code}"
    return info.value


async def test_set_ttl_bounds_and_return_value(sockets, kind):
    sock = await sockets.bound(kind)
    assert sock.set_ttl(1) == 1
    assert sock.get_ttl() == 1
    assert sock.set_ttl(255) == 255
    assert sock.get_ttl() == 255
    assert sock.set_ttl(64) == 64
    for bad in (0, 256, -1, 1000):
        err = _raises("EINVAL", sock.set_ttl, bad)
        assert err.syscall == "setTTL"
        assert err.errno == errno.EINVAL
        assert str(err) == "setTTL EINVAL"
    assert sock.get_ttl() == 64  # a refused value changes nothing


async def test_set_multicast_ttl_bounds_and_return_value(sockets, kind):
    sock = await sockets.bound(kind)
    assert sock.set_multicast_ttl(0) == 0
    assert sock.get_multicast_ttl() == 0
    assert sock.set_multicast_ttl(255) == 255
    assert sock.get_multicast_ttl() == 255
    for bad in (-1, 256):
        err = _raises("EINVAL", sock.set_multicast_ttl, bad)
        assert err.syscall == "setMulticastTTL"
        assert str(err) == "setMulticastTTL EINVAL"
    assert sock.get_multicast_ttl() == 255


@pytest.mark.parametrize("bad", [1.5, "64", None, b"\x40"], ids=repr)
async def test_set_ttl_rejects_non_integers(sockets, kind, bad):
    # Node accepts 1.5 ("do not copy"); the type check comes before EBADF, as in Node.
    unbound = sockets(kind)
    for sock in (unbound, await sockets.bound(kind)):
        for setter in (sock.set_ttl, sock.set_multicast_ttl):
            with pytest.raises(TypeError) as info:
                setter(bad)
            assert isinstance(info.value, dgram.DgramError)
            assert info.value.code == "ERR_INVALID_ARG_TYPE"
    assert unbound.fileno() == -1


async def test_set_multicast_loopback_returns_the_flag(sockets, kind):
    sock = await sockets.bound(kind)
    assert sock.set_multicast_loopback(False) is False
    assert sock.get_multicast_loopback() is False
    assert sock.set_multicast_loopback(True) is True
    assert sock.get_multicast_loopback() is True


async def test_set_broadcast_is_read_back(sockets):
    # Sending a broadcast is tested in a private namespace (test_dgram_netns.py).
    sock = await sockets.bound("udp4")
    assert sock.get_broadcast() is False
    sock.set_broadcast(True)
    assert sock.get_broadcast() is True
    sock.set_broadcast(False)
    assert sock.get_broadcast() is False


async def test_set_multicast_interface(sockets, kind):
    sock = await sockets.bound(kind)
    sock.set_multicast_interface("127.0.0.1" if kind == "udp4" else "::%lo")
    err = _raises("EINVAL", sock.set_multicast_interface, "not-an-ip")
    assert err.syscall == "setMulticastInterface"
    with pytest.raises(TypeError) as info:
        sock.set_multicast_interface(5)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"


@pytest.mark.parametrize("group", ["unicast", "not-an-ip"])
@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "bound"])
async def test_add_membership_with_bad_group_is_einval(sockets, kind, group, bound):
    sock = await sockets.bound(kind) if bound else sockets(kind)
    address = LOOPBACK[kind] if group == "unicast" else group
    err = _raises("EINVAL", sock.add_membership, address)
    assert err.syscall == "addMembership"
    assert err.errno == errno.EINVAL
    assert str(err) == "addMembership EINVAL"
    assert sock.get_memberships() == []


async def test_source_specific_membership_with_bad_group_is_einval(sockets, kind):
    sock = await sockets.bound(kind)
    err = _raises("EINVAL", sock.add_source_specific_membership, LOOPBACK[kind], LOOPBACK[kind])
    assert err.syscall == "addSourceSpecificMembership"
    err = _raises("EINVAL", sock.drop_source_specific_membership, LOOPBACK[kind], "not-an-ip")
    assert err.syscall == "dropSourceSpecificMembership"
    assert sock.get_memberships() == []


async def test_drop_membership_of_group_not_joined(sockets, kind):
    sock = await sockets.bound(kind)
    err = _raises("EADDRNOTAVAIL", sock.drop_membership, GROUP[kind], LOCAL_IFACE[kind])
    assert err.syscall == "dropMembership"
    assert err.errno == errno.EADDRNOTAVAIL
    assert str(err) == "dropMembership EADDRNOTAVAIL"
    assert sock.get_memberships() == []


@pytest.mark.parametrize("call", ["add_membership", "drop_membership"])
async def test_membership_without_group_is_missing_args(sockets, kind, call):
    sock = sockets(kind)
    for args in ((), (None,)):
        with pytest.raises(TypeError) as info:
            getattr(sock, call)(*args)
        assert info.value.code == "ERR_MISSING_ARGS"
    assert sock.fileno() == -1


async def test_buffer_sizes_report_double(sockets, kind):
    sock = await sockets.bound(kind)
    sock.set_recv_buffer_size(65536)
    sock.set_send_buffer_size(32768)
    assert sock.get_recv_buffer_size() == 131072
    assert sock.get_send_buffer_size() == 65536


async def test_buffer_sizes_from_socket_options(sockets, kind):
    sock = await sockets.bound(kind, recv_buffer_size=40000, send_buffer_size=50000)
    assert sock.get_recv_buffer_size() == 80000
    assert sock.get_send_buffer_size() == 100000


@pytest.mark.parametrize("bad", [0, -1, 1.5, "4096", None], ids=repr)
async def test_bad_buffer_size(sockets, kind, bad):
    sock = await sockets.bound(kind)
    before = sock.get_recv_buffer_size()
    for setter in (sock.set_recv_buffer_size, sock.set_send_buffer_size):
        with pytest.raises(TypeError) as info:
            setter(bad)
        assert info.value.code == "ERR_SOCKET_BAD_BUFFER_SIZE"
        assert str(info.value) == "Buffer size must be a positive integer"
    assert sock.get_recv_buffer_size() == before
    for field in ("recv_buffer_size", "send_buffer_size"):
        with pytest.raises(TypeError) as info:
            dgram.create_socket({"type": kind, field: bad if bad is not None else "x"})
        assert info.value.code == "ERR_SOCKET_BAD_BUFFER_SIZE"


# --------------------------------------------------------------------------- udpscope extras


@pytest.mark.parametrize(
    "getter", ["get_ttl", "get_multicast_ttl", "get_multicast_loopback", "get_broadcast"]
)
async def test_read_back_getters_before_bind_are_ebadf(sockets, kind, getter):
    sock = sockets(kind)
    _raises("EBADF", getattr(sock, getter))
    assert sock.fileno() == -1


async def test_set_multicast_all_before_bind_is_ebadf_then_returns_flag(sockets, kind):
    sock = sockets(kind)
    _raises("EBADF", sock.set_multicast_all, False)
    assert sock.fileno() == -1
    sock = await sockets.bound(kind)
    assert sock.set_multicast_all(False) is False
    assert sock.set_multicast_all(True) is True


async def test_state_type_and_fileno_follow_the_lifecycle(sockets, kind):
    peer = await sockets.bound(kind)
    sock = sockets(kind)
    assert sock.type == kind
    assert (sock.state, sock.fileno()) == ("unbound", -1)
    sock.bind(0, LOOPBACK[kind])
    assert sock.state == "binding"
    await _event(sock, "listening")
    assert sock.state == "bound"
    assert sock.fileno() >= 0
    sock.connect(peer.address().port, LOOPBACK[kind])
    await _event(sock, "connect")
    assert sock.state == "connected"
    sock.disconnect()
    assert sock.state == "bound"
    sock.close()
    assert sock.state == "closed"


async def _event(sock, name):
    from tests.support import next_event

    return await next_event(sock, name)


async def test_send_queue_is_empty_when_idle(sockets, kind):
    sock = sockets(kind)
    assert (sock.get_send_queue_size(), sock.get_send_queue_count()) == (0, 0)
    sock = await sockets.bound(kind)
    assert (sock.get_send_queue_size(), sock.get_send_queue_count()) == (0, 0)


async def test_memberships_and_kernel_drops_start_empty(sockets, kind):
    sock = await sockets.bound(kind)
    assert sock.get_memberships() == []
    assert sock.get_kernel_drops() == 0


@pytest.mark.parametrize("interface", ["::1", "::", "fe80::1%lo"])
async def test_an_ipv6_multicast_interface_on_udp4_is_enoprotoopt(sockets, interface):
    """libuv parses an IPv6 interface address for any socket and the IPv4 kernel refuses the
    IPv6 option: Node says ENOPROTOOPT, so does udpscope (text that is no address: EINVAL)."""
    sock = await sockets.bound("udp4")
    with pytest.raises(dgram.DgramError) as info:
        sock.set_multicast_interface(interface)
    assert (info.value.code, info.value.syscall) == ("ENOPROTOOPT", "setMulticastInterface")
    with pytest.raises(dgram.DgramError) as info:
        sock.set_multicast_interface("bogus")
    assert info.value.code == "EINVAL"


async def test_an_ipv4_multicast_interface_on_dual_stack_udp6_is_set(sockets):
    """Node (libuv) sets IP_MULTICAST_IF for an IPv4 address on a udp6 socket: its IPv4
    multicast then leaves from that interface."""
    sock = await sockets.bound("udp6", "::")
    sock.set_multicast_interface("127.0.0.1")
    with socket.fromfd(sock.fileno(), socket.AF_INET6, socket.SOCK_DGRAM) as view:
        chosen = view.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 4)
    assert chosen == socket.inet_aton("127.0.0.1")

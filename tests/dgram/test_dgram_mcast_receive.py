"""Engine multicast and broadcast behaviour on real kernels, inside throw-away namespaces.

Each "doesn't receive" claim is proved with a sentinel: a datagram sent after the one that must
not arrive, along the same path, which must be the first thing the socket sees.
"""

import time

import pytest

from tests.dgram.mcast_support import close_all, joined_pair, next_message, open_socket, send
from tests.netns import inside
from tests.waiting import wait_for
from udpscope import dgram
from udpscope.net.interfaces import resolve_interface
from udpscope.probe import decode_probe, encode_probe

pytestmark = pytest.mark.netns


def iface_arg(ns: str, spec: str, family: str) -> str:
    with inside(ns):
        return resolve_interface(spec, family).dgram_arg


async def test_ipv4_join_receives_with_metadata(veth_pair):
    a, b = veth_pair.a, veth_pair.b
    group = "239.10.0.1"
    rx, tx = await joined_pair(veth_pair, group, rx_iface=iface_arg(b.ns, "veth0", "udp4"),
                               tx_iface=iface_arg(a.ns, "veth0", "udp4"))
    try:
        it = rx.messages()
        t0 = time.time()
        await send(tx, encode_probe(1, t0, size=100), rx.address().port, group)
        msg, rinfo = await next_message(it)
        assert decode_probe(msg).seq == 1 and len(msg) == rinfo.size == 100
        assert (rinfo.address, rinfo.family, rinfo.port) == (a.v4, "IPv4", tx.address().port)
        assert rinfo.destination == group
        assert rinfo.timestamp is not None and t0 - 1 < rinfo.timestamp < time.time() + 1
    finally:
        close_all(rx, tx)


async def test_ipv6_join_receives(veth_pair):
    a, b = veth_pair.a, veth_pair.b
    group = "ff15::10:1"
    rx, tx = await joined_pair(veth_pair, group, "udp6",
                               rx_iface=iface_arg(b.ns, "veth0", "udp6"))   # "::%veth0"
    try:
        it = rx.messages()
        await send(tx, b"v6 hello", rx.address().port, group)
        msg, rinfo = await next_message(it)
        assert msg == b"v6 hello"
        assert (rinfo.address, rinfo.family) == (a.v6, "IPv6")
        assert rinfo.destination == group
    finally:
        close_all(rx, tx)


@pytest.mark.parametrize("how", ["option", "method"])
@pytest.mark.parametrize("multicast_all", [False, True])
async def test_socket_that_did_not_join_and_isolation(veth_pair, multicast_all, how):
    """Another socket on the same port joined G; ours joined only G2. With isolation on we must
    not see G (G2, sent after it, comes first); with it off we see G too."""
    a, b = veth_pair.a, veth_pair.b
    g, g2 = "239.20.0.1", "239.20.0.2"
    joiner = await open_socket(b.ns, reuse_addr=True)
    port = joiner.address().port
    opts = {"multicast_all": multicast_all} if how == "option" else {}
    other = await open_socket(b.ns, port=port, reuse_addr=True, **opts)
    tx = await open_socket(a.ns)
    try:
        if how == "method":
            assert other.set_multicast_all(multicast_all) is multicast_all
        assert other.get_multicast_all() is multicast_all
        with inside(b.ns):
            joiner.add_membership(g, b.v4)
            other.add_membership(g2, b.v4)
        with inside(a.ns):
            tx.set_multicast_interface(a.v4)
        j_it, o_it = joiner.messages(), other.messages()
        await send(tx, b"to G", port, g)
        await send(tx, b"to G2", port, g2)
        assert (await next_message(j_it))[0] == b"to G"   # G really was delivered on this host
        msg, rinfo = await next_message(o_it)
        if multicast_all:
            assert (msg, rinfo.destination) == (b"to G", g)
            assert (await next_message(o_it))[0] == b"to G2"
        else:
            assert (msg, rinfo.destination) == (b"to G2", g2)
    finally:
        close_all(joiner, other, tx)


@pytest.mark.parametrize("loopback", [False, True])
async def test_multicast_loopback_controls_the_local_copy(looped_ns, loopback):
    """veth0 and veth1 are both ours: a socket joined on veth1 gets the copy that crossed the
    wire (proof it was sent); one joined on veth0 (the sending interface) gets only the local
    loopback copy, which must be absent when loopback is off. Isolation keeps each receiver to
    the interface it joined on."""
    ns, e0, e1 = looped_ns.ns, looped_ns.end0, looped_ns.end1
    group = "239.30.0.1"
    r0 = await open_socket(ns, reuse_addr=True, multicast_all=False)
    port = r0.address().port
    r1 = await open_socket(ns, port=port, reuse_addr=True, multicast_all=False)
    tx = await open_socket(ns, address=e0.v4)
    sentinel = await open_socket(ns, address=e0.v4)   # loopback on (default)
    try:
        with inside(ns):
            r0.add_membership(group, e0.v4)
            r1.add_membership(group, e1.v4)
            tx.set_multicast_interface(e0.v4)
            sentinel.set_multicast_interface(e0.v4)
        assert tx.set_multicast_loopback(loopback) is loopback
        assert tx.get_multicast_loopback() is loopback
        it0, it1 = r0.messages(), r1.messages()
        await send(tx, b"probe", port, group)
        await send(sentinel, b"sentinel", port, group)
        assert (await next_message(it1))[0] == b"probe"   # it was sent: the wire copy arrived
        local, _ = await next_message(it0)
        assert local == (b"probe" if loopback else b"sentinel")
    finally:
        close_all(r0, r1, tx, sentinel)


@pytest.mark.parametrize("ttl", [None, 1, 7, 255])
async def test_received_ttl_is_the_senders_multicast_ttl(veth_pair, ttl):
    group = "239.40.0.1"
    rx, tx = await joined_pair(veth_pair, group)
    try:
        if ttl is not None:
            assert tx.set_multicast_ttl(ttl) == ttl
        expected = 1 if ttl is None else ttl   # the multicast default is 1
        assert tx.get_multicast_ttl() == expected
        it = rx.messages()
        await send(tx, b"ttl", rx.address().port, group)
        _, rinfo = await next_message(it)
        assert rinfo.ttl == expected
    finally:
        close_all(rx, tx)


async def test_ipv6_hop_limit_is_reported(veth_pair):
    group = "ff15::40:1"
    rx, tx = await joined_pair(veth_pair, group, "udp6")
    try:
        tx.set_multicast_ttl(9)
        it = rx.messages()
        await send(tx, b"hops", rx.address().port, group)
        assert (await next_message(it))[1].ttl == 9
    finally:
        close_all(rx, tx)


@pytest.mark.parametrize("family", ["udp4", "udp6"])
async def test_source_specific_join_receives_only_from_its_source(netns_factory, family):
    pair = netns_factory.veth_pair(extra_a=(3,))
    a, b = pair.a, pair.b
    v4 = family == "udp4"
    good_src = a.v4 if v4 else a.v6
    bad_src = a.v4.rsplit(".", 1)[0] + ".3" if v4 else a.v6.rsplit(":", 1)[0] + ":3"
    group = "232.50.0.1" if v4 else "ff35::50:1"
    iface_b = b.v4 if v4 else "::%veth0"
    any_addr = "0.0.0.0" if v4 else "::"
    ssm = await open_socket(b.ns, family, address=any_addr, reuse_addr=True, multicast_all=False)
    port = ssm.address().port
    asm = await open_socket(b.ns, family, address=any_addr, port=port, reuse_addr=True,
                            multicast_all=False)
    good = await open_socket(a.ns, family, address=good_src)
    bad = await open_socket(a.ns, family, address=bad_src)
    try:
        with inside(b.ns):
            ssm.add_source_specific_membership(good_src, group, iface_b)
            asm.add_membership(group, iface_b)
        assert ssm.get_memberships() == [(group, good_src, iface_b)]
        with inside(a.ns):
            for s in (good, bad):
                s.set_multicast_interface(a.v4 if v4 else "::%veth0")
        ssm_it, asm_it = ssm.messages(), asm.messages()
        await send(bad, b"wrong source", port, group)
        await send(good, b"right source", port, group)
        # control: the any-source member sees the wrong source first, so it was delivered
        m1, r1 = await next_message(asm_it)
        assert (m1, r1.address) == (b"wrong source", bad_src)
        msg, rinfo = await next_message(ssm_it)
        assert (msg, rinfo.address, rinfo.destination) == (b"right source", good_src, group)
    finally:
        close_all(ssm, asm, good, bad)


async def test_broadcast_needs_set_broadcast(veth_pair):
    a, b = veth_pair.a, veth_pair.b
    rx = await open_socket(b.ns)
    tx = await open_socket(a.ns, address=a.v4)
    try:
        port = rx.address().port
        it = rx.messages()
        assert tx.get_broadcast() is False
        with pytest.raises(dgram.DgramError) as info:
            await send(tx, b"refused", port, veth_pair.broadcast)
        assert (info.value.code, info.value.syscall) == ("EACCES", "send")
        tx.set_broadcast(True)
        assert tx.get_broadcast() is True
        await send(tx, b"allowed", port, veth_pair.broadcast)
        msg, rinfo = await next_message(it)
        assert (msg, rinfo.address, rinfo.destination) == (b"allowed", a.v4, veth_pair.broadcast)
    finally:
        close_all(rx, tx)


async def test_broadcast_eacces_goes_to_the_callback(veth_pair):
    import asyncio

    a = veth_pair.a
    tx = await open_socket(a.ns, address=a.v4)
    try:
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        tx.send(b"x", 9, veth_pair.broadcast, lambda err, n: done.set_result((err, n)))
        err, n = await wait_for(done, 5, what="the send callback")
        assert n is None and err.code == "EACCES" and err.address == veth_pair.broadcast
        assert err.port == 9
    finally:
        close_all(tx)

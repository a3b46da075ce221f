"""Contract tests: receiving (one message per datagram, RemoteInfo, dual stack, metadata extras)."""

from __future__ import annotations

import time

import pytest

from tests.dgram.dgram_helpers import FAMILY, HAS_IPV6, LOOPBACK, raw_socket
from tests.support import EventRecorder
from tests.waiting import loop_turns
from udpscope import dgram


async def test_one_message_per_datagram_with_remote_info(sockets, kind):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = await sockets.bound(kind)
    payloads = [b"a", b"", b"bc" * 100, b"\x00\xff", b"last"]
    for payload in payloads:
        sender.send(payload, receiver.address().port, LOOPBACK[kind])
    await got.wait("message", len(payloads))
    await loop_turns()
    assert got.count("message") == len(payloads)
    for (msg, rinfo), payload in zip(got.args_of("message"), payloads, strict=True):
        assert type(msg) is bytes and msg == payload
        assert isinstance(rinfo, dgram.RemoteInfo)
        assert rinfo.address == LOOPBACK[kind]
        assert rinfo.family == FAMILY[kind]
        assert rinfo.port == sender.address().port
        assert rinfo.size == len(msg)
        assert tuple(rinfo[:4]) == (rinfo.address, rinfo.family, rinfo.port, rinfo.size)


def test_remote_info_is_a_named_tuple_with_node_fields_first():
    fields = dgram.RemoteInfo._fields
    assert fields[:4] == ("address", "family", "port", "size")
    assert set(fields) >= {"destination", "interface", "ttl", "timestamp"}
    info = dgram.RemoteInfo("127.0.0.1", "IPv4", 9, 3)
    assert (info.destination, info.interface, info.ttl, info.timestamp) == (None,) * 4
    assert dgram.AddressInfo._fields == ("address", "family", "port")


async def test_create_socket_callback_is_a_message_listener(sockets, kind):
    seen: list[tuple] = []
    receiver = sockets(kind, lambda msg, rinfo: seen.append((msg, rinfo.size)))
    assert receiver.listener_count("message") == 1
    rec = EventRecorder(receiver)
    receiver.bind(0, LOOPBACK[kind])
    await rec.wait("listening")
    with raw_socket(kind) as peer:
        peer.sendto(b"hi", (LOOPBACK[kind], receiver.address().port))
    await rec.wait("message")
    assert seen == [(b"hi", 2)]


async def test_message_listeners_run_in_order_added(sockets, kind):
    receiver = await sockets.bound(kind)
    order: list[str] = []
    receiver.on("message", lambda m, r: order.append("first"))
    receiver.once("message", lambda m, r: order.append("once"))
    receiver.on("message", lambda m, r: order.append("third"))
    rec = EventRecorder(receiver)
    with raw_socket(kind) as peer:
        peer.sendto(b"1", (LOOPBACK[kind], receiver.address().port))
        peer.sendto(b"2", (LOOPBACK[kind], receiver.address().port))
    await rec.wait("message", 2)
    assert order == ["first", "once", "third", "first", "third"]


@pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback")
async def test_udp6_on_wildcard_receives_udp4_senders_as_mapped(sockets):
    receiver = sockets("udp6")
    got = EventRecorder(receiver)
    receiver.bind(0)  # "::", dual stack
    await got.wait("listening")
    assert receiver.address().address == "::"
    sender = await sockets.bound("udp4")
    sender.send(b"from v4", receiver.address().port, "127.0.0.1")
    msg, rinfo = await got.wait("message")
    assert msg == b"from v4"
    assert rinfo.address == "::ffff:127.0.0.1"
    assert rinfo.family == "IPv6"
    assert rinfo.port == sender.address().port


@pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback")
async def test_ipv6_only_socket_does_not_receive_udp4(sockets):
    receiver = sockets("udp6", ipv6_only=True)
    got = EventRecorder(receiver)
    receiver.bind(0)
    await got.wait("listening")
    port = receiver.address().port
    with raw_socket("udp4") as v4:
        v4.sendto(b"v4", ("127.0.0.1", port))
    with raw_socket("udp6") as v6:
        v6.sendto(b"v6", ("::1", port))
    await got.wait("message")
    await loop_turns()
    assert [args[0] for args in got.args_of("message")] == [b"v6"]


async def test_metadata_fields_on_remote_info(sockets, kind):
    # udpscope extra: destination address, ingress interface, TTL / hop limit, kernel time.
    receiver = await sockets.bound(kind, metadata=True)
    got = EventRecorder(receiver)
    sender = await sockets.bound(kind)
    sender.set_ttl(7)
    before = time.time()
    sender.send(b"meta", receiver.address().port, LOOPBACK[kind])
    _, rinfo = await got.wait("message")
    after = time.time()
    assert rinfo.destination == LOOPBACK[kind]
    assert rinfo.interface == "lo"
    assert rinfo.ttl == 7
    assert rinfo.timestamp is not None
    assert before - 1 <= rinfo.timestamp <= after + 1


async def test_kernel_drops_are_counted(sockets, kind):
    # udpscope extra: datagrams the kernel dropped because the receive buffer was full. The
    # burst lands while the engine cannot read (no await in between), so a tiny buffer overflows.
    total = 200
    receiver = await sockets.bound(kind, recv_buffer_size=2048)
    got = EventRecorder(receiver)
    port = receiver.address().port
    with raw_socket(kind) as peer:
        for i in range(total):
            peer.sendto(b"%04d" % i + b"." * 96, (LOOPBACK[kind], port))
        await got.wait("message")
        await loop_turns(10)  # let the engine drain what the kernel kept
        kept = got.count("message")
        assert 0 < kept < total
        peer.sendto(b"sentinel", (LOOPBACK[kind], port))  # a later datagram: drops are "seen"
        await got.wait("message", kept + 1)
    assert got.args_of("message")[-1][0] == b"sentinel"
    assert receiver.get_kernel_drops() == total - kept

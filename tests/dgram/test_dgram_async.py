"""Contract tests: the Pythonic extras (async with, bind_async, send_async, messages())."""

from __future__ import annotations

import asyncio
import errno

import pytest

from tests.dgram.dgram_helpers import FAMILY, LOOPBACK, raw_socket
from tests.support import EventRecorder
from tests.waiting import loop_turns, wait_for
from udpscope import dgram


async def test_async_with_closes_on_exit(kind):
    async with dgram.create_socket(kind) as sock:
        rec = EventRecorder(sock)
        info = await sock.bind_async(0, LOOPBACK[kind])
        assert sock.state == "bound"
    assert sock.state == "closed"
    await rec.wait("close")
    await loop_turns()
    assert rec.names == ["listening", "close"]
    assert info.port != 0


async def test_async_with_closes_when_the_body_raises(kind):
    with pytest.raises(RuntimeError, match="boom"):
        async with dgram.create_socket(kind) as sock:
            rec = EventRecorder(sock)
            await sock.bind_async(0, LOOPBACK[kind])
            raise RuntimeError("boom")
    assert sock.state == "closed"
    await rec.wait("close")


async def test_async_with_tolerates_a_socket_closed_inside(kind):
    async with dgram.create_socket(kind) as sock:
        rec = EventRecorder(sock)
        sock.close()
    await rec.wait("close")
    await loop_turns()
    assert rec.count("close") == 1


async def test_bind_async_returns_the_address(sockets, kind):
    sock = sockets(kind)
    rec = EventRecorder(sock)
    info = await wait_for(sock.bind_async(0, LOOPBACK[kind]))
    assert isinstance(info, dgram.AddressInfo)
    assert (info.address, info.family) == (LOOPBACK[kind], FAMILY[kind])
    assert info == sock.address()
    assert rec.names == ["listening"]


async def test_bind_async_defaults_to_all_interfaces(sockets, kind):
    sock = sockets(kind)
    info = await wait_for(sock.bind_async())
    assert info.address == {"udp4": "0.0.0.0", "udp6": "::"}[kind]
    assert info.port != 0


async def test_bind_async_raises_the_bind_error(sockets, kind):
    taken = await sockets.bound(kind)
    sock = sockets(kind)
    with pytest.raises(dgram.DgramError) as info:
        await wait_for(sock.bind_async(taken.address().port, LOOPBACK[kind]))
    assert info.value.code == "EADDRINUSE"
    assert info.value.errno == errno.EADDRINUSE
    # The socket can still be bound, and nothing was left listening on it.
    assert sock.listener_count("listening") == 0
    assert (await wait_for(sock.bind_async(0, LOOPBACK[kind]))).port != 0


async def test_send_async_returns_the_byte_count(sockets, kind):
    receiver = await sockets.bound(kind)
    got = EventRecorder(receiver)
    sender = sockets(kind)
    sent = await wait_for(sender.send_async(b"hello", receiver.address().port, LOOPBACK[kind]))
    assert sent == 5
    assert (await got.wait("message"))[0] == b"hello"
    assert await wait_for(sender.send_async([b"a", "b"], receiver.address().port)) == 2
    assert await wait_for(sender.send_async(b"", receiver.address().port)) == 0


async def test_send_async_raises_kernel_errors(sockets, kind):
    sender = await sockets.bound(kind)
    rec = EventRecorder(sender, ("error",))
    big = {"udp4": 65508, "udp6": 65528}[kind]
    with pytest.raises(dgram.DgramError) as info:
        await wait_for(sender.send_async(b"\0" * big, 9, LOOPBACK[kind]))
    assert info.value.code == "EMSGSIZE"
    assert (info.value.address, info.value.port) == (LOOPBACK[kind], 9)
    await loop_turns()
    assert rec.names == []  # raised, not also emitted


async def test_send_async_raises_lookup_failures(sockets, kind):
    def lookup(hostname, family, callback):
        callback(OSError(errno.ENOENT, "nope"), None, None)

    sender = sockets(kind, lookup=lookup)
    with pytest.raises(dgram.DgramError) as info:
        await wait_for(sender.send_async(b"x", 9, "no-such-host.test"))
    assert info.value.syscall == "getaddrinfo"


async def test_send_async_argument_errors_raise_at_once(sockets, kind):
    sender = sockets(kind)
    with pytest.raises(ValueError) as info:
        await wait_for(sender.send_async(b"x", 0, LOOPBACK[kind]))
    assert info.value.code == "ERR_SOCKET_BAD_PORT"


async def test_messages_iterates_until_close(sockets, kind):
    receiver = await sockets.bound(kind)
    port = receiver.address().port
    received: list[tuple[bytes, int]] = []

    # Like a listener, the iterator sees datagrams that arrive after it exists: create it first.
    iterator = receiver.messages()

    async def consume() -> None:
        async for msg, rinfo in iterator:
            received.append((msg, rinfo.size))
            if len(received) == 3:
                receiver.close()

    with raw_socket(kind) as peer:
        for payload in (b"one", b"", b"three"):
            peer.sendto(payload, (LOOPBACK[kind], port))
    await wait_for(consume())  # ends by itself once the socket closes
    assert received == [(b"one", 3), (b"", 0), (b"three", 5)]


async def test_messages_on_closed_socket_ends_at_once(sockets, kind):
    sock = await sockets.bound(kind)
    sock.close()
    items = [item async for item in sock.messages()]
    assert items == []


async def test_messages_ends_when_closed_while_waiting(sockets, kind):
    sock = await sockets.bound(kind)
    items: list = []

    async def consume() -> None:
        async for item in sock.messages():
            items.append(item)

    task = asyncio.ensure_future(consume())
    await loop_turns()
    assert not task.done()
    sock.close()
    await wait_for(task)
    assert items == []

"""The engine's fast paths (recvmmsg, GSO send batches) and their fallbacks give identical results.

Each path is forced on and off so that a bug in one cannot hide behind the other: datagrams must
arrive individually, byte-exact, in call order, with the right sizes and peers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

import pytest

from tests.waiting import wait_for
from udpscope import dgram
from udpscope.dgram import mmsg, sender
from udpscope.dgram import receiver as engine_io

LOOPBACK = {"udp4": "127.0.0.1", "udp6": "::1"}


@pytest.fixture(params=["recvmmsg", "recvfrom"])
def receive_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "recvmmsg" and not mmsg.available():
        pytest.skip("recvmmsg is not available on this platform")
    monkeypatch.setattr(engine_io, "_use_mmsg", lambda: request.param == "recvmmsg")
    return request.param


@pytest.fixture(params=["gso", "sendto"])
def send_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Force the send path; for "gso", fail the test if no segmented send went out."""
    segmented: list[int] = []
    if request.param == "gso":
        original_segmented = sender.Sender._send_segmented

        def counting(self: sender.Sender, entries, start, end, size, target) -> int:
            status = original_segmented(self, entries, start, end, size, target)
            if status == sender._SENT:
                segmented.append(end - start)
            return status

        monkeypatch.setattr(sender.Sender, "_send_segmented", counting)
        yield request.param
        assert segmented, "no GSO send happened: the fast path is not exercised"
        return
    if request.param == "sendto":
        original = sender.Sender.__init__

        def no_gso(self: sender.Sender, *args: object) -> None:
            original(self, *args)
            self._gso = False

        monkeypatch.setattr(sender.Sender, "__init__", no_gso)
    yield request.param


def _collect(sock: dgram.Socket, count: int) -> tuple[list[tuple], asyncio.Future[None]]:
    """Record `sock`'s messages; the future resolves once `count` have arrived."""
    got: list[tuple] = []
    done = asyncio.get_running_loop().create_future()

    def on_message(msg: bytes, rinfo: dgram.RemoteInfo) -> None:
        got.append((msg, rinfo))
        if len(got) == count and not done.done():
            done.set_result(None)

    sock.on("message", on_message)
    return got, done


@pytest.mark.parametrize("kind", ["udp4", "udp6"])
@pytest.mark.parametrize("metadata", [False, True], ids=["plain", "metadata"])
async def test_burst_arrives_individually_in_order(
    kind: str, metadata: bool, receive_path: str, send_path: str
) -> None:
    """300 sends in one loop turn: equal sizes (one GSO run) then mixed sizes and an empty one."""
    receiver = dgram.create_socket(
        dgram.SocketOptions(kind, recv_buffer_size=1 << 20, metadata=metadata)
    )
    sender_sock = dgram.create_socket(kind)
    try:
        address = await receiver.bind_async(0, LOOPBACK[kind])
        await sender_sock.bind_async(0, LOOPBACK[kind])
        payloads = [f"same-size {i:05d}".encode() for i in range(200)]
        payloads += [bytes([i % 256]) * (i % 37) for i in range(100)]  # includes b""
        got, done = _collect(receiver, len(payloads))
        results: list[tuple] = []
        for payload in payloads:
            sender_sock.send(payload, address.port, LOOPBACK[kind],
                             lambda err, n: results.append((err, n)))
        await wait_for(done, 5, what="every datagram")
        assert [msg for msg, _ in got] == payloads
        assert [rinfo.size for _, rinfo in got] == [len(p) for p in payloads]
        assert {rinfo.port for _, rinfo in got} == {sender_sock.address().port}
        assert {rinfo.family for _, rinfo in got} == {"IPv4" if kind == "udp4" else "IPv6"}
        if metadata:
            assert {rinfo.destination for _, rinfo in got} == {LOOPBACK[kind]}
            assert all(rinfo.ttl is not None and rinfo.timestamp for _, rinfo in got)
        await wait_for(lambda: len(results) == len(payloads), 5, what="every send callback")
        assert results == [(None, len(p)) for p in payloads]
    finally:
        receiver.close()
        sender_sock.close()


async def test_connected_burst_uses_the_same_path(send_path: str) -> None:
    receiver = dgram.create_socket("udp4")
    client = dgram.create_socket("udp4")
    try:
        address = await receiver.bind_async(0, "127.0.0.1")
        connected = asyncio.get_running_loop().create_future()
        client.connect(address.port, "127.0.0.1", lambda: connected.set_result(None))
        await wait_for(connected, 5, what="the connect callback")
        payloads = [i.to_bytes(4, "big") for i in range(150)]
        got, done = _collect(receiver, len(payloads))
        for payload in payloads:
            client.send(payload)
        await wait_for(done, 5, what="every datagram")
        assert [msg for msg, _ in got] == payloads
    finally:
        receiver.close()
        client.close()


async def test_oversized_datagram_in_a_run_fails_alone(send_path: str) -> None:
    """EMSGSIZE belongs to the one datagram that is too big; its neighbours still arrive."""
    receiver = dgram.create_socket(dgram.SocketOptions("udp4", recv_buffer_size=1 << 20))
    client = dgram.create_socket("udp4")
    try:
        address = await receiver.bind_async(0, "127.0.0.1")
        await client.bind_async(0, "127.0.0.1")
        got, done = _collect(receiver, 4)
        results: list[tuple] = []
        for payload in (b"a", b"b", bytes(65508), b"c", b"d"):
            client.send(payload, address.port, "127.0.0.1", lambda e, n: results.append((e, n)))
        await wait_for(done, 5, what="every datagram")
        await wait_for(lambda: len(results) == 5, 5, what="every send callback")
        assert [msg for msg, _ in got] == [b"a", b"b", b"c", b"d"]
        assert results[2][0].code == "EMSGSIZE" and results[2][1] is None
        assert [r for i, r in enumerate(results) if i != 2] == [(None, 1)] * 4
    finally:
        receiver.close()
        client.close()


async def test_send_then_close_in_the_same_turn_still_sends() -> None:
    """The outbox is flushed by close(): a datagram sent before close() leaves."""
    receiver = dgram.create_socket("udp4")
    client = dgram.create_socket("udp4")
    try:
        address = await receiver.bind_async(0, "127.0.0.1")
        await client.bind_async(0, "127.0.0.1")
        got, done = _collect(receiver, 1)
        client.send(b"last words", address.port, "127.0.0.1")
        client.close()
        await wait_for(done, 5, what="every datagram")
        assert got[0][0] == b"last words"
    finally:
        receiver.close()


async def test_option_set_after_send_does_not_apply_to_it() -> None:
    """A TTL set after send() must not change the datagram already sent (the outbox is flushed)."""
    receiver = dgram.create_socket(dgram.SocketOptions("udp4", metadata=True))
    client = dgram.create_socket("udp4")
    try:
        address = await receiver.bind_async(0, "127.0.0.1")
        await client.bind_async(0, "127.0.0.1")
        got, done = _collect(receiver, 2)
        client.set_ttl(7)
        client.send(b"first", address.port, "127.0.0.1")
        client.set_ttl(9)
        client.send(b"second", address.port, "127.0.0.1")
        await wait_for(done, 5, what="every datagram")
        assert [(m, r.ttl) for m, r in got] == [(b"first", 7), (b"second", 9)]
    finally:
        receiver.close()
        client.close()


def test_gso_constants_match_linux() -> None:
    if not hasattr(socket, "SOL_UDP"):
        pytest.skip("no SOL_UDP here")
    assert sender.SOL_UDP == socket.SOL_UDP
    if hasattr(socket, "UDP_SEGMENT"):
        assert sender.UDP_SEGMENT == socket.UDP_SEGMENT


@pytest.mark.parametrize("family,address", [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_compiled_control_decoder_agrees_with_the_cmsg_walk(family: int, address: str) -> None:
    """The cached-Struct decoder must give what the generic walk gives, datagram by datagram."""
    if not mmsg.available():
        pytest.skip("recvmmsg is not available on this platform")
    from udpscope.dgram import cmsg
    from udpscope.dgram.ifnames import InterfaceNames

    receiver = socket.socket(family, socket.SOCK_DGRAM)
    sender_sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        for level, option in [(socket.SOL_SOCKET, cmsg.SO_TIMESTAMPNS),
                              (socket.SOL_SOCKET, cmsg.SO_RXQ_OVFL),
                              (socket.IPPROTO_IP, cmsg.IP_PKTINFO),
                              (socket.IPPROTO_IP, cmsg.IP_RECVTTL),
                              (socket.IPPROTO_IPV6, cmsg.IPV6_RECVPKTINFO),
                              (socket.IPPROTO_IPV6, cmsg.IPV6_RECVHOPLIMIT)]:
            with contextlib.suppress(OSError):
                receiver.setsockopt(level, option, 1)
        receiver.bind((address, 0))
        receiver.setblocking(False)
        sender_sock.connect(receiver.getsockname()[:2])
        sender_sock.setsockopt(
            socket.IPPROTO_IP if family == socket.AF_INET else socket.IPPROTO_IPV6,
            socket.IP_TTL if family == socket.AF_INET else socket.IPV6_UNICAST_HOPS, 42)
        for i in range(20):
            sender_sock.send(bytes(i))
        batch = mmsg.recv_batch()
        batch.prepare(True, family == socket.AF_INET6)
        count = batch.receive(receiver.fileno())
        assert count == 20
        names = InterfaceNames(receiver.fileno())
        decoder = cmsg.ControlDecoder()
        lengths = batch.control_lengths()
        for i in range(count):
            offset = i * mmsg.CONTROL_SIZE
            walked = cmsg.parse_ancillary(
                cmsg.split_cmsgs(batch.control_view, offset, lengths[i]), names)
            fast = decoder.decode(batch.control_view, offset, lengths[i], names)
            assert fast == walked
            assert fast[0] == address and fast[2] == 42 and fast[3] is not None
        batch.set_control(True, count)
    finally:
        receiver.close()
        sender_sock.close()


def _force_rcvbuf(sock: socket.socket, size: int) -> None:
    """A receive buffer of `size`: SO_RCVBUFFORCE (root) passes net.core.rmem_max."""
    force = getattr(socket, "SO_RCVBUFFORCE", 33)
    try:
        sock.setsockopt(socket.SOL_SOCKET, force, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


async def _batches_per_wake(budget: float | None, queued: int) -> list[list[int]]:
    """Queue `queued` datagrams before the reader can run, then record, per reader wake-up,
    the sizes of the batches it delivered (a wake ends when the loop gets to a callback
    scheduled from its first batch: asyncio and uvloop both run those before the next I/O)."""
    loop = asyncio.get_running_loop()
    receiver = dgram.create_socket("udp4")
    wakes: list[list[int]] = []
    in_wake = False

    def end_wake() -> None:
        nonlocal in_wake
        in_wake = False

    def on_batch(batch: dgram.Batch) -> None:
        nonlocal in_wake
        if not in_wake:
            in_wake = True
            wakes.append([])
            loop.call_soon(end_wake)
        wakes[-1].append(len(batch))

    old = dgram.set_drain_budget(budget)
    try:
        address = await receiver.bind_async(0, "127.0.0.1")
        with socket.socket(fileno=os.dup(receiver.fileno())) as raw:
            _force_rcvbuf(raw, 8 << 20)
        receiver.on("batch", on_batch)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for i in range(queued):  # no await in between: the reader cannot run yet
                tx.sendto(b"%d" % i, ("127.0.0.1", address.port))
        await wait_for(lambda: sum(map(sum, wakes)) >= queued, 10,
                       what=lambda: f"{queued} datagrams (got {sum(map(sum, wakes))}, "
                                    f"kernel drops {receiver.get_kernel_drops()})")
    finally:
        dgram.set_drain_budget(old)
        receiver.close()
    return wakes


async def test_a_smaller_drain_budget_drains_less_per_wake_up(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What `set_drain_budget` is for: with no budget each reader wake-up delivers one
    recvmmsg batch and gives the loop back; with a generous one a single wake-up drains
    everything queued. Counted per wake-up, not timed."""
    if not mmsg.available():
        pytest.skip("recvmmsg is not available on this platform")
    monkeypatch.setattr(engine_io, "_use_mmsg", lambda: True)
    queued = 3 * mmsg.SLOTS
    short = await _batches_per_wake(0.0, queued)
    assert short == [[mmsg.SLOTS]] * 3, short
    long = await _batches_per_wake(30.0, queued)
    assert long == [[mmsg.SLOTS] * 3], long


def test_drain_budget_hook_sets_and_restores() -> None:
    old = dgram.set_drain_budget(0.0003)
    try:
        assert engine_io._drain_budget == 0.0003
        assert dgram.set_drain_budget(None) == 0.0003
        assert engine_io._drain_budget == engine_io.DRAIN_SECONDS
    finally:
        dgram.set_drain_budget(old)

"""`batch` listeners: whole drained batches, decoded lazily, equal to what `message` listeners get.

Run on both receive paths (recvmmsg and the portable recvfrom/recvmsg fallback), udp4 and udp6,
with and without per-datagram metadata.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import struct
import types
import weakref
from collections.abc import Iterator

import pytest

from tests.waiting import wait_for
from udpscope import dgram
from udpscope.dgram import mmsg
from udpscope.dgram import receiver as engine_io
from udpscope.dgram.batch import Batch

LOOPBACK = {"udp4": "127.0.0.1", "udp6": "::1"}


@pytest.fixture(params=["recvmmsg", "fallback"])
def receive_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "recvmmsg" and not mmsg.available():
        pytest.skip("recvmmsg is not available on this platform")
    monkeypatch.setattr(engine_io, "_use_mmsg", lambda: request.param == "recvmmsg")
    return request.param


async def _pair(kind: str, metadata: bool) -> tuple[dgram.Socket, dgram.Socket, int]:
    receiver = dgram.create_socket(
        dgram.SocketOptions(kind, recv_buffer_size=1 << 20, metadata=metadata)
    )
    sender = dgram.create_socket(kind)
    address = await receiver.bind_async(0, LOOPBACK[kind])
    await sender.bind_async(0, LOOPBACK[kind])
    return receiver, sender, address.port


@pytest.mark.parametrize("kind", ["udp4", "udp6"])
@pytest.mark.parametrize("metadata", [False, True], ids=["plain", "metadata"])
async def test_batches_carry_exactly_what_message_listeners_get(
    kind: str, metadata: bool, receive_path: str
) -> None:
    receiver, sender, port = await _pair(kind, metadata)
    batches: list[Batch] = []
    messages: list[tuple] = []
    order: list[str] = []
    receiver.on("batch", lambda b: (batches.append(b), order.append("batch")))
    receiver.on("message", lambda m, r: (messages.append((m, r)), order.append("message")))
    try:
        payloads = [b"%05d" % i + b"\x00\xff" * (i % 5) for i in range(300)] + [b""]
        for payload in payloads:
            sender.send(payload, port, LOOPBACK[kind])
        await wait_for(lambda: len(messages) == len(payloads), 5, what="every message")
        flat = [pair for batch in batches for pair in batch]
        assert flat == messages  # same payloads, same RemoteInfo (incl. metadata), same order
        assert [m for m, _ in flat] == payloads
        assert sum(len(b) for b in batches) == len(payloads)
        assert all(len(b) >= 1 for b in batches)
        # Each batch is announced before its datagrams go to `message` listeners.
        assert order[0] == "batch" and order.count("batch") == len(batches)
        for batch in batches:
            assert batch.total_bytes() == sum(map(len, batch.payloads))
            assert batch[-1] == (batch.payloads[-1], batch.rinfo(len(batch) - 1))
            assert batch[0:2] == [batch[0], batch[1]][: len(batch)]
            expected = {LOOPBACK[kind]} if metadata else {None}
            assert batch.destination_set() == expected
            assert batch.interface_set() == ({"lo"} if metadata else {None})
            assert batch.interface_set() == {r.interface for _, r in batch}
        if metadata:
            assert all(r.interface and r.ttl and r.timestamp for _, r in flat)
    finally:
        receiver.close()
        sender.close()


async def test_a_batch_stays_valid_after_more_reads_and_close(receive_path: str) -> None:
    """Batches own their bytes: later reads reuse the receive buffers, close drops the socket."""
    receiver, sender, port = await _pair("udp4", True)
    batches: list[Batch] = []
    receiver.on("batch", batches.append)
    try:
        for i in range(100):
            sender.send(b"first %d" % i, port, "127.0.0.1")
        await wait_for(lambda: sum(map(len, batches)) == 100, 5, what="first round")
        first = list(batches)
        for i in range(100):
            sender.send(b"second %d" % i, port, "127.0.0.1")
        await wait_for(lambda: sum(map(len, batches)) == 200, 5, what="second round")
    finally:
        receiver.close()
        sender.close()
    # Decoded only now, after the buffers were reused and the socket closed.
    got = [pair for batch in first for pair in batch]
    assert [m for m, _ in got] == [b"first %d" % i for i in range(100)]
    assert {(r.destination, r.interface) for _, r in got} == {("127.0.0.1", "lo")}


def _reachable(root: object) -> Iterator[object]:
    """Objects reachable from `root` through containers, instances and bound methods (not
    through classes, modules or plain functions, which reach everything)."""
    seen = {id(root)}
    todo = [root]
    while todo:
        item = todo.pop()
        yield item
        for child in gc.get_referents(item):
            if id(child) in seen or isinstance(
                child, type | types.ModuleType | types.FunctionType | types.BuiltinFunctionType
            ):
                continue
            seen.add(id(child))
            todo.append(child)


@pytest.mark.parametrize("kind", ["udp4", "udp6"])
@pytest.mark.parametrize("metadata", [False, True], ids=["plain", "metadata"])
async def test_a_kept_batch_keeps_nothing_of_the_socket_and_decodes_after_close(
    kind: str, metadata: bool, receive_path: str
) -> None:
    """A batch kept after close holds no receiver, socket or descriptor (they are collected),
    and still decodes every peer and, with metadata, the interface name it had when read."""
    from udpscope.dgram.ifnames import InterfaceNames
    from udpscope.dgram.receiver import Receiver

    receiver, sender, port = await _pair(kind, metadata)
    sender.set_ttl(42)
    kept: list[Batch] = []
    receiver.on("batch", kept.append)
    sizes = [i % 37 for i in range(150)]
    for size in sizes:
        sender.send(b"k" * size, port, LOOPBACK[kind])
    await wait_for(lambda: sum(map(len, kept)) == len(sizes), 5, what="every datagram")
    sender_port = sender.address().port
    sender.close()
    watched = [weakref.ref(receiver), weakref.ref(receiver._receiver)]
    closed = asyncio.get_running_loop().create_future()
    receiver.close(lambda: closed.set_result(None))
    await wait_for(closed, 5, what="the close callback")
    del receiver
    gc.collect()
    assert [ref() for ref in watched] == [None, None], "a kept batch keeps the socket alive"
    for batch in kept:
        held = [o for o in _reachable(batch)
                if isinstance(o, Receiver | dgram.Socket | socket.socket | InterfaceNames)]
        assert held == [], f"a kept batch holds {held!r}"
    got = [pair for batch in kept for pair in batch]  # decoded only now
    assert [len(m) for m, _ in got] == sizes
    assert {(r.address, r.family, r.port) for _, r in got} == {
        (LOOPBACK[kind], "IPv4" if kind == "udp4" else "IPv6", sender_port)}
    assert all(r.size == len(m) for m, r in got)
    if metadata:
        assert {(r.destination, r.interface, r.ttl) for _, r in got} == {
            (LOOPBACK[kind], "lo", 42)}
        assert all(r.timestamp for _, r in got)


async def test_closing_in_a_batch_listener_stops_all_dispatch(receive_path: str) -> None:
    receiver, sender, port = await _pair("udp4", False)
    batches: list[Batch] = []
    messages: list[bytes] = []
    closed = asyncio.get_running_loop().create_future()

    def first_batch_closes(batch: Batch) -> None:
        batches.append(batch)
        receiver.close(lambda: closed.set_result(None))

    receiver.on("batch", first_batch_closes)
    receiver.on("message", lambda m, r: messages.append(m))
    try:
        for i in range(50):
            sender.send(b"%d" % i, port, "127.0.0.1")
        await wait_for(closed, 5, what="the close callback")
        assert len(batches) == 1
        assert messages == []  # no message after close, even for the batch just handed over
    finally:
        sender.close()


async def test_message_only_sockets_do_not_build_batches(
    receive_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The classic path stays as it was: no Batch objects unless someone listens for them."""
    made: list[str] = []
    for name in ("Batch", "RawBatch"):
        original = getattr(engine_io, name)

        def counting(*args: object, _original: type = original, _name: str = name) -> object:
            made.append(_name)
            return _original(*args)

        monkeypatch.setattr(engine_io, name, counting)
    receiver, sender, port = await _pair("udp4", True)
    got: list[bytes] = []
    receiver.on("message", lambda m, r: got.append(m))
    try:
        for i in range(20):
            sender.send(b"%d" % i, port, "127.0.0.1")
        await wait_for(lambda: len(got) == 20, 5, what="20 messages")
        assert made == []
    finally:
        receiver.close()
        sender.close()


async def test_destination_set_sees_every_destination_in_a_batch(receive_path: str) -> None:
    """A wildcard-bound socket hit on two loopback addresses: both show in the batches' sets."""
    receiver = dgram.create_socket(
        dgram.SocketOptions("udp4", recv_buffer_size=1 << 20, metadata=True)
    )
    sender = dgram.create_socket("udp4")
    batches: list[Batch] = []
    receiver.on("batch", batches.append)
    try:
        port = (await receiver.bind_async(0, "0.0.0.0")).port
        for i in range(200):
            sender.send(b"%d" % i, port, "127.0.0.2" if i % 7 == 3 else "127.0.0.1")
        await wait_for(lambda: sum(map(len, batches)) == 200, 5, what="200 datagrams")
        for batch in batches:
            decoded = {rinfo.destination for _, rinfo in batch}
            assert batch.destination_set() == decoded
        assert set().union(*(b.destination_set() for b in batches)) == {"127.0.0.1", "127.0.0.2"}
        assert any(len(b.destination_set()) == 2 for b in batches)  # mixed within one batch
    finally:
        receiver.close()
        sender.close()


async def test_peers_of_a_mixed_batch_stay_apart(receive_path: str) -> None:
    """Two senders interleaved in one batch: each datagram keeps its own peer (port)."""
    receiver, first, port = await _pair("udp4", False)
    second = dgram.create_socket("udp4")
    batches: list[Batch] = []
    receiver.on("batch", batches.append)
    try:
        await second.bind_async(0, "127.0.0.1")
        senders = [first, second]
        for i in range(120):
            senders[i % 2].send(b"%d" % i, port, "127.0.0.1")
        await wait_for(lambda: sum(map(len, batches)) == 120, 5, what="120 datagrams")
        by_payload = {m: r.port for b in batches for m, r in b}
        ports = [first.address().port, second.address().port]
        assert by_payload == {b"%d" % i: ports[i % 2] for i in range(120)}
        assert any(len({r.port for _, r in b}) == 2 for b in batches)
    finally:
        receiver.close()
        first.close()
        second.close()


# ---- batch.timestamps(): every datagram's kernel time in one call --------------------------


@pytest.mark.parametrize("kind", ["udp4", "udp6"])
@pytest.mark.parametrize("metadata", [False, True], ids=["plain", "metadata"])
async def test_timestamps_are_each_datagrams_rinfo_timestamp(
    kind: str, metadata: bool, receive_path: str
) -> None:
    receiver, sender, port = await _pair(kind, metadata)
    batches: list[Batch] = []
    receiver.on("batch", batches.append)
    try:
        for i in range(300):
            sender.send(b"%d" % i * (1 + i % 9), port, LOOPBACK[kind])
        await wait_for(lambda: sum(map(len, batches)) == 300, 5, what="300 datagrams")
    finally:
        receiver.close()
        sender.close()
    for batch in batches:
        stamps = batch.timestamps()
        if not metadata:
            assert stamps is None
            continue
        assert stamps == tuple(batch.rinfo(i).timestamp for i in range(len(batch)))
        assert all(isinstance(t, float) and t > 1e9 for t in stamps)  # type: ignore[union-attr]
    if metadata:
        flat = [t for b in batches for t in b.timestamps() or ()]
        assert flat == sorted(flat)  # the kernel stamps them in arrival order


async def test_timestamps_of_a_dual_stack_batch_mixing_two_control_layouts(receive_path: str) -> None:
    """A udp6 socket on :: gets IPv4 datagrams with IPv4 cmsgs and IPv6 ones with IPv6 cmsgs:
    one batch mixes two control layouts, and every timestamp is still its datagram's."""
    receiver = dgram.create_socket(dgram.SocketOptions(
        "udp6", recv_buffer_size=1 << 20, metadata=True))
    v4 = dgram.create_socket("udp4")
    v6 = dgram.create_socket("udp6")
    batches: list[Batch] = []
    receiver.on("batch", batches.append)
    try:
        port = (await receiver.bind_async(0, "::")).port
        for i in range(200):
            if i % 3:
                v4.send(b"four %d" % i, port, "127.0.0.1")
            else:
                v6.send(b"six %d" % i, port, "::1")
        await wait_for(lambda: sum(map(len, batches)) == 200, 5, what="200 datagrams")
    finally:
        receiver.close()
        v4.close()
        v6.close()
    for batch in batches:
        assert batch.timestamps() == tuple(batch.rinfo(i).timestamp for i in range(len(batch)))
    if receive_path == "recvmmsg":  # both layouts met in one batch (their lengths differ)
        assert any(len({len(c) for c in b._controls or ()}) == 2 for b in batches)


def _cmsg(level: int, kind: int, data: bytes) -> bytes:
    header = struct.pack("@Qii", 16 + len(data), level, kind)
    return header + data + bytes(-len(data) % 8)


def test_timestamps_column_read_checks_each_buffer_and_falls_back_per_buffer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Buffers of one length but two cmsg orders: the column read is taken only when every
    buffer has the timestamp header at the learned place; otherwise each buffer is decoded.
    Either way the result equals the per-datagram decode."""
    from udpscope.dgram import cmsg
    from udpscope.dgram.batch import NameSnapshot, RawBatch

    sol = socket.SOL_SOCKET
    assert cmsg.SO_TIMESTAMPNS is not None and cmsg.SO_RXQ_OVFL is not None

    def stamp(sec: int, nsec: int) -> bytes:
        return _cmsg(sol, cmsg.SO_TIMESTAMPNS, struct.pack("@qq", sec, nsec))

    def drops(n: int) -> bytes:
        return _cmsg(sol, cmsg.SO_RXQ_OVFL, struct.pack("@I", n))

    first = [stamp(1_700_000_000 + i, 123_456_789 * i % 1_000_000_000) + drops(i)
             for i in range(5)]
    swapped = [drops(i) + stamp(1_800_000_000 + i, 1000 * i) for i in range(5)]
    key = struct.pack("!H4s", 4000, socket.inet_aton("127.0.0.1"))
    names = NameSnapshot({})

    def batch(controls: list[bytes], decoder: cmsg.ControlDecoder) -> RawBatch:
        payloads = tuple(b"x%d" % i for i in range(len(controls)))
        return RawBatch(payloads, (key,) * len(controls), tuple(controls), False, decoder, names)

    decoder = cmsg.ControlDecoder()
    for controls in (first, swapped, first + swapped, swapped + first, first[:1]):
        raw = batch(controls, decoder)
        expected = tuple(raw.rinfo(i).timestamp for i in range(len(controls)))
        assert raw.timestamps() == expected
    # The column read really ran (a learned layout of that length: no per-buffer decode),
    # and agrees exactly; one buffer of another order sends the whole batch per buffer.
    assert len({len(c) for c in first + swapped}) == 1
    decoder = cmsg.ControlDecoder()
    batch(first[:1], decoder).rinfo(0)   # learns the layout of `first`
    decoded: list[bytes] = []
    per_buffer = cmsg.ControlDecoder.decode_bytes
    monkeypatch.setattr(cmsg.ControlDecoder, "decode_bytes",
                        lambda self, c, n: (decoded.append(c), per_buffer(self, c, n))[1])
    assert batch(first, decoder).timestamps() == tuple(
        1_700_000_000 + i + (123_456_789 * i % 1_000_000_000) * 1e-9 for i in range(5))
    assert decoded == []
    assert batch(first + swapped[:1], decoder).timestamps()[-1] == 1_800_000_000.0  # type: ignore[index]
    assert len(decoded) == 6
    # A buffer without a timestamp at all: None for it, the others still read.
    mixed = batch([first[0], drops(7) + drops(8), first[1]], decoder)
    stamps = mixed.timestamps()
    assert stamps is not None and stamps[1] is None and stamps[0] == 1_700_000_000.0
    assert batch([drops(1), drops(2)], decoder).timestamps() is None


def test_the_portable_batch_reads_timestamps_from_its_remote_infos() -> None:
    from udpscope.dgram import RemoteInfo

    with_times = Batch((b"a", b"b"), [RemoteInfo("1.2.3.4", "IPv4", 5, 1, None, None, None, 1.5),
                                      RemoteInfo("1.2.3.4", "IPv4", 5, 1, None, None, None, 2.5)])
    assert with_times.timestamps() == (1.5, 2.5)
    plain = Batch((b"a",), [RemoteInfo("1.2.3.4", "IPv4", 5, 1)])
    assert plain.timestamps() is None

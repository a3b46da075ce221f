"""A listener that raises loses nothing: the error is reported the way Node reports an uncaught
exception, and the rest of the batch is still delivered.

Node with an `uncaughtException` handler keeps receiving: each datagram is its own emit. Under
asyncio the report goes to the loop's exception handler (`dgram.run` turns that into its own
error, as an uncaught exception ends a Node process). These tests run their own loops (plain
`asyncio` and uvloop, with `asyncio.Runner`), outside `dgram.run`, with a handler that records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.waiting import wait_for
from udpscope import dgram
from udpscope.dgram import mmsg
from udpscope.dgram import receiver as engine_receiver

TOTAL = 210


def _loop_factories() -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop}
    try:
        import uvloop
    except ImportError:
        return factories
    factories["uvloop"] = uvloop.new_event_loop
    return factories


@pytest.fixture(params=sorted(_loop_factories()))
def loop_factory(request: pytest.FixtureRequest) -> Callable[[], asyncio.AbstractEventLoop]:
    return _loop_factories()[request.param]


@pytest.fixture(params=["recvmmsg", "fallback"])
def receive_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "recvmmsg" and not mmsg.available():
        pytest.skip("recvmmsg is not available on this platform")
    monkeypatch.setattr(engine_receiver, "_use_mmsg", lambda: request.param == "recvmmsg")
    return request.param


def _fails(payload: bytes) -> bool:
    return int(payload) % 20 == 7


def run_flood(
    loop_factory: Callable[[], asyncio.AbstractEventLoop], metadata: bool,
    listen: Callable[[dgram.Socket, list[bytes]], None],
) -> tuple[list[bytes], list[dict[str, Any]]]:
    """Send TOTAL numbered datagrams to a socket `listen` wired up; return what its `message`
    listeners recorded and what reached the loop's exception handler."""

    async def main() -> tuple[list[bytes], list[dict[str, Any]]]:
        reported: list[dict[str, Any]] = []
        asyncio.get_running_loop().set_exception_handler(lambda _, context: reported.append(context))
        receiver = dgram.create_socket(
            dgram.SocketOptions("udp4", recv_buffer_size=1 << 20, metadata=metadata))
        sender = dgram.create_socket("udp4")
        got: list[bytes] = []
        listen(receiver, got)
        try:
            port = (await receiver.bind_async(0, "127.0.0.1")).port
            await sender.bind_async(0, "127.0.0.1")
            for i in range(TOTAL):
                sender.send(b"%d" % i, port, "127.0.0.1")
            await wait_for(lambda: len(got) >= TOTAL, 5, what=f"{TOTAL} messages")
            return got, reported
        finally:
            receiver.close()
            sender.close()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(main())


@pytest.mark.parametrize("metadata", [False, True], ids=["plain", "metadata"])
def test_a_raising_message_listener_loses_no_datagram(loop_factory, receive_path, metadata):
    seen_by_second: list[bytes] = []

    def listen(sock: dgram.Socket, got: list[bytes]) -> None:
        def first(msg: bytes, rinfo: dgram.RemoteInfo) -> None:
            got.append(msg)
            if _fails(msg):
                raise ValueError(f"listener failed on {msg!r}")

        sock.on("message", first)
        sock.on("message", lambda msg, rinfo: seen_by_second.append(msg))

    got, reported = run_flood(loop_factory, metadata, listen)
    assert got == [b"%d" % i for i in range(TOTAL)]  # every datagram, in order
    errors = [context.get("exception") for context in reported]
    assert [str(err) for err in errors] == [
        f"listener failed on {b'%d' % i!r}" for i in range(TOTAL) if _fails(b"%d" % i)]
    assert all(isinstance(err, ValueError) for err in errors)
    # As in Node's emit, the listeners after the one that threw are skipped for that datagram.
    assert seen_by_second == [m for m in got if not _fails(m)]


def test_a_raising_batch_listener_loses_no_datagram(loop_factory, receive_path):
    batches: list[int] = []

    def listen(sock: dgram.Socket, got: list[bytes]) -> None:
        def on_batch(batch: dgram.Batch) -> None:
            batches.append(len(batch))
            raise RuntimeError(f"batch listener failed on {len(batch)} datagrams")

        sock.on("batch", on_batch)
        sock.on("message", lambda msg, rinfo: got.append(msg))

    got, reported = run_flood(loop_factory, False, listen)
    assert got == [b"%d" % i for i in range(TOTAL)]
    assert sum(batches) == TOTAL
    assert [str(c.get("exception")) for c in reported] == [
        f"batch listener failed on {n} datagrams" for n in batches]


def test_under_run_a_raising_listener_still_ends_run_with_its_error():
    async def main() -> None:
        receiver = dgram.create_socket("udp4")
        receiver.on("message", lambda msg, rinfo: (_ for _ in ()).throw(KeyError(msg)))
        port = (await receiver.bind_async(0, "127.0.0.1")).port
        sender = dgram.create_socket("udp4")
        sender.send(b"boom", port, "127.0.0.1", lambda err, n: sender.close())

    with pytest.raises(KeyError, match="boom"):
        dgram.run(main())

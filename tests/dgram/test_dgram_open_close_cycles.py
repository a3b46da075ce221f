"""Opening and closing sockets over and over, with traffic in flight, leaks no file descriptor.

Each cycle takes one of several shapes that close a socket at an awkward moment: with sends
queued behind a pending bind, with sends still in the outbox, connected with a reply arriving,
with datagrams waiting in its receive queue, from inside its own `message` listener, and as udp6.
The process's descriptor count (/proc/self/fd) after the cycles must equal the count before.

The default run does 100 cycles on both loops; the `soak` run does 1000 (`-m soak`).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from tests.tui.pty_app import fd_count
from tests.waiting import wait_for
from udpscope import dgram

HOST = "127.0.0.1"
WAIT = 5.0
SHAPES = 6


class Cycles:
    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.callbacks = 0
        self.sink_received = 0
        self.shapes_done = [0] * SHAPES
        self.before = 0
        self.after = 0

    def callback(self, err: Any, nbytes: Any) -> None:
        if err is not None:
            self.errors.append(err)
        self.callbacks += 1

    async def one(self, i: int, sink_port: int) -> None:
        shape = i % SHAPES
        loop = asyncio.get_running_loop()
        kind = "udp6" if shape == 5 else "udp4"
        a = dgram.create_socket({"type": kind, "metadata": i % 2 == 0})
        closed: asyncio.Future[None] = loop.create_future()
        a.on("close", lambda: closed.set_result(None))
        a.on("error", self.errors.append)
        payload = b"cycle-%d" % i
        if shape == 0:
            # Close while the implicit bind is pending: the queued sends are dropped.
            for _ in range(5):
                a.send(payload, sink_port, HOST, self.callback)
            a.close()
        elif shape == 1:
            # Bound: sends sit in the outbox when close() comes.
            await a.bind_async(0, HOST)
            for _ in range(20):
                a.send(payload, sink_port, HOST, self.callback)
            a.close()
        elif shape == 2:
            # Connected, a send on the connection, and the peer's reply on its way.
            connected: asyncio.Future[None] = loop.create_future()
            a.connect(sink_port, HOST, lambda: connected.set_result(None))
            a.send(payload, self.callback)
            await wait_for(connected, WAIT, what="the connect callback")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as p:
                p.bind((HOST, 0))
                p.sendto(b"not-the-peer", (HOST, a.address().port))
            a.send(payload, self.callback)
            a.close()
        elif shape == 3:
            # Datagrams waiting in the receive queue, unread, at close.
            info = await a.bind_async(0, HOST)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as p:
                for _ in range(10):
                    p.sendto(payload, (HOST, info.port))
            a.close()
        elif shape == 4:
            # Closed from inside its own message listener, more datagrams in the batch.
            info = await a.bind_async(0, HOST)
            a.on("message", lambda msg, rinfo: a.close() if a.state != "closed" else None)
            for _ in range(5):
                a.send(payload, info.port, HOST, self.callback)
        else:
            # udp6 on ::1, to itself and the v4 sink left alone (different family).
            info = await a.bind_async(0, "::1")
            for _ in range(5):
                a.send(payload, info.port, "::1", self.callback)
            a.close()
        await wait_for(closed, WAIT, what="the close callback")
        self.shapes_done[shape] += 1

    async def run(self, count: int) -> None:
        sink = dgram.create_socket("udp4")
        sink.on("message", lambda msg, rinfo: setattr(self, "sink_received", self.sink_received + 1))
        sink.on("error", self.errors.append)
        sink_port = (await sink.bind_async(0, HOST)).port
        # Warm-up: one cycle of each shape, so one-time allocations are not counted as leaks.
        for i in range(SHAPES):
            await self.one(i, sink_port)
        await self.round_trip(sink, sink_port)
        self.before = fd_count()
        for i in range(count):
            await self.one(i, sink_port)
        await self.round_trip(sink, sink_port)
        self.after = fd_count()
        sink.close()

    async def round_trip(self, sink: Any, sink_port: int) -> None:
        """Everything the loop had ready (late callbacks, reads) has run once this returns."""
        got: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_message(msg: bytes, rinfo: Any) -> None:
            if msg == b"round-trip" and not got.done():
                got.set_result(None)

        sink.on("message", on_message)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as p:
            p.sendto(b"round-trip", (HOST, sink_port))
        await wait_for(got, WAIT, what="the round trip")
        sink.off("message", on_message)


def _loops() -> list[tuple[str, Callable[[Coroutine[Any, Any, None]], None]]]:
    return [("dgram.run", dgram.run), ("asyncio.run", asyncio.run)]


async def _noop() -> None:
    return None


def run_cycles(runner: Callable[[Coroutine[Any, Any, None]], None], count: int) -> Cycles:
    cycles = Cycles()
    runner(_noop())  # uvloop opens a process-wide pipe on first use; that is not a leak
    before_loop = fd_count()
    runner(cycles.run(count))
    assert cycles.errors == [], cycles.errors[:5]
    assert sum(cycles.shapes_done) == count + SHAPES
    assert cycles.callbacks > 0 and cycles.sink_received > 0  # traffic really was in flight
    assert cycles.after == cycles.before, (
        f"{cycles.after - cycles.before} descriptors leaked over {count} cycles"
    )
    # And nothing of the loop or the sockets outlives the loop.
    assert fd_count() == before_loop
    return cycles


@pytest.mark.parametrize(("name", "runner"), _loops(), ids=[n for n, _ in _loops()])
def test_socket_cycles_leak_no_descriptor(name: str, runner: Any) -> None:
    run_cycles(runner, 100)


@pytest.mark.soak
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("name", "runner"), _loops(), ids=[n for n, _ in _loops()])
def test_socket_cycles_soak_leak_no_descriptor(name: str, runner: Any) -> None:
    cycles = run_cycles(runner, 1000)
    print(f"{name}: 1000 cycles, fds {cycles.before} -> {cycles.after}, "
          f"{cycles.callbacks} send callbacks, {cycles.sink_received} datagrams at the sink")

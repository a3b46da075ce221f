"""Counting arrivals per interface (pane 6's join everywhere): per batch against per datagram.

`ArrivalCounter.observe_batch` counts a batch whose datagrams all arrived on one interface in one
step (the ingress index is read at a fixed offset of the control buffers); as a `message`
listener it decodes every datagram's metadata. This prints both costs per datagram on real
`recvmmsg` batches read from loopback (127.0.0.1 only; a bounded burst of 20000 datagrams).

    python -m bench.arrivals
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

from udpscope import dgram
from udpscope.net.joins import ArrivalCounter

BURST = 20000
SIZE = 200
ROUNDS = 5


async def _batches() -> list[dgram.Batch]:
    rx = dgram.create_socket(dgram.SocketOptions("udp4", recv_buffer_size=8 << 20, metadata=True))
    info = await rx.bind_async(0, "127.0.0.1")
    batches: list[dgram.Batch] = []
    rx.on("batch", batches.append)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        for _ in range(BURST):
            tx.sendto(b"x" * SIZE, ("127.0.0.1", info.port))
    deadline = time.monotonic() + 2
    while sum(map(len, batches)) < BURST and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    rx.close()
    return batches


def _per_datagram(counter: ArrivalCounter, batch: dgram.Batch) -> None:
    for i, msg in enumerate(batch.payloads):
        counter(msg, batch.rinfo(i))


def main() -> None:
    batches = asyncio.run(_batches())
    n = sum(map(len, batches))
    print(f"{len(batches)} batches, {n} datagrams of {SIZE} bytes (the rest overflowed the buffer)")
    ways: list[tuple[str, Callable[[ArrivalCounter, dgram.Batch], None]]] = [
        ("per batch", lambda c, b: c.observe_batch(b)), ("per datagram", _per_datagram)]
    for label, count in ways:
        best = float("inf")
        for _ in range(ROUNDS):
            counter = ArrivalCounter("127.0.0.1")
            start = time.perf_counter()
            for batch in batches:
                count(counter, batch)
            best = min(best, time.perf_counter() - start)
        assert counter.total == n, (label, counter.total, n)
        print(f"{label:13s} {best * 1e9 / max(n, 1):8.1f} ns a datagram (best of {ROUNDS})")


if __name__ == "__main__":
    main()

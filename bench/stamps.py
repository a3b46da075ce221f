"""What reading every datagram's kernel receive time costs, per datagram: `batch.timestamps()`
(one column read of the control buffers) next to `batch.rinfo(i).timestamp` for each datagram
(a control-buffer decode and a RemoteInfo each), on real loopback batches with metadata.

    python -m bench.stamps [DATAGRAMS]      (loopback only; prints one line per reader)
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from udpscope import dgram

BATCH = 256


async def _batches(kind: str, count: int) -> list[Any]:
    host = "::1" if kind == "udp6" else "127.0.0.1"
    receiver = dgram.create_socket(dgram.SocketOptions(kind, recv_buffer_size=8 << 20,
                                                       metadata=True))
    sender = dgram.create_socket(kind)
    batches: list[Any] = []
    receiver.on("batch", batches.append)
    try:
        port = (await receiver.bind_async(0, host)).port
        for start in range(0, count, BATCH):
            for i in range(start, min(count, start + BATCH)):
                sender.send(b"%08d" % i, port, host)
            await asyncio.sleep(0.002)
        deadline = time.monotonic() + 5
        while sum(map(len, batches)) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    finally:
        receiver.close()
        sender.close()
    return batches


def _per_datagram(fn: Any, batches: list[Any], rounds: int = 5) -> float:
    """Best of `rounds` passes over every batch, in microseconds per datagram."""
    n = sum(map(len, batches))
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for batch in batches:
            fn(batch)
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e6


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    count = int(args[0]) if args else 50_000
    for kind in ("udp4", "udp6"):
        batches = dgram.run(_batches(kind, count))
        n = sum(map(len, batches))
        column = _per_datagram(lambda b: b.timestamps(), batches)
        each = _per_datagram(lambda b: [b.rinfo(i).timestamp for i in range(len(b))], batches)
        print(f"{kind}: {n} datagrams in {len(batches)} batches (mean {n / len(batches):.0f}); "
              f"timestamps() {column:.3f} µs/datagram, rinfo(i).timestamp {each:.3f} µs/datagram "
              f"({each / column:.0f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The capture's memory stays within its byte budget (plus a fixed margin) under a real flood of
large datagrams over loopback, measured as the process's RSS in a fresh process.

The same flood without a byte bound is run as the control: it must grow far past the bound, so
the measurement is shown to see what it is meant to see.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).with_name("rss_child.py")
MiB = 1 << 20
BUDGET = 32 * MiB
# Beyond the kept datagrams: the engine's receive buffers as they get written, the allocator's
# slack, per-record bookkeeping. Fixed, whatever the datagram size or count.
MARGIN = 24 * MiB
COUNT = 3000  # x 60 kB = 180 MB through the ring: more than five times the budget
SIZE = 60_000


def _run(ring_bytes: int) -> dict[str, int]:
    done = subprocess.run([sys.executable, str(CHILD), str(ring_bytes), str(COUNT), str(SIZE)],
                          capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_rss_stays_within_the_ring_budget_under_a_flood_of_large_datagrams() -> None:
    bounded = _run(BUDGET)
    assert bounded["received"] * SIZE > 4 * BUDGET, bounded  # the flood really went through
    assert bounded["evictions"] > 0 and bounded["kept_bytes"] <= BUDGET, bounded
    grown = bounded["rss_peak"] - bounded["rss_before"]
    assert grown <= BUDGET + MARGIN, f"RSS grew {grown / MiB:.0f} MiB: {bounded}"

    control = _run(1 << 40)  # no byte bound in practice: everything is kept
    assert control["evictions"] == 0 and control["received"] * SIZE > 4 * BUDGET, control
    assert control["rss_peak"] - control["rss_before"] > 2 * (BUDGET + MARGIN), control


def _retained_per_batch() -> tuple[float, float]:
    """(bytes really kept, bytes the ring charges) per single-datagram batch, with tracemalloc,
    for a slow stream to one socket after another socket's burst (the usual TUI case: several
    sockets share the engine's receive buffers)."""
    code = r'''
import asyncio, gc, socket, tracemalloc
from udpscope.capture import Capture

async def main():
    cap = Capture()
    a, b = cap.create_socket("udp4"), cap.create_socket("udp4")
    for e in (a, b):
        e.sock.bind(0, "127.0.0.1")
    while a.state != "bound" or b.state != "bound":
        await asyncio.sleep(0.01)
    b.sock.set_recv_buffer_size(1 << 20)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as one, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        for _ in range(300):
            other.sendto(b"x" * 64, ("127.0.0.1", b.local()[1]))
        while b.rx_datagrams < 300:
            await asyncio.sleep(0.001)
        gc.collect()
        tracemalloc.start()
        start, charged = tracemalloc.take_snapshot(), cap.ring.nbytes
        for i in range(1000):
            one.sendto(b"y" * 64, ("127.0.0.1", a.local()[1]))
            while a.rx_datagrams < i + 1:
                await asyncio.sleep(0)
        gc.collect()
        kept = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(start, "filename"))
        print(kept / 1000, (cap.ring.nbytes - charged) / 1000)
    cap.close_all()

asyncio.run(main())
'''
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    kept, charged = map(float, done.stdout.split())
    return kept, charged


def test_the_ring_charges_at_least_what_a_small_batch_keeps() -> None:
    kept, charged = _retained_per_batch()
    assert kept <= charged, f"a one-datagram batch keeps {kept:.0f} bytes, charged {charged:.0f}"

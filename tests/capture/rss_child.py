"""Run by test_capture_memory.py in a fresh process: a Capture fed a loopback flood of large
datagrams, reporting its RSS before and at its peak as one JSON line.

Usage: rss_child.py RING_BYTES COUNT SIZE. Sends only to 127.0.0.1, at most COUNT datagrams and
for at most 60 s, in small bursts that the receiver drains before the next one.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time

from udpscope.capture import Capture

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def peak_rss() -> int:
    """This program's RSS high-water mark. Not getrusage's ru_maxrss: that survives exec, so a
    child of a big test runner would report the runner's size."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


async def main(ring_bytes: int, count: int, size: int) -> dict[str, int]:
    capture = Capture(ring_size=1_000_000, ring_bytes=ring_bytes)
    entry = capture.create_socket("udp4")
    entry.sock.bind(0, "127.0.0.1")
    deadline = time.monotonic() + 60
    while entry.state != "bound" and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    entry.sock.set_recv_buffer_size(4 << 20)
    port = entry.local()[1]
    payload = os.urandom(size)
    before = rss()
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        while sent < count and time.monotonic() < deadline:
            for _ in range(2):
                raw.sendto(payload, ("127.0.0.1", port))
            sent += 2
            # Let the receiver catch up (a busy machine may starve it for a while): the
            # point is many datagrams through the ring, not a rate.
            waited = time.monotonic() + 2
            while entry.rx_datagrams < sent and time.monotonic() < min(waited, deadline):
                await asyncio.sleep(0)
    capture.tick()
    result = {
        "sent": sent,
        "received": entry.rx_datagrams,
        "evictions": capture.evictions,
        "kept_bytes": capture.ring.nbytes,
        "rss_before": before,
        "rss_peak": peak_rss(),
    }
    capture.close_all()
    return result


if __name__ == "__main__":
    ring_bytes, count, size = map(int, sys.argv[1:4])
    print(json.dumps(asyncio.run(main(ring_bytes, count, size))), flush=True)

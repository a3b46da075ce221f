"""Soak: a long loopback flood into the running TUI keeps memory flat and every datagram counted.

The app runs headless (`App.run_test`) with one socket bound on 127.0.0.1; a separate process
sends a paced flood (bounded by count and time) of mixed sizes and hostile contents. Resident
memory is sampled every few seconds: after the warm-up (the capture ring and the log's view fill
up) it must stay flat. The capture counters must account for every datagram the sender managed to
send: received + kernel drops == sent (loopback: no other sender, no silent loss), and the
ring's own bookkeeping exact.

Measured: the ring fills within seconds; after that RSS still rises by about 9 MB over ~3 minutes
while Textual's DataTable render caches (LRU: 10,000 cells, 1,000 lines) fill from the
refreshing socket counters, then stays flat (checked over 8 minutes). The bound below allows that.

Selected with `-m soak`; UDPSCOPE_SOAK_SECONDS sets the flood's length (default 60),
UDPSCOPE_SOAK_RATE its rate in datagrams per second (default 10000).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import psutil
import pytest

from tests.tui.pty_app import ROOT
from tests.waiting import wait_for
from udpscope.capture import Capture
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.screens.help import HelpScreen
from udpscope.tui.widgets.message_log import MessageLog

SOAK_SECONDS = float(os.environ.get("UDPSCOPE_SOAK_SECONDS", "60"))
SOAK_RATE = float(os.environ.get("UDPSCOPE_SOAK_RATE", "10000"))
RING = 20_000
MB = 1 << 20

SENDER = r"""
import socket, sys, time
host, port, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
payloads = [
    b"\x1b]0;PWNED\x07" * 3, b"[bold]x[/bold]", bytes(range(256)), b"a" * 512, b"",
    "\u202e\u009b6n\u2028".encode() * 8, b"\x00\xff\xfe" * 40, b"probe-like " * 20,
]
limit = int(rate * seconds)
sent = failed = 0
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    start = time.monotonic()
    while sent < limit:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            break
        due = min(limit, int(elapsed * rate) + 1)
        while sent < due:
            try:
                s.sendto(payloads[sent % len(payloads)], (host, port))
            except OSError:
                failed += 1
                break
            sent += 1
        time.sleep(0.005)  # pacing, not synchronisation
print(sent, failed, flush=True)
"""


def rss() -> int:
    return psutil.Process().memory_info().rss


@pytest.mark.soak
@pytest.mark.timeout(int(SOAK_SECONDS * 3) + 180)
async def test_tui_flood_soak_memory_flat_and_every_datagram_counted() -> None:
    capture = Capture(ring_size=RING)
    app = UdpscopeApp(
        binds=[("127.0.0.1", 0)], theme="udpscope-dark", capture=capture,
        theme_dirs=[ROOT / "themes"],
    )
    interval = max(1.0, SOAK_SECONDS / 20)
    warmup = max(10.0, SOAK_SECONDS / 4)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(lambda: 1 in capture.sockets and capture.sockets[1].state == "bound",
                       15, what="the socket to bind", pilot=pilot)
        entry = capture.sockets[1]
        local = entry.local()
        assert local is not None
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", SENDER, "127.0.0.1", str(local[1]), str(SOAK_RATE),
            str(SOAK_SECONDS), stdout=asyncio.subprocess.PIPE,
        )
        started = time.monotonic()
        samples: list[tuple[float, int, int]] = [(0.0, rss(), 0)]
        communicate = asyncio.ensure_future(proc.communicate())
        try:
            while not communicate.done():
                done, _ = await asyncio.wait({communicate}, timeout=interval)
                samples.append((time.monotonic() - started, rss(), entry.rx_datagrams))
                assert time.monotonic() - started < SOAK_SECONDS + 60, "sender overran"
            out, _ = communicate.result()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        sent, failed = (int(x) for x in out.split())

        await wait_for(lambda: entry.rx_datagrams + entry.kernel_drops >= sent,
                       60, what=f"rx + drops to reach {sent}", pilot=pilot)
        capture.tick()
        rx, drops = entry.rx_datagrams, entry.kernel_drops
        ring_ok = capture.evictions + len(capture.ring) == capture.seq
        log_rows = len(app.screen.query_one(MessageLog).rows)

        # Still responsive after the flood: F1 opens the help screen.
        await pilot.press("f1")
        await wait_for(lambda: isinstance(app.screen, HelpScreen),
                       15, what="help screen", pilot=pilot)
        assert app.is_running

    settled = [s for s in samples if s[0] >= warmup]
    assert len(settled) >= 3, f"too few samples after the warm-up: {samples}"
    base = settled[0][1]
    last = settled[-1][1]
    peak = max(s[1] for s in settled)
    report = (
        f"soak {SOAK_SECONDS:.0f}s at {SOAK_RATE:.0f}/s: sent={sent} (send failures {failed}) "
        f"rx={rx} kernel_drops={drops}; RSS MB after warm-up first={base / MB:.1f} "
        f"last={last / MB:.1f} peak={peak / MB:.1f}; samples (s, MB, rx): "
        + ", ".join(f"({t:.0f}, {m / MB:.1f}, {n})" for t, m, n in samples)
    )
    print(report)
    assert sent >= 0.25 * SOAK_RATE * SOAK_SECONDS, report  # the flood really happened
    assert rx <= sent, report
    # Loopback loses nothing silently: what the app did not receive, the kernel counted as
    # dropped on this socket; nothing else sends to its port, so the sum is exact.
    assert rx + drops == sent, report
    assert ring_ok and len(capture.ring) <= RING, report
    assert log_rows <= RING, report
    assert last < base * 1.3 + 8 * MB, report

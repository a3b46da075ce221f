"""The capture layer on the real engine over loopback: exact counters, a bounded ring that counts
what it drops, events as records, paced bounded sends with their results, probe statistics.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

import pytest

from tests.dgram.dgram_helpers import HAS_IPV6
from tests.waiting import wait_for
from udpscope import dgram
from udpscope.capture import Capture
from udpscope.dgram.cmsg import IPV6_RECVPKTINFO, SO_TIMESTAMPNS

TIMEOUT = 5.0


async def until(cond: Callable[[], object], what: str = "the condition") -> None:
    await wait_for(cond, TIMEOUT, what=what)


async def bound_pair(capture: Capture):  # type: ignore[no-untyped-def]
    a = capture.create_socket("udp4")
    b = capture.create_socket("udp4")
    a.sock.bind(0, "127.0.0.1")
    b.sock.bind(0, "127.0.0.1")
    await until(lambda: a.state == "bound" and b.state == "bound")
    return a, b


async def test_counters_records_and_events_are_exact() -> None:
    now = [1000.0]
    capture = Capture(ring_size=1000, clock=lambda: now[0])
    a, b = await bound_pair(capture)
    port_a = a.local()[1]
    for i in range(50):
        now[0] += 1
        capture.send(b.id, b"x" * i, port_a, "127.0.0.1")
    await until(lambda: a.rx_datagrams == 50 and b.tx_datagrams == 50)
    assert a.rx_bytes == sum(range(50)) == b.tx_bytes
    rx = [r for r in capture.ring if r.kind == "rx"]
    assert [r.size for r in rx] == list(range(50))
    assert all(r.sock_id == a.id and r.port == b.local()[1] for r in rx)
    assert rx[0].destination == "127.0.0.1" and rx[0].interface == "lo" and rx[0].ttl == 64
    events = [(r.sock_id, r.event) for r in capture.ring if r.kind == "event"]
    assert (a.id, "listening") in events and (b.id, "listening") in events
    seqs = [r.seq for r in capture.ring]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert {r.time for r in capture.ring if r.kind == "tx"} <= {1000.0 + i for i in range(1, 51)}
    capture.close(a.id)
    await until(lambda: any(r.event == "close" for r in capture.ring))
    capture.close_all()


async def test_ring_is_bounded_and_counts_evictions_per_socket() -> None:
    capture = Capture(ring_size=10)
    a, b = await bound_pair(capture)
    with_port = a.local()[1]
    for _ in range(30):
        capture.send(b.id, b"p", with_port, "127.0.0.1")
    await until(lambda: a.rx_datagrams == 30)
    assert len(capture.ring) == 10
    total_records = capture.seq
    assert capture.evictions == total_records - 10
    capture.tick()  # per-socket eviction counts are derived on the tick, not per datagram
    assert sum(e.evictions for e in capture.entries()) == capture.evictions
    assert b.evictions > 0
    assert a.rx_datagrams == 30  # counters stay exact whatever the ring dropped
    # records_since returns only what is still there, oldest first.
    newest = capture.records_since(capture.seq - 3)
    assert [r.seq for r in newest] == [capture.seq - 2, capture.seq - 1, capture.seq]
    assert len(capture.records_since(0)) == 10
    capture.close_all()


async def test_paced_send_is_bounded_and_reports_each_result() -> None:
    capture = Capture()
    a, b = await bound_pair(capture)
    start = time.monotonic()
    job = capture.send(b.id, b"tick", a.local()[1], "127.0.0.1", count=10, rate=100)
    await until(lambda: job.done)
    elapsed = time.monotonic() - start
    assert job.ok == 10 and job.failed == 0 and job.last_bytes == 4
    assert elapsed >= 0.085  # 9 gaps of 10 ms
    if job.task is not None:  # the pacing task has ended: it can issue nothing more
        await wait_for(job.task, TIMEOUT, what="the pacing task to end")
    # Bounded: a sentinel from the same socket comes after anything it sent before.
    b.sock.send(b"end", a.local()[1], "127.0.0.1")
    await until(lambda: a.rx_datagrams == 11, "the sentinel after the ten ticks")
    received = [r.payload for r in capture.ring if r.kind == "rx"]
    assert received == [b"tick"] * 10 + [b"end"]
    capture.close_all()


async def test_send_error_is_recorded_with_its_code() -> None:
    capture = Capture()
    a, b = await bound_pair(capture)
    job = capture.send(b.id, b"x" * 70000, a.local()[1], "127.0.0.1")
    await until(lambda: job.done)
    assert job.failed == 1 and job.last_error_code == "EMSGSIZE"
    failed = [r for r in capture.ring if r.kind == "tx" and r.error]
    assert failed and failed[0].code == "EMSGSIZE" and failed[0].size == 70000
    assert b.tx_errors == 1 and b.last_error_code == "EMSGSIZE"
    assert capture.errors_since(0)[-1] is failed[0]
    capture.close_all()


async def test_engine_error_event_becomes_a_record() -> None:
    capture = Capture()
    a = capture.create_socket("udp4")
    a.sock.bind(0, "127.0.0.1")
    await until(lambda: a.state == "bound")
    b = capture.create_socket("udp4")
    b.sock.bind(a.local()[1], "127.0.0.1")
    await until(lambda: capture.error_count == 1)
    assert b.last_error_code == "EADDRINUSE"
    assert capture.errors[-1].event == "error" and capture.errors[-1].syscall == "bind"
    capture.close_all()


async def test_probe_stream_stats_and_rates_on_tick() -> None:
    mono = [0.0]
    capture = Capture(monotonic=lambda: mono[0])
    a, b = await bound_pair(capture)
    capture.tick()
    job = capture.send(b.id, b"", a.local()[1], "127.0.0.1", count=20, probe=True)
    await until(lambda: job.done and a.rx_datagrams == 20)
    mono[0] = 2.0
    capture.tick()
    assert a.rx_rate == 10.0 and b.tx_rate == 10.0
    assert list(a.rx_history) == [10.0]
    stats = capture.groups[("127.0.0.1", "127.0.0.1")]
    assert stats.packets == 20 and stats.rate == 10.0
    probe = stats.tracker.stats()
    assert probe.received == 20 and probe.lost == 0 and probe.duplicates == 0
    capture.close_all()


def test_capture_does_not_import_textual() -> None:
    import subprocess
    import sys

    code = "import sys, udpscope.capture; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def _kernel_options(fd: int) -> dict[str, int]:
    """What the kernel says of the socket behind `fd` (read through a duplicate)."""
    with socket.socket(fileno=os.dup(fd)) as raw:
        return {
            "v6only": raw.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY),
            "reuse_addr": raw.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR),
            "pktinfo": raw.getsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO),
            "timestamps": raw.getsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS),
            "rcvbuf": raw.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
        }


async def test_socket_options_pass_through() -> None:
    """The options given to the capture layer reach the kernel, compared with a socket made
    without them: IPv6-only, address reuse, per-datagram metadata, the receive buffer."""
    if not HAS_IPV6:
        pytest.skip("no IPv6 loopback here")
    capture = Capture()
    try:
        with_options = capture.create_socket(dgram.SocketOptions(
            type="udp6", ipv6_only=True, metadata=True, reuse_addr=True,
            recv_buffer_size=96 * 1024))
        plain = capture.create_socket(dgram.SocketOptions(type="udp6", metadata=False))
        assert with_options.type == plain.type == "udp6"
        for entry in (with_options, plain):
            # The wildcard, not ::1: binding a specific IPv6 address makes the kernel set
            # IPV6_V6ONLY by itself. Nothing is sent to these sockets.
            entry.sock.bind(0, "::")
        await until(lambda: with_options.state == "bound" and plain.state == "bound", "bound")
        got = _kernel_options(with_options.sock.fileno())
        control = _kernel_options(plain.sock.fileno())
        assert {k: got[k] for k in ("v6only", "reuse_addr", "pktinfo", "timestamps")} == \
            {"v6only": 1, "reuse_addr": 1, "pktinfo": 1, "timestamps": 1}, got
        assert {k: control[k] for k in ("v6only", "reuse_addr", "pktinfo", "timestamps")} == \
            {"v6only": 0, "reuse_addr": 0, "pktinfo": 0, "timestamps": 0}, control
        assert got["rcvbuf"] == 2 * 96 * 1024  # Linux doubles what it was asked for
    finally:
        capture.close_all()


async def test_a_drained_batch_mixing_probes_and_plain_datagrams() -> None:
    """Batches are kept whole; per-group statistics still see each probe and nothing else."""
    import socket

    from udpscope import probe as probes

    capture = Capture(ring_size=1000)
    a = capture.create_socket("udp4")
    a.sock.bind(0, "127.0.0.1")
    await until(lambda: a.state == "bound")
    a.sock.set_recv_buffer_size(1 << 20)
    port = a.local()[1]
    payloads = []
    for i in range(300):  # written before the loop runs again: they arrive as a few big batches
        if i % 3 == 0:
            payloads.append(probes.encode_probe(i // 3, 1000.0, probes.HEADER_SIZE))
        else:
            payloads.append(b"plain %d" % i)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind(("127.0.0.1", 0))
        for payload in payloads:
            raw.sendto(payload, ("127.0.0.1", port))
        await until(lambda: a.rx_datagrams == 300)
        source_port = raw.getsockname()[1]
    rx = [r for r in capture.ring if r.kind == "rx"]
    assert [r.payload for r in rx] == payloads
    assert [r.seq for r in rx] == sorted({r.seq for r in rx})
    assert {(r.port, r.destination, r.interface) for r in rx} == {(source_port, "127.0.0.1", "lo")}
    assert a.rx_bytes == sum(map(len, payloads))
    assert len(capture.ring.chunks_after(0)) < 300  # kept as batches, not one chunk per datagram
    stats = capture.groups[("127.0.0.1", "127.0.0.1")]
    assert stats.packets == 100  # the probes only
    assert stats.tracker.stats().received == 100 and stats.tracker.stats().lost == 0
    assert capture.records_since(capture.seq - 2) == rx[-2:]
    capture.close_all()

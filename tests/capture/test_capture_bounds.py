"""Memory bounded whatever arrives: the ring by bytes as well as records, the stream table by count.

Batches are made in the test and handed to the capture layer as the engine would (the socket's
`batch` event), so no datagram is sent: what is tested is what the capture layer keeps.
"""

from __future__ import annotations

import pytest

from tests.batches import fake_batch
from udpscope.capture import Capture, GroupTable, SendJob
from udpscope.ring import RxChunk

MiB = 1 << 20


def retained_payload_bytes(capture: Capture) -> int:
    """Payload bytes the ring keeps alive: every live chunk holds its whole batch."""
    return sum(chunk.batch.total_bytes() if isinstance(chunk, RxChunk) else len(chunk.payload)
               for chunk in capture.ring.chunks_after(0))


def test_large_datagrams_are_bounded_in_bytes_and_evictions_counted() -> None:
    budget = 32 * MiB
    capture = Capture(ring_size=100_000, ring_bytes=budget)
    entry = capture.create_socket("udp4")  # never bound: the batches are emitted by the test
    payload = bytes(60_000)  # one object for all: the test itself stays small
    for _ in range(2000):
        entry.sock.emit("batch", fake_batch([payload] * 16))
    assert entry.rx_datagrams == 32_000 and entry.rx_bytes == 32_000 * 60_000  # exact counts
    assert retained_payload_bytes(capture) <= capture.ring.nbytes <= budget
    assert retained_payload_bytes(capture) > budget // 2  # the budget is used, not wasted
    kept = len(capture.ring)
    assert kept < 100_000 and kept % 16 == 0  # whole batches went, the record bound never hit
    assert capture.evictions == 32_000 - kept
    capture.tick()
    assert entry.evictions == capture.evictions  # per socket too
    newest = capture.records_since(capture.seq - 1)
    assert [r.seq for r in newest] == [capture.seq] and newest[0].size == 60_000


def test_one_batch_over_the_budget_is_not_kept() -> None:
    capture = Capture(ring_bytes=100_000)
    entry = capture.create_socket("udp4")
    entry.sock.emit("batch", fake_batch([bytes(60_000)] * 2))
    assert len(capture.ring) == 0 and capture.ring.nbytes == 0 and capture.evictions == 2
    entry.sock.emit("batch", fake_batch([b"small"]))
    assert [r.payload for r in capture.ring] == [b"small"]


def test_sent_records_count_against_the_budget() -> None:
    capture = Capture(ring_bytes=1 * MiB)
    entry = capture.create_socket("udp4")
    job_payload = bytes(50_000)
    for _ in range(100):  # what a send's callback records, without sending
        capture._on_sent(entry, capture_job(), job_payload, 9, "127.0.0.1", None, 50_000)
    assert capture.ring.nbytes <= 1 * MiB
    assert 0 < len(capture.ring) < 100 and capture.evictions == 100 - len(capture.ring)


def capture_job() -> SendJob:
    return SendJob(1)


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        Capture(ring_bytes=0)
    with pytest.raises(ValueError):
        Capture(max_streams=0)


def test_spoofed_source_flood_fills_the_table_then_the_other_bucket() -> None:
    """Every datagram from a new source to a group: the table stops at its cap."""
    capture = Capture(max_streams=1024)
    entry = capture.create_socket("udp4")
    group = "239.1.2.3"
    sources = [f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in range(10_000)]
    for start in range(0, len(sources), 250):
        chunk = sources[start:start + 250]
        entry.sock.emit("batch", fake_batch([b"spoof"] * len(chunk), sources=chunk,
                                            destination=group, ttl=9))
    assert len(capture.groups) == 1024
    assert list(capture.groups)[:2] == [(group, sources[0]), (group, sources[1])]  # first come
    other = capture.groups.other
    assert (other.packets, other.bytes) == (10_000 - 1024, (10_000 - 1024) * 5)
    assert other.tracker is None and (other.ttl_min, other.ttl_max) == (9, 9)
    rows = capture.groups.rows()
    assert len(rows) == 1025 and rows[-1] is other  # the count is shown with the streams
    assert sum(s.packets for s in rows) == entry.rx_datagrams == 10_000
    # A stream already in the table keeps being counted there.
    entry.sock.emit("batch", fake_batch([b"again"], sources=sources[5], destination=group))
    assert capture.groups[(group, sources[5])].packets == 2 and other.packets == 10_000 - 1024


def test_table_without_overflow_shows_no_other_row() -> None:
    table = GroupTable(max_streams=2)
    table.account("239.1.1.1", "10.0.0.1", None, None, 10, 1.0, None)
    assert table.rows() == [table[("239.1.1.1", "10.0.0.1")]] and len(table) == 1

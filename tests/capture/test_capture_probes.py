"""Probes are found in any received batch however it is scanned (joined small datagrams, large
ones one by one), and a payload that merely contains the probe marker is not taken for one."""

from __future__ import annotations

import pytest

from tests.batches import fake_batch
from udpscope import probe as probes
from udpscope.capture import Capture


def _probe(seq: int, size: int = probes.HEADER_SIZE) -> bytes:
    return probes.encode_probe(seq, 1000.0, size)


@pytest.mark.parametrize("first", [b"small", bytes(3000)], ids=["small-first", "large-first"])
def test_probes_anywhere_in_a_batch_are_tracked(first: bytes) -> None:
    capture = Capture()
    entry = capture.create_socket("udp4")
    payloads = [first, _probe(0), b"x" * 10, _probe(1, 5000), _probe(2)]
    entry.sock.emit("batch", fake_batch(payloads, destination="127.0.0.1"))
    stats = capture.groups[("127.0.0.1", "127.0.0.1")]
    assert stats.packets == 3 and stats.bytes == 2 * probes.HEADER_SIZE + 5000
    assert stats.tracker is not None and stats.tracker.stats().received == 3


@pytest.mark.parametrize("size", [1, 100, 4000])
def test_the_marker_inside_a_payload_is_no_probe(size: int) -> None:
    capture = Capture()
    entry = capture.create_socket("udp4")
    hidden = bytes(size) + _probe(0)  # the marker, but not at the start
    entry.sock.emit("batch", fake_batch([b"a", hidden, b"b"], destination="127.0.0.1"))
    assert len(capture.groups) == 0 and entry.rx_bytes == 2 + len(hidden)


def test_byte_counts_are_exact_for_either_scan() -> None:
    capture = Capture()
    entry = capture.create_socket("udp4")
    entry.sock.emit("batch", fake_batch([b"", b"abc", bytes(70)]))
    entry.sock.emit("batch", fake_batch([bytes(5000), b"", b"z"]))
    assert (entry.rx_datagrams, entry.rx_bytes) == (6, 73 + 5001)

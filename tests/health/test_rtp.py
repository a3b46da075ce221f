"""RTP health through the HealthBook: loss, duplicates, reordering, wrap-around and SSRC
changes with exact counts; RFC 3550 jitter against the RFC's own loop; batch == one by one."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.streams.build import rtp
from udpscope.health import HealthBook, RtpTracker, StreamHealth, clock_rate

SRC = ("10.0.0.1", 5004)
DST = ("239.1.1.1", 5004)


def rfc3550_jitter(arrivals: list[float], stamps: list[int], rate: int) -> float:
    """RFC 3550 A.8, as written: transit in timestamp units, J += (|D| - J) / 16."""
    jitter = 0.0
    transit_prev = None
    for arrival, ts in zip(arrivals, stamps, strict=True):
        transit = arrival * rate - ts
        if transit_prev is not None:
            d = abs(transit - transit_prev)
            jitter += (d - jitter) / 16
        transit_prev = transit
    return jitter


def feed(book: HealthBook, packets: list[bytes], times: list[float], batch: int = 256) -> None:
    for i in range(0, len(packets), batch):
        book.feed(SRC, DST, packets[i:i + batch], times[i:i + batch])


def rtp_streams(book: HealthBook) -> list[StreamHealth]:
    return [s for s in book.streams() if s.kind == "rtp"]


@pytest.mark.parametrize("batch", [1, 5, 256])
def test_loss_duplicates_reordering_and_wrap(batch: int) -> None:
    order = [65530, 65531, 65532, 65534, 65535, 65535, 1, 0, 2, 3, 5, 4, 6]
    # lost 65533; duplicate 65535; reordered 0 (after 1) and 4 (after 5)
    packets = [rtp(s, s * 160, pt=0, payload=b"x" * 160) for s in order]
    times = [1000 + 0.02 * i for i in range(len(order))]
    book = HealthBook(rtp=True)
    feed(book, packets, times, batch)
    (s,) = rtp_streams(book)
    assert (s.packets, s.lost, s.duplicates, s.reordered) == (13, 1, 1, 2)
    assert s.details["ssrc"] == 0x12345678 and s.details["clock_rate"] == 8000
    assert (s.details["first_seq"], s.details["highest_seq"]) == (65530, 6)
    assert (s.source, s.destination) == ("10.0.0.1:5004", "239.1.1.1:5004")
    assert s.bytes == sum(map(len, packets))


def test_jitter_matches_the_rfc_loop_and_uses_the_payload_clock() -> None:
    rng = random.Random(5)
    stamps = [i * 3000 for i in range(500)]           # 90 kHz video, 30 frames/s
    arrivals = [1000 + i / 30 + rng.uniform(0, 0.004) for i in range(500)]
    packets = [rtp(i, ts, pt=96, payload=b"v" * 100) for i, ts in enumerate(stamps)]
    book = HealthBook(rtp=True)
    feed(book, packets, arrivals, 64)
    (s,) = rtp_streams(book)
    expected = rfc3550_jitter(arrivals, stamps, 90000) / 90000 * 1000
    assert s.details["jitter_ms"] == pytest.approx(expected, abs=1e-3)
    assert 0.5 < s.details["jitter_ms"] < 2.0
    assert [clock_rate(pt) for pt in (0, 8, 9, 33, 96, 127)] == [8000, 8000, 8000, 90000,
                                                                 90000, 90000]


def test_perfectly_paced_stream_has_zero_jitter_across_timestamp_wrap() -> None:
    stamps = [(2**32 - 480 + 160 * i) % 2**32 for i in range(10)]
    tracker = RtpTracker(1, 0)
    tracker.feed(np.arange(10, dtype=np.uint16), np.array(stamps, dtype=np.uint32),
                 np.array([5 + 0.02 * i for i in range(10)]), 1000)
    assert tracker.jitter_ms == pytest.approx(0.0, abs=1e-6)


def test_streams_split_by_ssrc_and_changes_are_counted() -> None:
    a = [rtp(i, i, ssrc=0xAAAA, payload=b"a") for i in range(10)]
    b = [rtp(500 + i, i, ssrc=0xBBBB, payload=b"b") for i in range(5)]
    book = HealthBook(rtp=True)
    feed(book, a[:6] + b + a[6:], [1.0 + i / 100 for i in range(15)], batch=4)
    streams = {s.details["ssrc"]: s for s in rtp_streams(book)}
    assert set(streams) == {0xAAAA, 0xBBBB}
    assert (streams[0xAAAA].packets, streams[0xAAAA].lost) == (10, 0)
    assert (streams[0xBBBB].packets, streams[0xBBBB].lost) == (5, 0)
    assert streams[0xAAAA].details["ssrc_changes"] == 1


def test_rtcp_and_random_bytes_never_become_rtp_streams() -> None:
    rng = random.Random(1)
    noise = [bytes([0x80 | rng.randrange(64)]) + rng.randbytes(40) for _ in range(300)]
    rtcp_rr = bytes.fromhex("80c90001") + b"\x00\x00\xca\xfe"
    book = HealthBook(rtp=True, mpegts=True)
    feed(book, noise + [rtcp_rr] * 5, [1.0] * 305, batch=16)
    assert rtp_streams(book) == []
    one = [rtp(7, 0, ssrc=0x77, payload=b"z")]          # a single packet: held, not a stream
    feed(book, one, [2.0])
    assert rtp_streams(book) == []
    feed(book, [rtp(8, 0, ssrc=0x77, payload=b"z")], [2.1])
    (s,) = rtp_streams(book)
    assert s.packets == 2                               # the held first packet is counted


def test_service_ports_are_never_taken_for_rtp() -> None:
    book = HealthBook(rtp=True)
    packets = [rtp(i, i, payload=b"x" * 20) for i in range(10)]
    book.feed(("10.0.0.2", 5353), ("224.0.0.251", 5353), packets, [1.0] * 10)
    assert rtp_streams(book) == []


@st.composite
def rtp_case(draw: st.DrawFn) -> tuple[list[int], list[int], list[float], list[int]]:
    n = draw(st.integers(2, 150))
    seq = draw(st.integers(0, 65535))
    seqs, ssrcs = [], []
    for _ in range(n):
        seq = (seq + draw(st.sampled_from([1, 1, 1, 1, 2, 5, 0, -1, -3, -40]))) % 65536
        seqs.append(seq)
        ssrcs.append(draw(st.sampled_from([1, 1, 1, 1, 2])))
    times = sorted(draw(st.lists(st.floats(0, 10, allow_nan=False), min_size=n, max_size=n)))
    cuts = sorted(set(draw(st.lists(st.integers(1, n), max_size=6))))
    return seqs, ssrcs, [1000 + t for t in times], cuts


@settings(max_examples=150, deadline=None)
@given(case=rtp_case())
def test_batches_equal_one_by_one(case: tuple[list[int], list[int], list[float], list[int]]) -> None:
    seqs, ssrcs, times, cuts = case
    packets = [rtp(s, s * 3000, ssrc=x, pt=96, payload=b"p") for s, x in zip(seqs, ssrcs,
                                                                             strict=True)]
    one, many = HealthBook(rtp=True), HealthBook(rtp=True)
    for p, t in zip(packets, times, strict=True):
        one.feed(SRC, DST, [p], [t])
    for lo, hi in zip([0, *cuts], [*cuts, len(packets)], strict=True):
        many.feed(SRC, DST, packets[lo:hi], times[lo:hi])
    a = {s.details["ssrc"]: s for s in rtp_streams(one)}
    b = {s.details["ssrc"]: s for s in rtp_streams(many)}
    assert set(a) == set(b)
    for ssrc, s in a.items():
        t = b[ssrc]
        assert (s.packets, s.lost, s.duplicates, s.reordered) == (
            t.packets, t.lost, t.duplicates, t.reordered)
        assert s.details["jitter_ms"] == pytest.approx(t.details["jitter_ms"], rel=1e-6,
                                                       abs=1e-3)

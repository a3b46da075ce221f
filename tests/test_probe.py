"""Probe format and tracker: counts must be exact, because they are what users trust."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from udpscope.probe import (
    HEADER_SIZE,
    MAGIC,
    MAX_SIZE,
    ProbeTracker,
    decode_probe,
    encode_probe,
)


def test_round_trip_keeps_fields_and_size():
    data = encode_probe(42, 1700000000.123456789, size=200, stream=7)
    assert len(data) == 200
    assert data.startswith(MAGIC)
    p = decode_probe(data)
    assert p is not None
    assert (p.stream, p.seq, p.size) == (7, 42, 200)
    assert p.send_time_ns == round(1700000000.123456789 * 1e9)
    assert abs(p.send_time - 1700000000.123456789) < 1e-6


def test_nanosecond_time_is_exact():
    p = decode_probe(encode_probe(1, 1_700_000_000_123_456_789, time_ns=True))
    assert p is not None and p.send_time_ns == 1_700_000_000_123_456_789


def test_minimum_size_is_the_header():
    assert len(encode_probe(0, 0.0)) == HEADER_SIZE
    with pytest.raises(ValueError):
        encode_probe(0, 0.0, size=HEADER_SIZE - 1)
    with pytest.raises(ValueError):
        encode_probe(0, 0.0, size=MAX_SIZE + 1)


@pytest.mark.parametrize("kwargs", [
    {"seq": -1}, {"seq": 2**64}, {"stream": -1}, {"stream": 2**32}, {"send_time": -1.0},
])
def test_out_of_range_fields_are_rejected(kwargs):
    args = {"seq": 1, "send_time": 1.0, **kwargs}
    with pytest.raises(ValueError):
        encode_probe(args.pop("seq"), args.pop("send_time"), **args)


def test_largest_values_round_trip():
    p = decode_probe(encode_probe(2**64 - 1, 2**64 - 1, stream=2**32 - 1, time_ns=True))
    assert p is not None and (p.seq, p.stream, p.send_time_ns) == (2**64 - 1, 2**32 - 1, 2**64 - 1)


@pytest.mark.parametrize("data", [
    b"", b"UDPSCOPE-PROBE", b"x" * 100, MAGIC + b"\x02" + bytes(30),   # wrong version
    bytearray(b"hello"), memoryview(b"\x00" * 35),
])
def test_non_probes_decode_to_none(data):
    assert decode_probe(data) is None


def test_decode_accepts_bytearray_and_memoryview():
    raw = encode_probe(3, 1.0, size=64)
    assert decode_probe(bytearray(raw)).seq == 3
    assert decode_probe(memoryview(raw)).seq == 3


@given(st.binary(max_size=200))
def test_decode_never_raises(data):
    p = decode_probe(data)
    assert p is None or data.startswith(MAGIC)


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1), st.integers(HEADER_SIZE, 2000))
def test_round_trip_property(seq, stream, size):
    p = decode_probe(encode_probe(seq, 12.5, size=size, stream=stream))
    assert p is not None and (p.seq, p.stream, p.size) == (seq, stream, size)


def feed(tracker, seqs, *, stream=0, delay=0.001):
    return [tracker.observe(decode_probe(encode_probe(s, 100.0 + s, stream=stream)),
                            100.0 + s + delay) for s in seqs]


def test_in_order_stream_has_no_loss():
    t = ProbeTracker()
    assert set(feed(t, range(100))) == {"new"}
    s = t.stats()
    assert (s.received, s.lost, s.duplicates, s.reordered) == (100, 0, 0, 0)
    assert (s.first_seq, s.highest_seq) == (0, 99)


def test_gaps_count_as_loss():
    t = ProbeTracker()
    feed(t, [0, 1, 2, 5, 6, 10])
    s = t.stats()
    assert s.received == 6
    assert s.lost == 5            # 3, 4, 7, 8, 9
    assert s.loss_ratio == pytest.approx(5 / 11)


def test_late_arrival_repairs_loss_and_counts_as_reordered():
    t = ProbeTracker()
    assert feed(t, [0, 1, 3, 4, 2]) == ["new", "new", "new", "new", "reordered"]
    s = t.stats()
    assert (s.received, s.lost, s.reordered, s.duplicates) == (5, 0, 1, 0)


def test_duplicates_are_counted_once():
    t = ProbeTracker()
    out = feed(t, [0, 1, 1, 2, 0, 2, 2])
    assert out.count("duplicate") == 4
    s = t.stats()
    assert (s.received, s.datagrams, s.duplicates, s.lost, s.reordered) == (3, 7, 4, 0, 0)


def test_a_probe_below_the_first_extends_the_range():
    t = ProbeTracker()
    feed(t, [5, 6, 3])
    s = t.stats()
    assert (s.first_seq, s.received, s.lost, s.reordered) == (3, 3, 1, 1)   # 4 missing


def test_probes_older_than_the_window_are_stale_not_duplicates():
    t = ProbeTracker(window=8)
    feed(t, range(20))
    assert feed(t, [19]) == ["duplicate"]
    assert feed(t, [12]) == ["duplicate"]          # 19 - 12 < 8: still judged
    assert feed(t, [11]) == ["stale"]              # too old to judge
    s = t.stats()
    assert (s.stale, s.duplicates, s.received, s.lost) == (1, 2, 20, 0)


def test_memory_is_bounded_by_the_window():
    t = ProbeTracker(window=16)
    feed(t, range(0, 100_000, 3))
    assert len(t._slots) == 16
    s = t.stats()
    assert (s.received, s.lost) == (33_334, 100_000 - 33_334)


def test_exact_loss_over_a_long_lossy_reordered_duplicated_stream():
    rng = random.Random(1234)
    sent = list(range(5000))
    kept = [s for s in sent if rng.random() > 0.1]
    dups = rng.sample(kept, 100)
    arrivals = kept + dups
    # local reordering: swap neighbours now and then (distance well inside the window)
    for i in range(0, len(arrivals) - 1, 7):
        arrivals[i], arrivals[i + 1] = arrivals[i + 1], arrivals[i]
    t = ProbeTracker(window=8192)
    feed(t, arrivals)
    s = t.stats()
    first, top = min(kept), max(kept)
    assert s.received == len(kept)
    assert s.duplicates == len(dups)
    assert s.lost == (top - first + 1) - len(kept)
    assert s.datagrams == len(arrivals)


def test_delay_min_avg_max_and_jitter():
    t = ProbeTracker()
    for seq, d in enumerate([0.010, 0.030, 0.020]):
        t.observe(decode_probe(encode_probe(seq, 50.0)), 50.0 + d)
    s = t.stats()
    assert s.delay_min == pytest.approx(0.010)
    assert s.delay_max == pytest.approx(0.030)
    assert s.delay_avg == pytest.approx(0.020)
    # RFC 3550: J += (|D| - J)/16 -> 0.02/16 then + (0.01 - that)/16
    j1 = 0.020 / 16
    assert s.jitter == pytest.approx(j1 + (0.010 - j1) / 16)


def test_duplicates_do_not_skew_delay():
    t = ProbeTracker()
    t.observe(decode_probe(encode_probe(0, 1.0)), 1.5)
    t.observe(decode_probe(encode_probe(0, 1.0)), 9.0)   # a late duplicate
    assert t.stats().delay_max == pytest.approx(0.5)


def test_new_stream_id_is_a_restart_with_fresh_sequence():
    t = ProbeTracker()
    feed(t, range(10), stream=1)
    assert feed(t, [0], stream=2) == ["restart"]
    feed(t, [1, 2], stream=2)
    s = t.stats()
    assert (s.restarts, s.stream, s.first_seq, s.highest_seq, s.lost) == (1, 2, 0, 2, 0)
    assert s.received == 13


def test_empty_tracker_stats():
    s = ProbeTracker().stats()
    assert (s.received, s.lost, s.delay_avg, s.jitter, s.loss_ratio) == (0, 0, None, None, 0.0)


def test_the_largest_sequence_numbers_are_judged_exactly() -> None:
    """Empty slots hold 2**64-1 internally: that seq itself must not look like a duplicate."""
    top = 2**64 - 1
    t = ProbeTracker(window=8)

    def seen(seq: int) -> str:
        probe = decode_probe(encode_probe(seq, 1.0))
        assert probe is not None
        return t.observe(probe, 1.5)

    assert [seen(top - 2), seen(top), seen(top), seen(top - 1), seen(top - 1)] == [
        "new", "new", "duplicate", "reordered", "duplicate"]
    s = t.stats()
    assert (s.received, s.duplicates, s.lost, s.highest_seq) == (3, 2, 0, top)


def test_a_tracker_is_small_whatever_its_sequence_numbers() -> None:
    """A full stream table holds 1024 trackers: each must stay tens of kB, not hundreds."""
    import tracemalloc

    tracemalloc.start()
    try:
        trackers = [ProbeTracker() for _ in range(20)]
        for t in trackers:
            for seq in range(2**40, 2**40 + 4096 * 997, 997):
                probe = decode_probe(encode_probe(seq, 1.0))
                assert probe is not None
                t.observe(probe, 1.1)
        per_tracker = tracemalloc.get_traced_memory()[0] / len(trackers)
    finally:
        tracemalloc.stop()
    assert per_tracker < 40_000

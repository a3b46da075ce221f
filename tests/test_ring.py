"""The chunked record ring behaves exactly like a `deque(maxlen=N)` of the records it stands for.

A model (a plain deque of the expected records) is driven with the same random mix of single
records and batch chunks of random sizes; after every step the ring must agree with it on length,
order, indexing, sequence numbers, per-socket counts and what is newer than a given seq.
"""

from __future__ import annotations

import random
from collections import Counter, deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from udpscope.capture import Record as Rec
from udpscope.ring import Ring, RxChunk


class FakeBatch:
    """What RxChunk needs of an engine batch: payloads and a RemoteInfo-shaped tuple per item."""

    def __init__(self, payloads: list[bytes]) -> None:
        self.payloads = tuple(payloads)

    def rinfo(self, i: int) -> tuple:
        return ("127.0.0.1", "IPv4", 1000 + i, len(self.payloads[i]), None, None, None, None)


class Model:
    def __init__(self, maxlen: int) -> None:
        self.ring = Ring(maxlen)
        self.expected: deque[Rec] = deque(maxlen=maxlen)
        self.seq = 0

    def single(self, sock_id: int) -> None:
        self.seq += 1
        record = Rec(self.seq, 1.0, "event", sock_id, event="listening")
        self.ring.append(record)
        self.expected.append(record)

    def batch(self, sock_id: int, n: int) -> None:
        payloads = [b"p%d" % (self.seq + 1 + j) for j in range(n)]
        batch = FakeBatch(payloads)
        self.ring.add_chunk(RxChunk(self.seq + 1, 2.0, sock_id, batch, 0, n, Rec))
        for j in range(n):
            self.expected.append(Rec(self.seq + 1 + j, 2.0, "rx", sock_id, *batch.rinfo(j),
                                     payload=payloads[j]))
        self.seq += n

    def check(self) -> None:
        ring, expected = self.ring, self.expected
        assert len(ring) == len(expected)
        assert bool(ring) == bool(expected)
        assert list(ring) == list(expected)
        if expected:
            assert ring[0] == expected[0] and ring[-1] == expected[-1]
            assert ring.first_seq == expected[0].seq
            middle = len(expected) // 2
            assert ring[middle] == expected[middle]
            assert ring.seq_at(middle) == expected[middle].seq
        assert ring.count_by_socket() == Counter(r.sock_id for r in expected)
        for after in {0, self.seq - 1, self.seq, self.seq - len(expected) // 2}:
            assert ring.since(after) == [r for r in expected if r.seq > after]


@settings(max_examples=60, deadline=None)
@given(
    maxlen=st.integers(1, 50),
    steps=st.lists(st.tuples(st.booleans(), st.integers(1, 3), st.integers(0, 70)), max_size=40),
)
def test_ring_matches_a_bounded_deque(maxlen: int, steps: list[tuple[bool, int, int]]) -> None:
    model = Model(maxlen)
    for is_batch, sock_id, n in steps:
        if is_batch:
            model.batch(sock_id, n)
        else:
            model.single(sock_id)
        model.check()


def test_many_chunks_compact_and_stay_exact() -> None:
    """Enough chunks to trigger the internal compaction, with partial cuts at the front."""
    rng = random.Random(7)
    model = Model(500)
    for _ in range(5000):
        if rng.random() < 0.3:
            model.single(rng.randint(1, 4))
        else:
            model.batch(rng.randint(1, 4), rng.randint(1, 64))
    model.check()
    assert len(model.ring._chunks) < 3000  # compaction happened (5000 chunks were added)


def test_clear_then_extend_and_sharing_between_rings() -> None:
    model = Model(100)
    model.batch(1, 30)
    model.single(2)
    view = Ring(100)
    assert view.extend_from(model.ring, 10) == 21  # the first chunk shared from seq 11 on
    assert [r.seq for r in view] == list(range(11, 32))
    model.batch(1, 5)
    assert view.extend_from(model.ring, 31) == 5
    assert [r.seq for r in view] == list(range(11, 37))
    records = list(model.ring)
    model.ring.clear()
    assert len(model.ring) == 0 and list(model.ring) == [] and model.ring.first_seq is None
    model.ring.extend(records)
    assert list(model.ring) == records
    with pytest.raises(IndexError):
        model.ring[len(records)]
    with pytest.raises(IndexError):
        Ring(3)[0]
    with pytest.raises(ValueError):
        Ring(0)


def test_evicted_batches_are_released_at_once() -> None:
    """An evicted chunk must not stay referenced until a later compaction (memory bound)."""
    import gc
    import weakref

    ring = Ring(5)
    first = FakeBatch([b"a"] * 10)
    ring.add_chunk(RxChunk(1, 0.0, 1, first, 0, 10, Rec))
    gone = weakref.ref(first)
    del first
    ring.add_chunk(RxChunk(11, 0.0, 1, FakeBatch([b"b"] * 10), 0, 10, Rec))
    gc.collect()
    assert gone() is None
    assert [r.payload for r in ring] == [b"b"] * 5

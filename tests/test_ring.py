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

from tests.batches import fake_batch
from udpscope.dgram import Batch
from udpscope.records import RECORD_OVERHEAD
from udpscope.records import Record as Rec
from udpscope.ring import Ring, RxChunk, batch_cost


def numbered_batch(payloads: list[bytes]) -> Batch:
    """Datagram i from port 1000 + i."""
    return fake_batch(payloads, ports=[1000 + i for i in range(len(payloads))])


class TrackedBatch(Batch):
    """A batch a test can hold a weak reference to (to see when the ring lets it go)."""

    __slots__ = ("__weakref__",)


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
        batch = numbered_batch(payloads)
        self.ring.add_chunk(RxChunk(self.seq + 1, 2.0, sock_id, batch, 0, n))
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
    made = numbered_batch([b"a"] * 10)
    first = TrackedBatch(made.payloads, [made.rinfo(i) for i in range(10)])
    ring.add_chunk(RxChunk(1, 0.0, 1, first, 0, 10))
    gone = weakref.ref(first)
    del first
    ring.add_chunk(RxChunk(11, 0.0, 1, numbered_batch([b"b"] * 10), 0, 10))
    gc.collect()
    assert gone() is None
    assert [r.payload for r in ring] == [b"b"] * 5


class BudgetModel:
    """The rule with a byte budget, spelled out plainly: chunks with their costs; cut the
    oldest records beyond maxlen (a fully cut chunk is gone), then drop whole chunks, oldest
    first, while the kept chunks cost more than the budget."""

    def __init__(self, maxlen: int, max_bytes: int) -> None:
        self.ring = Ring(maxlen, max_bytes)
        self.maxlen, self.max_bytes = maxlen, max_bytes
        self.chunks: deque[list] = deque()  # [records, cost]
        self.seq = 0

    def add(self, sock_id: int, sizes: list[int]) -> None:
        if not sizes:
            return
        seq = self.seq + 1
        if len(sizes) == 1 and sizes[0] % 2:  # odd single sizes: a ready-made (sent) record
            record = Rec(seq, 1.0, "tx", sock_id, payload=bytes(sizes[0]), size=sizes[0])
            self.ring.append(record)
            self.chunks.append([[record], sizes[0] + RECORD_OVERHEAD])
        else:
            batch = numbered_batch([bytes(n) for n in sizes])
            chunk = RxChunk(seq, 2.0, sock_id, batch, 0, len(sizes))
            self.ring.add_chunk(chunk)
            self.chunks.append([[chunk.record(j) for j in range(len(sizes))], batch_cost(batch)])
        self.seq += len(sizes)
        while sum(len(c[0]) for c in self.chunks) > self.maxlen:
            self.chunks[0][0].pop(0)
            if not self.chunks[0][0]:
                self.chunks.popleft()
        while self.chunks and sum(c[1] for c in self.chunks) > self.max_bytes:
            self.chunks.popleft()

    def check(self) -> None:
        expected = [r for c in self.chunks for r in c[0]]
        assert list(self.ring) == expected and len(self.ring) == len(expected)
        assert self.ring.nbytes == sum(c[1] for c in self.chunks) <= self.max_bytes
        assert self.ring.count_by_socket() == Counter(r.sock_id for r in expected)
        if expected:
            assert self.ring[-1] == expected[-1] and self.ring.first_seq == expected[0].seq
        for after in {0, self.seq - 1, self.seq - len(expected) // 2}:
            assert self.ring.since(after) == [r for r in expected if r.seq > after]


@settings(max_examples=80, deadline=None)
@given(
    maxlen=st.integers(1, 40),
    budget=st.integers(1, 12_000),
    steps=st.lists(st.tuples(st.integers(1, 3), st.lists(st.integers(0, 3000), max_size=8)),
                   max_size=30),
)
def test_ring_with_a_byte_budget_matches_the_plain_rule(
    maxlen: int, budget: int, steps: list[tuple[int, list[int]]]
) -> None:
    model = BudgetModel(maxlen, budget)
    for sock_id, sizes in steps:
        model.add(sock_id, sizes)
        model.check()


def test_full_means_the_next_like_chunk_would_evict() -> None:
    ring = Ring(10, max_bytes=3 * batch_cost(numbered_batch([bytes(100)] * 2)))
    assert not ring.full
    for seq in (1, 3):
        ring.add_chunk(RxChunk(seq, 0.0, 1, numbered_batch([bytes(100)] * 2), 0, 2))
    assert not ring.full  # room for one more like the last
    ring.add_chunk(RxChunk(5, 0.0, 1, numbered_batch([bytes(100)] * 2), 0, 2))
    assert ring.full and len(ring) == 6  # a fourth would push the first out
    assert Ring(2, None).full is False
    with pytest.raises(ValueError):
        Ring(5, 0)


def test_a_view_sharing_chunks_is_bounded_by_the_same_rule() -> None:
    """The live log's own ring shares the capture's chunks: it must not keep more bytes."""
    source = Ring(1000, max_bytes=10 * batch_cost(numbered_batch([bytes(1000)] * 4)))
    view = Ring(1000, max_bytes=source.max_bytes)
    seq = 1
    for _ in range(50):
        source.add_chunk(RxChunk(seq, 0.0, 1, numbered_batch([bytes(1000)] * 4), 0, 4))
        seq += 4
        view.extend_from(source, view.seq_at(-1) if view else 0)
    assert view.nbytes <= view.max_bytes and len(view) == len(source) == 40
    assert list(view) == list(source)

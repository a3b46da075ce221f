"""A bounded history of records stored as chunks: a flood costs one append per batch, not per row.

The capture layer keeps the last N records (datagrams in and out, socket events). Under a flood
a whole `recvmmsg` batch arrives at once; building a record object per datagram would cost more
than receiving it. So a received batch is kept as one `RxChunk` (the engine's lazily decoded
`dgram.Batch` plus its first sequence number, time and socket) and each record is materialised
only when someone looks at it: a visible log row, the detail view, a filter, a test. Sent
datagrams and events are kept as the `Record`s themselves (a chunk of one).

`Ring` behaves like `collections.deque(maxlen=N)` of records — `len`, iteration oldest first,
indexing (negative too), `append`, `extend`, `clear` — and evicts exactly the oldest records when
full (a chunk can be cut at its front). It is bounded in bytes too: each chunk is charged what it
keeps alive (a received chunk its whole batch, payloads and per-datagram overhead, even when its
front was cut, since the batch is shared and immutable), and whole chunks are evicted, oldest
first, until the total is within the budget. Chunks are shared, never copied: the live log keeps
its own `Ring` that points at the same chunks and is bounded by the same rule.
"""

from __future__ import annotations

import bisect
import collections
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TypeAlias, final

from udpscope.records import Record, record_cost, rx_record

if TYPE_CHECKING:
    from udpscope.dgram import Batch

__all__ = ["CHUNK_OVERHEAD", "DATAGRAM_OVERHEAD", "Chunk", "Ring", "RxChunk", "batch_cost"]

# What a kept batch costs beyond its payload bytes (measured with tracemalloc on real loopback
# batches with metadata on: ~175 bytes a datagram for its payload object, peer key and control
# buffer, ~1.2 KiB a batch for the batch, its tuples, its name snapshot and this chunk); rounded
# up. tests/capture/test_capture_memory.py checks it against what a batch really keeps.
DATAGRAM_OVERHEAD = 192
CHUNK_OVERHEAD = 1280


def batch_cost(batch: Batch, payload_bytes: int | None = None) -> int:
    """Bytes a kept batch holds alive: its payloads (`payload_bytes` if already summed) plus
    the estimated overhead per datagram and per batch."""
    if payload_bytes is None:
        payload_bytes = batch.total_bytes()
    return payload_bytes + len(batch.payloads) * DATAGRAM_OVERHEAD + CHUNK_OVERHEAD


@final
class RxChunk:
    """Records `seq .. seq + n - 1`: datagrams `lo .. lo + n - 1` of one received batch.

    `cost` is what the whole batch keeps alive (see `batch_cost`), whatever part is live.
    """

    __slots__ = ("seq", "time", "sock_id", "batch", "lo", "n", "cost")

    def __init__(self, seq: int, time: float, sock_id: int, batch: Batch, lo: int, n: int,
                 cost: int | None = None) -> None:
        self.seq = seq
        self.time = time
        self.sock_id = sock_id
        self.batch = batch
        self.lo = lo
        self.n = n
        self.cost = batch_cost(batch) if cost is None else cost

    def record(self, j: int) -> Record:
        """The `j`-th record of this chunk, built now."""
        i = self.lo + j
        batch = self.batch
        return rx_record(self.seq + j, self.time, self.sock_id, batch.rinfo(i), batch.payloads[i])

    def tail(self, skip: int) -> RxChunk:
        """The same chunk without its first `skip` records (it still holds the whole batch)."""
        return RxChunk(self.seq + skip, self.time, self.sock_id, self.batch, self.lo + skip,
                       self.n - skip, self.cost)


Chunk: TypeAlias = RxChunk | Record
"""What a ring holds: a received batch's records, or one ready-made record."""

# Stands in for an evicted chunk until the next compaction (never read: it is before _head).
_EVICTED = Record(-1, 0.0, "evicted", -1)


def _size(chunk: Chunk) -> int:
    return chunk.n if type(chunk) is RxChunk else 1


def _cost(chunk: Chunk) -> int:
    return chunk.cost if type(chunk) is RxChunk else record_cost(chunk)


class Ring:
    """The newest `maxlen` records, oldest first, kept as chunks (see the module docstring),
    whose chunks together cost at most `max_bytes` (None: no byte bound)."""

    def __init__(self, maxlen: int, max_bytes: int | None = None) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        if max_bytes is not None and max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self.maxlen = maxlen
        self.max_bytes = sys.maxsize if max_bytes is None else max_bytes
        # Evicted chunks are replaced by _EVICTED at once (their batches released), and the
        # lists are compacted now and then; live chunks are those from _head on.
        self._chunks: list[Chunk] = []
        self._starts: list[int] = []  # absolute position of each chunk's first record
        self._seqs: list[int] = []  # sequence number of each chunk's first record
        self._costs: list[int] = []  # bytes each chunk keeps alive
        self._head = 0  # first live chunk
        self._begin = 0  # absolute position of the oldest live record
        self._end = 0  # absolute position after the newest record
        self._bytes = 0  # what the live chunks keep alive
        self._last_cost = 0

    # ---- adding ----------------------------------------------------------------------------

    def append(self, record: Record) -> None:
        """Add one ready-made record (a sent datagram, an event)."""
        self._add(record, 1, record.seq, record_cost(record))

    def extend(self, records: Iterable[Record]) -> None:
        for record in records:
            self._add(record, 1, record.seq, record_cost(record))

    def add_chunk(self, chunk: RxChunk) -> None:
        """Add a received batch's records in one step (nothing is built per datagram)."""
        if chunk.n > 0:
            self._add(chunk, chunk.n, chunk.seq, chunk.cost)

    def extend_from(self, other: Ring, after_seq: int) -> int:
        """Share `other`'s chunks holding records newer than `after_seq`; returns how many."""
        added = 0
        for chunk in other.chunks_after(after_seq):
            n = _size(chunk)
            self._add(chunk, n, chunk.seq, _cost(chunk))
            added += n
        return added

    def _add(self, chunk: Chunk, n: int, seq: int, cost: int) -> None:
        self._chunks.append(chunk)
        self._starts.append(self._end)
        self._seqs.append(seq)
        self._costs.append(cost)
        self._end += n
        self._bytes += cost
        self._last_cost = cost
        if self._end - self._begin > self.maxlen:
            self._evict_records()
        if self._bytes > self.max_bytes:
            self._evict_bytes()

    def _evict_records(self) -> None:
        """Cut the oldest records beyond `maxlen` (a chunk may be cut at its front)."""
        begin = self._end - self.maxlen
        starts = self._starts
        head = self._head
        last = len(starts) - 1
        chunks = self._chunks
        costs = self._costs
        while head < last and starts[head + 1] <= begin:
            chunks[head] = _EVICTED  # release the evicted batch now, not at the next compaction
            self._bytes -= costs[head]
            head += 1
        self._head = head
        self._begin = begin
        self._compact()

    def _evict_bytes(self) -> None:
        """Drop whole chunks, oldest first, until what is kept fits `max_bytes` (the newest
        chunk too, if it alone is over: the budget is never exceeded)."""
        chunks = self._chunks
        costs = self._costs
        head = self._head
        total = len(chunks)
        while self._bytes > self.max_bytes and head < total:
            chunks[head] = _EVICTED
            self._bytes -= costs[head]
            head += 1
        if head == total:
            self.clear()
            return
        self._head = head
        self._begin = self._starts[head]
        self._compact()

    def _compact(self) -> None:
        head = self._head
        if head > 1024 and head * 2 > len(self._starts):
            del self._chunks[:head], self._starts[:head], self._seqs[:head], self._costs[:head]
            self._head = 0

    def clear(self) -> None:
        self._chunks.clear()
        self._starts.clear()
        self._seqs.clear()
        self._costs.clear()
        self._head = 0
        self._begin = self._end
        self._bytes = 0

    # ---- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._end - self._begin

    def __bool__(self) -> bool:
        return self._end > self._begin

    @property
    def nbytes(self) -> int:
        """Bytes the live chunks keep alive (payloads plus the estimated overhead)."""
        return self._bytes

    @property
    def full(self) -> bool:
        """Whether adding more would evict: `maxlen` records, or no room left under the byte
        budget for another chunk like the newest one."""
        return (self._end - self._begin >= self.maxlen
                or self._bytes + self._last_cost > self.max_bytes)

    def _locate(self, position: int) -> tuple[Chunk, int]:
        k = bisect.bisect_right(self._starts, position, self._head) - 1
        return self._chunks[k], position - self._starts[k]

    def _at(self, index: int) -> tuple[Chunk, int]:
        """(chunk, offset in it) of the record at `index` (negative counts from the newest)."""
        n = self._end - self._begin
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("ring index out of range")
        return self._locate(self._begin + index)

    def __getitem__(self, index: int) -> Record:
        chunk, j = self._at(index)
        return chunk.record(j) if type(chunk) is RxChunk else chunk

    def seq_at(self, index: int) -> int:
        """Sequence number of the record at `index` (0 = oldest), without building it."""
        chunk, j = self._at(index)
        return chunk.seq + j

    def __iter__(self) -> Iterator[Record]:
        skip = self._begin - self._starts[self._head] if self._chunks else 0
        for chunk in self._chunks[self._head:]:
            if type(chunk) is RxChunk:
                for j in range(skip, chunk.n):
                    yield chunk.record(j)
            else:
                yield chunk
            skip = 0

    def chunks_after(self, seq: int) -> list[Chunk]:
        """The live chunks with records newer than `seq` (the first one cut to fit)."""
        if not self:
            return []
        head = self._head
        k = max(bisect.bisect_right(self._seqs, seq, head) - 1, head)
        out = self._chunks[k:]
        if not out:
            return out
        first = out[0]
        skip = self._begin - self._starts[k] if k == head else 0
        if type(first) is RxChunk:
            skip = max(skip, seq + 1 - first.seq)
            if skip >= first.n:
                out = out[1:]
            elif skip > 0:
                out[0] = first.tail(skip)
        elif first.seq <= seq or skip:
            out = out[1:]
        return out

    def since(self, seq: int) -> list[Record]:
        """Records newer than `seq`, oldest first, built now."""
        out: list[Record] = []
        for chunk in self.chunks_after(seq):
            if type(chunk) is RxChunk:
                out.extend(map(chunk.record, range(chunk.n)))
            else:
                out.append(chunk)
        return out

    def count_by_socket(self) -> collections.Counter[int]:
        """How many live records each socket id has (per chunk, not per record)."""
        counts: collections.Counter[int] = collections.Counter()
        starts = self._starts
        begin = self._begin
        for k, chunk in enumerate(self._chunks[self._head:], self._head):
            if type(chunk) is RxChunk:
                counts[chunk.sock_id] += starts[k] + chunk.n - max(starts[k], begin)
            else:
                counts[chunk.sock_id] += 1
        return counts

    @property
    def first_seq(self) -> int | None:
        """Sequence number of the oldest live record (None when empty)."""
        if not self:
            return None
        chunk, j = self._locate(self._begin)
        return chunk.seq + j

"""A bounded history of records stored as chunks: a flood costs one append per batch, not per row.

The capture layer keeps the last N records (datagrams in and out, socket events). Under a flood
a whole `recvmmsg` batch arrives at once; building a record object per datagram would cost more
than receiving it. So a received batch is kept as one `RxChunk` (the engine's lazily decoded
`Batch` plus its first sequence number, time and socket) and each record is materialised only
when someone looks at it: a visible log row, the detail view, a filter, a test. Sent datagrams
and events are kept as the records themselves (a chunk of one).

`Ring` behaves like `collections.deque(maxlen=N)` of records — `len`, iteration oldest first,
indexing (negative too), `append`, `extend`, `clear` — and evicts exactly the oldest records when
full (a chunk can be cut at its front). Chunks are shared, never copied: the live log keeps its
own `Ring` that points at the same chunks.
"""

from __future__ import annotations

import bisect
import collections
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["Ring", "RxChunk"]

_new = tuple.__new__
_NO_EVENT = (None, None, None, None, None)  # event, text, error, code, syscall of an rx record


class RxChunk:
    """Records `seq .. seq + n - 1`: datagrams `lo .. lo + n - 1` of one received batch."""

    __slots__ = ("seq", "time", "sock_id", "batch", "lo", "n", "record_type")

    def __init__(
        self, seq: int, time: float, sock_id: int, batch: Any, lo: int, n: int, record_type: type
    ) -> None:
        self.seq = seq
        self.time = time
        self.sock_id = sock_id
        self.batch = batch
        self.lo = lo
        self.n = n
        self.record_type = record_type

    def record(self, j: int) -> Any:
        """The `j`-th record of this chunk, built now (a `capture.Record`)."""
        i = self.lo + j
        batch = self.batch
        return _new(self.record_type, (self.seq + j, self.time, "rx", self.sock_id)
                    + batch.rinfo(i) + (batch.payloads[i], *_NO_EVENT))

    def tail(self, skip: int) -> RxChunk:
        """The same chunk without its first `skip` records."""
        return RxChunk(self.seq + skip, self.time, self.sock_id, self.batch, self.lo + skip,
                       self.n - skip, self.record_type)


def _size(chunk: Any) -> int:
    return chunk.n if type(chunk) is RxChunk else 1


def _first_seq(chunk: Any) -> int:
    return chunk.seq if type(chunk) is RxChunk else chunk[0]


class Ring:
    """The newest `maxlen` records, oldest first, kept as chunks (see the module docstring)."""

    def __init__(self, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        self.maxlen = maxlen
        self._chunks: list[Any] = []
        self._starts: list[int] = []  # absolute position of each chunk's first record
        self._seqs: list[int] = []  # sequence number of each chunk's first record
        self._head = 0  # first live chunk
        self._begin = 0  # absolute position of the oldest live record
        self._end = 0  # absolute position after the newest record

    # ---- adding ----------------------------------------------------------------------------

    def append(self, record: Any) -> None:
        """Add one ready-made record (a sent datagram, an event)."""
        self._add(record, 1, record[0])

    def extend(self, records: Iterable[Any]) -> None:
        for record in records:
            self._add(record, 1, record[0])

    def add_chunk(self, chunk: RxChunk) -> None:
        """Add a received batch's records in one step (nothing is built per datagram)."""
        if chunk.n > 0:
            self._add(chunk, chunk.n, chunk.seq)

    def extend_from(self, other: Ring, after_seq: int) -> int:
        """Share `other`'s chunks holding records newer than `after_seq`; returns how many."""
        added = 0
        for chunk in other.chunks_after(after_seq):
            n = _size(chunk)
            self._add(chunk, n, _first_seq(chunk))
            added += n
        return added

    def _add(self, chunk: Any, n: int, seq: int) -> None:
        self._chunks.append(chunk)
        self._starts.append(self._end)
        self._seqs.append(seq)
        self._end += n
        if self._end - self._begin > self.maxlen:
            self._evict()

    def _evict(self) -> None:
        begin = self._end - self.maxlen
        starts = self._starts
        head = self._head
        last = len(starts) - 1
        chunks = self._chunks
        while head < last and starts[head + 1] <= begin:
            chunks[head] = None  # release the evicted batch now, not at the next compaction
            head += 1
        self._head = head
        self._begin = begin
        if head > 1024 and head * 2 > len(starts):
            del self._chunks[:head], starts[:head], self._seqs[:head]
            self._head = 0

    def clear(self) -> None:
        self._chunks.clear()
        self._starts.clear()
        self._seqs.clear()
        self._head = 0
        self._begin = self._end

    # ---- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._end - self._begin

    def __bool__(self) -> bool:
        return self._end > self._begin

    def _locate(self, position: int) -> tuple[Any, int]:
        k = bisect.bisect_right(self._starts, position, self._head) - 1
        return self._chunks[k], position - self._starts[k]

    def _at(self, index: int) -> tuple[Any, int]:
        """(chunk, offset in it) of the record at `index` (negative counts from the newest)."""
        n = self._end - self._begin
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("ring index out of range")
        return self._locate(self._begin + index)

    def __getitem__(self, index: int) -> Any:
        chunk, j = self._at(index)
        return chunk.record(j) if type(chunk) is RxChunk else chunk

    def seq_at(self, index: int) -> int:
        """Sequence number of the record at `index` (0 = oldest), without building it."""
        chunk, j = self._at(index)
        return _first_seq(chunk) + j

    def __iter__(self) -> Iterator[Any]:
        skip = self._begin - self._starts[self._head] if self._chunks else 0
        for chunk in self._chunks[self._head:]:
            if type(chunk) is RxChunk:
                for j in range(skip, chunk.n):
                    yield chunk.record(j)
            else:
                yield chunk
            skip = 0

    def chunks_after(self, seq: int) -> list[Any]:
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
        elif first[0] <= seq or skip:
            out = out[1:]
        return out

    def since(self, seq: int) -> list[Any]:
        """Records newer than `seq`, oldest first, built now."""
        out: list[Any] = []
        for chunk in self.chunks_after(seq):
            if type(chunk) is RxChunk:
                out.extend(map(chunk.record, range(chunk.n)))
            else:
                out.append(chunk)
        return out

    def count_by_socket(self) -> collections.Counter[int]:
        """How many live records each socket id has (per chunk, not per record)."""
        counts: collections.Counter[int] = collections.Counter()
        chunks = self._chunks
        starts = self._starts
        for k in range(self._head, len(chunks)):
            chunk = chunks[k]
            if type(chunk) is RxChunk:
                lo = max(starts[k], self._begin)
                counts[chunk.sock_id] += starts[k] + chunk.n - lo
            else:
                counts[chunk[3]] += 1
        return counts

    @property
    def first_seq(self) -> int | None:
        """Sequence number of the oldest live record (None when empty)."""
        if not self:
            return None
        chunk, j = self._locate(self._begin)
        return _first_seq(chunk) + j

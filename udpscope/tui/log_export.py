"""Saving the live log as pcapng: a snapshot taken at once on the event loop, written elsewhere.

"Save log" may be asked for with a hundred thousand rows in the log while datagrams keep
arriving. Building a record and a frame per row on the event loop would stop the receiver for
as long (the kernel buffer fills, datagrams are dropped), so the work is split:

- on the event loop, `take_snapshot` copies the list of the ring's chunks (one reference per
  received batch or per sent datagram / event; no record is built) and the sockets' local
  addresses. That is the log at the moment the user pressed save; the ring can move on.
- in a worker thread, `write_snapshot` builds the records from those chunks and writes them
  through `files.export` into a temporary file renamed over the target when complete.

Sharing the chunks is safe: they are never changed once made (the ring cuts a chunk by making
a new one), a received chunk's batch is immutable, and what it caches while decoding is filled
idempotently (the same value whichever thread asks first). No Textual here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from udpscope.files.export import ExportResult, export_records
from udpscope.records import Record
from udpscope.ring import Chunk, Ring, RxChunk
from udpscope.tui.regular_file import replace_file

__all__ = ["LogSnapshot", "records_of", "row_count", "take_snapshot", "write_snapshot"]


@dataclass(frozen=True)
class LogSnapshot:
    """The rows to save, as shared chunks, and where each socket was bound.

    Attributes:
        chunks: The ring's chunks (received batches, sent datagrams, events), oldest first.
        rows: How many rows (records) they hold.
        locals: Each socket's local (address, port), for the rebuilt UDP headers.
    """

    chunks: list[Chunk]
    rows: int
    locals: dict[int, tuple[str, int]] = field(default_factory=dict)


def row_count(chunks: Iterable[Chunk]) -> int:
    """Records held by ``chunks`` (a received chunk holds many)."""
    return sum(chunk.n if type(chunk) is RxChunk else 1 for chunk in chunks)


def take_snapshot(ring: Ring, after_seq: int,
                  locals_: dict[int, tuple[str, int]] | None = None) -> LogSnapshot:
    """The rows of ``ring`` newer than ``after_seq``, as they are now. O(chunks), no record
    is built: call on the event loop, then hand the snapshot to `write_snapshot`.

    ``locals_`` maps socket ids to their local (address, port) (unknown: the wildcard, port 0).
    """
    chunks = ring.chunks_after(after_seq)
    return LogSnapshot(chunks, row_count(chunks), dict(locals_ or {}))


def records_of(chunks: Iterable[Chunk]) -> Iterator[Record]:
    """Every record the chunks hold, oldest first, built one at a time."""
    for chunk in chunks:
        if type(chunk) is RxChunk:
            for j in range(chunk.n):
                yield chunk.record(j)
        else:
            yield chunk


def write_snapshot(snapshot: LogSnapshot, path: str) -> ExportResult:
    """Write the snapshot's datagrams to ``path`` as pcapng (received ones inbound, sent ones
    outbound and commented "sent by udpscope"; events and failed sends are counted in
    ``skipped``). Writes a temporary file first: ``path`` changes only when it is complete.
    Blocking: run in a worker thread.

    Raises:
        OSError: the file cannot be written (folder gone, read-only, disk full...).
    """
    return replace_file(path, lambda tmp: export_records(tmp, records_of(snapshot.chunks),
                                                         snapshot.locals.get))

"""The Capture facade: what happened on every socket, kept cheaply enough to keep up with the wire.

The engine can deliver hundreds of thousands of datagrams a second; a terminal UI can redraw a few
dozen times a second. The capture layer sits between the two: it listens for the engine's `batch`
events, so each drained batch (up to 256 datagrams) costs one chunk appended to a bounded ring
plus a few integer additions — records are built only when something looks at them (see ring.py)
— and everything slow (rates, kernel drop counters, formatting) happens on a tick that the UI (or
a headless command) drives at its own pace.

Memory is bounded whatever arrives: the ring by records and by bytes (`ring_size`, `ring_bytes`),
the per-stream table by `max_streams`, the error list by a fixed length, stream health by its
book's limits (streams.py: one call per batch, and a batch that cannot hold a tracked stream is
passed over after one scan of its first bytes).

No Textual here: the CLI and tests use it without a screen. Time comes from injectable clocks so
tests and snapshots are deterministic.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from udpscope import dgram
from udpscope import probe as probes
from udpscope.addresses import format_endpoint
from udpscope.capture.entries import SocketEntry
from udpscope.capture.groups import DEFAULT_MAX_STREAMS, GroupTable
from udpscope.capture.sending import SendJob
from udpscope.records import Record
from udpscope.ring import Ring, RxChunk, batch_cost

if TYPE_CHECKING:
    from udpscope.health import SeqSpec

__all__ = ["DEFAULT_RING_BYTES", "DEFAULT_RING_SIZE", "Capture"]

DEFAULT_RING_SIZE = 100_000
DEFAULT_RING_BYTES = 256 << 20  # 256 MiB of kept datagrams (payloads plus overhead)
ERRORS_KEPT = 100


class Capture:
    """Watches dgram sockets; owns the ring, the counters and the per-group statistics.

    `ring_size` records and `ring_bytes` bytes (payloads plus an overhead estimate) bound the
    history, whichever is reached first; `max_streams` bounds the (group, source) table.
    Raises ValueError for a bound below 1.
    """

    def __init__(
        self,
        ring_size: int = DEFAULT_RING_SIZE,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        ring_bytes: int = DEFAULT_RING_BYTES,
        max_streams: int = DEFAULT_MAX_STREAMS,
    ) -> None:
        if ring_size < 1:
            raise ValueError("ring_size must be at least 1")
        if ring_bytes < 1:
            raise ValueError("ring_bytes must be at least 1")
        self.ring = Ring(ring_size, ring_bytes)
        self.ring_size = ring_size
        self.ring_bytes = ring_bytes
        self.clock = clock
        self.monotonic = monotonic
        self.seq = 0
        self._cleared = 0
        self.sockets: dict[int, SocketEntry] = {}
        self.groups = GroupTable(max_streams)
        # Errors also kept apart from the ring so a UI can announce each one once, even when
        # a filter hides them in the log or the ring has moved on.
        self.errors: deque[Record] = deque(maxlen=ERRORS_KEPT)
        self.error_count = 0
        self._ids = itertools.count(1)
        self._last_tick: float | None = None
        self.tracking_streams = False  # stream health for every socket (see track_streams)

    # ---- the per-datagram path -------------------------------------------------------------

    def _on_batch(self, entry: SocketEntry, batch: dgram.Batch) -> None:
        """A drained batch of datagrams: one ring append and a few additions, whatever its size.

        Records are built only when looked at (see ring.py); per-group statistics look only at
        batches with probes or multicast in them (see groups.py).
        """
        payloads = batch.payloads
        n = len(payloads)
        seq = self.seq + 1
        self.seq += n
        now = self.clock()
        nbytes, maybe_probes = _scan(payloads)
        self.ring.add_chunk(RxChunk(seq, now, entry.id, batch, 0, n, batch_cost(batch, nbytes)))
        entry.rx_datagrams += n
        entry.rx_bytes += nbytes
        self.groups.observe_batch(entry, batch, now, maybe_probes)
        streams = entry.streams
        if streams is not None:
            streams.feed(entry, batch, now)

    def _append(self, record: Record) -> None:
        self.ring.append(record)
        if record.kind == "event":
            entry = self.sockets.get(record.sock_id)
            if entry is not None:
                entry.events += 1

    @property
    def evictions(self) -> int:
        """Records pushed out of the ring, by its record or its byte bound (every record gets
        a seq; cleared ones don't count)."""
        return self.seq - len(self.ring) - self._cleared

    # ---- sockets ---------------------------------------------------------------------------

    def create_socket(self, options: str | dgram.SocketOptions | dict[str, object] = "udp4",
                      label: str = "") -> SocketEntry:
        """Create an engine socket (type string, SocketOptions or dict) and watch it.

        A bare type string gets per-datagram metadata (destination, interface, TTL, kernel
        drops): the reason to use udpscope over a plain socket. Raises the engine's argument
        errors unchanged (bad type, bad buffer size).
        """
        if isinstance(options, str):
            options = dgram.SocketOptions(type=options, metadata=True)
        sock = dgram.create_socket(options)
        return self.watch(sock, label)

    def watch(self, sock: dgram.Socket, label: str = "") -> SocketEntry:
        """Start watching an existing engine socket; returns its entry (with a fresh id)."""
        entry = SocketEntry(next(self._ids), sock, getattr(sock, "type", "udp4"), label)
        self.sockets[entry.id] = entry
        if self.tracking_streams:
            from udpscope.capture.streams import SocketStreams

            entry.streams = SocketStreams(kernel_drops_base=None)
        sock.on("batch", functools.partial(self._on_batch, entry))
        sock.on("listening", lambda: self._on_event(entry, "listening", _endpoint(entry.local())))
        sock.on("connect", lambda: self._on_event(entry, "connect", _endpoint(entry.peer())))
        sock.on("close", lambda: self._on_event(entry, "close", ""))
        sock.on("error", lambda err: self.record_error(entry.id, err))
        return entry

    # ---- stream health -----------------------------------------------------------------------

    def track_streams(self) -> None:
        """Follow probe, RTP and MPEG-TS streams and the mDNS/SSDP checks on every socket, now
        and on sockets made later (see capture/streams.py). Imports numpy and the decoders:
        call it off the start-up path. Streams are followed from the next batch on."""
        from udpscope.capture.streams import SocketStreams

        self.tracking_streams = True
        for entry in self.sockets.values():
            if entry.streams is None:
                entry.streams = SocketStreams(kernel_drops_base=None)

    def set_stream_options(self, sock_id: int, seq: SeqSpec | None, arbitrate: bool) -> None:
        """Follow socket `sock_id`'s streams afresh with a sequence field `seq` (None: none)
        and, with `arbitrate`, their A/B merge. What was tracked so far on it starts over.
        Raises KeyError for an unknown socket, ValueError for `arbitrate` without `seq`."""
        from udpscope.capture.streams import SocketStreams

        entry = self.sockets[sock_id]
        entry.streams = SocketStreams(seq=seq, arbitrate=arbitrate, kernel_drops_base=None)

    # ---- memberships and batch taps ---------------------------------------------------------

    def note_joins(self, sock_id: int) -> None:
        """Record the join time of memberships socket ``sock_id`` gained (call right after a
        join or leave made for the user; the tick catches any other within its period)."""
        entry = self.sockets.get(sock_id)
        if entry is not None:
            entry.sync_joins(self.clock())

    def tap_batches(self, sock_id: int, listener: Callable[[dgram.Batch], None]) -> Callable[[], None]:
        """Call ``listener(batch)`` with every batch socket ``sock_id`` receives (after the
        capture's own accounting), e.g. a per-interface arrival counter; returns the function
        that stops it. Raises KeyError for an unknown socket."""
        sock = self.sockets[sock_id].sock
        sock.on("batch", listener)

        def stop() -> None:
            with contextlib.suppress(Exception):
                sock.off("batch", listener)

        return stop

    def note_event(self, sock_id: int, event: str, text: str = "") -> None:
        """Log an event the engine does not emit itself (e.g. "disconnect", which Node has no
        event for) for socket ``sock_id``; unknown ids are ignored."""
        entry = self.sockets.get(sock_id)
        if entry is not None:
            self._on_event(entry, event, text)

    def _on_event(self, entry: SocketEntry, event: str, text: str) -> None:
        self.seq += 1
        self._append(Record(self.seq, self.clock(), "event", entry.id, event=event, text=text))

    def record_error(self, sock_id: int, err: BaseException) -> None:
        """Record an error (engine event or a failed call made on behalf of the user)."""
        entry = self.sockets.get(sock_id)
        code = getattr(err, "code", None)
        text = str(err) or type(err).__name__
        if entry is not None:
            entry.last_error = text
            entry.last_error_code = code
        self.seq += 1
        record = Record(
            self.seq, self.clock(), "event", sock_id, event="error", text=text, error=text,
            code=code, address=getattr(err, "address", None), port=getattr(err, "port", None),
            syscall=getattr(err, "syscall", None),
        )
        self._append(record)
        self.errors.append(record)
        self.error_count += 1

    def close(self, sock_id: int) -> None:
        """Close the socket (it stays listed, state "closed"). Engine errors propagate."""
        self.sockets[sock_id].sock.close()

    def forget(self, sock_id: int) -> None:
        """Stop listing a socket, closing it first if it is still open."""
        entry = self.sockets.pop(sock_id, None)
        if entry is not None and entry.state != "closed":
            with contextlib.suppress(Exception):
                entry.sock.close()

    def close_all(self) -> None:
        """Close every socket still open (errors ignored: this is shutdown)."""
        for entry in self.sockets.values():
            if entry.state != "closed":
                with contextlib.suppress(Exception):
                    entry.sock.close()

    # ---- sending ---------------------------------------------------------------------------

    def send(
        self,
        sock_id: int,
        payload: bytes,
        port: int | None = None,
        address: str | None = None,
        count: int = 1,
        rate: float | None = None,
        probe: bool = False,
        on_result: Callable[[BaseException | None, int | None], None] | None = None,
    ) -> SendJob:
        """Send ``payload`` ``count`` times, paced at ``rate`` datagrams/s (None: as fast as the
        engine queues them). Each result (bytes or error) is recorded when the engine reports it,
        and passed to ``on_result(err, nbytes)`` after that (a responder counts its replies so).
        With ``probe``, each datagram is a numbered probe as long as ``payload`` (at least the
        probe header).

        The first send is issued before this returns, so argument errors (bad count or rate,
        bad port, closed socket) raise here; later ones are recorded as failed sends.
        """
        job = SendJob(count)
        job.on_result = on_result
        entry = self.sockets[sock_id]
        probe_size = max(len(payload), probes.HEADER_SIZE)

        def send_one(index: int) -> None:
            data = payload
            if probe:
                data = probes.encode_probe(index, self.clock(), probe_size)

            def done(err: BaseException | None, nbytes: int | None = None) -> None:
                self._on_sent(entry, job, data, port, address, err, nbytes)

            entry.sock.send(data, port, address, done)

        job.start(send_one, rate, self.monotonic, lambda err: self.record_error(entry.id, err))
        return job

    def _on_sent(
        self,
        entry: SocketEntry,
        job: SendJob,
        data: bytes,
        port: int | None,
        address: str | None,
        err: BaseException | None,
        nbytes: int | None,
    ) -> None:
        self.seq += 1
        if port is None or address is None:
            peer = entry.peer()
            if peer is not None:
                address, port = address or peer[0], port or peer[1]
        if err is None:
            sent = nbytes or 0
            job.succeeded(sent)
            entry.tx_datagrams += 1
            entry.tx_bytes += sent
            self._append(Record(self.seq, self.clock(), "tx", entry.id, address=address,
                                port=port, size=sent, payload=data))
            if entry.streams is not None:
                entry.streams.sent(data, port, self.clock())
        else:
            self._record_failed_send(entry, job, data, port, address, err)
        if job.on_result is not None:
            job.on_result(err, nbytes)

    def _record_failed_send(self, entry: SocketEntry, job: SendJob, data: bytes,
                            port: int | None, address: str | None, err: BaseException) -> None:
        job.failed_with(err)
        entry.tx_errors += 1
        entry.last_error = job.last_error
        entry.last_error_code = job.last_error_code
        record = Record(self.seq, self.clock(), "tx", entry.id, address=address, port=port,
                        size=len(data), payload=data, error=job.last_error,
                        code=job.last_error_code, syscall=getattr(err, "syscall", None))
        self._append(record)
        self.errors.append(record)
        self.error_count += 1

    # ---- reading ---------------------------------------------------------------------------

    def errors_since(self, count: int) -> list[Record]:
        """Errors after the ``count``-th one (as far as the small error ring reaches)."""
        n = min(self.error_count - count, len(self.errors))
        return list(self.errors)[-n:] if n > 0 else []

    def records_since(self, seq: int) -> list[Record]:
        """Records newer than ``seq`` still in the ring, oldest first. O(new records)."""
        if self.seq <= seq:
            return []
        return self.ring.since(seq)

    def clear(self) -> None:
        """Forget the history (counters are kept: they are totals since the socket was made)."""
        in_ring = self.ring.count_by_socket()
        for entry in self.sockets.values():
            entry.cleared += in_ring[entry.id]
        self._cleared += len(self.ring)
        self.ring.clear()

    def tick(self) -> None:
        """Recompute rates, per-socket evictions and kernel drop counters. Call a few times a
        second (never per datagram: it walks every socket, stream and ring chunk)."""
        now = self.monotonic()
        last = self._last_tick
        self._last_tick = now
        dt = (now - last) if last is not None else 0.0
        in_ring = self.ring.count_by_socket()
        wall = self.clock()
        for entry in self.sockets.values():
            entry.evictions = entry.records_made - in_ring[entry.id] - entry.cleared
            entry.refresh(dt)
            entry.sync_joins(wall)
        self.groups.refresh(dt)

    def entries(self) -> Iterable[SocketEntry]:
        """The watched sockets, in the order they were made."""
        return self.sockets.values()


_PROBE_MAGIC = probes.MAGIC
_JOIN_BELOW = 2048  # bytes in a batch's first datagram up to which joining is the cheaper scan


def _scan(payloads: tuple[bytes, ...]) -> tuple[int, bool]:
    """(total bytes, whether any payload may be a probe) of a batch, in C-level passes.

    Small datagrams are joined and searched once (a few times cheaper than a call per
    datagram; a false "maybe" only costs groups.py an exact look); large ones are not copied.
    """
    if payloads and len(payloads[0]) <= _JOIN_BELOW:
        joined = b"".join(payloads)
        return len(joined), _PROBE_MAGIC in joined
    return (sum(map(len, payloads)),
            any(map(bytes.startswith, payloads, itertools.repeat(_PROBE_MAGIC))))


def _endpoint(where: tuple[str, int] | None) -> str:
    return format_endpoint(*where) if where is not None else ""

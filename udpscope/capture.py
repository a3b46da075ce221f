"""The capture layer: what happened on every socket, kept cheaply enough to keep up with the wire.

The engine can deliver hundreds of thousands of datagrams a second; a terminal UI can redraw a few
dozen times a second. This module sits between the two: it listens for the engine's `batch` events,
so each drained batch (up to 256 datagrams) costs one chunk appended to a bounded ring plus a few
integer additions — records are built only when something looks at them (see ring.py) — and
everything slow (rates, kernel drop counters, formatting) happens on a tick that the UI (or a
headless command) drives at its own pace.

No Textual here: the CLI and tests use it without a screen. Time comes from injectable clocks so
tests and snapshots are deterministic.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from udpscope import dgram
from udpscope import probe as probes
from udpscope.addresses import is_multicast
from udpscope.ring import Ring, RxChunk

__all__ = [
    "Capture",
    "GroupStats",
    "Record",
    "SendJob",
    "SocketEntry",
    "DEFAULT_RING_SIZE",
    "MAX_SEND_COUNT",
]

DEFAULT_RING_SIZE = 100_000
MAX_SEND_COUNT = 1_000_000
RATE_HISTORY = 120


class Record(NamedTuple):
    """One line of history: a datagram received or sent, or a socket event.

    kind is "rx", "tx" or "event". For events, ``event`` names it (listening, connect, close,
    error) and ``text`` carries the message (untrusted: OS text, addresses). A failed send is a
    "tx" record with ``error`` set and ``size`` the number of bytes attempted.

    Immutable, and laid out so that a received datagram's record is its stamp followed by the
    engine's `RemoteInfo` fields as they are (address, family, port, size, destination,
    interface, ttl, timestamp): building one (`ring.RxChunk.record`) is a single tuple
    concatenation, no per-field work. Received records share their chunk's time (when the
    batch was read); the kernel's own receive time is in ``timestamp``.
    """

    seq: int
    time: float
    kind: str
    sock_id: int
    address: str | None = None
    family: str | None = None
    port: int | None = None
    size: int = 0
    destination: str | None = None
    interface: str | None = None
    ttl: int | None = None
    timestamp: float | None = None
    payload: bytes = b""
    event: str | None = None
    text: str | None = None
    error: str | None = None
    code: str | None = None
    syscall: str | None = None




@dataclass(slots=True)
class SocketEntry:
    """A socket the capture layer watches, with exact counters."""

    id: int
    sock: Any
    type: str
    label: str = ""
    rx_datagrams: int = 0
    rx_bytes: int = 0
    tx_datagrams: int = 0
    tx_bytes: int = 0
    tx_errors: int = 0
    evictions: int = 0  # refreshed by Capture.tick() (derived, so the hot path does no work)
    events: int = 0
    cleared: int = 0
    kernel_drops: int = 0
    last_error: str | None = None
    last_error_code: str | None = None
    isolated: bool = False
    rx_rate: float = 0.0
    rx_byte_rate: float = 0.0
    tx_rate: float = 0.0
    tx_byte_rate: float = 0.0
    rx_history: deque[float] = field(default_factory=lambda: deque(maxlen=RATE_HISTORY))
    _last_rx: int = 0
    _last_rx_bytes: int = 0
    _last_tx: int = 0
    _last_tx_bytes: int = 0

    @property
    def state(self) -> str:
        try:
            return str(self.sock.state)
        except Exception:  # pragma: no cover - defensive: a broken socket must not break the UI
            return "?"

    def local(self) -> tuple[str, int] | None:
        """Local (address, port), or None when the OS socket does not exist (or is closed)."""
        try:
            info = self.sock.address()
        except Exception:
            return None
        return (info.address, info.port)

    def peer(self) -> tuple[str, int] | None:
        """Connected peer (address, port), or None."""
        if self.state != "connected":
            return None
        try:
            info = self.sock.remote_address()
        except Exception:
            return None
        return (info.address, info.port)


@dataclass(slots=True)
class GroupStats:
    """Traffic seen from one source to one group (or probe stream to a unicast address)."""

    group: str
    source: str
    interface: str | None = None
    packets: int = 0
    bytes: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    ttl_min: int | None = None
    ttl_max: int | None = None
    rate: float = 0.0
    tracker: Any = None
    _last_packets: int = 0


class SendJob:
    """A bounded, paced series of sends whose results arrive through the engine's callback."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.issued = 0
        self.ok = 0
        self.failed = 0
        self.bytes = 0
        self.last_bytes: int | None = None
        self.last_error: str | None = None
        self.last_error_code: str | None = None
        self.cancelled = False
        self.task: asyncio.Task[None] | None = None
        self.on_result: Callable[[BaseException | None, int | None], None] | None = None

    @property
    def done(self) -> bool:
        return self.cancelled or (self.ok + self.failed) >= self.count

    def cancel(self) -> None:
        self.cancelled = True
        if self.task is not None:
            self.task.cancel()

    def summary(self) -> str:
        """Plain-text summary (may contain OS error text: sanitise before display)."""
        parts = [f"sent {self.ok}/{self.count}"]
        if self.last_bytes is not None:
            parts.append(f"{self.last_bytes} bytes each" if self.count > 1 else f"{self.last_bytes} bytes")
        if self.failed:
            parts.append(f"{self.failed} failed: {self.last_error}")
        if self.cancelled and not self.done:
            parts.append("cancelled")
        return ", ".join(parts)


_PROBE_MAGIC = probes.MAGIC


# Destinations repeat (a socket's own address, a few groups): remember the answer per literal.
_is_multicast = functools.lru_cache(maxsize=4096)(is_multicast)


class Capture:
    """Watches dgram sockets; owns the ring, the counters and the per-group statistics."""

    def __init__(
        self,
        ring_size: int = DEFAULT_RING_SIZE,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if ring_size < 1:
            raise ValueError("ring_size must be at least 1")
        self.ring = Ring(ring_size)
        self.ring_size = ring_size
        self.clock = clock
        self.monotonic = monotonic
        self.seq = 0
        self._cleared = 0
        self.sockets: dict[int, SocketEntry] = {}
        self.groups: dict[tuple[str, str], GroupStats] = {}
        # Errors also kept apart from the ring so a UI can announce each one once, even when
        # a filter hides them in the log or the ring has moved on.
        self.errors: deque[Record] = deque(maxlen=100)
        self.error_count = 0
        self._ids = itertools.count(1)
        self._last_tick: float | None = None

    # ---- the per-datagram path -------------------------------------------------------------

    def _append(self, record: Record) -> None:
        self.ring.append(record)
        if record.kind == "event":
            entry = self.sockets.get(record.sock_id)
            if entry is not None:
                entry.events += 1

    @property
    def evictions(self) -> int:
        """Records the full ring pushed out (every record gets a seq; cleared ones don't count)."""
        return self.seq - len(self.ring) - self._cleared

    def _count_evictions(self) -> None:
        """Per-socket evictions: records made minus records still in the ring (and cleared)."""
        in_ring = self.ring.count_by_socket()
        for entry in self.sockets.values():
            made = entry.rx_datagrams + entry.tx_datagrams + entry.tx_errors + entry.events
            entry.evictions = made - in_ring[entry.id] - entry.cleared

    def _on_batch(self, entry: SocketEntry, batch: Any) -> None:
        """A drained batch of datagrams: one ring append and a few additions, whatever its size.

        Records are built only when looked at (see ring.py). Per-group statistics need each
        datagram's source and destination, so only batches that hold probes or multicast/broadcast
        traffic are walked datagram by datagram; a unicast flood never is.
        """
        payloads = batch.payloads
        n = len(payloads)
        seq = self.seq + 1
        self.seq += n
        now = self.clock()
        self.ring.add_chunk(RxChunk(seq, now, entry.id, batch, 0, n, Record))
        entry.rx_datagrams += n
        entry.rx_bytes += batch.total_bytes()
        probed = any(map(bytes.startswith, payloads, itertools.repeat(_PROBE_MAGIC)))
        grouped = any(d is not None and _is_multicast(d) for d in batch.destination_set())
        if probed or grouped:
            self._group_batch(entry, batch, now, probed)

    def _group_batch(self, entry: SocketEntry, batch: Any, now: float, probed: bool) -> None:
        """Per (group, source) statistics for a batch with probes or multicast in it.

        One sender's multicast stream without probes (a multicast flood) is accounted per batch;
        anything else datagram by datagram.
        """
        uniform = None if probed else batch.uniform()
        if uniform is not None:
            info, ttl_min, ttl_max = uniform
            if info[4] is not None and _is_multicast(info[4]):
                self._group_update(info[4], info[0], info[5], ttl_min, batch.total_bytes(),
                                   now, None, len(batch), ttl_max)
                return
        rinfo = batch.rinfo
        for i, msg in enumerate(batch.payloads):
            info = rinfo(i)
            destination = info[4]
            found = probes.decode_probe(msg) if msg.startswith(_PROBE_MAGIC) else None
            if found is not None or (destination is not None and _is_multicast(destination)):
                self._group_update(destination or _local_address(entry), info[0], info[5],
                                   info[6], len(msg), now, found)

    def _group_update(
        self,
        group: str,
        source: str,
        interface: str | None,
        ttl: int | None,
        size: int,
        now: float,
        found: probes.Probe | None,
        count: int = 1,
        ttl_high: int | None = None,
    ) -> None:
        """Account `count` datagrams of `size` bytes in all from `source` to `group`, with TTLs
        from `ttl` to `ttl_high` (default: all `ttl`)."""
        key = (group, source)
        stats = self.groups.get(key)
        if stats is None:
            stats = self.groups[key] = GroupStats(group, source, interface, first_seen=now)
        stats.packets += count
        stats.bytes += size
        stats.last_seen = now
        if interface is not None:
            stats.interface = interface
        if ttl is not None:
            high = ttl if ttl_high is None else ttl_high
            if stats.ttl_min is None or ttl < stats.ttl_min:
                stats.ttl_min = ttl
            if stats.ttl_max is None or high > stats.ttl_max:
                stats.ttl_max = high
        if found is not None:
            if stats.tracker is None:
                stats.tracker = probes.ProbeTracker()
            stats.tracker.observe(found, now)

    # ---- sockets ---------------------------------------------------------------------------

    def create_socket(self, options: Any = "udp4", label: str = "") -> SocketEntry:
        """Create an engine socket (type string, SocketOptions or dict) and watch it.

        A bare type string gets per-datagram metadata (destination, interface, TTL, kernel
        drops): the reason to use udpscope over a plain socket. Raises the engine's argument
        errors unchanged (bad type, bad buffer size).
        """
        if isinstance(options, str):
            options = dgram.SocketOptions(type=options, metadata=True)
        sock = dgram.create_socket(options)
        return self.watch(sock, label)

    def watch(self, sock: Any, label: str = "") -> SocketEntry:
        """Start watching an existing engine socket; returns its entry (with a fresh id)."""
        entry = SocketEntry(next(self._ids), sock, getattr(sock, "type", "udp4"), label)
        self.sockets[entry.id] = entry
        sock.on("batch", functools.partial(self._on_batch, entry))
        sock.on("listening", lambda: self._on_listening(entry))
        sock.on("connect", lambda: self._on_event(entry, "connect", _fmt_peer(entry.peer())))
        sock.on("close", lambda: self._on_event(entry, "close", ""))
        sock.on("error", lambda err: self.record_error(entry.id, err))
        return entry

    def _on_listening(self, entry: SocketEntry) -> None:
        local = entry.local()
        self._on_event(entry, "listening", _fmt_peer(local))

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
            self.seq,
            self.clock(),
            "event",
            sock_id,
            event="error",
            text=text,
            error=text,
            code=code,
            address=getattr(err, "address", None),
            port=getattr(err, "port", None),
            syscall=getattr(err, "syscall", None),
        )
        self._append(record)
        self.errors.append(record)
        self.error_count += 1

    def close(self, sock_id: int) -> None:
        """Close the socket (it stays listed, state "closed"). Engine errors propagate."""
        entry = self.sockets[sock_id]
        entry.sock.close()

    def forget(self, sock_id: int) -> None:
        """Stop listing a socket, closing it first if it is still open."""
        entry = self.sockets.pop(sock_id, None)
        if entry is not None and entry.state != "closed":
            with contextlib.suppress(Exception):
                entry.sock.close()

    def close_all(self) -> None:
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

        The first send is issued before this returns, so argument errors (bad port, closed
        socket) raise here; later ones are recorded as failed sends.
        """
        if count < 1 or count > MAX_SEND_COUNT:
            raise ValueError(f"count must be 1..{MAX_SEND_COUNT}")
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        entry = self.sockets[sock_id]
        job = SendJob(count)
        job.on_result = on_result
        probe_size = max(len(payload), 0)
        self._send_one(entry, job, payload, port, address, probe, 0, probe_size)
        if count > 1:
            job.task = asyncio.get_running_loop().create_task(
                self._send_rest(entry, job, payload, port, address, rate, probe, probe_size)
            )
        return job

    def _send_one(
        self,
        entry: SocketEntry,
        job: SendJob,
        payload: bytes,
        port: int | None,
        address: str | None,
        probe: bool,
        index: int,
        probe_size: int,
    ) -> None:
        data = payload
        if probe:
            data = probes.encode_probe(index, self.clock(), max(probe_size, probes.HEADER_SIZE))
        job.issued += 1

        def done(err: BaseException | None, nbytes: int | None) -> None:
            self._on_sent(entry, job, data, port, address, err, nbytes)

        entry.sock.send(data, port, address, done)

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
            job.ok += 1
            job.bytes += nbytes or 0
            job.last_bytes = nbytes
            entry.tx_datagrams += 1
            entry.tx_bytes += nbytes or 0
            self._append(
                Record(self.seq, self.clock(), "tx", entry.id, address=address, port=port,
                       size=nbytes or 0, payload=data)
            )
        else:
            text = str(err) or type(err).__name__
            job.failed += 1
            job.last_error = text
            job.last_error_code = getattr(err, "code", None)
            entry.tx_errors += 1
            entry.last_error = text
            entry.last_error_code = job.last_error_code
            record = Record(
                self.seq,
                self.clock(),
                "tx",
                entry.id,
                address=address,
                port=port,
                size=len(data),
                payload=data,
                error=text,
                code=job.last_error_code,
                syscall=getattr(err, "syscall", None),
            )
            self._append(record)
            self.errors.append(record)
            self.error_count += 1
        if job.on_result is not None:
            job.on_result(err, nbytes)

    async def _send_rest(
        self,
        entry: SocketEntry,
        job: SendJob,
        payload: bytes,
        port: int | None,
        address: str | None,
        rate: float | None,
        probe: bool,
        probe_size: int,
    ) -> None:
        interval = 1.0 / rate if rate else 0.0
        next_at = self.monotonic() + interval
        for index in range(1, job.count):
            if job.cancelled:
                return
            if interval:
                delay = next_at - self.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                # Never burst to catch up: the schedule restarts from now when we are late.
                next_at = max(next_at, self.monotonic()) + interval
            elif index % 64 == 0:
                await asyncio.sleep(0)
            try:
                self._send_one(entry, job, payload, port, address, probe, index, probe_size)
            except Exception as err:  # the socket was closed under us, etc.
                job.failed += job.count - index
                job.last_error = str(err)
                job.last_error_code = getattr(err, "code", None)
                self.record_error(entry.id, err)
                return

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
        """Recompute rates and read kernel drop counters. Call a few times a second."""
        now = self.monotonic()
        last = self._last_tick
        self._last_tick = now
        self._count_evictions()
        dt = (now - last) if last is not None else 0.0
        for entry in self.sockets.values():
            if entry.state != "closed":
                with contextlib.suppress(Exception):
                    entry.kernel_drops = int(entry.sock.get_kernel_drops())
            if dt > 0:
                entry.rx_rate = (entry.rx_datagrams - entry._last_rx) / dt
                entry.rx_byte_rate = (entry.rx_bytes - entry._last_rx_bytes) / dt
                entry.tx_rate = (entry.tx_datagrams - entry._last_tx) / dt
                entry.tx_byte_rate = (entry.tx_bytes - entry._last_tx_bytes) / dt
                entry.rx_history.append(entry.rx_rate)
            entry._last_rx = entry.rx_datagrams
            entry._last_rx_bytes = entry.rx_bytes
            entry._last_tx = entry.tx_datagrams
            entry._last_tx_bytes = entry.tx_bytes
        for stats in self.groups.values():
            if dt > 0:
                stats.rate = (stats.packets - stats._last_packets) / dt
            stats._last_packets = stats.packets

    def totals(self) -> dict[str, int]:
        out = {"rx_datagrams": 0, "rx_bytes": 0, "tx_datagrams": 0, "tx_bytes": 0, "drops": 0}
        for e in self.sockets.values():
            out["rx_datagrams"] += e.rx_datagrams
            out["rx_bytes"] += e.rx_bytes
            out["tx_datagrams"] += e.tx_datagrams
            out["tx_bytes"] += e.tx_bytes
            out["drops"] += e.kernel_drops
        return out

    def entries(self) -> Iterable[SocketEntry]:
        return self.sockets.values()


def _local_address(entry: SocketEntry) -> str:
    local = entry.local()
    return local[0] if local else "?"


def _fmt_peer(peer: tuple[str, int] | None) -> str:
    if peer is None:
        return ""
    address, port = peer
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def format_endpoint(address: str | None, port: int | None) -> str:
    """``addr:port`` with IPv6 in brackets (raw, unsanitised: the caller makes it safe)."""
    if address is None:
        return ""
    if port is None:
        return address
    return _fmt_peer((address, port))

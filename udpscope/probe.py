"""Numbered probe datagrams, so a receiver can tell loss, duplication, reordering and delay.

Multicast problems are usually partial: some datagrams vanish, a second path doubles them, a
switch reorders them. A probe carries a stream id (a sender restart starts a new stream), a
sequence number and the send time, so the receiver can count all of that per (group, source)
without any agreement beyond this format. Delay is receive time minus send time, meaningful when
both clocks are the same host's (or well synchronised).

Times are parameters, never read from a clock here, so the tracker is tested without sockets or
sleeps. Tracking is O(1) per datagram with memory fixed by the duplicate window.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from typing import Literal

MAGIC = b"UDPSCOPE-PROBE"
VERSION = 1
_HEADER = struct.Struct("!14sBIQQ")   # magic, version, stream id (u32), seq (u64), send ns (u64)
HEADER_SIZE = _HEADER.size           # 35
MAX_SIZE = 65527                     # largest UDP payload (IPv6); IPv4 senders stop at 65507
_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF
_PAD = bytes(range(256)) * 256       # a visible, non-zero filler


@dataclass(frozen=True)
class Probe:
    """A decoded probe header."""

    stream: int
    seq: int
    send_time_ns: int
    size: int          # whole datagram, padding included

    @property
    def send_time(self) -> float:
        """Send time in seconds (same epoch as the sender's clock)."""
        return self.send_time_ns / 1e9


def encode_probe(seq: int, send_time: float | int, size: int = HEADER_SIZE, stream: int = 0,
                 *, time_ns: bool = False) -> bytes:
    """A probe datagram of exactly `size` bytes (>= HEADER_SIZE).

    `send_time` is seconds (a float, e.g. time.time()), or integer nanoseconds with
    `time_ns=True`.
    """
    if not isinstance(seq, int) or not 0 <= seq <= _U64:
        raise ValueError(f"probe seq must be an integer 0..2**64-1, not {seq!r}")
    if not isinstance(stream, int) or not 0 <= stream <= _U32:
        raise ValueError(f"probe stream must be an integer 0..2**32-1, not {stream!r}")
    if not isinstance(size, int) or not HEADER_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"probe size must be {HEADER_SIZE}..{MAX_SIZE} bytes, not {size!r}")
    ns = int(send_time) if time_ns else round(send_time * 1_000_000_000)
    if not 0 <= ns <= _U64:
        raise ValueError(f"probe send time out of range: {send_time!r}")
    head = _HEADER.pack(MAGIC, VERSION, stream, seq, ns)
    return head + _PAD[: size - HEADER_SIZE]


def decode_probe(data: bytes | bytearray | memoryview) -> Probe | None:
    """The probe in `data`, or None for anything that isn't one. Never raises.

    Called on every received datagram, so the common case (not a probe) is one prefix check.
    """
    if type(data) is bytes and not data.startswith(MAGIC):
        return None
    try:
        if len(data) < HEADER_SIZE:
            return None
        magic, version, stream, seq, ns = _HEADER.unpack_from(data, 0)
    except (TypeError, struct.error, ValueError):
        return None
    if magic != MAGIC or version != VERSION:
        return None
    return Probe(stream, seq, ns, len(data))


Outcome = Literal["new", "duplicate", "reordered", "stale", "restart"]


@dataclass(frozen=True)
class ProbeStats:
    """A snapshot of one tracker's counters."""

    received: int          # distinct probes
    datagrams: int         # everything observed, duplicates included
    lost: int              # sequence numbers not (yet) seen between the first and the highest
    duplicates: int
    reordered: int         # arrived after a higher sequence number
    stale: int             # too far behind to judge (older than the window)
    restarts: int          # stream id changes (sender restarted)
    stream: int | None
    first_seq: int | None
    highest_seq: int | None
    delay_min: float | None    # seconds
    delay_avg: float | None
    delay_max: float | None
    jitter: float | None       # RFC 3550 interarrival jitter, seconds

    @property
    def loss_ratio(self) -> float:
        total = self.received + self.lost
        return self.lost / total if total else 0.0


class ProbeTracker:
    """Loss, duplicates, reordering and one-way delay of one probe stream (one group+source).

    Duplicates are recognised within the last `window` sequence numbers below the highest
    seen; anything older is counted as `stale`, neither a duplicate nor a loss repair.
    """

    def __init__(self, window: int = 4096) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        self._window = window
        self._restarts = 0
        self._stream: int | None = None
        self._reset_sequence()
        self._datagrams = 0
        self._received = 0
        self._dups = 0
        self._reordered = 0
        self._stale = 0
        self._dmin: float | None = None
        self._dmax: float | None = None
        self._dsum = 0.0
        self._dcount = 0
        self._jitter: float | None = None
        self._last_transit: float | None = None

    def _reset_sequence(self) -> None:
        # Slot i holds the last seq seen with seq % window == i, as a flat u64 array (8 bytes a
        # slot: a stream table full of trackers stays small). Empty slots hold 2**64-1: a seq
        # that large is only compared once it is the highest seen, when its slot holds it.
        self._slots = array("Q", [_U64]) * self._window
        self._first: int | None = None
        self._top: int | None = None
        self._in_range = 0   # distinct seqs seen in [first, top]

    def observe(self, probe: Probe, recv_time: float) -> Outcome:
        """Count one received probe; `recv_time` in seconds on the sender's clock's epoch."""
        self._datagrams += 1
        outcome: Outcome = "new"
        if self._stream is None:
            self._stream = probe.stream
        elif probe.stream != self._stream:
            self._stream = probe.stream
            self._restarts += 1
            self._reset_sequence()
            self._jitter_reset()
            outcome = "restart"
        seq = probe.seq
        slot = seq % self._window
        top = self._top
        if top is None:
            self._first = self._top = seq
        elif seq > top:
            self._top = seq
        elif top - seq >= self._window:
            self._stale += 1
            return "stale"
        elif self._slots[slot] == seq:
            self._dups += 1
            return "duplicate"
        else:
            self._reordered += 1
            outcome = "reordered"
            if self._first is not None and seq < self._first:
                self._first = seq
        self._slots[slot] = seq
        self._received += 1
        self._in_range += 1
        self._delay(recv_time - probe.send_time)
        return outcome

    def _jitter_reset(self) -> None:
        self._last_transit = None

    def _delay(self, d: float) -> None:
        self._dcount += 1
        self._dsum += d
        if self._dmin is None or d < self._dmin:
            self._dmin = d
        if self._dmax is None or d > self._dmax:
            self._dmax = d
        if self._last_transit is not None:
            j = self._jitter or 0.0
            self._jitter = j + (abs(d - self._last_transit) - j) / 16
        self._last_transit = d

    def stats(self) -> ProbeStats:
        """The counters now. `lost` shrinks again if a missing probe arrives late."""
        if self._top is None or self._first is None:
            lost = 0
        else:
            lost = max(0, self._top - self._first + 1 - self._in_range)
        return ProbeStats(
            received=self._received,
            datagrams=self._datagrams,
            lost=lost,
            duplicates=self._dups,
            reordered=self._reordered,
            stale=self._stale,
            restarts=self._restarts,
            stream=self._stream,
            first_seq=self._first,
            highest_seq=self._top,
            delay_min=self._dmin,
            delay_avg=self._dsum / self._dcount if self._dcount else None,
            delay_max=self._dmax,
            jitter=self._jitter,
        )

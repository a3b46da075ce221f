"""Every stream one socket receives, routed to its trackers a batch at a time, within bounds.

A stream is one (source, destination) pair; RTP is split further by SSRC. What is followed:
probe payloads always; RTP and MPEG-TS (raw, or inside RTP) when asked; a user sequence field
when given; and an A/B merge of every stream's sequence field when asked. Datagrams on the
well-known discovery/service ports (53, 5353, 1900, …) are never taken for RTP.

Cost: the media path (media.py) reads the first 13 bytes of every datagram of a batch with one
gather and one numpy record view, so RTP rows, SSRCs and TS-in-RTP are told apart with array
operations; the TS packets of a whole batch go to the TS tracker as one array. Only probes
(paced, few) and discovery datagrams are looked at one by one.

Bounds: at most `Limits.pairs` pairs and so many trackers of each kind; datagrams of streams
past a bound are counted in `untracked`, not followed.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from udpscope import probe as probes
from udpscope.decode.registry import PORTS

from .discovery import DiscoveryCheck, Finding
from .frame import Frame
from .history import History
from .media import MediaRouting
from .mpegts import TsStats
from .report import StreamHealth
from .sequence import SequenceCounter
from .state import HEAD, Key, Limits, Pair

if TYPE_CHECKING:
    from .seqfield import SeqSpec

__all__ = ["BatchLike", "HealthBook", "Limits"]

F64 = npt.NDArray[np.float64]
_MAGIC = probes.MAGIC


class BatchLike(Protocol):
    """What `feed_batch` needs from a received batch (udpscope.dgram's `Batch` has it)."""

    payloads: tuple[bytes, ...]

    def rinfo(self, index: int) -> Any: ...


class HealthBook(MediaRouting):
    """The streams of one socket. Feed it batches; read `streams()` and `findings()` on a timer.

    Arguments: `rtp`/`mpegts` follow those media streams; `seq` reads a sequence field from
    every payload; `arbitrate` (with `seq`) merges all streams' sequence numbers into one A/B
    line; `discovery` checks mDNS/SSDP (see discovery.py); `local` names the socket for the
    arbitrated stream's destination; `kernel_drops_base` is the socket's drop counter when the
    book starts (0 for a new socket; None: the first value it is told).

    A stream's `kernel_drops` are the socket's drops from just before the batch that brought
    its first datagram to the batch that brought its last: datagrams dropped while its
    datagrams were queued are counted beside it.
    """

    def __init__(self, *, rtp: bool = False, mpegts: bool = False, seq: SeqSpec | None = None,
                 arbitrate: bool = False, discovery: bool = False, local: str | None = None,
                 limits: Limits | None = None, kernel_drops_base: int | None = None) -> None:
        self.rtp = rtp
        self.mpegts = mpegts
        self.seq = seq
        self.limits = limits or Limits()
        self.local = local
        self.pairs: dict[Key, Pair] = {}
        self.untracked = 0            # datagrams of streams past a bound
        self.kernel_drops = kernel_drops_base or 0   # the socket's, as last told
        self._drops_base = kernel_drops_base         # when the book started
        self._drops_before = self.kernel_drops       # before the batch being fed
        self._counts = {"rtp": 0, "ts": 0, "seq": 0, "probe": 0}
        self.discovery = DiscoveryCheck() if discovery else None
        self.arbitrated: SequenceCounter | None = None
        self.arbitrated_history = History(self.limits.history_s)
        self._arb_first: float | None = None
        self._arb_last = 0.0
        self._arb_bytes = 0
        if arbitrate:
            if seq is None:
                raise ValueError("arbitration needs a sequence field (seq)")
            self.arbitrated = SequenceCounter(seq.bits)

    # ------------------------------------------------------------------ feeding

    def feed(self, source: tuple[str, int], destination: tuple[str, int],
             payloads: Sequence[bytes], times: Sequence[float] | F64, *,
             kernel_drops: int | None = None, ttls: Sequence[int | None] | None = None) -> None:
        """Count datagrams of one stream (all from `source` to `destination`, arrival order).

        `times` are receive times in seconds (the kernel's, for jitter); `kernel_drops` the
        socket's cumulative drop counter now, if known; `ttls` the datagrams' TTLs, if known
        (for the mDNS check).
        """
        if not payloads:
            return
        t = np.asarray(times, dtype=np.float64)
        self._note_drops(kernel_drops)
        pair = self._pair((source[0], source[1], destination[0], destination[1]), float(t[0]))
        if pair is None:
            self.untracked += len(payloads)
            return
        if self.discovery is not None and pair.service:
            for i, p in enumerate(payloads):
                self.discovery.observe(p, source[0], source[1], destination[1], destination[0],
                                       pair.multicast, ttls[i] if ttls is not None else None)
        frame = Frame(payloads)
        self._feed_pair(pair, frame, t)
        if self.arbitrated is not None and self.seq is not None:
            values, rows = self.seq.read(frame)
            self._arbitrate(values, t if rows is None else t[rows], frame, rows)

    def feed_batch(self, batch: BatchLike, local: tuple[str, int], now: float, *,
                   kernel_drops: int | None = None, limit: int | None = None) -> None:
        """Count a received batch that may mix streams: grouped by (source, destination).

        `local` is the socket's (address, port), the destination when the datagram's own is
        unknown; `now` the receive time for datagrams without a kernel timestamp; `limit`
        counts only the first `limit` datagrams.

        A batch from one sender to one destination (a flood, usually: `batch.uniform()`) is fed
        whole; its receive times come from `batch.timestamps()` when the batch offers one, else
        from each datagram's RemoteInfo when RTP jitter or probe delay needs them, else `now`.
        """
        payloads = batch.payloads if limit is None else batch.payloads[:limit]
        if not payloads:
            return
        self._note_drops(kernel_drops)
        uniform = getattr(batch, "uniform", None)
        one = uniform() if uniform is not None else None
        if one is not None and not (one[0][2] in PORTS or local[1] in PORTS):
            info = one[0]
            times = self._times(batch, payloads, now)
            self.feed((info[0], info[2]), (info[4] or local[0], local[1]), payloads, times)
            return
        rinfo = batch.rinfo
        groups: dict[Key, tuple[list[bytes], list[float], list[int | None]]] = {}
        times_all: list[float] = []
        for i, payload in enumerate(payloads):
            info = rinfo(i)
            when = info[7] or now
            times_all.append(when)
            key = (info[0], info[2], info[4] or local[0], local[1])
            group = groups.get(key)
            if group is None:
                group = groups[key] = ([], [], [])
            group[0].append(payload)
            group[1].append(when)
            group[2].append(info[6])
        arbitrated, self.arbitrated = self.arbitrated, None
        try:
            for key, (group_payloads, group_times, ttls) in groups.items():
                self.feed((key[0], key[1]), (key[2], key[3]), group_payloads, group_times,
                          ttls=ttls)
        finally:
            self.arbitrated = arbitrated
        if arbitrated is not None and self.seq is not None:
            frame = Frame(payloads)
            values, rows = self.seq.read(frame)
            t = np.asarray(times_all, dtype=np.float64)
            self._arbitrate(values, t if rows is None else t[rows], frame, rows)

    def _times(self, batch: BatchLike, payloads: Sequence[bytes], now: float) -> F64:
        """Receive times of a one-stream batch, as cheaply as the trackers allow."""
        n = len(payloads)
        stamps = getattr(batch, "timestamps", None)
        if stamps is not None:
            given = stamps()
            if given is not None:
                return np.array([t or now for t in given[:n]], dtype=np.float64)
        if self.rtp or any(map(bytes.startswith, payloads, itertools.repeat(_MAGIC))):
            rinfo = batch.rinfo
            return np.array([rinfo(i)[7] or now for i in range(n)], dtype=np.float64)
        return np.full(n, now, dtype=np.float64)

    def _note_drops(self, kernel_drops: int | None) -> None:
        if kernel_drops is None:
            return
        if self._drops_base is None:
            self._drops_base = self.kernel_drops = kernel_drops
        self._drops_before = self.kernel_drops
        self.kernel_drops = kernel_drops

    def _pair(self, key: Key, now: float) -> Pair | None:
        pair = self.pairs.get(key)
        if pair is None:
            if len(self.pairs) >= self.limits.pairs:
                return None
            pair = self.pairs[key] = Pair(key, now, self.limits.history_s)
        if self._drops_base is not None:
            if pair.drops_base is None:
                pair.drops_base = self._drops_before
            pair.drops_last = self.kernel_drops
        return pair

    def _room(self, kind: str, limit: int) -> bool:
        if self._counts[kind] >= limit:
            return False
        self._counts[kind] += 1
        return True

    def _feed_pair(self, pair: Pair, frame: Frame, t: F64) -> None:
        pair.datagrams += len(frame)
        pair.bytes += int(frame.lengths.sum())
        pair.last_seen = float(t[-1])
        payloads = frame.payloads
        head = None
        if (self.rtp or self.mpegts) and not pair.service:
            cols, _long = frame.columns(0, 13)
            head = cols.view(HEAD)[:, 0]
            maybe_probes = bool((head["b0"] == _MAGIC[0]).any())
        else:
            maybe_probes = any(map(bytes.startswith, payloads, itertools.repeat(_MAGIC)))
        if maybe_probes:
            self._probes(pair, payloads, t)
        if self.seq is not None:
            self._seq(pair, frame, t)
        if head is not None:
            self._media(pair, frame, head, t)

    def _probes(self, pair: Pair, payloads: Sequence[bytes], t: F64) -> None:
        found = [(p, when) for p, when in zip(payloads, t.tolist(), strict=True)
                 if p.startswith(_MAGIC)]
        decoded = [(probes.decode_probe(p), when) for p, when in found]
        if not any(probe is not None for probe, _when in decoded):
            return
        if pair.probe is None:
            if not self._room("probe", self.limits.probe_streams):
                self.untracked += len(found)
                return
            pair.probe = probes.ProbeTracker()
        tracker = pair.probe
        for probe, when in decoded:
            if probe is not None:
                tracker.observe(probe, when)
        st = tracker.stats()
        pair.probe_history.record(float(t[-1]), st.datagrams, st.lost, 0, pair.bytes,
                                  None if st.jitter is None else st.jitter * 1000)

    def _seq(self, pair: Pair, frame: Frame, t: F64) -> None:
        assert self.seq is not None
        values, _rows = self.seq.read(frame)
        if not len(values):
            return
        if pair.seq is None:
            if not self._room("seq", self.limits.seq_streams):
                self.untracked += len(values)
                return
            pair.seq = SequenceCounter(self.seq.bits)
        pair.seq.feed(values)
        pair.seq_history.record(float(t[-1]), pair.seq.packets, pair.seq.lost, 0, pair.bytes,
                                None)

    def _arbitrate(self, values: npt.NDArray[np.uint64], t: F64, frame: Frame,
                   rows: npt.NDArray[np.intp] | None) -> None:
        assert self.arbitrated is not None
        if not len(values):
            return
        self.arbitrated.feed(values)
        if self._arb_first is None:
            self._arb_first = float(t[0])
        self._arb_last = float(t[-1])
        self._arb_bytes += int(frame.lengths.sum() if rows is None else frame.lengths[rows].sum())
        self.arbitrated_history.record(self._arb_last, self.arbitrated.packets,
                                       self.arbitrated.lost, 0, self._arb_bytes, None)

    # ------------------------------------------------------------------ reading

    def findings(self, now: float) -> list[Finding]:
        """mDNS/SSDP findings (empty without `discovery`)."""
        return self.discovery.findings(now) if self.discovery is not None else []

    def ts_stats(self, source: str, destination: str) -> TsStats | None:
        """The full MPEG-TS statistics (per-PID packets and CC errors) of a stream, by the
        `source`/`destination` text its StreamHealth carries; None if it has none."""
        for pair in self.pairs.values():
            if pair.source == source and pair.destination == destination:
                return pair.ts.stats() if pair.ts is not None else None
        return None

    def streams(self) -> list[StreamHealth]:
        """A snapshot of every followed stream (for the Stats pane, or the CLI at close)."""
        from .snapshot import snapshot

        return snapshot(self)

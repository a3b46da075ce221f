"""Every stream one socket receives, routed to its trackers a batch at a time, within bounds.

A stream is one (source, destination) pair; RTP is split further by SSRC. What is followed:
probe payloads always; RTP and MPEG-TS (raw, or inside RTP) when asked; a user sequence field
when given; and an A/B merge of every stream's sequence field when asked. Datagrams on the
well-known discovery/service ports (53, 5353, 1900, …) are never taken for RTP.

Cost: the media path reads the first 13 bytes of every datagram of a batch with one join and
one numpy record view, so RTP rows, SSRCs and TS-in-RTP are told apart with array operations;
the TS packets of a whole batch go to the TS tracker as one array. Only probes (paced, few)
and discovery datagrams are looked at one by one.

Bounds: at most `Limits.pairs` pairs and so many trackers of each kind; datagrams of streams
past a bound are counted in `untracked`, not followed. An RTP SSRC is followed from its second
packet on (the first is held, then counted), so random bytes that happen to look like RTP
headers -- a new "SSRC" every datagram -- never take a tracker.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from udpscope import probe as probes
from udpscope.addresses import is_multicast
from udpscope.decode.registry import PORTS

from .discovery import DiscoveryCheck, Finding
from .frame import Frame
from .history import History
from .mpegts import TsStats, TsTracker
from .report import StreamHealth, endpoint_text
from .rtp import RtpTracker
from .seqfield import SeqSpec
from .sequence import SequenceCounter

__all__ = ["BatchLike", "HealthBook", "Limits"]

F64 = npt.NDArray[np.float64]
Key = tuple[str, int, str, int]
# The first 13 bytes of a datagram: RTP's fixed header plus the byte after it (0x47 when the
# RTP payload is MPEG-TS). Also read for raw TS, whose first byte is the sync byte.
HEAD = np.dtype([("b0", "u1"), ("b1", "u1"), ("seq", ">u2"), ("ts", ">u4"), ("ssrc", ">u4"),
                 ("x12", "u1")])
TS = 188
_MAGIC = probes.MAGIC
_multicast = functools.lru_cache(maxsize=1024)(is_multicast)


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds on what one book follows."""

    pairs: int = 1024
    rtp_streams: int = 256
    ts_streams: int = 32
    seq_streams: int = 256
    probe_streams: int = 256
    probation: int = 32       # RTP SSRCs held per pair until their second packet
    history_s: int = 120


class BatchLike(Protocol):
    """What `feed_batch` needs from a received batch (udpscope.dgram's `Batch` has it)."""

    payloads: tuple[bytes, ...]

    def rinfo(self, index: int) -> Any: ...


def _slice_packet(body: bytes, index: int) -> bytes:
    return body[index * TS:(index + 1) * TS]


class _Rtp:
    __slots__ = ("tracker", "history", "first_seen", "last_seen")

    def __init__(self, tracker: RtpTracker, history: History, now: float) -> None:
        self.tracker = tracker
        self.history = history
        self.first_seen = now
        self.last_seen = now


class _Pair:
    """One (source, destination) and the trackers it has earned."""

    def __init__(self, key: Key, now: float, history_s: int) -> None:
        self.key = key
        self.source = endpoint_text(key[0], key[1])
        self.destination = endpoint_text(key[2], key[3])
        self.service = key[1] in PORTS or key[3] in PORTS   # never taken for RTP/TS
        self.multicast = _multicast(key[2])
        self.first_seen = now
        self.last_seen = now
        self.datagrams = 0
        self.bytes = 0
        self.drops_base: int | None = None
        self.drops_last = 0
        self.probe: probes.ProbeTracker | None = None
        self.probe_history = History(history_s)
        self.rtp: dict[int, _Rtp] = {}
        self.probation: dict[int, tuple[int, int, float, int, int]] = {}
        self.ts: TsTracker | None = None
        self.ts_over_rtp = False
        self.ts_history = History(history_s)
        self.seq: SequenceCounter | None = None
        self.seq_history = History(history_s)

    @property
    def kernel_drops(self) -> int:
        return 0 if self.drops_base is None else self.drops_last - self.drops_base


class HealthBook:
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
        self.pairs: dict[Key, _Pair] = {}
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

    def _pair(self, key: Key, now: float) -> _Pair | None:
        pair = self.pairs.get(key)
        if pair is None:
            if len(self.pairs) >= self.limits.pairs:
                return None
            pair = self.pairs[key] = _Pair(key, now, self.limits.history_s)
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

    def _feed_pair(self, pair: _Pair, frame: Frame, t: F64) -> None:
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

    def _probes(self, pair: _Pair, payloads: Sequence[bytes], t: F64) -> None:
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

    def _seq(self, pair: _Pair, frame: Frame, t: F64) -> None:
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

    # ------------------------------------------------------------------ media

    def _media(self, pair: _Pair, frame: Frame, head: Any, t: F64) -> None:
        lengths = frame.lengths
        size = frame.uniform()       # a flood's datagrams are usually all one size
        b0 = head["b0"]
        if self.mpegts and (size is None or (size and size % TS == 0)):
            raw_ts = b0 == 0x47
            if size is None:
                raw_ts &= (lengths % TS == 0) & (lengths > 0)
            if raw_ts.any():
                self._ts(pair, frame, raw_ts, 0, t, over_rtp=False)
        # version 2, and a payload type that is not RTCP's 72-76 (uint8 arithmetic wraps)
        rtp = ((b0 & 0xC0) == 0x80) & (((head["b1"] & 0x7F) - np.uint8(72)) > 4)
        if size is None or size < 72:
            rtp &= lengths >= 12 + 4 * (b0 & 0x0F)
        if not rtp.any():
            return
        all_rtp = bool(rtp.all())
        if self.rtp:
            self._rtp(pair, head if all_rtp else head[rtp], t if all_rtp else t[rtp],
                      lengths if all_rtp else lengths[rtp])
        if self.mpegts and (size is None or (size > 12 and (size - 12) % TS == 0)):
            plain = rtp & ((b0 & 0x3F) == 0)          # no padding, extension or CSRCs
            in_rtp = plain & (head["x12"] == 0x47)
            if size is None:
                in_rtp &= ((lengths - 12) % TS == 0) & (lengths > 12)
            if in_rtp.any():
                self._ts(pair, frame, in_rtp, 12, t, over_rtp=True)
            if not all_rtp or not bool(plain.all()):
                odd = rtp & ~plain
                if odd.any():
                    self._ts_odd_rtp(pair, frame.payloads, np.flatnonzero(odd), t)

    def _rtp(self, pair: _Pair, head: Any, t: F64, lengths: npt.NDArray[np.int64]) -> None:
        ssrc = head["ssrc"]
        first = ssrc[0]
        if (ssrc == first).all():
            groups: list[tuple[int, Any]] = [(int(first), None)]
        else:
            groups = [(int(s), ssrc == s) for s in np.unique(ssrc)]
        for s, sel in groups:
            rows = head if sel is None else head[sel]
            times = t if sel is None else t[sel]
            sizes = lengths if sel is None else lengths[sel]
            entry = pair.rtp.get(s)
            if entry is None:
                entry = self._rtp_entry(pair, s, rows, times, sizes)
                if entry is None:
                    continue
            entry.tracker.feed(rows["seq"], rows["ts"], times, int(sizes.sum()))
            entry.last_seen = float(times[-1])
            tracker = entry.tracker
            entry.history.record(entry.last_seen, tracker.seq.packets, tracker.seq.lost, 0,
                                 tracker.bytes, tracker.jitter_ms)

    def _rtp_entry(self, pair: _Pair, ssrc: int, rows: Any, times: F64,
                   sizes: npt.NDArray[np.int64]) -> _Rtp | None:
        """The tracker for a new SSRC, from its second packet on (the first is held)."""
        held = pair.probation.pop(ssrc, None)
        if held is None and len(rows) == 1:
            if len(pair.probation) >= self.limits.probation:
                pair.probation.pop(next(iter(pair.probation)))
            pair.probation[ssrc] = (int(rows["seq"][0]), int(rows["ts"][0]), float(times[0]),
                                    int(sizes[0]), int(rows["b1"][0] & 0x7F))
            return None
        if not self._room("rtp", self.limits.rtp_streams):
            self.untracked += len(rows) + (held is not None)
            return None
        pt = held[4] if held is not None else int(rows["b1"][0] & 0x7F)
        start = held[2] if held is not None else float(times[0])
        entry = pair.rtp[ssrc] = _Rtp(RtpTracker(ssrc, pt), History(self.limits.history_s), start)
        if held is not None:
            entry.tracker.feed(np.array([held[0]], dtype=np.uint16),
                               np.array([held[1]], dtype=np.uint32),
                               np.array([held[2]], dtype=np.float64), held[3])
        return entry

    def _ts_tracker(self, pair: _Pair, count: int, over_rtp: bool) -> TsTracker | None:
        if pair.ts is None:
            if not self._room("ts", self.limits.ts_streams):
                self.untracked += count
                return None
            pair.ts = TsTracker()
            pair.ts_over_rtp = over_rtp
        return pair.ts

    def _ts(self, pair: _Pair, frame: Frame, mask: npt.NDArray[np.bool_], offset: int, t: F64,
            over_rtp: bool) -> None:
        """Feed the TS packets of the datagrams in `mask` (TS starting at `offset`)."""
        rows = None if bool(mask.all()) else np.flatnonzero(mask)
        count = len(frame) if rows is None else len(rows)
        tracker = self._ts_tracker(pair, count, over_rtp)
        if tracker is None:
            return
        sizes = frame.lengths if rows is None else frame.lengths[rows]
        size = int(sizes[0])
        packet: Callable[[int], bytes]
        if bool((sizes == size).all()):
            per = (size - offset) // TS
            grid = frame.grid(rows, size)
            cube = grid[:, offset:offset + per * TS].reshape(count, per, TS)
            head = cube[:, :, :12].reshape(-1, 12)

            def packet(i: int) -> bytes:
                return cube[i // per, i % per].tobytes()
        else:
            chosen = frame.payloads if rows is None else [frame.payloads[i] for i in rows.tolist()]
            buf = b"".join([p[offset:] for p in chosen])
            head = np.frombuffer(buf, dtype=np.uint8).reshape(-1, TS)[:, :12]
            packet = functools.partial(_slice_packet, buf)
        times = t if rows is None else t[rows]
        tracker.feed(head, count, float(times[0]), float(times[-1]), packet)
        pair.ts_history.record(float(times[-1]), tracker.packets, tracker.missing,
                               tracker.cc_errors, tracker.packets * TS, None)

    def _ts_odd_rtp(self, pair: _Pair, payloads: Sequence[bytes], rows: npt.NDArray[np.intp],
                    t: F64) -> None:
        """TS inside RTP with CSRCs, an extension or padding: rare, so one by one."""
        from udpscope.decode.rtp import header_length

        for i in rows.tolist():
            p = payloads[i]
            start = header_length(p)
            if start is None:
                continue
            end = len(p) - (p[-1] if p[0] & 0x20 else 0)
            body = p[start:end]
            if body and len(body) % TS == 0 and body[0] == 0x47:
                tracker = self._ts_tracker(pair, 1, True)
                if tracker is None:
                    return
                tracker.feed(np.frombuffer(body, dtype=np.uint8).reshape(-1, TS)[:, :12], 1,
                             float(t[i]), float(t[i]), functools.partial(_slice_packet, body))

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

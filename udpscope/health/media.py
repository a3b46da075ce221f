"""RTP and MPEG-TS routing for a HealthBook: which datagrams of a batch are RTP (and of which
SSRC), which carry TS, all told apart with array operations over the batch's first 13 bytes.

Datagrams on the well-known service ports never come here. An RTP SSRC gets a tracker from its
second packet on (the first is held, then counted), so random bytes that happen to look like
RTP headers -- a new "SSRC" every datagram -- never take one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .frame import Frame
from .history import History
from .mpegts import TsTracker
from .rtp import RtpTracker
from .state import TS, Limits, Pair, RtpEntry

__all__ = ["MediaRouting"]

F64 = npt.NDArray[np.float64]


def _slice_packet(body: bytes, index: int) -> bytes:
    return body[index * TS:(index + 1) * TS]


class MediaRouting:
    """The media half of a HealthBook (a mixin: the book provides the attributes below)."""

    rtp: bool
    mpegts: bool
    limits: Limits
    untracked: int

    def _room(self, kind: str, limit: int) -> bool:
        raise NotImplementedError

    def _media(self, pair: Pair, frame: Frame, head: Any, t: F64) -> None:
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

    def _rtp(self, pair: Pair, head: Any, t: F64, lengths: npt.NDArray[np.int64]) -> None:
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

    def _rtp_entry(self, pair: Pair, ssrc: int, rows: Any, times: F64,
                   sizes: npt.NDArray[np.int64]) -> RtpEntry | None:
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
        entry = pair.rtp[ssrc] = RtpEntry(RtpTracker(ssrc, pt), History(self.limits.history_s), start)
        if held is not None:
            entry.tracker.feed(np.array([held[0]], dtype=np.uint16),
                               np.array([held[1]], dtype=np.uint32),
                               np.array([held[2]], dtype=np.float64), held[3])
        return entry

    def _ts_tracker(self, pair: Pair, count: int, over_rtp: bool) -> TsTracker | None:
        if pair.ts is None:
            if not self._room("ts", self.limits.ts_streams):
                self.untracked += count
                return None
            pair.ts = TsTracker()
            pair.ts_over_rtp = over_rtp
        return pair.ts

    def _ts(self, pair: Pair, frame: Frame, mask: npt.NDArray[np.bool_], offset: int, t: F64,
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

    def _ts_odd_rtp(self, pair: Pair, payloads: Sequence[bytes], rows: npt.NDArray[np.intp],
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

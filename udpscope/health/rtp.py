"""RTP stream health: loss, duplicates, reordering and RFC 3550 interarrival jitter, per SSRC.

Jitter is RFC 3550 section 6.4.1's estimator, J += (|D| - J) / 16, where D compares the
spacing of two packets' arrival times (in the payload type's clock: 8 kHz for PCMU/PCMA,
90 kHz for video and for dynamic types) with the spacing of their RTP timestamps. The
recurrence is linear, so a batch's final J is a weighted sum computed in one numpy dot product
instead of a loop: J_n = a^n J_0 + (1 - a) Σ a^(n-k) |D_k| with a = 15/16.

Every packet counts in arrival order, as in the RFC's reference code (A.8).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from udpscope.decode.rtp import PAYLOAD_TYPES

from .sequence import DEFAULT_WINDOW, SequenceCounter, SequenceStats

__all__ = ["RTP_HEADER", "RtpTracker", "clock_rate"]

F64 = npt.NDArray[np.float64]

# The fixed 12 bytes of an RTP header as a numpy record: a batch of headers joined into one
# buffer reads as an array of these without a Python loop.
RTP_HEADER = np.dtype([("b0", "u1"), ("b1", "u1"), ("seq", ">u2"), ("ts", ">u4"),
                       ("ssrc", ">u4")])
_A = 15.0 / 16.0
_MAX_WEIGHTS = 4096
_WEIGHTS = _A ** np.arange(_MAX_WEIGHTS - 1, -1, -1, dtype=np.float64)  # a^(n-1) … a^0


def clock_rate(pt: int) -> int:
    """The RTP clock of payload type `pt`: RFC 3551's for static types, 90 kHz otherwise."""
    known = PAYLOAD_TYPES.get(pt)
    return known[1] if known is not None else 90000


class RtpTracker:
    """One RTP stream (one SSRC): feed it header fields of a batch, in arrival order."""

    def __init__(self, ssrc: int, pt: int, window: int = DEFAULT_WINDOW) -> None:
        self.ssrc = ssrc
        self.pt = pt
        self.rate = clock_rate(pt)
        self.seq = SequenceCounter(16, window)
        self.jitter = 0.0              # in timestamp units
        self.bytes = 0
        self._last_arrival: float | None = None
        self._last_ts = 0

    def feed(self, seq: npt.NDArray[np.uint16], ts: npt.NDArray[np.uint32], arrival: F64,
             nbytes: int) -> None:
        """Count a batch of this SSRC's packets: sequence numbers, RTP timestamps, arrival
        times (seconds, kernel receive time) and their total size in bytes."""
        n = len(seq)
        if n == 0:
            return
        self.seq.feed(seq.astype(np.uint64))
        self.bytes += nbytes
        self._jitter(ts.astype(np.int64), arrival)

    def _jitter(self, ts: npt.NDArray[np.int64], arrival: F64) -> None:
        if self._last_arrival is None:
            self._last_arrival = float(arrival[0])
            self._last_ts = int(ts[0])
        n = len(ts)
        spacing = np.empty(n, dtype=np.int64)
        spacing[0] = ts[0] - self._last_ts
        np.subtract(ts[1:], ts[:-1], out=spacing[1:])
        spacing += 1 << 31
        spacing &= 0xFFFFFFFF              # timestamps wrap at 2**32
        spacing -= 1 << 31
        d = np.empty(n, dtype=np.float64)
        d[0] = arrival[0] - self._last_arrival
        np.subtract(arrival[1:], arrival[:-1], out=d[1:])
        d *= self.rate
        d -= spacing
        np.abs(d, out=d)
        j = self.jitter
        for start in range(0, n, _MAX_WEIGHTS):
            chunk = d[start:start + _MAX_WEIGHTS]
            m = len(chunk)
            j = _A ** m * j + (1.0 - _A) * float(_WEIGHTS[-m:] @ chunk)
        self.jitter = j
        self._last_arrival = float(arrival[-1])
        self._last_ts = int(ts[-1])

    @property
    def jitter_ms(self) -> float:
        """The jitter now, in milliseconds."""
        return self.jitter / self.rate * 1000.0

    def stats(self) -> SequenceStats:
        return self.seq.stats()

"""Short per-second histories of a stream, for sparklines a view redraws on its own timer.

A tracker records its cumulative counters once per fed batch; consecutive batches within the
same second overwrite one sample, so memory is `maxlen` samples whatever the rate. A view
takes `per_second()` (differences between samples) for "lost per second" or "packets per
second", and the jitter as it stood at the end of each second.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

__all__ = ["History", "Sample"]

DEFAULT_SECONDS = 120


class Sample(NamedTuple):
    """Cumulative counters at the end of one second (`second` = int(receive time))."""

    second: int
    packets: int
    lost: int
    errors: int              # kind-specific: TS continuity errors; 0 elsewhere
    bytes: int
    jitter_ms: float | None  # the value then, not cumulative


class History:
    """The last `maxlen` seconds of one stream."""

    __slots__ = ("_samples",)

    def __init__(self, maxlen: int = DEFAULT_SECONDS) -> None:
        self._samples: deque[Sample] = deque(maxlen=maxlen)

    def record(self, now: float, packets: int, lost: int, errors: int, nbytes: int,
               jitter_ms: float | None) -> None:
        """Note the counters as they are at receive time `now` (seconds)."""
        sample = Sample(int(now), packets, lost, errors, nbytes, jitter_ms)
        samples = self._samples
        if samples and samples[-1].second >= sample.second:
            samples[-1] = sample._replace(second=samples[-1].second)
        else:
            samples.append(sample)

    def samples(self) -> tuple[Sample, ...]:
        """Cumulative samples, oldest first."""
        return tuple(self._samples)

    def per_second(self) -> list[Sample]:
        """What happened in each second (differences; a second with no datagram is absent).

        `lost` may be negative in a second where late datagrams filled earlier gaps."""
        out = []
        prev: Sample | None = None
        for s in self._samples:
            if prev is None:
                out.append(s)
            else:
                out.append(Sample(s.second, s.packets - prev.packets, s.lost - prev.lost,
                                  s.errors - prev.errors, s.bytes - prev.bytes, s.jitter_ms))
            prev = s
        return out

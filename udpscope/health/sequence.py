"""Loss, duplicates and reordering of one sequence-numbered stream, a whole batch at a time.

RTP's 16-bit sequence, a market feed's 32- or 64-bit one and an A/B merge all ask the same
questions, so one counter answers them for any width: which numbers never arrived (`lost`,
which shrinks when a late one turns up — not RFC 3550's expected − received, which duplicates
hide), how many arrived twice (`duplicates`), how many arrived after a higher one
(`reordered`), and how many were too old to judge (`stale`, older than the window of
remembered numbers).

Why numpy: this runs on every datagram of a flood. A batch is unwrapped in one `cumsum`
(each number is taken as the nearest to the one before it, modulo 2**bits), the running
maximum in one `maximum.accumulate`, and duplicates come from a sort of the batch plus a
bitmap of the last `window` numbers. Feeding a stream in batches of any size gives exactly
the counts of feeding it one number at a time (a property test holds it to that).

Restarts: a sender that restarts from a low number would otherwise look like one huge
reordering. As in RFC 3550 (A.1), a number more than `restart_gap` behind the highest that is
followed by its successor starts a new epoch: the old epoch's losses are kept, numbering starts
again. Copies of it in between (the other line of an A/B merge) do not break the pair. A lone
stray old number does not restart anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["SequenceCounter", "SequenceStats"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

DEFAULT_WINDOW = 8192
RESTART_GAP = 3000
_U64_MASK = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class SequenceStats:
    """A snapshot of a SequenceCounter (numbers as the stream carries them, not unwrapped)."""

    packets: int        # every number fed, duplicates and stale ones included
    distinct: int       # numbers counted once (all epochs)
    lost: int           # numbers never seen between the first and the highest (all epochs)
    duplicates: int
    reordered: int      # arrived after a higher number (not duplicates)
    stale: int          # further behind the highest than the window: not judged
    restarts: int       # new epochs (sender restarts)
    first: int | None   # lowest number of the current epoch
    highest: int | None


@dataclass(slots=True)
class _Pending:
    """A number far behind the highest: a restart if the next different number is its
    successor (copies of it in between -- an A/B merge -- wait along)."""

    ext: int
    counted: str       # "dup", "reordered" or "stale": what to take back on a restart
    old_first: int
    copies: int = 0    # later copies, counted "stale" if it was, else "dup"


class SequenceCounter:
    """Sequence numbers of `bits` bits (8, 16, 32 or 64), fed as numpy arrays in arrival order.

    Numbers are unwrapped into an int64 line ("ext") whose 0 is the first number seen.
    Memory is fixed: a bitmap of `window` numbers (a power of two).
    """

    def __init__(self, bits: int = 16, window: int = DEFAULT_WINDOW,
                 restart_gap: int = RESTART_GAP) -> None:
        if bits not in (8, 16, 32, 64):
            raise ValueError("bits must be 8, 16, 32 or 64")
        self.bits = bits
        self._mod = 1 << bits
        self._half = 1 << (bits - 1)
        # Numbers further apart than half the space are ambiguous: the window stays below it.
        window = min(window, self._half)
        if window < 2 or window & (window - 1):
            raise ValueError("window must be a power of two >= 2")
        self.window = window
        self.restart_gap = max(1, min(restart_gap, window // 2))
        self._slot = np.int64(window - 1)
        self._seen = np.zeros(window, dtype=np.bool_)
        self._origin: int | None = None   # raw number of the very first packet (ext 0)
        self._last_raw = 0
        self._last_ext = -1
        self._first = 0
        self._top = -1                    # top < first: nothing counted in this epoch yet
        self._distinct = 0                # in this epoch
        self._banked_lost = 0             # lost in earlier epochs
        self._pending: _Pending | None = None
        self.packets = 0
        self.duplicates = 0
        self.reordered = 0
        self.stale = 0
        self.restarts = 0

    # ------------------------------------------------------------------ feeding

    def feed(self, raw: U64) -> None:
        """Count a batch of numbers (uint64 array in arrival order, values below 2**bits)."""
        n = len(raw)
        if n == 0:
            return
        if self._origin is None:
            self._origin = int(raw[0])
            self._last_raw = (int(raw[0]) - 1) % self._mod
        diff = np.empty(n, dtype=np.uint64)
        diff[0] = (int(raw[0]) - self._last_raw) & _U64_MASK
        np.subtract(raw[1:], raw[:-1], out=diff[1:])
        if self.bits < 64:
            diff &= np.uint64(self._mod - 1)
        self.packets += n
        self._last_raw = int(raw[-1])
        if self._pending is None and self._last_ext == self._top and bool((diff == 1).all()):
            self._last_ext += n     # the common case: the stream goes on one by one
            self._in_order(self._last_ext - n + 1)
            return
        ext = np.cumsum(self._signed(diff)) + self._last_ext
        self._last_ext = int(ext[-1])
        self._account(ext)

    def _signed(self, diff: U64) -> I64:
        """Differences (already reduced modulo 2**bits) as the nearest signed step."""
        if self.bits == 64:
            return diff.view(np.int64)
        d = diff.astype(np.int64)
        d[d >= self._half] -= self._mod
        return d

    def _in_order(self, start: int) -> None:
        """The common case: the batch continues the stream one by one, from ext `start`."""
        top0 = self._top
        top1 = self._last_ext
        if top0 < self._first:  # the very first batch
            self._first = start
            top0 = start - 1
        self._set_range(top0, top1, True)
        self._distinct += top1 - top0
        self._top = top1

    def _set_range(self, top0: int, top1: int, value: bool) -> None:
        """Set the slots of numbers (top0, top1] to `value`."""
        w = self.window
        if top1 <= top0:
            return
        if top1 - top0 >= w:
            self._seen[:] = value
            return
        a = (top0 + 1) % w
        b = (top1 + 1) % w
        if a < b:
            self._seen[a:b] = value
        else:
            self._seen[a:] = value
            self._seen[:b] = value

    def _account(self, ext: I64) -> None:
        i = 0
        n = len(ext)
        pending = self._pending
        if pending is not None:
            self._pending = None
            differ = np.flatnonzero(ext != pending.ext)
            m = int(differ[0]) if len(differ) else n
            if m:                                   # more copies of the pending number
                self._judge(ext[:m], self._running_max(ext[:m]))
                pending.copies += m
                if m == n:
                    self._pending = pending
                    return
            if int(ext[m]) == pending.ext + 1:
                self._undo(pending)
                self._restart(pending.ext)
                self.duplicates += pending.copies
            i = m
        while i < n:
            seg = ext[i:]
            mprev = self._running_max(seg)
            behind = seg < mprev - self.restart_gap
            if not behind.any():
                self._judge(seg, mprev)
                return
            size = len(seg)
            run_start = np.empty(size, dtype=np.bool_)
            run_start[0] = True
            run_start[1:] = seg[1:] != seg[:-1]
            starts_at = np.flatnonzero(run_start)
            run_of = np.cumsum(run_start) - 1
            next_run = np.append(starts_at[1:], size)[run_of]
            follows = run_start & (next_run < size)
            follows[follows] = seg[next_run[follows]] == seg[follows] + 1
            restarts = np.flatnonzero(behind & follows)
            if len(restarts) == 0:
                last = int(starts_at[-1])
                kind, old_first = self._judge(seg, mprev, last)
                if behind[last]:
                    self._pending = _Pending(int(seg[last]), kind, old_first, size - last - 1)
                return
            j = int(restarts[0])
            k = int(next_run[j])
            if j:
                self._judge(seg[:j], mprev[:j])
            self._restart(int(seg[j]))
            self.duplicates += k - j - 1            # its copies, in the new epoch
            i += k

    def _running_max(self, seg: I64) -> I64:
        """The highest number seen before each element of `seg` arrived."""
        mprev = np.empty(len(seg), dtype=np.int64)
        mprev[0] = self._top
        if len(seg) > 1:
            np.maximum.accumulate(seg[:-1], out=mprev[1:])
            np.maximum(mprev[1:], self._top, out=mprev[1:])
        return mprev

    def _judge(self, seg: I64, mprev: I64, at: int = -1) -> tuple[str, int]:
        """Count a segment with no restart in it. Returns how number `at` (default: the
        last) counted and what `first` was before it (for a pending restart to take back)."""
        top0 = self._top
        if top0 < self._first:  # nothing counted in this epoch yet: it starts here
            self._first = int(seg[0])
            top0 = self._top = int(seg[0]) - 1
            mprev = np.maximum(mprev, top0)
        if at < 0:
            at += len(seg)
        first_before = self._first
        new = seg > mprev
        stale = seg <= mprev - self.window
        maybe = ~(new | stale)
        kind = "stale" if stale[at] else "new"
        n_late = 0
        late = maybe
        if maybe.any():
            order = np.argsort(seg, kind="stable")
            ordered = seg[order]
            first_time = np.empty(len(seg), dtype=np.bool_)
            first_time[order[0]] = True
            first_time[order[1:]] = ordered[1:] != ordered[:-1]
            old = maybe & (seg <= top0)
            seen_before = np.zeros(len(seg), dtype=np.bool_)
            if old.any():
                seen_before[old] = self._seen[seg[old] & self._slot]
            dup = maybe & (~first_time | seen_before)
            late = maybe & ~dup
            self.duplicates += int(np.count_nonzero(dup))
            n_late = int(np.count_nonzero(late))
            self.reordered += n_late
            if n_late:
                earlier = seg[:at][late[:at]]
                if len(earlier):
                    first_before = min(self._first, int(earlier.min()))
                self._first = min(self._first, int(seg[late].min()))
            if dup[at]:
                kind = "dup"
            elif late[at]:
                kind = "reordered"
        self.stale += int(np.count_nonzero(stale))
        n_new = int(np.count_nonzero(new))
        self._distinct += n_new + n_late
        top1 = max(top0, int(seg.max()))
        self._set_range(top0, top1, False)
        keep = (new | late) if n_late else new
        keep = keep & (seg > top1 - self.window)
        self._seen[seg[keep] & self._slot] = True
        self._top = top1
        return kind, first_before

    def _undo(self, p: _Pending) -> None:
        """Take back how a restart's first number (and its copies) counted in the epoch it
        ends."""
        if p.counted == "stale":
            self.stale -= p.copies
        else:
            self.duplicates -= p.copies
        if p.counted == "dup":
            self.duplicates -= 1
        elif p.counted == "stale":
            self.stale -= 1
        elif p.counted == "reordered":
            self.reordered -= 1
            self._distinct -= 1
            self._first = p.old_first

    def _restart(self, ext: int) -> None:
        self._banked_lost += self._epoch_lost()
        self.restarts += 1
        self._seen[:] = False
        self._first = ext
        self._top = ext
        self._distinct = 1
        self._seen[ext & (self.window - 1)] = True

    # ------------------------------------------------------------------ reading

    def _epoch_lost(self) -> int:
        if self._top < self._first:
            return 0
        return max(0, self._top - self._first + 1 - self._distinct)

    @property
    def lost(self) -> int:
        """Numbers never seen (a late arrival takes its number back out)."""
        return self._banked_lost + self._epoch_lost()

    def _raw(self, ext: int) -> int | None:
        if self._origin is None or self._top < self._first:
            return None
        return (self._origin + ext) % self._mod

    def stats(self) -> SequenceStats:
        """The counts now (cheap: no array work)."""
        return SequenceStats(
            packets=self.packets, distinct=self.packets - self.duplicates - self.stale,
            lost=self.lost, duplicates=self.duplicates, reordered=self.reordered,
            stale=self.stale, restarts=self.restarts, first=self._raw(self._first),
            highest=self._raw(self._top))

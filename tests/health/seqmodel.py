"""A plain-Python reference for SequenceCounter: one number at a time, a set for "seen".

Written from the definitions (lost = numbers between the first and the highest never seen;
duplicate = seen before in this epoch; reordered = arrived after a higher number; stale =
further behind the highest than the window; restart = a number more than restart_gap behind,
immediately followed by its successor), not from the numpy code, so the two can disagree.
"""

from __future__ import annotations


class ReferenceCounter:
    def __init__(self, bits: int, window: int, restart_gap: int) -> None:
        self.mod = 1 << bits
        self.half = 1 << (bits - 1)
        self.window = min(window, self.half)
        self.gap = max(1, min(restart_gap, self.window // 2))
        self.last_raw: int | None = None
        self.last_ext = -1
        self.packets = self.duplicates = self.reordered = self.stale = self.restarts = 0
        self.banked = 0
        self.first: int | None = None
        self.top: int | None = None
        self.seen: set[int] = set()
        self.pending: list | None = None   # [ext, kind, old first, copies]

    def _epoch_lost(self) -> int:
        if self.top is None or self.first is None:
            return 0
        return self.top - self.first + 1 - len(self.seen)

    @property
    def lost(self) -> int:
        return self.banked + self._epoch_lost()

    def _restart(self, ext: int) -> None:
        self.banked += self._epoch_lost()
        self.restarts += 1
        self.first = self.top = ext
        self.seen = {ext}

    def feed(self, raw: int) -> None:
        if self.last_raw is None:
            self.last_raw = (raw - 1) % self.mod
        step = (raw - self.last_raw) % self.mod
        if step >= self.half:
            step -= self.mod
        ext = self.last_ext + step
        self.last_raw, self.last_ext = raw, ext
        self.packets += 1
        pending, self.pending = self.pending, None
        if pending is not None and ext == pending[0]:
            # another copy of a possible restart's first number: counted as it comes, waits
            self.pending = pending
            pending[3] += 1
            self._judge(ext)
            return
        if pending is not None and ext == pending[0] + 1:
            kind, copies = pending[1], pending[3]
            if kind == "stale":
                self.stale -= 1 + copies
            else:
                self.duplicates -= copies
                if kind == "dup":
                    self.duplicates -= 1
                else:
                    self.reordered -= 1
                    self.seen.discard(pending[0])
                    self.first = pending[2]
            self._restart(pending[0])
            self.duplicates += copies
        if self.top is None:
            self.first, self.top = ext, ext - 1
        behind = ext < self.top - self.gap
        old_first = self.first
        kind = self._judge(ext)
        if behind:
            self.pending = [ext, kind, old_first, 0]

    def _judge(self, ext: int) -> str:
        assert self.first is not None and self.top is not None
        if ext > self.top:
            self.top = ext
            self.seen.add(ext)
            return "new"
        if ext <= self.top - self.window:
            self.stale += 1
            return "stale"
        if ext in self.seen:
            self.duplicates += 1
            return "dup"
        self.reordered += 1
        self.seen.add(ext)
        self.first = min(self.first, ext)
        return "reordered"

"""A batch of datagrams laid out once for numpy: one joined buffer and each datagram's offset.

Slicing the same few header bytes out of every payload with a Python comprehension costs a
bytes object per datagram; joining the payloads once (a memcpy) and gathering columns with one
fancy index does not. Trackers ask a Frame for "bytes `start`..`start+width` of every datagram"
(`columns`) or for the datagrams as a grid (`grid`, when their sizes agree).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["Frame"]

U8 = npt.NDArray[np.uint8]


class Frame:
    """The payloads of one stream's batch (arrival order)."""

    __slots__ = ("payloads", "lengths", "_buf", "_arr", "_offsets")

    def __init__(self, payloads: Sequence[bytes]) -> None:
        self.payloads = payloads
        self.lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
        self._buf: bytes | None = None
        self._arr: U8 | None = None
        self._offsets: npt.NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return len(self.payloads)

    @property
    def buffer(self) -> bytes:
        """Every payload, joined."""
        if self._buf is None:
            self._buf = b"".join(self.payloads)
        return self._buf

    @property
    def array(self) -> U8:
        if self._arr is None:
            self._arr = np.frombuffer(self.buffer, dtype=np.uint8)
        return self._arr

    @property
    def offsets(self) -> npt.NDArray[np.int64]:
        if self._offsets is None:
            self._offsets = np.cumsum(self.lengths) - self.lengths
        return self._offsets

    def uniform(self) -> int | None:
        """The common size of every datagram, or None when sizes differ."""
        lengths = self.lengths
        if len(lengths) and lengths[0] == lengths[-1] and int(lengths.min()) == int(lengths.max()):
            return int(lengths[0])
        return None

    def columns(self, start: int, width: int) -> tuple[U8, npt.NDArray[np.bool_]]:
        """(bytes start..start+width of every datagram as a C-contiguous (N, width) array,
        which datagrams are long enough). Rows of short datagrams hold bytes of whatever
        follows or zeros: mask them."""
        n = len(self)
        size = self.uniform()
        if size is not None and size >= start + width:
            grid = self.array.reshape(n, size)
            return np.ascontiguousarray(grid[:, start:start + width]), np.ones(n, np.bool_)
        arr = self.array
        if len(arr) == 0:
            return np.zeros((n, width), dtype=np.uint8), np.zeros(n, np.bool_)
        index = self.offsets[:, None] + np.arange(start, start + width, dtype=np.int64)
        np.minimum(index, len(arr) - 1, out=index)
        return np.take(arr, index), self.lengths >= start + width

    def grid(self, rows: npt.NDArray[np.intp] | None, size: int) -> U8:
        """The datagrams `rows` (None: all), every one `size` bytes long, as an (N, size) array."""
        if rows is None:
            return self.array.reshape(len(self), size)
        chosen = [self.payloads[i] for i in rows.tolist()]
        return np.frombuffer(b"".join(chosen), dtype=np.uint8).reshape(len(chosen), size)

"""A user-defined sequence field (`--seq OFFSET:WIDTH[:be|le]`): parse it, read it from payloads.

Market-data feeds and many in-house protocols number their datagrams in their own header; the
user says where. Reading it from a whole batch is one join of the field's bytes and one
`numpy.frombuffer`, not a struct call per datagram.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .frame import Frame

__all__ = ["SeqSpec", "SeqSpecError", "parse_seq_spec"]

MAX_OFFSET = 65535
WIDTHS = (1, 2, 4, 8)


class SeqSpecError(ValueError):
    """A --seq value that cannot be used; the message says which part and why."""


@dataclass(frozen=True, slots=True)
class SeqSpec:
    """Where the sequence number sits: `offset` bytes in, `width` bytes, byte order."""

    offset: int
    width: int
    little_endian: bool = False
    given: str | None = None   # the text it was parsed from (reported as given)

    @property
    def bits(self) -> int:
        return self.width * 8

    def text(self) -> str:
        """The field as the user gave it, else in full (OFFSET:WIDTH:be|le)."""
        if self.given is not None:
            return self.given
        return f"{self.offset}:{self.width}:{'le' if self.little_endian else 'be'}"

    def read(self, payloads: Sequence[bytes] | Frame) -> tuple[npt.NDArray[np.uint64],
                                                               npt.NDArray[np.intp] | None]:
        """The sequence numbers of the payloads long enough to hold the field, and the indices
        of those payloads (None when all of them did)."""
        frame = payloads if isinstance(payloads, Frame) else Frame(payloads)
        if not len(frame):
            return np.empty(0, dtype=np.uint64), None
        cols, ok = frame.columns(self.offset, self.width)
        dtype = np.dtype(("<" if self.little_endian else ">") + f"u{self.width}")
        values = np.ascontiguousarray(cols).view(dtype)[:, 0].astype(np.uint64)
        if ok.all():
            return values, None
        rows = np.flatnonzero(ok)
        return values[rows], rows


def parse_seq_spec(text: str) -> SeqSpec:
    """`OFFSET:WIDTH[:be|le]` -> SeqSpec; SeqSpecError names what is wrong."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise SeqSpecError(f"expected OFFSET:WIDTH[:be|le], got {text!r}")
    try:
        offset = int(parts[0], 0)
    except ValueError:
        raise SeqSpecError(f"offset {parts[0]!r} is not a number") from None
    if not 0 <= offset <= MAX_OFFSET:
        raise SeqSpecError(f"offset {offset} out of range 0..{MAX_OFFSET}")
    try:
        width = int(parts[1])
    except ValueError:
        raise SeqSpecError(f"width {parts[1]!r} is not a number") from None
    if width not in WIDTHS:
        raise SeqSpecError(f"width {width} must be 1, 2, 4 or 8 bytes")
    order = parts[2].lower() if len(parts) == 3 else "be"
    if order not in ("be", "le"):
        raise SeqSpecError(f"byte order {parts[2]!r} must be be or le")
    return SeqSpec(offset, width, order == "le", text)

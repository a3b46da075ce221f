"""Payloads for the saturating sender: constant bytes, or real RTP (optionally carrying MPEG-TS).

Why: measuring stream-health tracking needs a flood whose sequence numbers, RTP timestamps and
TS continuity counters advance datagram by datagram exactly as a real stream's do (a repeated
payload would be all duplicates). A train of n datagrams is one (n, size) numpy array whose
header columns are rewritten per send: the sender stays one call per train, however many
fields change.

    plain    the fixed byte pattern the sender always used
    rtp      RTP, PT 0 (8 kHz clock), 160 timestamp units per datagram, SSRC 0x0DDBA11
    rtp-ts   RTP, PT 33 (MP2T), payload of whole 188-byte TS packets on PID 0x100 whose
             continuity counters run on across datagrams (size 1328 = 12 + 7 x 188)
"""

from __future__ import annotations

from typing import Any

KINDS = ("plain", "rtp", "rtp-ts")
SSRC = 0x0DDBA11
TS_PACKET = 188
RTP_HEADER = 12


class Payloads:
    """Successive trains of `size`-byte datagrams of one kind; `train(n)` returns n of them
    joined (the next n of the stream), ready for one GSO send."""

    def __init__(self, kind: str, size: int) -> None:
        if kind not in KINDS:
            raise ValueError(f"payload kind must be one of {', '.join(KINDS)}")
        if kind != "plain" and size < RTP_HEADER:
            raise ValueError(f"an RTP payload needs at least {RTP_HEADER} bytes")
        if kind == "rtp-ts" and (size - RTP_HEADER) % TS_PACKET:
            raise ValueError("rtp-ts needs a size of 12 + a multiple of 188 (1328 for 7 TS)")
        self.kind = kind
        self.size = size
        self.sent = 0
        self._plain = bytes((i * 7 + 1) & 0xFF for i in range(size))
        self._np: Any = None
        self._grids: dict[int, Any] = {}

    def _grid(self, n: int) -> Any:
        grid = self._grids.get(n)
        if grid is None:
            import numpy as np  # only the RTP kinds need it

            self._np = np
            grid = np.zeros((n, self.size), dtype=np.uint8)
            grid[:, 0] = 0x80
            grid[:, 1] = 33 if self.kind == "rtp-ts" else 0
            grid[:, 8:12] = np.frombuffer(SSRC.to_bytes(4, "big"), dtype=np.uint8)
            if self.kind == "rtp-ts":
                for k in range(RTP_HEADER, self.size, TS_PACKET):
                    grid[:, k] = 0x47
                    grid[:, k + 1] = 0x01          # PID 0x100
                    grid[:, k + 2] = 0x00
                    grid[:, k + 4:k + TS_PACKET] = 0xFF
            else:
                grid[:, RTP_HEADER:] = 0x5A
            self._grids[n] = grid
        return grid

    def rewind(self, n: int) -> None:
        """The last `n` datagrams were not sent after all: hand out their numbers again."""
        self.sent = max(0, self.sent - n)

    def train(self, n: int) -> bytes:
        """The next `n` datagrams, joined."""
        if self.kind == "plain":
            self.sent += n
            return self._plain * n
        grid = self._grid(n)
        np = self._np
        index = np.arange(self.sent, self.sent + n, dtype=np.uint64)
        grid[:, 2:4] = (index & 0xFFFF).astype(">u2").view(np.uint8).reshape(n, 2)
        step = 3000 if self.kind == "rtp-ts" else 160
        stamps = (index * step) & 0xFFFFFFFF
        grid[:, 4:8] = stamps.astype(">u4").view(np.uint8).reshape(n, 4)
        if self.kind == "rtp-ts":
            per = (self.size - RTP_HEADER) // TS_PACKET
            for k in range(per):
                cc = ((index * per + k) & 0x0F).astype(np.uint8)
                grid[:, RTP_HEADER + k * TS_PACKET + 3] = 0x10 | cc
        self.sent += n
        return grid.tobytes()

"""What a HealthBook keeps per stream: the (source, destination) pair, its trackers, bounds."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from udpscope import probe as probes
from udpscope.addresses import is_multicast
from udpscope.decode.registry import PORTS

from .history import History
from .mpegts import TsTracker
from .report import endpoint_text
from .rtp import RtpTracker
from .sequence import SequenceCounter

__all__ = ["HEAD", "Key", "Limits", "Pair", "RtpEntry", "TS"]

Key = tuple[str, int, str, int]
# The first 13 bytes of a datagram: RTP's fixed header plus the byte after it (0x47 when the
# RTP payload is MPEG-TS). Also read for raw TS, whose first byte is the sync byte.
HEAD = np.dtype([("b0", "u1"), ("b1", "u1"), ("seq", ">u2"), ("ts", ">u4"), ("ssrc", ">u4"),
                 ("x12", "u1")])
TS = 188
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


class RtpEntry:
    """One SSRC's tracker, history and when it was seen."""

    __slots__ = ("tracker", "history", "first_seen", "last_seen")

    def __init__(self, tracker: RtpTracker, history: History, now: float) -> None:
        self.tracker = tracker
        self.history = history
        self.first_seen = now
        self.last_seen = now


class Pair:
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
        self.rtp: dict[int, RtpEntry] = {}
        self.probation: dict[int, tuple[int, int, float, int, int]] = {}
        self.ts: TsTracker | None = None
        self.ts_over_rtp = False
        self.ts_history = History(history_s)
        self.seq: SequenceCounter | None = None
        self.seq_history = History(history_s)

    @property
    def kernel_drops(self) -> int:
        return 0 if self.drops_base is None else self.drops_last - self.drops_base

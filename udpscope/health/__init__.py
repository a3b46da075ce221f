"""Stream health: is a stream losing, duplicating or reordering datagrams, and is it the network?

Trackers take whole received batches (numpy where the work is per datagram or per TS packet)
and keep bounded state; views read immutable snapshots on their own timer. Nothing here
imports a UI.

    book = HealthBook(rtp=True, mpegts=True, seq=parse_seq_spec("0:4"), arbitrate=True)
    book.feed_batch(batch, ("0.0.0.0", 5000), now, kernel_drops=sock.get_kernel_drops())
    for s in book.streams(): s.kind, s.source, s.lost, s.details, s.history
    book.findings(now)      # mDNS/SSDP sanity (with discovery=True)

The trackers stand alone too: `SequenceCounter` (any width, A/B merges), `RtpTracker` (one
SSRC, RFC 3550 jitter), `TsTracker` (continuity, PIDs, PCR, bitrate), `DiscoveryCheck`.
"""

from .book import BatchLike, HealthBook, Limits
from .discovery import DiscoveryCheck, Finding
from .history import History, Sample
from .mpegts import TsStats, TsTracker
from .report import KINDS, StreamHealth, endpoint_text
from .rtp import RtpTracker, clock_rate
from .seqfield import SeqSpec, SeqSpecError, parse_seq_spec
from .sequence import SequenceCounter, SequenceStats

__all__ = [
    "KINDS", "BatchLike", "DiscoveryCheck", "Finding", "HealthBook", "History", "Limits",
    "RtpTracker", "Sample", "SeqSpec", "SeqSpecError", "SequenceCounter", "SequenceStats",
    "StreamHealth", "TsStats", "TsTracker", "clock_rate", "endpoint_text", "parse_seq_spec",
]

"""What a view reads about a stream: one immutable `StreamHealth` per stream, and its JSON.

The CLI's `stream` events and the TUI's Stats pane read the same snapshot (built on demand by
`HealthBook.streams()`, on a timer, never per datagram), so the two cannot disagree. Keys and
meanings follow the CLI spec's `stream` event: `lost` counts sequence numbers that never
arrived, `reordered` datagrams that arrived after a higher one; `kernel_drops` is what the
socket's kernel dropped while the stream was running, so a gap the host caused is not blamed
on the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .history import Sample

__all__ = ["KINDS", "StreamHealth", "endpoint_text"]

KINDS = ("probe", "rtp", "mpegts", "seq", "arbitrated")


def endpoint_text(address: str, port: int) -> str:
    """``1.2.3.4:5004`` or ``[ff02::fb]:5353`` (raw: sanitise before showing)."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


@dataclass(frozen=True, slots=True)
class StreamHealth:
    """One stream's health now.

    `kind` is one of KINDS; `source`/`destination` are ``addr:port`` text (raw; `source` is None
    for an arbitrated merge of several lines). `reordered` is None where the protocol cannot
    tell (MPEG-TS). `details` holds the kind's own keys, JSON-ready (`ssrc`, `jitter_ms` for
    RTP; `cc_errors`, `pids`, `pcr_pids` for MPEG-TS; `delay_ms_avg` for probes; `seq` for
    --seq; `lines` for arbitrated). `history` is the per-second samples for sparklines.
    """

    kind: str
    source: str | None
    destination: str | None
    packets: int
    lost: int
    duplicates: int
    reordered: int | None
    kernel_drops: int
    first_seen: float
    last_seen: float
    bytes: int
    details: dict[str, Any] = field(default_factory=dict)
    history: tuple[Sample, ...] = ()

    @property
    def loss_ratio(self) -> float:
        """lost / (packets counted once + lost); 0.0 for an empty stream."""
        total = self.packets - self.duplicates + self.lost
        return self.lost / total if total > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """The CLI's `stream` event object (text values raw: addresses are the kernel's)."""
        event: dict[str, Any] = {
            "event": "stream", "kind": self.kind, "source": self.source,
            "destination": self.destination, "packets": self.packets, "lost": self.lost,
            "duplicates": self.duplicates, "reordered": self.reordered,
        }
        event.update(self.details)
        event["kernel_drops"] = self.kernel_drops
        return event

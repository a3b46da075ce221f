"""The receive side of an agent: every probe stream it hears, keyed by the probe's stream id.

Why by stream id and not by source address: the coordinator gives each (sender, kind, receiver)
its own id, so a cell of the grid is one lookup, a second path that doubles a stream shows as
duplicates (not as a second stream), and probes of another run on the same group and port
(other ids) never mix into this one. Memory is bounded: past `max_streams` ids new ones are
only counted.

O(1) per datagram on top of the probe decode; no formatting here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from udpscope.addresses import is_multicast
from udpscope.probe import MAGIC, ProbeTracker, decode_probe

MAX_STREAMS = 1024
WINDOW = 1024          # duplicates are told apart within the last 1024 sequence numbers


@dataclass(slots=True)
class StreamEntry:
    """One probe stream as this agent hears it."""

    stream: int
    source: str
    source_port: int
    destination: str | None
    multicast: bool
    tracker: ProbeTracker
    first_time: float
    last_time: float
    ttl_min: int | None = None
    ttl_max: int | None = None
    other_sources: int = 0     # datagrams of this stream from another address (a second path)
    interface: str | None = None

    def to_json(self) -> dict[str, Any]:
        st = self.tracker.stats()
        return {
            "stream": self.stream,
            "kind": "multicast" if self.multicast else "unicast",
            "source": self.source,
            "source_port": self.source_port,
            "destination": self.destination,
            "interface": self.interface,
            "received": st.received,
            "datagrams": st.datagrams,
            "lost": st.lost,
            "duplicates": st.duplicates,
            "reordered": st.reordered,
            "stale": st.stale,
            "restarts": st.restarts,
            "first_seq": st.first_seq,
            "highest_seq": st.highest_seq,
            "delay_ms_min": _ms(st.delay_min),
            "delay_ms_avg": _ms(st.delay_avg),
            "delay_ms_max": _ms(st.delay_max),
            "jitter_ms": _ms(st.jitter),
            "ttl_min": self.ttl_min,
            "ttl_max": self.ttl_max,
            "other_sources": self.other_sources,
            "first_time": round(self.first_time, 6),
            "last_time": round(self.last_time, 6),
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


class StreamTable:
    """Probe streams heard on the agent's sockets; feed it the engine's `batch` events."""

    def __init__(self, max_streams: int = MAX_STREAMS,
                 clock: Callable[[], float] = time.time) -> None:
        self.max_streams = max_streams
        self.clock = clock
        self.streams: dict[int, StreamEntry] = {}
        self.dropped_streams = 0   # datagrams of streams past the bound
        self.non_probe = 0

    def on_batch(self, batch: Any) -> None:
        """An engine `batch` listener: every datagram of one drained batch."""
        rinfo = batch.rinfo
        for i, payload in enumerate(batch.payloads):
            if payload.startswith(MAGIC):
                self.observe(payload, rinfo(i))
            else:
                self.non_probe += 1

    def observe(self, payload: bytes, rinfo: Any) -> None:
        """Count one datagram (rinfo: the engine's RemoteInfo, with metadata when available)."""
        probe = decode_probe(payload)
        if probe is None:
            self.non_probe += 1
            return
        now = rinfo.timestamp or self.clock()
        entry = self.streams.get(probe.stream)
        if entry is None:
            if len(self.streams) >= self.max_streams:
                self.dropped_streams += 1
                return
            dest = rinfo.destination
            entry = StreamEntry(probe.stream, rinfo.address, rinfo.port, dest,
                                dest is not None and is_multicast(dest), ProbeTracker(WINDOW),
                                now, now, interface=rinfo.interface)
            self.streams[probe.stream] = entry
        elif rinfo.address != entry.source:
            entry.other_sources += 1
        entry.last_time = now
        ttl = rinfo.ttl
        if ttl is not None:
            if entry.ttl_min is None or ttl < entry.ttl_min:
                entry.ttl_min = ttl
            if entry.ttl_max is None or ttl > entry.ttl_max:
                entry.ttl_max = ttl
        entry.tracker.observe(probe, now)

    def to_json(self) -> list[dict[str, Any]]:
        return [entry.to_json() for entry in self.streams.values()]

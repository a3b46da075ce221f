"""Per (group, source) statistics: who sends to which group, how much, with which TTLs, and the
loss/duplication/reordering/delay of probe streams.

Only batches holding multicast traffic or probes are looked at; a unicast flood costs two C-level
scans per batch here (probe prefix, destination set), and a one-sender multicast flood is
accounted per batch. The table is bounded: senders are whoever the network says they are (a
spoofed-source flood makes a new "source" per datagram), so after `max_streams` streams every
new one is counted in a single `other` bucket, whose counters say how much went there.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from udpscope import dgram
from udpscope import probe as probes
from udpscope.addresses import is_multicast
from udpscope.capture.entries import SocketEntry

__all__ = ["DEFAULT_MAX_STREAMS", "OTHER_GROUP", "GroupStats", "GroupTable"]

DEFAULT_MAX_STREAMS = 1024
OTHER_GROUP = "(other streams)"

_PROBE_MAGIC = probes.MAGIC
# Destinations repeat (a socket's own address, a few groups): remember the answer per literal.
_is_multicast = functools.lru_cache(maxsize=4096)(is_multicast)


@dataclass(slots=True)
class GroupStats:
    """Traffic seen from one source to one group (or probe stream to a unicast address)."""

    group: str
    source: str
    interface: str | None = None
    packets: int = 0
    bytes: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    ttl_min: int | None = None
    ttl_max: int | None = None
    rate: float = 0.0
    tracker: probes.ProbeTracker | None = None
    _last_packets: int = 0


class GroupTable(Mapping[tuple[str, str], GroupStats]):
    """Streams by (group, source), at most `max_streams` of them; the rest go to `other`.

    A read-only mapping for its readers (`table[(group, source)]`, `len`, iteration);
    `rows()` is what a screen lists: every stream, then `other` once it has counted anything.
    """

    def __init__(self, max_streams: int = DEFAULT_MAX_STREAMS) -> None:
        if max_streams < 1:
            raise ValueError("max_streams must be at least 1")
        self.max_streams = max_streams
        self._streams: dict[tuple[str, str], GroupStats] = {}
        self.other = GroupStats(OTHER_GROUP, f"(beyond the first {max_streams})")

    def __getitem__(self, key: tuple[str, str]) -> GroupStats:
        return self._streams[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._streams)

    def __len__(self) -> int:
        return len(self._streams)

    def rows(self) -> list[GroupStats]:
        """Every stream, oldest first, then the `other` bucket if anything went there."""
        rows = list(self._streams.values())
        if self.other.packets:
            rows.append(self.other)
        return rows

    # ---- accounting ------------------------------------------------------------------------

    def observe_batch(self, entry: SocketEntry, batch: dgram.Batch, now: float,
                      maybe_probes: bool = True) -> None:
        """Account a received batch if it holds probes or multicast/broadcast traffic.

        `maybe_probes` False says no payload is a probe (the caller's cheap scan); True makes
        each payload be checked. One sender's multicast stream without probes (a multicast
        flood) is accounted in one step; anything else datagram by datagram.
        """
        payloads = batch.payloads
        probed = maybe_probes and any(map(bytes.startswith, payloads,
                                          itertools.repeat(_PROBE_MAGIC)))
        if not probed and not any(d is not None and _is_multicast(d)
                                  for d in batch.destination_set()):
            return
        uniform = None if probed else batch.uniform()
        if uniform is not None:
            info, ttl_min, ttl_max = uniform
            if info[4] is not None and _is_multicast(info[4]):
                self.account(info[4], info[0], info[5], ttl_min, batch.total_bytes(), now, None,
                             len(payloads), ttl_max)
                return
        rinfo = batch.rinfo
        for i, msg in enumerate(payloads):
            info = rinfo(i)
            destination = info[4]
            found = probes.decode_probe(msg) if msg.startswith(_PROBE_MAGIC) else None
            if found is not None or (destination is not None and _is_multicast(destination)):
                if destination is None:
                    local = entry.local()
                    destination = local[0] if local else "?"
                self.account(destination, info[0], info[5], info[6], len(msg), now, found)

    def account(
        self,
        group: str,
        source: str,
        interface: str | None,
        ttl: int | None,
        size: int,
        now: float,
        found: probes.Probe | None,
        count: int = 1,
        ttl_high: int | None = None,
    ) -> None:
        """Count `count` datagrams of `size` bytes in all from `source` to `group`, with TTLs
        from `ttl` to `ttl_high` (default: all `ttl`), and the probe `found` in them if any.

        A new stream past `max_streams` is counted in `other` (its probes are not tracked:
        the bucket mixes streams).
        """
        key = (group, source)
        stats = self._streams.get(key)
        if stats is None:
            if len(self._streams) < self.max_streams:
                stats = self._streams[key] = GroupStats(group, source, interface, first_seen=now)
            else:
                stats = self.other
                found = None
                if not stats.packets:
                    stats.first_seen = now
        stats.packets += count
        stats.bytes += size
        stats.last_seen = now
        if interface is not None:
            stats.interface = interface
        if ttl is not None:
            high = ttl if ttl_high is None else ttl_high
            if stats.ttl_min is None or ttl < stats.ttl_min:
                stats.ttl_min = ttl
            if stats.ttl_max is None or high > stats.ttl_max:
                stats.ttl_max = high
        if found is not None:
            if stats.tracker is None:
                stats.tracker = probes.ProbeTracker()
            stats.tracker.observe(found, now)

    def refresh(self, dt: float) -> None:
        """Tick work: packet rates over the `dt` seconds since the last tick (0: the first)."""
        for stats in self.rows():
            if dt > 0:
                stats.rate = (stats.packets - stats._last_packets) / dt
            stats._last_packets = stats.packets

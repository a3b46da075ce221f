"""`batch` listeners: every datagram one drain step read, handed over in one call, decoded lazily.

A `message` listener costs a Python call, a `RemoteInfo` and (with metadata) a control-buffer
decode per datagram. A consumer that only needs most datagrams counted and kept — a capture ring
under a flood — can take a whole `recvmmsg` batch at once instead: `sock.on("batch", fn)` calls
`fn(batch)` once per system call with a `Batch`, a read-only sequence of `(msg, rinfo)` pairs
whose payloads are already cut out (`batch.payloads`) and whose `RemoteInfo` is built only when
an item is asked for.

The batch owns copies of everything it needs (payloads, peer keys, control buffers, the names of
the interfaces it mentions, resolved when it was read), so it stays valid after the receive
buffers are reused and after the socket is closed, and keeps nothing of the socket alive.
`batch` listeners run before `message` listeners for the same datagrams; a socket closed by a
`batch` listener dispatches nothing more. See docs/dgram.md, "batch listeners".
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, overload

from .cmsg import ControlDecoder
from .mmsg import peer_v4, peer_v6
from .types import RemoteInfo

__all__ = ["Batch"]

_new = tuple.__new__


class Batch(Sequence[tuple[bytes, RemoteInfo]]):
    """Datagrams read by one system call (or one fallback drain step), oldest first."""

    __slots__ = ("payloads", "_rinfos")

    def __init__(self, payloads: tuple[bytes, ...], rinfos: Sequence[RemoteInfo]) -> None:
        self.payloads = payloads
        self._rinfos = rinfos

    def __len__(self) -> int:
        return len(self.payloads)

    @overload
    def __getitem__(self, index: int) -> tuple[bytes, RemoteInfo]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[bytes, RemoteInfo]]: ...
    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.payloads)))]
        return self.payloads[index], self.rinfo(index)

    def __iter__(self) -> Iterator[tuple[bytes, RemoteInfo]]:
        for i, payload in enumerate(self.payloads):
            yield payload, self.rinfo(i)

    def rinfo(self, index: int) -> RemoteInfo:
        """The `RemoteInfo` of datagram `index` (what a `message` listener would get)."""
        return self._rinfos[index]

    def total_bytes(self) -> int:
        return sum(map(len, self.payloads))

    def uniform(self) -> tuple[RemoteInfo, int, int] | None:
        """(newest RemoteInfo, lowest TTL, highest TTL) when every datagram has the same peer
        and destination (one sender's stream), else None: lets a consumer account a flood per
        batch instead of per datagram. The base class (fallback paths) never claims it."""
        return None

    def destination_set(self) -> AbstractSet[str | None]:
        """The distinct destination addresses in the batch ({None} without metadata)."""
        return set(map(operator.itemgetter(4), map(self.rinfo, range(len(self.payloads)))))

    def timestamps(self) -> tuple[float | None, ...] | None:
        """Each datagram's kernel receive time (`RemoteInfo.timestamp`, seconds since the
        epoch), in batch order, or None when the batch carries none (no metadata).

        What `rinfo(i).timestamp` gives for every `i`, in one call: a consumer that needs
        only the times (jitter, delay) need not build a RemoteInfo per datagram.
        """
        stamps = tuple(map(operator.itemgetter(7), map(self.rinfo, range(len(self.payloads)))))
        return stamps if any(t is not None for t in stamps) else None

    def interface_set(self) -> AbstractSet[str | None]:
        """The distinct arrival interfaces in the batch ({None} without metadata): a consumer
        counting arrivals per interface can then count a one-interface batch in one step."""
        return set(map(operator.itemgetter(5), map(self.rinfo, range(len(self.payloads)))))


class RawBatch(Batch):
    """A `recvmmsg` batch: peers and ancillary data kept as bytes until an item is asked for.

    It holds only its own immutable copies: payloads, peer address keys, control buffers, the
    family, and the names of every interface its datagrams mention (resolved while the socket
    was open). The control decoder it shares is a codec with memoised layouts, holding nothing
    of the socket. So a kept batch keeps neither the receiver nor the socket nor a descriptor
    alive, and decodes the same after the socket is closed.
    """

    __slots__ = ("_keys", "_controls", "_v6", "_family", "_decoder", "_names", "_destinations",
                 "_peers")

    def __init__(
        self,
        payloads: tuple[bytes, ...],
        keys: tuple[bytes, ...],
        controls: tuple[bytes, ...] | None,
        v6: bool,
        decoder: ControlDecoder,
        names: NameSnapshot,
        destinations: frozenset[str | None] | None = None,
    ) -> None:
        self.payloads = payloads
        # One peer for the whole batch (a flood, usually): keep its key once, not per datagram.
        self._keys: bytes | tuple[bytes, ...] = (
            keys[0] if keys.count(keys[0]) == len(keys) else keys)
        self._controls = controls
        self._v6 = v6
        self._family = "IPv6" if v6 else "IPv4"
        self._decoder = decoder
        self._names = names
        self._destinations = destinations
        self._peers: dict[bytes, tuple[int, RemoteInfo]] = {}

    def _base(self, key: bytes, size: int) -> RemoteInfo:
        """The metadata-free RemoteInfo of peer `key` for a datagram of `size` (cached)."""
        entry = self._peers.get(key)
        if entry is not None:
            if entry[0] == size:
                return entry[1]
            address, port = entry[1][0], entry[1][2]
        elif self._v6:
            address, port = peer_v6(key, self._names)
        else:
            address, port = peer_v4(key)
        rinfo = _new(RemoteInfo, (address, self._family, port, size, None, None, None, None))
        self._peers[key] = (size, rinfo)
        return rinfo

    def rinfo(self, index: int) -> RemoteInfo:
        size = len(self.payloads[index])
        keys = self._keys
        base = self._base(keys if isinstance(keys, bytes) else keys[index], size)
        controls = self._controls
        if controls is None:
            return base
        metadata = self._decoder.decode_bytes(controls[index], self._names)
        return _new(RemoteInfo, (base[0], self._family, base[2], size) + metadata[:4])

    def uniform(self) -> tuple[RemoteInfo, int, int] | None:
        controls = self._controls
        if controls is None or not isinstance(self._keys, bytes) or len(self.destination_set()) != 1:
            return None
        lengths = set(map(len, controls))
        if len(lengths) != 1:
            return None
        at = self._decoder.ttl_at(lengths.pop())
        if at < 0:
            return None
        ttls = set(map(operator.itemgetter(at), controls))  # TTLs are 0..255: the low byte
        return self.rinfo(len(controls) - 1), min(ttls), max(ttls)

    def timestamps(self) -> tuple[float | None, ...] | None:
        controls = self._controls
        if controls is None:
            return None
        # Read as one column of the control buffers while they share a layout (see cmsg.py).
        stamps = self._decoder.timestamps(controls, self._names)
        return stamps if any(t is not None for t in stamps) else None

    def destination_set(self) -> AbstractSet[str | None]:
        controls = self._controls
        if controls is None:
            return {None}
        if self._destinations is not None:
            return self._destinations
        return self._decoder.destination_set(controls, self._names)

    def interface_set(self) -> AbstractSet[str | None]:
        controls = self._controls
        if controls is None:
            return {None}
        # Read at the layout's fixed offset (as the receiver does to resolve the names).
        return set(map(self._names, self._decoder.interface_indexes(controls)))


class NameSnapshot:
    """Interface names as they were when a batch was read: a private copy, never resolved
    again (an index it lacks, which the receiver does not let happen, shows as its number)."""

    __slots__ = ("_known",)

    def __init__(self, known: dict[int, str]) -> None:
        self._known = known

    def __call__(self, index: int) -> str:
        return self._known.get(index) or str(index)

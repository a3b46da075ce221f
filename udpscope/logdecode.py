"""What the live log's rows are: decoded per record, lazily and memoised, for views and filters.

A row is decoded when it is shown (its protocol column and summary), opened (the detail's field
tree) or tested by a `proto:` filter -- never when it arrives: the capture ring keeps raw
batches. Decodes are memoised by the record's sequence number, which is unique in a capture, so
a redraw or a re-applied filter is a dict lookup. The decoders need both UDP ports (a datagram
received on port 5353 is mDNS), and a record knows only its peer's: the socket's own port comes
from `local_port`, remembered once known (a socket binds once).

The decoders (and dnspython) are imported on first use, not with this module: the log exists
from the first frame, decoding only once there is something to decode. No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from udpscope.records import Record

if TYPE_CHECKING:
    from udpscope.decode import DecodeCache, Decoded

__all__ = ["RecordDecoder", "known_protocols"]

ROWS_KEPT = 2048  # full decodes: what the screens show, and some scrolling


def known_protocols() -> tuple[str, ...]:
    """Every protocol name a `proto:` filter accepts (the decoders' own names)."""
    from udpscope.decode import PROTOCOLS

    return PROTOCOLS


class RecordDecoder:
    """Decodes and classifies records, memoised per record.

    `local_port(sock_id)` gives a socket's own port (None when unknown: closed, unbound, a
    file's records). `protos_kept` bounds the classification memo (a filter tests every record
    of the ring: the ring's size keeps a re-applied filter from classifying again).
    """

    def __init__(self, local_port: Callable[[int], int | None] | None = None,
                 protos_kept: int = 100_000) -> None:
        self._local_port = local_port
        self._ports: dict[int, int] = {}
        self._protos_kept = max(1, protos_kept)
        self._rows: DecodeCache | None = None
        self._protos: DecodeCache | None = None
        self._port_only: frozenset[str] = frozenset()
        self._port_names: dict[int, str] = {}

    def _caches(self) -> tuple[DecodeCache, DecodeCache]:
        if self._rows is None or self._protos is None:
            from udpscope.decode import PORT_ONLY, PORTS, DecodeCache

            self._rows = DecodeCache(ROWS_KEPT)
            self._protos = DecodeCache(self._protos_kept)
            self._port_only = PORT_ONLY
            self._port_names = PORTS
        return self._rows, self._protos

    def local(self, sock_id: int) -> int | None:
        """The socket's own port, remembered once known."""
        port = self._ports.get(sock_id)
        if port is None and self._local_port is not None:
            port = self._local_port(sock_id)
            if port:
                self._ports[sock_id] = port
        return port

    def ports(self, kind: str, sock_id: int, port: int | None) -> tuple[int | None, int | None]:
        """(source port, destination port) of a datagram record of `kind` ("rx"/"tx")."""
        local = self.local(sock_id)
        return (port, local) if kind == "rx" else (local, port)

    def decode(self, record: Record) -> Decoded:
        """The record's full decode (protocol, summary, field tree)."""
        rows, _protos = self._caches()
        src, dst = self.ports(record.kind, record.sock_id, record.port)
        return rows.decode(record.seq, record.payload, src, dst)

    @property
    def decodes(self) -> int:
        """Full decodes made so far (memo hits not counted): the work rows on screen cost."""
        return self._rows.decodes if self._rows is not None else 0

    @property
    def classified(self) -> int:
        """Classifications made for filters so far (memo hits not counted)."""
        return self._protos.classified if self._protos is not None else 0

    def proto(self, record: Record) -> str:
        """The record's protocol name (cheaper than `decode`: no field tree)."""
        return self.proto_at(record.seq, record.kind, record.sock_id, record.port,
                             record.payload)

    def proto_at(self, seq: int, kind: str, sock_id: int, port: int | None,
                 payload: bytes) -> str:
        """The protocol of a datagram given by its parts (no record built)."""
        rows, protos = self._caches()
        known = rows.known_proto(seq)
        if known is not None:
            return known
        src, dst = self.ports(kind, sock_id, port)
        return protos.proto(seq, payload, src, dst)

    def classifier(self, kind: str, sock_id: int, port: int | None
                   ) -> Callable[[int, bytes], str]:
        """A function (seq, payload) -> protocol for many datagrams of one peer and socket (a
        received batch from one sender), memoised like `proto_at`, with the ports looked up
        once: what a filter runs over a whole batch."""
        _rows, protos = self._caches()
        src, dst = self.ports(kind, sock_id, port)
        proto = protos.proto

        def classify(seq: int, payload: bytes) -> str:
            return proto(seq, payload, src, dst)

        return classify

    def ruled_out(self, kind: str, sock_id: int, port: int | None,
                  wanted: Collection[str]) -> bool:
        """Whether the ports alone say the datagram is none of `wanted` (protocols named only
        by their port: mDNS, LLMNR, NTP, CoAP)."""
        self._caches()
        if not all(name in self._port_only for name in wanted):
            return False
        src, dst = self.ports(kind, sock_id, port)
        names = self._port_names
        return names.get(src or 0) not in wanted and names.get(dst or 0) not in wanted

    def matches(self, seq: int, kind: str, sock_id: int, port: int | None, payload: bytes,
                wanted: Collection[str]) -> bool:
        """Whether the datagram's protocol is one of `wanted`. Protocols named only by their
        port (mDNS, LLMNR, NTP, CoAP) are ruled out by the ports alone, unclassified."""
        if self.ruled_out(kind, sock_id, port, wanted):
            return False
        return self.proto_at(seq, kind, sock_id, port, payload) in wanted

    def clear(self) -> None:
        """Forget every memoised decode (the records they belong to are gone)."""
        if self._rows is not None and self._protos is not None:
            self._rows.clear()
            self._protos.clear()

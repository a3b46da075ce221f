"""A bounded memo of decodes, for views that redraw the same rows many times a second.

A log view decodes only the rows on screen, but it redraws them on every tick; keying each
decode by the row's identity (a record's sequence number) makes a redraw cost a dict lookup.
Bounded: the least recently used entries go first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import TypeVar

from .model import Decoded
from .registry import classify, decode

__all__ = ["DecodeCache"]

V = TypeVar("V")


class DecodeCache:
    """`decode`/`classify` results by a caller's key (it must change when the bytes do)."""

    def __init__(self, maxsize: int = 4096) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._decoded: OrderedDict[Hashable, Decoded] = OrderedDict()
        self._protos: OrderedDict[Hashable, str] = OrderedDict()
        self.decodes = 0      # full decodes made (memo misses), for callers that count work
        self.classified = 0   # classifications made

    def decode(self, key: Hashable, payload: bytes | bytearray | memoryview,
               src_port: int | None = None, dst_port: int | None = None) -> Decoded:
        """The Decoded for `payload` (see udpscope.decode.decode), computed once per key."""
        found = self._decoded.get(key)
        if found is not None:
            self._decoded.move_to_end(key)
            return found
        found = decode(payload, src_port, dst_port)
        self.decodes += 1
        self._remember(self._decoded, key, found)
        self._remember(self._protos, key, found.proto)
        return found

    def proto(self, key: Hashable, payload: bytes | bytearray | memoryview,
              src_port: int | None = None, dst_port: int | None = None) -> str:
        """Only the protocol name (for a `proto:` filter): cheaper than a full decode."""
        found = self._protos.get(key)
        if found is not None:
            self._protos.move_to_end(key)
            return found
        found = classify(payload, src_port, dst_port)
        self.classified += 1
        self._remember(self._protos, key, found)
        return found

    def known_proto(self, key: Hashable) -> str | None:
        """The protocol already found for `key` (by `decode` or `proto`), else None; never
        decodes."""
        return self._protos.get(key)

    def _remember(self, table: OrderedDict[Hashable, V], key: Hashable, value: V) -> None:
        table[key] = value
        if len(table) > self.maxsize:
            table.popitem(last=False)

    def clear(self) -> None:
        self._decoded.clear()
        self._protos.clear()

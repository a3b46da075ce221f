"""The live log's filter: parse the filter bar's text, and match records — or whole batches.

Under a flood the capture ring holds received batches as chunks (see ring.py), and building a
record per datagram just to test it would cost more than receiving it. So each filter term also
knows how to judge a chunk at once: a socket or direction term keeps or rejects the whole chunk,
a payload term tests the batch's payloads (`needle in payload`, no record built); only a peer term
needs each datagram's `RemoteInfo`. Records are built for the datagrams that pass, and a chunk
that passes whole is shared as it is.

No Textual here.
"""

from __future__ import annotations

import binascii

from udpscope.addresses import format_endpoint
from udpscope.records import Record
from udpscope.ring import RxChunk
from udpscope.textsafe import safe_text

__all__ = ["FilterError", "LogFilter", "parse_filter"]

_KINDS = {"rx": "rx", "in": "rx", "tx": "tx", "out": "tx", "ev": "event", "event": "event"}


class FilterError(ValueError):
    """A filter expression that cannot be understood (message says which token and why)."""


class LogFilter:
    """All terms must match. Callable on a record; `select` judges a received chunk at once."""

    def __init__(self) -> None:
        self.sock_ids: list[int] = []
        self.kinds: list[str] = []
        self.needles: list[bytes] = []
        self.peers: list[str] = []

    def __call__(self, record: Record) -> bool:
        payload = record.payload
        return (all(record.sock_id == s for s in self.sock_ids)
                and all(record.kind == k for k in self.kinds)
                and all(n in payload for n in self.needles)
                and all(p in format_endpoint(record.address, record.port) for p in self.peers))

    def select(self, chunk: RxChunk) -> RxChunk | list[Record]:
        """The chunk itself if every datagram in it passes, else the records that do."""
        if any(s != chunk.sock_id for s in self.sock_ids) or any(k != "rx" for k in self.kinds):
            return []
        if not self.needles and not self.peers:
            return chunk
        lo = chunk.lo
        payloads = chunk.batch.payloads[lo:lo + chunk.n]
        needles = self.needles
        picked = [j for j, payload in enumerate(payloads) if all(n in payload for n in needles)]
        if len(picked) == chunk.n and not self.peers:
            return chunk
        records = [chunk.record(j) for j in picked]
        if self.peers:
            records = [r for r in records if self(r)]
        return records


def parse_filter(text: str) -> LogFilter | None:
    """Compile the filter bar's text (None: everything passes).

    Tokens (all must match): ``#N`` or ``sock:N``; ``dir:rx|tx|ev``; ``peer:SUBSTR``;
    ``hex:HEX`` (payload contains these bytes); ``text:WORD`` or a bare word (payload contains
    this UTF-8 text). Raises FilterError naming the token that is wrong.
    """
    result = LogFilter()
    terms = 0
    for token in text.split():
        terms += 1
        key, sep, value = token.partition(":")
        if token.startswith("#") and token[1:].isdigit():
            key, sep, value = "sock", ":", token[1:]
        if not sep:
            result.needles.append(token.encode())
            continue
        key = key.lower()
        if not value:
            raise FilterError(f"'{safe_text(token)}': nothing after the colon")
        if key in ("sock", "s", "socket"):
            if not value.isdigit():
                raise FilterError(f"'{safe_text(token)}': socket must be a number, e.g. #1")
            result.sock_ids.append(int(value))
        elif key in ("dir", "d"):
            kind = _KINDS.get(value.lower())
            if kind is None:
                raise FilterError(f"'{safe_text(token)}': direction is rx, tx or ev")
            result.kinds.append(kind)
        elif key == "peer":
            result.peers.append(value)
        elif key == "hex":
            try:
                needle = binascii.unhexlify("".join(value.split()).replace(":", ""))
            except (binascii.Error, ValueError) as exc:
                raise FilterError(f"'{safe_text(token)}': not hex bytes ({exc})") from None
            result.needles.append(needle)
        elif key == "text":
            result.needles.append(value.encode())
        else:
            raise FilterError(
                f"unknown filter '{safe_text(key)}:' (use #N, dir:, peer:, hex:, text:)"
            )
    return result if terms else None


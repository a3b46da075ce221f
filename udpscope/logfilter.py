"""The live log's filter: parse the filter bar's text, and match records — or whole batches.

Under a flood the capture ring holds received batches as chunks (see ring.py), and building a
record per datagram just to test it would cost more than receiving it. So each filter term also
knows how to judge a chunk at once: a socket or direction term keeps or rejects the whole chunk,
a payload term tests the batch's payloads (`needle in payload`, no record built); only a peer term
needs each datagram's `RemoteInfo`. Records are built for the datagrams that pass, and a chunk
that passes whole is shared as it is.

A protocol term (`proto:mdns`) is judged last, on what the cheaper terms let through, by the
log's `RecordDecoder` (memoised per record, so a filter edited again does not classify the ring
again); mDNS, LLMNR, NTP and CoAP are ruled out by the ports alone. The decoders are imported
only when a `proto:` term is typed.

No Textual here.
"""

from __future__ import annotations

import binascii
import difflib

from udpscope.addresses import format_endpoint
from udpscope.logdecode import RecordDecoder, known_protocols
from udpscope.records import Record
from udpscope.ring import RxChunk
from udpscope.textsafe import safe_text

__all__ = ["FilterError", "LogFilter", "parse_filter"]

_KINDS = {"rx": "rx", "in": "rx", "tx": "tx", "out": "tx", "ev": "event", "event": "event"}


class FilterError(ValueError):
    """A filter expression that cannot be understood (message says which token and why)."""


class LogFilter:
    """All terms must match. Callable on a record; `select` judges a received chunk at once."""

    def __init__(self, decoder: RecordDecoder | None = None) -> None:
        self.sock_ids: list[int] = []
        self.kinds: list[str] = []
        self.needles: list[bytes] = []
        self.peers: list[str] = []
        self.protos: list[frozenset[str]] = []  # each term: one of these protocols
        self.decoder = decoder

    def __call__(self, record: Record) -> bool:
        payload = record.payload
        return (all(record.sock_id == s for s in self.sock_ids)
                and all(record.kind == k for k in self.kinds)
                and all(n in payload for n in self.needles)
                and all(p in format_endpoint(record.address, record.port) for p in self.peers)
                and (not self.protos or self._proto_ok(record.seq, record.kind, record.sock_id,
                                                       record.port, payload)))

    def _proto_ok(self, seq: int, kind: str, sock_id: int, port: int | None,
                  payload: bytes) -> bool:
        if kind == "event":
            return False
        decoder = self.decoder
        if decoder is None:
            decoder = self.decoder = RecordDecoder()
        return all(decoder.matches(seq, kind, sock_id, port, payload, wanted)
                   for wanted in self.protos)

    def select(self, chunk: RxChunk) -> RxChunk | list[Record]:
        """The chunk itself if every datagram in it passes, else the records that do."""
        if any(s != chunk.sock_id for s in self.sock_ids) or any(k != "rx" for k in self.kinds):
            return []
        if not self.needles and not self.peers and not self.protos:
            return chunk
        lo = chunk.lo
        batch = chunk.batch
        payloads = batch.payloads[lo:lo + chunk.n]
        needles = self.needles
        picked = [j for j, payload in enumerate(payloads) if all(n in payload for n in needles)]
        if self.protos:
            picked = self._protos_in(chunk, picked)
        if len(picked) == chunk.n and not self.peers:
            return chunk
        records = [chunk.record(j) for j in picked]
        if self.peers:
            peers = self.peers
            records = [r for r in records
                       if all(p in format_endpoint(r.address, r.port) for p in peers)]
        return records

    def _protos_in(self, chunk: RxChunk, picked: list[int]) -> list[int]:
        """Those of `picked` (offsets in `chunk`) whose protocol passes every proto term."""
        batch = chunk.batch
        lo = chunk.lo
        one = batch.uniform() if picked else None
        rinfo = batch.rinfo
        payloads = batch.payloads
        seq = chunk.seq
        sock_id = chunk.sock_id
        ok = self._proto_ok
        if one is not None:   # one sender (a flood, usually): its ports once, no RemoteInfo each
            decoder = self.decoder
            if decoder is None:
                decoder = self.decoder = RecordDecoder()
            port = one[0][2]
            if any(decoder.ruled_out("rx", sock_id, port, wanted) for wanted in self.protos):
                return []
            classify = decoder.classifier("rx", sock_id, port)
            protos = self.protos
            return [j for j in picked
                    if all(classify(seq + j, payloads[lo + j]) in wanted for wanted in protos)]
        return [j for j in picked
                if ok(seq + j, "rx", sock_id, rinfo(lo + j)[2], payloads[lo + j])]


def parse_filter(text: str, decoder: RecordDecoder | None = None) -> LogFilter | None:
    """Compile the filter bar's text (None: everything passes).

    Tokens (all must match): ``#N`` or ``sock:N``; ``dir:rx|tx|ev``; ``peer:SUBSTR``;
    ``hex:HEX`` (payload contains these bytes); ``text:WORD`` or a bare word (payload contains
    this UTF-8 text); ``proto:NAME[,NAME…]`` (decoded as one of these protocols: mdns, rtp, …).
    `decoder` classifies for proto terms (the log's, whose memo outlives one filter). Raises
    FilterError naming the token that is wrong.
    """
    result = LogFilter(decoder)
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
        elif key == "proto":
            result.protos.append(_protocols(token, value))
        else:
            raise FilterError(
                f"unknown filter '{safe_text(key)}:' (use #N, dir:, peer:, hex:, text:, proto:)"
            )
    return result if terms else None


def _protocols(token: str, value: str) -> frozenset[str]:
    """The protocol names of a `proto:` term (comma-separated alternatives), checked."""
    known = known_protocols()
    names = [name for name in value.lower().split(",") if name]
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise FilterError(f"'{safe_text(token, 40)}': unknown protocol; {hint}"
                              f"known: {' '.join(known)}")
    if not names:
        raise FilterError(f"'{safe_text(token, 40)}': name a protocol, e.g. proto:mdns")
    return frozenset(names)


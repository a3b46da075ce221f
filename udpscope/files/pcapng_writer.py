"""A pcapng writer fast enough to sit on `listen`'s receive path.

Why not a library: python-pcapng writes ~36k packets/s, scapy's PcapNgWriter ~10k/s (and is
GPL-2.0), dpkt's batch `writepkts` ~0.45-0.9M/s but with one interface and no per-packet options
(no direction flag, no comment); a 64-byte flood arrives at over a million datagrams a second.
The format needs only three block kinds, so they are packed here with `struct` (measurements and
the comparison: README, "Dependencies"; `scripts/compare_pcap_libs.py`).

What is written: one Section Header, one Interface Description per arrival interface (named; link
type RAW, so IPv4 and IPv6 share it; microsecond timestamps), one Enhanced Packet per datagram with
its direction in `epb_flags` (inbound / outbound) and a comment on sent datagrams. Datagrams are
queued with `add` and reach the file in one `write` per `flush` (the caller flushes once per
received batch), straight to the file descriptor: a process killed after a flush loses nothing it
reported.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Iterable
from typing import Any, BinaryIO

from udpscope.files.frames import ip_udp_header

__all__ = ["PcapngWriter", "SENT_COMMENT", "LINKTYPE_RAW"]

LINKTYPE_RAW = 101
SNAPLEN = 262_144
SENT_COMMENT = "sent by udpscope"
UNKNOWN_INTERFACE = "unknown"

_TS = struct.Struct("<II")  # an Enhanced Packet Block's timestamp: high, low
_U32 = struct.Struct("<I")
_FLAGS_IN = struct.pack("<HHI", 2, 4, 1)  # epb_flags: direction inbound
_FLAGS_OUT = struct.pack("<HHI", 2, 4, 2)  # epb_flags: direction outbound
_END = b"\0\0\0\0"
_PADS = (b"", b"\0\0\0", b"\0\0", b"\0")


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + _PADS[len(value) % 4]


def _block(kind: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return _U32.pack(kind) + _U32.pack(length) + body + _U32.pack(length)


def _section_header(application: str) -> bytes:
    options = _option(4, application.encode("utf-8", "replace")) + _END  # shb_userappl
    return _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + options)


def _interface_block(name: str) -> bytes:
    options = (_option(2, name.encode("utf-8", "surrogateescape")[:255])  # if_name
               + _option(9, b"\x06") + _END)  # if_tsresol: microseconds
    return _block(1, struct.pack("<HHI", LINKTYPE_RAW, 0, SNAPLEN) + options)


_SENT_OPTIONS = _FLAGS_OUT + _option(1, SENT_COMMENT.encode()) + _END  # opt_comment
_RECV_OPTIONS = _FLAGS_IN + _END


class PcapngWriter:
    """Writes datagrams to a pcapng file as IP/UDP frames; see the module docstring.

    Not thread-safe; use from the event loop that receives. ``written`` counts datagrams that
    reached the file, ``skipped`` those that could not be framed (an address that is not an IP
    literal), ``pending`` those queued since the last flush.
    """

    def __init__(self, stream: BinaryIO, application: str = "udpscope") -> None:
        self._stream = stream
        self._parts: list[bytes] = [_section_header(application)]
        self._interfaces: dict[str, int] = {}
        self._templates: dict[tuple[Any, ...], tuple[bytes, bytes, bytes]] = {}
        self.written = 0
        self.skipped = 0
        self.pending = 0
        self.closed = False

    @classmethod
    def create(cls, path: str | os.PathLike[str], application: str = "udpscope") -> PcapngWriter:
        """Open ``path`` for writing (truncating it) and write the section header at once.

        Unbuffered: every flush is one write(2). Raises OSError (not found, permission...).
        """
        stream = open(path, "wb", buffering=0)  # noqa: SIM115 - owned by the writer, see close()
        writer = cls(stream, application)
        try:
            writer.flush()
        except OSError:
            stream.close()
            raise
        return writer

    def _interface(self, name: str | None) -> int:
        key = name or UNKNOWN_INTERFACE
        index = self._interfaces.get(key)
        if index is None:
            index = self._interfaces[key] = len(self._interfaces)
            self._parts.append(_interface_block(key))
        return index

    def add(self, payload: bytes, src: str, sport: int, dst: str, dport: int,
            when: float | None = None, interface: str | None = None, ttl: int | None = None,
            sent: bool = False) -> bool:
        """Queue one datagram; False (and counted in ``skipped``) if it cannot be framed.

        ``when`` is seconds since the epoch (the kernel's receive time; now when None),
        ``sent`` marks a datagram this side sent (direction outbound, with a comment).
        """
        size = len(payload)
        key = (src, sport, dst, dport, ttl, size, interface, sent)
        template = self._templates.get(key)
        if template is None or ":" in src:  # IPv6: the UDP checksum covers the payload
            template = self._template(key, payload)
            if template is None:
                return False
        head, middle, tail = template
        micros = int((time.time() if when is None else when) * 1_000_000)
        parts = self._parts
        parts.append(head)
        parts.append(_TS.pack(micros >> 32, micros & 0xFFFFFFFF))
        parts.append(middle)
        parts.append(payload)
        parts.append(tail)
        self.pending += 1
        return True

    def _template(self, key: tuple[Any, ...], payload: bytes) -> tuple[bytes, bytes, bytes] | None:
        """(block start, lengths + IP/UDP header, padding + options + trailer) for one flow and
        size: everything of an Enhanced Packet Block but the timestamp and the payload."""
        src, sport, dst, dport, ttl, size, interface, sent = key
        try:
            header = ip_udp_header(src, sport, dst, dport, payload, ttl)
        except ValueError:
            self.skipped += 1
            return None
        frame = len(header) + size
        options = _SENT_OPTIONS if sent else _RECV_OPTIONS
        pad = _PADS[frame % 4]
        length = 32 + frame + len(pad) + len(options)
        template = (_U32.pack(6) + _U32.pack(length) + _U32.pack(self._interface(interface)),
                    _U32.pack(frame) + _U32.pack(frame) + header,
                    pad + options + _U32.pack(length))
        if len(self._templates) >= 4096:  # many flows or sizes: start over, stay bounded
            self._templates.clear()
        self._templates[key] = template
        return template

    def add_received(self, payload: bytes, rinfo: Any, local: tuple[str, int],
                     when: float | None = None) -> bool:
        """Queue a datagram a socket bound to ``local`` (address, port) received.

        The destination is the metadata's (the group for multicast) when the socket has it, else
        the local address; the time is the kernel's timestamp when known, else ``when``.
        """
        address, _family, port, _size, destination, interface, ttl, stamp = rinfo
        return self.add(payload, address, port, destination or local[0], local[1],
                        when if stamp is None else stamp, interface, ttl)

    def add_many(self, items: Iterable[tuple[bytes, Any]], local: tuple[str, int],
                 when: float | None = None) -> int:
        """Queue received (payload, rinfo) pairs (a `dgram.Batch`); returns how many were queued."""
        stamp = time.time() if when is None else when
        return sum(self.add_received(p, r, local, stamp) for p, r in items)

    def flush(self) -> int:
        """Write everything queued in one call; returns the datagrams written. Raises OSError."""
        if not self._parts:
            return 0
        data = b"".join(self._parts)
        self._parts = []
        count = self.pending
        self.pending = 0
        view = memoryview(data)
        while view:
            n = self._stream.write(view)
            if n is None:  # pragma: no cover - a non-blocking stream; ours are blocking files
                continue
            view = view[n:]
        self.written += count
        return count

    def close(self) -> None:
        """Flush and close the file (idempotent). Raises OSError if the last write fails."""
        if self.closed:
            return
        self.closed = True
        try:
            self.flush()
        finally:
            self._stream.close()

    @property
    def interfaces(self) -> list[str]:
        """Interface names in the order their blocks were written."""
        return list(self._interfaces)

"""From a captured frame to the UDP datagram in it: link layers, IPv4/IPv6, fragments.

Covers what tcpdump and Wireshark write on Linux and the BSDs: Ethernet (with 802.1Q/802.1ad
VLAN tags), Linux cooked capture v1 and v2 (`-i any`), raw IP (the RAW, IPV4 and IPV6 link
types) and BSD loopback (NULL with the host's byte order, LOOP in network order). IPv6 extension
headers are walked; IPv4 and IPv6 fragments are reassembled in a bounded table. Everything that
is not a complete UDP datagram is skipped with a reason the caller counts (`SkipReason`).

Pure functions on bytes, no I/O; a struct unpack or two per frame (dpkt builds an object per
layer, ~8x slower here; README, "Dependencies").
"""

from __future__ import annotations

import socket
import struct
from collections import OrderedDict
from typing import NamedTuple

__all__ = ["Decoded", "Reassembler", "decode_frame", "SKIP_REASONS", "SUPPORTED_LINKTYPES"]

ETHERNET, NULL, RAW, RAW_OPENBSD, LOOP, SLL, IPV4, IPV6, SLL2 = 1, 0, 101, 12, 108, 113, 228, 229, 276
SUPPORTED_LINKTYPES = {ETHERNET: "Ethernet", NULL: "BSD loopback", LOOP: "OpenBSD loopback",
                       RAW: "raw IP", RAW_OPENBSD: "raw IP", IPV4: "raw IPv4", IPV6: "raw IPv6",
                       SLL: "Linux cooked", SLL2: "Linux cooked v2"}
_VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
_AF_INET6 = (10, 24, 28, 30)  # Linux, NetBSD/OpenBSD, FreeBSD, macOS
_EXT_HEADERS = (0, 43, 60)  # hop-by-hop, routing, destination options: (len + 1) * 8 bytes
_UDP = 17

SKIP_REASONS = {
    "not-ip": "not IP (ARP, LLC, other)",
    "not-udp": "not UDP (TCP, ICMP, ...)",
    "linktype": "link type not supported",
    "cut": "cut by the capture's snap length",
    "malformed": "malformed header",
    "fragment": "IP fragment never completed",
}

_U16 = struct.Struct("!H")
_IPV4 = struct.Struct("!BBHHHBB2x4s4s")
_UDP_HEADER = struct.Struct("!HHH")


class Decoded(NamedTuple):
    """A UDP datagram found in a frame (addresses as text, as the engine gives them)."""

    source: str
    sport: int
    destination: str
    dport: int
    payload: bytes
    ttl: int
    family: str  # "IPv4" / "IPv6", like RemoteInfo.family


class _Fragment(NamedTuple):
    family: str
    source: str
    destination: str
    ttl: int
    key: tuple[object, ...]
    offset: int
    more: bool
    data: bytes


def _network(linktype: int, data: bytes) -> tuple[int, bytes] | str:
    """(ethertype-like 4 or 6, IP packet) or a skip reason."""
    if linktype in (RAW, RAW_OPENBSD, IPV4, IPV6):
        return _by_version(data)
    if linktype == ETHERNET:
        if len(data) < 14:
            return "malformed"
        kind, at = _U16.unpack_from(data, 12)[0], 14
        while kind in _VLAN_TYPES:
            if len(data) < at + 4:
                return "malformed"
            kind, at = _U16.unpack_from(data, at + 2)[0], at + 4
        return _by_ethertype(kind, data[at:])
    if linktype == SLL:
        if len(data) < 16:
            return "malformed"
        kind, at = _U16.unpack_from(data, 14)[0], 16
        while kind in _VLAN_TYPES and len(data) >= at + 4:
            kind, at = _U16.unpack_from(data, at + 2)[0], at + 4
        return _by_ethertype(kind, data[at:])
    if linktype == SLL2:
        if len(data) < 20:
            return "malformed"
        return _by_ethertype(_U16.unpack_from(data, 0)[0], data[20:])
    if linktype in (NULL, LOOP):
        if len(data) < 4:
            return "malformed"
        # NULL holds the capturing host's byte order, LOOP network order: take whichever
        # reading is a small number.
        little = int.from_bytes(data[:4], "little")
        family = little if little < 0x10000 else int.from_bytes(data[:4], "big")
        if family == 2:  # AF_INET everywhere
            return 4, data[4:]
        if family in _AF_INET6:
            return 6, data[4:]
        return "not-ip"
    return "linktype"


def _by_ethertype(kind: int, packet: bytes) -> tuple[int, bytes] | str:
    if kind == 0x0800:
        return 4, packet
    if kind == 0x86DD:
        return 6, packet
    return "not-ip"


def _by_version(packet: bytes) -> tuple[int, bytes] | str:
    if not packet:
        return "malformed"
    version = packet[0] >> 4
    if version in (4, 6):
        return version, packet
    return "not-ip"


def _udp(family: str, source: str, destination: str, ttl: int, segment: bytes) -> Decoded | str:
    if len(segment) < 8:
        return "cut"
    sport, dport, length = _UDP_HEADER.unpack_from(segment)
    if length < 8:
        if length == 0 and family == "IPv6":  # a jumbogram: the IP layer's length holds
            return Decoded(source, sport, destination, dport, segment[8:], ttl, family)
        return "malformed"
    if length > len(segment):
        return "cut"
    return Decoded(source, sport, destination, dport, segment[8:length], ttl, family)


def _ipv4(packet: bytes) -> Decoded | _Fragment | str:
    if len(packet) < 20:
        return "malformed"
    vihl, _tos, total, ident, frag, ttl, proto, src, dst = _IPV4.unpack_from(packet)
    ihl = (vihl & 0x0F) * 4
    if ihl < 20 or total < ihl:
        return "malformed"
    if proto != _UDP:
        return "not-udp"
    if total > len(packet):
        return "cut"
    source, destination = socket.inet_ntop(socket.AF_INET, src), socket.inet_ntop(socket.AF_INET, dst)
    body = packet[ihl:total]
    offset, more = (frag & 0x1FFF) * 8, bool(frag & 0x2000)
    if offset or more:
        return _Fragment("IPv4", source, destination, ttl, (4, src, dst, ident), offset, more, body)
    return _udp("IPv4", source, destination, ttl, body)


def _ipv6(packet: bytes) -> Decoded | _Fragment | str:
    if len(packet) < 40:
        return "malformed"
    length = _U16.unpack_from(packet, 4)[0]
    nxt, hops = packet[6], packet[7]
    source = socket.inet_ntop(socket.AF_INET6, packet[8:24])
    destination = socket.inet_ntop(socket.AF_INET6, packet[24:40])
    end = 40 + length if length else len(packet)  # 0: a jumbogram, the frame holds the length
    if end > len(packet):
        return "cut"
    at = 40
    fragment: tuple[int, bool, int] | None = None
    while True:
        if nxt == _UDP:
            break
        if nxt in _EXT_HEADERS or nxt == 51:  # 51: authentication header, (len + 2) * 4 bytes
            if at + 2 > end:
                return "malformed"
            size = (packet[at + 1] + 2) * 4 if nxt == 51 else (packet[at + 1] + 1) * 8
            nxt, at = packet[at], at + size
        elif nxt == 44:  # fragment header
            if at + 8 > end:
                return "malformed"
            word, ident = struct.unpack_from("!HI", packet, at + 2)
            fragment = ((word >> 3) * 8, bool(word & 1), ident)
            nxt, at = packet[at], at + 8
            if fragment[0]:  # later fragments carry no further headers
                break
        else:
            return "not-udp"
        if at > end:
            return "malformed"
    if fragment is not None:
        offset, more, ident = fragment
        if not offset and not more:  # an atomic fragment: a whole datagram
            return _udp("IPv6", source, destination, hops, packet[at:end])
        key = (6, packet[8:24], packet[24:40], ident)
        return _Fragment("IPv6", source, destination, hops, key, offset, more, packet[at:end])
    return _udp("IPv6", source, destination, hops, packet[at:end])


def decode_frame(linktype: int, data: bytes) -> Decoded | _Fragment | str:
    """The UDP datagram in a frame, a fragment to pass to a `Reassembler`, or a skip reason
    (a key of SKIP_REASONS)."""
    found = _network(linktype, data)
    if isinstance(found, str):
        return found
    version, packet = found
    if version == 4:
        if not packet or packet[0] >> 4 != 4:
            return "malformed"
        return _ipv4(packet)
    if not packet or packet[0] >> 4 != 6:
        return "malformed"
    return _ipv6(packet)


class Reassembler:
    """IP fragments put back together, at most ``max_pending`` datagrams at a time.

    The oldest incomplete datagram is given up (and counted in ``abandoned``) when the table is
    full; whatever is left at the end of a file is counted by `finish`.
    """

    def __init__(self, max_pending: int = 256) -> None:
        self.max_pending = max_pending
        self._pending: OrderedDict[tuple[object, ...], dict[int, _Fragment]] = OrderedDict()
        self.abandoned = 0

    def add(self, fragment: _Fragment) -> Decoded | str | None:
        """Take a fragment; the datagram (or a skip reason) once it is complete, else None."""
        parts = self._pending.get(fragment.key)
        if parts is None:
            if len(self._pending) >= self.max_pending:
                self._pending.popitem(last=False)
                self.abandoned += 1
            parts = self._pending[fragment.key] = {}
        parts[fragment.offset] = fragment
        last = next((p for p in parts.values() if not p.more), None)
        if last is None:
            return None
        total = last.offset + len(last.data)
        covered = 0
        for offset in sorted(parts):
            if offset > covered:
                return None
            covered = max(covered, offset + len(parts[offset].data))
        if covered < total:
            return None
        del self._pending[fragment.key]
        data = bytearray(total)
        for offset in sorted(parts):
            piece = parts[offset].data
            data[offset:offset + len(piece)] = piece[:max(0, total - offset)]
        first = parts.get(0)
        if first is None:
            return "malformed"
        return _udp(first.family, first.source, first.destination, first.ttl, bytes(data))

    def finish(self) -> int:
        """Give up on everything still incomplete; returns the total datagrams abandoned."""
        self.abandoned += len(self._pending)
        self._pending.clear()
        return self.abandoned

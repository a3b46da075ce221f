"""IP and UDP headers rebuilt around a datagram, so a capture file shows the real conversation.

A UDP socket sees payloads, peers and (with metadata) the destination; Wireshark wants frames. The
headers built here carry exactly what the socket knew: source and destination addresses and
ports, the TTL the datagram arrived with (64 when unknown), a valid IPv4 header checksum and a
UDP checksum for IPv6 (mandatory there; IPv4 uses 0, "not computed", which every reader accepts
and which keeps the receive path from summing every payload byte).

Headers are cached per (addresses, ports, TTL, size): a flood from one sender builds its header
once.
"""

from __future__ import annotations

import socket
import struct
from functools import lru_cache

from udpscope.checksum import fold, internet_checksum, ones_sum

__all__ = ["ip_udp_header", "ipv4_checksum"]

_V4 = struct.Struct("!BBHHHBBH4s4sHHHH")  # IPv4 header (20) + UDP header (8)
_V6 = struct.Struct("!IHBB16s16sHHHH")  # IPv6 header (40) + UDP header (8)
_PROTO_UDP = 17
_DEFAULT_TTL = 64


def ipv4_checksum(header: bytes) -> int:
    """The IPv4 header checksum of ``header`` (with its checksum field zero)."""
    return internet_checksum(header)


def _packed(address: str, family: int) -> bytes:
    # A scoped IPv6 address (fe80::1%eth0) keeps its scope out of the header.
    return socket.inet_pton(family, address.partition("%")[0])


@lru_cache(maxsize=4096)
def _v4_fixed(src: str, dst: str) -> tuple[bytes, bytes]:
    return _packed(src, socket.AF_INET), _packed(dst, socket.AF_INET)


@lru_cache(maxsize=4096)
def _v6_fixed(src: str, dst: str) -> tuple[bytes, bytes, int]:
    s, d = _packed(src, socket.AF_INET6), _packed(dst, socket.AF_INET6)
    pseudo = ones_sum(s + d) + _PROTO_UDP
    return s, d, pseudo


@lru_cache(maxsize=8192)
def _v4_header(src: str, sport: int, dst: str, dport: int, ttl: int, size: int) -> bytes:
    s, d = _v4_fixed(src, dst)
    total = 28 + size
    head = _V4.pack(0x45, 0, total, 0, 0x4000, ttl, _PROTO_UDP, 0, s, d, sport, dport, 8 + size, 0)
    check = ipv4_checksum(head[:20])
    return head[:10] + check.to_bytes(2, "big") + head[12:]


def ip_udp_header(src: str, sport: int, dst: str, dport: int, payload: bytes,
                  ttl: int | None = None) -> bytes:
    """IPv4 or IPv6 (by ``src``) + UDP header for ``payload`` from src:sport to dst:dport.

    Raises ValueError if an address is not an IP literal or the families differ (an
    IPv4-mapped IPv6 peer on a dual-stack socket must be passed as IPv6 on both sides).
    """
    hops = _DEFAULT_TTL if ttl is None else ttl
    size = len(payload)
    if ":" not in src:
        if ":" in dst:
            raise ValueError(f"mixed families: {src} -> {dst}")
        try:
            return _v4_header(src, sport, dst, dport, hops, size)
        except OSError:
            raise ValueError(f"not an IPv4 address: {src} or {dst}") from None
    if ":" not in dst:
        dst = "::ffff:" + dst  # a v4 destination seen by a dual-stack v6 socket
    try:
        s, d, pseudo = _v6_fixed(src, dst)
    except OSError:
        raise ValueError(f"not an IPv6 address: {src} or {dst}") from None
    length = 8 + size
    partial = pseudo + length + sport + dport + length + ones_sum(payload)
    check = ~fold(partial) & 0xFFFF or 0xFFFF  # 0 means "no checksum"; IPv6 sends all ones
    return _V6.pack(0x60000000, length, _PROTO_UDP, hops, s, d, sport, dport, length, check)


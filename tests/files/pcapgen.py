"""Capture files made byte by byte, independently of udpscope's own writer.

The reader must handle what other tools write; these builders produce those layouts (link
types, VLAN tags, fragments, IPv6 extension headers, pcap variants, pcapng sections with several
interfaces) from the format documents, so a reader bug cannot be hidden by the same bug in a
writer. tshark reads the same files in the tests as an oracle.
"""

from __future__ import annotations

import socket
import struct


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ipv4(src: str, dst: str, body: bytes, proto: int = 17, ident: int = 1, frag: int = 0,
         ttl: int = 64, options: bytes = b"") -> bytes:
    ihl = 5 + len(options) // 4
    head = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(body), ident, frag, ttl,
                       proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + options
    head = head[:10] + struct.pack("!H", checksum(head)) + head[12:]
    return head + body


def ipv4_fragments(src: str, dst: str, segment: bytes, size: int, ident: int = 7) -> list[bytes]:
    """``segment`` (a UDP header + payload) cut into IPv4 fragments of ``size`` bytes (x8)."""
    out = []
    for at in range(0, len(segment), size):
        more = at + size < len(segment)
        out.append(ipv4(src, dst, segment[at:at + size], ident=ident,
                        frag=(0x2000 if more else 0) | (at // 8)))
    return out


def ipv6(src: str, dst: str, body: bytes, nxt: int = 17, hops: int = 64) -> bytes:
    return (struct.pack("!IHBB", 0x60000000, len(body), nxt, hops)
            + socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + body)


def ipv6_ext(nxt: int, length_units: int = 0) -> bytes:
    """A hop-by-hop/destination-options style header of (length_units + 1) * 8 bytes."""
    size = (length_units + 1) * 8
    return bytes([nxt, length_units]) + b"\x01" + bytes([size - 4]) + bytes(size - 4)


def ipv6_fragment(nxt: int, offset: int, more: bool, ident: int) -> bytes:
    return struct.pack("!BBHI", nxt, 0, (offset // 8) << 3 | int(more), ident)


def ethernet(packet: bytes, ethertype: int, vlans: tuple[int, ...] = ()) -> bytes:
    out = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"
    tpids = [0x88A8] + [0x8100] * (len(vlans) - 1) if len(vlans) > 1 else [0x8100] * len(vlans)
    for tpid, vid in zip(tpids, vlans, strict=True):
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", ethertype) + packet


def sll(packet: bytes, ethertype: int) -> bytes:
    return struct.pack("!HHH8sH", 0, 1, 6, b"\x02\0\0\0\0\x01\0\0", ethertype) + packet


def sll2(packet: bytes, ethertype: int, ifindex: int = 2) -> bytes:
    return struct.pack("!HHIHBB8s", ethertype, 0, ifindex, 1, 0, 6, b"\x02\0\0\0\0\x01\0\0") + packet


def null(packet: bytes, family: int, order: str = "<") -> bytes:
    return struct.pack(order + "I", family) + packet


def pcap(records: list[tuple[float, bytes]], linktype: int, *, nano: bool = False,
         order: str = "<", snaplen: int = 262144) -> bytes:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for when, data in records:
        sec = int(when)
        frac = round((when - sec) * (1e9 if nano else 1e6))
        cut = data[:snaplen]
        out += struct.pack(order + "IIII", sec, frac, len(cut), len(data)) + cut
    return out


def _opt(code: int, value: bytes, order: str) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(kind: int, body: bytes, order: str) -> bytes:
    n = 12 + len(body)
    return struct.pack(order + "II", kind, n) + body + struct.pack(order + "I", n)


def pcapng(interfaces: list[tuple[int, str, int]],
           packets: list[tuple[int, float, bytes]], *, order: str = "<") -> bytes:
    """interfaces: (linktype, name, tsresol exponent); packets: (interface, time, frame)."""
    shb = struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    out = _block(0x0A0D0D0A, shb, order)
    for linktype, name, exp in interfaces:
        options = _opt(2, name.encode(), order) + _opt(9, bytes([exp]), order) + b"\0\0\0\0"
        out += _block(1, struct.pack(order + "HHI", linktype, 0, 0) + options, order)
    for ifid, when, frame in packets:
        exp = interfaces[ifid][2]
        ticks = round(when * 10**exp)
        body = struct.pack(order + "IIIII", ifid, ticks >> 32, ticks & 0xFFFFFFFF, len(frame),
                           len(frame)) + frame + b"\0" * (-len(frame) % 4)
        out += _block(6, body, order)
    return out

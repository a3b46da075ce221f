"""IGMP and MLD messages as they arrive on a raw socket: who queries, in which version, how often.

A snooping switch forgets a group when nobody asks for reports, so "which querier is there, and in
which version" is the first question when multicast stops after a few minutes. The answer is in the
queries themselves: IGMP's version follows from the message length and the max-response field
(RFC 3376 section 7.1), MLD's from the length (RFC 3810 section 8.1), and v3/MLDv2 queries also
carry the querier's robustness (QRV) and query interval (QQIC). Reports are parsed too, so a view
can show when this host last reported.

Parsing is pure (bytes in, a record or None out) and never raises on malformed or truncated input:
these bytes come from the network.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from udpscope.checksum import fold, ones_sum

Family = Literal["IPv4", "IPv6"]

IGMP_QUERY = 0x11
IGMP_V1_REPORT = 0x12
IGMP_V2_REPORT = 0x16
IGMP_V2_LEAVE = 0x17
IGMP_V3_REPORT = 0x22
MLD_QUERY = 130
MLD_V1_REPORT = 131
MLD_V1_DONE = 132
MLD_V2_REPORT = 143

# RFC 3376 4.2.12 / RFC 3810 5.2.12 record types
_RECORD_KINDS = {1: "is_in", 2: "is_ex", 3: "to_in", 4: "to_ex", 5: "allow", 6: "block"}


@dataclass(frozen=True)
class Query:
    """A membership query. `group` is None for a general query (all groups)."""

    family: Family
    version: int                    # IGMP 1, 2, 3; MLD 1, 2
    source: str                     # the querier's address
    group: str | None
    max_response_s: float           # IGMPv1: 10 s (fixed by the RFC)
    robustness: int | None = None   # v3/MLDv2 QRV; None when absent or 0 ("use the default")
    interval_s: float | None = None  # v3/MLDv2 QQIC; None when absent or 0
    sources: tuple[str, ...] = ()
    suppress: bool = False          # "S" flag: routers skip timer updates

    @property
    def general(self) -> bool:
        return self.group is None


@dataclass(frozen=True)
class GroupRecord:
    """One record of an IGMPv3/MLDv2 report (v1/v2 reports become one `is_ex` record)."""

    group: str
    kind: str                       # is_in, is_ex, to_in, to_ex, allow, block, leave
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """A membership report (or leave/done) sent by a host."""

    family: Family
    version: int
    source: str                     # the reporting host's address
    records: tuple[GroupRecord, ...]

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(r.group for r in self.records)

    @property
    def leave(self) -> bool:
        """Every record gives the group up (v2 leave, MLDv1 done, TO_IN of no sources)."""
        return bool(self.records) and all(
            r.kind == "leave" or (r.kind == "to_in" and not r.sources) for r in self.records)


Message = Query | Report


def decode_code8(code: int) -> int:
    """IGMPv3 Max Resp Code / QQIC (and MLDv2 QQIC): below 128 literal, else a float."""
    if code < 128:
        return code
    mant, exp = code & 0x0F, (code >> 4) & 0x07
    return (mant | 0x10) << (exp + 3)


def decode_code16(code: int) -> int:
    """MLDv2 Maximum Response Code (milliseconds): below 32768 literal, else a float."""
    if code < 32768:
        return code
    mant, exp = code & 0x0FFF, (code >> 12) & 0x07
    return (mant | 0x1000) << (exp + 3)


def checksum_ok(data: bytes) -> bool:
    """Whether the Internet checksum over `data` (checksum field included) verifies."""
    return fold(ones_sum(data)) == 0xFFFF


def _v4(raw: bytes) -> str:
    return str(ipaddress.IPv4Address(raw))


def _v6(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


def _group_or_none(text: str) -> str | None:
    return None if text in ("0.0.0.0", "::") else text


def parse_igmp(data: bytes, source: str, *, verify: bool = True) -> Message | None:
    """An IGMP message (without the IP header) sent by `source`, or None if it isn't one we read."""
    if len(data) < 8 or (verify and not checksum_ok(data)):
        return None
    kind, code = data[0], data[1]
    group = _v4(data[4:8])
    if kind == IGMP_QUERY:
        if len(data) == 8:
            # RFC 3376 7.1: an 8-byte query with code 0 is v1 (whose response time is fixed)
            if code == 0:
                return Query("IPv4", 1, source, _group_or_none(group), 10.0)
            return Query("IPv4", 2, source, _group_or_none(group), code / 10)
        if len(data) < 12:
            return None   # 9-11 bytes: ignored, as the RFC says
        nsrc = struct.unpack_from("!H", data, 10)[0]
        if len(data) < 12 + 4 * nsrc:
            return None
        qrv = data[8] & 0x07
        qqic = decode_code8(data[9])
        sources = tuple(_v4(data[12 + 4 * i:16 + 4 * i]) for i in range(nsrc))
        return Query("IPv4", 3, source, _group_or_none(group), decode_code8(code) / 10,
                     robustness=qrv or None, interval_s=float(qqic) if qqic else None,
                     sources=sources, suppress=bool(data[8] & 0x08))
    if kind in (IGMP_V1_REPORT, IGMP_V2_REPORT):
        return Report("IPv4", 1 if kind == IGMP_V1_REPORT else 2, source,
                      (GroupRecord(group, "is_ex"),))
    if kind == IGMP_V2_LEAVE:
        return Report("IPv4", 2, source, (GroupRecord(group, "leave"),))
    if kind == IGMP_V3_REPORT:
        records = _records(data, 8, struct.unpack_from("!H", data, 6)[0], 4, _v4)
        return None if records is None else Report("IPv4", 3, source, records)
    return None


def _records(data: bytes, offset: int, count: int, size: int,
             conv: Callable[[bytes], str]) -> tuple[GroupRecord, ...] | None:
    out = []
    for _ in range(count):
        if len(data) < offset + 4 + size:
            return None
        rtype, aux, nsrc = data[offset], data[offset + 1], struct.unpack_from("!H", data, offset + 2)[0]
        group = conv(data[offset + 4:offset + 4 + size])
        start = offset + 4 + size
        end = start + nsrc * size
        if len(data) < end + aux * 4:
            return None
        sources = tuple(conv(data[start + i * size:start + (i + 1) * size]) for i in range(nsrc))
        out.append(GroupRecord(group, _RECORD_KINDS.get(rtype, f"type{rtype}"), sources))
        offset = end + aux * 4
    return tuple(out)


def parse_ipv4_packet(packet: bytes) -> Message | None:
    """An IGMP message from a whole IPv4 packet (what a raw IPPROTO_IGMP socket reads)."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != 2:
        return None
    ihl = (packet[0] & 0x0F) * 4
    total = struct.unpack_from("!H", packet, 2)[0]
    if ihl < 20 or len(packet) < ihl:
        return None
    end = total if ihl <= total <= len(packet) else len(packet)
    return parse_igmp(packet[ihl:end], _v4(packet[12:16]))


def parse_mld(data: bytes, source: str) -> Message | None:
    """An MLD message (an ICMPv6 message, as a raw ICMPv6 socket reads it) sent by `source`.

    The kernel has already verified the ICMPv6 checksum for a raw ICMPv6 socket.
    """
    if len(data) < 8:
        return None
    kind = data[0]
    if kind == MLD_QUERY:
        if len(data) < 24:
            return None
        group = _group_or_none(_v6(data[8:24]))
        if len(data) == 24:
            return Query("IPv6", 1, source, group, struct.unpack_from("!H", data, 4)[0] / 1000)
        if len(data) < 28:
            return None
        nsrc = struct.unpack_from("!H", data, 26)[0]
        if len(data) < 28 + 16 * nsrc:
            return None
        qrv = data[24] & 0x07
        qqic = decode_code8(data[25])
        sources = tuple(_v6(data[28 + 16 * i:44 + 16 * i]) for i in range(nsrc))
        return Query("IPv6", 2, source, group,
                     decode_code16(struct.unpack_from("!H", data, 4)[0]) / 1000,
                     robustness=qrv or None, interval_s=float(qqic) if qqic else None,
                     sources=sources, suppress=bool(data[24] & 0x08))
    if kind in (MLD_V1_REPORT, MLD_V1_DONE):
        if len(data) < 24:
            return None
        group = _v6(data[8:24])
        return Report("IPv6", 1, source,
                      (GroupRecord(group, "is_ex" if kind == MLD_V1_REPORT else "leave"),))
    if kind == MLD_V2_REPORT:
        records = _records(data, 8, struct.unpack_from("!H", data, 6)[0], 16, _v6)
        return None if records is None else Report("IPv6", 2, source, records)
    return None

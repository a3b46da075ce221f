"""IGMP and MLD wire parsing on hand-built packets: versions told apart by length and
max-response (RFC 3376 7.1, RFC 3810 8.1), the float encodings, reports, and malformed bytes
that must give None, never an exception."""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.files.pcapgen import checksum
from udpscope.net import igmp
from udpscope.net.igmp import GroupRecord, Query, Report


def with_checksum(msg: bytes) -> bytes:
    return msg[:2] + struct.pack("!H", checksum(msg[:2] + b"\0\0" + msg[4:])) + msg[4:]


def v4(a: str) -> bytes:
    return socket.inet_aton(a)


def v6(a: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, a)


def igmp_msg(kind: int, code: int, group: str, tail: bytes = b"") -> bytes:
    return with_checksum(struct.pack("!BBH", kind, code, 0) + v4(group) + tail)


def v3_query(code: int = 100, group: str = "0.0.0.0", qrv: int = 2, qqic: int = 125,
             sources: tuple[str, ...] = (), s_flag: bool = False) -> bytes:
    tail = struct.pack("!BBH", (0x08 if s_flag else 0) | qrv, qqic, len(sources))
    return igmp_msg(0x11, code, group, tail + b"".join(v4(s) for s in sources))


def ip_packet(payload: bytes, src: str = "10.0.0.254", dst: str = "224.0.0.1",
              router_alert: bool = True) -> bytes:
    opts = b"\x94\x04\x00\x00" if router_alert else b""
    ihl = (20 + len(opts)) // 4
    head = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0xC0, 20 + len(opts) + len(payload), 0,
                       0x4000, 1, 2, 0, v4(src), v4(dst))
    return head + opts + payload


def test_igmpv1_v2_v3_queries_by_length_and_code() -> None:
    q1 = igmp.parse_igmp(igmp_msg(0x11, 0, "0.0.0.0"), "10.0.0.1")
    assert q1 == Query("IPv4", 1, "10.0.0.1", None, 10.0)
    q2 = igmp.parse_igmp(igmp_msg(0x11, 100, "0.0.0.0"), "10.0.0.1")
    assert q2 == Query("IPv4", 2, "10.0.0.1", None, 10.0)
    q2g = igmp.parse_igmp(igmp_msg(0x11, 10, "239.1.2.3"), "10.0.0.1")
    assert isinstance(q2g, Query) and q2g.group == "239.1.2.3" and not q2g.general
    assert q2g.max_response_s == 1.0
    q3 = igmp.parse_igmp(v3_query(code=10, qrv=2, qqic=3), "10.0.0.1")
    assert q3 == Query("IPv4", 3, "10.0.0.1", None, 1.0, robustness=2, interval_s=3.0)


def test_v3_query_float_codes_sources_and_flags() -> None:
    # code 0x8F: mant 15, exp 0 -> (15|16) << 3 = 248 tenths; QQIC 0x90: (0|16) << 4 = 256 s
    q = igmp.parse_igmp(v3_query(code=0x8F, group="232.1.1.1", qrv=0, qqic=0x90,
                                 sources=("10.1.1.1", "10.1.1.2"), s_flag=True), "10.0.0.1")
    assert isinstance(q, Query)
    assert q.max_response_s == pytest.approx(24.8) and q.interval_s == 256.0
    assert q.robustness is None   # QRV 0 means "use your default"
    assert q.sources == ("10.1.1.1", "10.1.1.2") and q.suppress and q.group == "232.1.1.1"
    assert igmp.decode_code8(127) == 127 and igmp.decode_code8(0xFF) == 31744
    assert igmp.decode_code16(32767) == 32767 and igmp.decode_code16(0x8000) == 0x1000 << 3


def test_reports_and_leaves() -> None:
    r2 = igmp.parse_igmp(igmp_msg(0x16, 0, "239.1.2.3"), "10.0.0.2")
    assert r2 == Report("IPv4", 2, "10.0.0.2", (GroupRecord("239.1.2.3", "is_ex"),))
    leave = igmp.parse_igmp(igmp_msg(0x17, 0, "239.1.2.3"), "10.0.0.2")
    assert isinstance(leave, Report) and leave.leave
    records = (struct.pack("!BBH", 4, 0, 0) + v4("239.1.2.3")
               + struct.pack("!BBH", 1, 1, 1) + v4("232.1.1.1") + v4("10.9.9.9") + b"auxd")
    msg = with_checksum(struct.pack("!BBHHH", 0x22, 0, 0, 0, 2) + records)
    r3 = igmp.parse_igmp(msg, "10.0.0.2")
    assert isinstance(r3, Report) and r3.version == 3 and not r3.leave
    assert r3.records == (GroupRecord("239.1.2.3", "to_ex"),
                          GroupRecord("232.1.1.1", "is_in", ("10.9.9.9",)))
    assert r3.groups == ("239.1.2.3", "232.1.1.1")
    v3_leave = with_checksum(struct.pack("!BBHHH", 0x22, 0, 0, 0, 1)
                             + struct.pack("!BBH", 3, 0, 0) + v4("239.1.2.3"))
    parsed = igmp.parse_igmp(v3_leave, "10.0.0.2")
    assert isinstance(parsed, Report) and parsed.leave


def test_whole_ipv4_packet_with_router_alert() -> None:
    pkt = ip_packet(v3_query(code=10, qqic=3))
    q = igmp.parse_ipv4_packet(pkt)
    assert isinstance(q, Query) and q.source == "10.0.0.254" and q.version == 3
    assert igmp.parse_ipv4_packet(ip_packet(igmp_msg(0x11, 0, "0.0.0.0"),
                                            router_alert=False)).version == 1  # type: ignore[union-attr]
    # the bridge's real query, as captured: 46c0 ... with QRV 2, QQIC 3
    real = bytes.fromhex("46c00024000040000102f7420ad201fee000000194040000"
                         "110aecf20000000002030000")
    q = igmp.parse_ipv4_packet(real)
    assert q == Query("IPv4", 3, "10.210.1.254", None, 1.0, robustness=2, interval_s=3.0)


@pytest.mark.parametrize("data", [
    b"",
    b"\x11",
    igmp_msg(0x11, 0, "0.0.0.0")[:7],
    igmp_msg(0x11, 0, "0.0.0.0") + b"\0",              # 9 bytes: ignored by the RFC
    v3_query(sources=("10.1.1.1",))[:-2],              # source list cut short
    igmp_msg(0x42, 0, "0.0.0.0"),                       # unknown type
])
def test_malformed_igmp_gives_none(data: bytes) -> None:
    assert igmp.parse_igmp(data, "10.0.0.1") is None


def test_bad_checksum_is_rejected() -> None:
    good = igmp_msg(0x11, 100, "0.0.0.0")
    bad = good[:2] + bytes([good[2] ^ 0xFF]) + good[3:]
    assert igmp.parse_igmp(good, "10.0.0.1") is not None
    assert igmp.parse_igmp(bad, "10.0.0.1") is None
    assert igmp.parse_igmp(bad, "10.0.0.1", verify=False) is not None


def test_not_igmp_ip_packets_give_none() -> None:
    assert igmp.parse_ipv4_packet(b"\x60" + bytes(39)) is None           # IPv6
    udp = bytearray(ip_packet(igmp_msg(0x11, 0, "0.0.0.0")))
    udp[9] = 17
    assert igmp.parse_ipv4_packet(bytes(udp)) is None
    assert igmp.parse_ipv4_packet(b"\x4f" + bytes(25)) is None           # IHL beyond the data


def mld_query_v2(code: int = 1000, group: str = "::", qrv: int = 2, qqic: int = 3,
                 sources: tuple[str, ...] = ()) -> bytes:
    return (struct.pack("!BBHHH", 130, 0, 0, code, 0) + v6(group)
            + struct.pack("!BBH", qrv, qqic, len(sources)) + b"".join(v6(s) for s in sources))


def test_mld_queries_v1_and_v2() -> None:
    v1 = struct.pack("!BBHHH", 130, 0, 0, 10000, 0) + v6("::")
    assert igmp.parse_mld(v1, "fe80::1") == Query("IPv6", 1, "fe80::1", None, 10.0)
    q = igmp.parse_mld(mld_query_v2(code=1000, qqic=3), "fe80::1")
    assert q == Query("IPv6", 2, "fe80::1", None, 1.0, robustness=2, interval_s=3.0)
    q = igmp.parse_mld(mld_query_v2(code=0x8001, group="ff35::1", sources=("2001:db8::1",)),
                       "fe80::1")
    assert isinstance(q, Query) and q.group == "ff35::1" and q.sources == ("2001:db8::1",)
    assert q.max_response_s == pytest.approx(((1 | 0x1000) << 3) / 1000)
    # the bridge's real MLDv2 query (ICMPv6 part), as captured
    real = bytes.fromhex("8200032e03e800000000000000000000000000000000000002030000")
    assert igmp.parse_mld(real, "fe80::2") == Query("IPv6", 2, "fe80::2", None, 1.0, 2, 3.0)


def test_mld_reports() -> None:
    v1 = struct.pack("!BBHHH", 131, 0, 0, 0, 0) + v6("ff15::1")
    assert igmp.parse_mld(v1, "fe80::2") == Report("IPv6", 1, "fe80::2",
                                                  (GroupRecord("ff15::1", "is_ex"),))
    done = struct.pack("!BBHHH", 132, 0, 0, 0, 0) + v6("ff15::1")
    r = igmp.parse_mld(done, "fe80::2")
    assert isinstance(r, Report) and r.leave
    v2 = (struct.pack("!BBHHH", 143, 0, 0, 0, 1) + struct.pack("!BBH", 4, 0, 0) + v6("ff15::1"))
    r = igmp.parse_mld(v2, "fe80::2")
    assert r == Report("IPv6", 2, "fe80::2", (GroupRecord("ff15::1", "to_ex"),))
    assert igmp.parse_mld(v2[:-1], "fe80::2") is None
    assert igmp.parse_mld(mld_query_v2()[:26], "fe80::1") is None   # 25-27 bytes: neither
    assert igmp.parse_mld(b"\x80\0\0\0\0\0\0\0", "fe80::1") is None   # echo request


@given(st.binary(max_size=120))
def test_parsers_never_raise(data: bytes) -> None:
    igmp.parse_igmp(data, "10.0.0.1")
    igmp.parse_igmp(data, "10.0.0.1", verify=False)
    igmp.parse_ipv4_packet(data)
    igmp.parse_mld(data, "fe80::1")
    for kind in (0x11, 0x22, 130, 143):
        igmp.parse_igmp(bytes([kind]) + data, "10.0.0.1", verify=False)
        igmp.parse_mld(bytes([kind]) + data, "fe80::1")

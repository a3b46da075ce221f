"""RTP, RTCP and MPEG-TS (raw and inside RTP) decoded from packets built per RFC 3550 and
ISO/IEC 13818-1: valid, truncated and corrupted."""

from __future__ import annotations

import struct

from tests.decode.helpers import assert_ranges_inside, field, values
from tests.streams.build import pat, pmt, rtp, ts_packet
from udpscope.decode import classify, decode, decode_as


def test_rtp_header_fields_and_summary() -> None:
    wire = rtp(4660, 160000, ssrc=0xDEADBEEF, pt=8, payload=b"\x55" * 160, marker=True)
    d = decode(wire, 40000, 5004)
    assert d.proto == "rtp" and not d.partial
    assert d.summary == "PT 8 PCMA seq 4660 ts 160000 ssrc 0xdeadbeef M"
    assert field(d, "Sequence number").value == "4660"
    assert (field(d, "SSRC").start, field(d, "SSRC").end) == (8, 12)
    assert field(d, "Payload").value == "160 bytes"
    assert_ranges_inside(d, len(wire))


def test_rtp_csrcs_extension_and_padding() -> None:
    wire = rtp(1, 2, pt=96, payload=b"abcd", csrcs=(1, 2), ext=b"\x10\xaa\x00\x00", pad=4)
    d = decode(wire)
    assert d.proto == "rtp" and not d.partial
    assert values(d, "CSRC 1") == ["0x00000001"] and values(d, "CSRC 2") == ["0x00000002"]
    assert field(d, "Header extension").value == "profile 0xbede, 1 words"
    assert field(d, "Payload").value == "4 bytes"
    assert field(d, "Padding bytes").value == "4 bytes"


def test_rtp_truncated_and_corrupted() -> None:
    wire = rtp(1, 2, pt=96, payload=b"abcd", csrcs=(1, 2))
    d = decode_as("rtp", wire[:14])
    assert d.partial and "CSRC" in (d.problem or "")
    assert field(d, "SSRC").value == "0x12345678"
    bad = bytearray(rtp(1, 2, pt=96, payload=b"abcd", pad=2))
    bad[-1] = 200                         # padding longer than the packet
    d = decode_as("rtp", bytes(bad))
    assert d.partial and "padding" in (d.problem or "")
    d = decode_as("rtp", b"\x40" + bytes(11))   # version 1
    assert d.partial and "version 1" in (d.problem or "")


def test_rtp_carrying_mpegts_says_so() -> None:
    packets = [ts_packet(0, 0, pat({1: 0x1000}), pusi=True),
               ts_packet(0x1000, 0, pmt(1, 0x100, [(0x1B, 0x100), (0x0F, 0x101)]), pusi=True)]
    packets += [ts_packet(0x100, i, b"v" * 100) for i in range(5)]
    wire = rtp(7, 9000, pt=33, payload=b"".join(packets))
    assert len(wire) == 12 + 7 * 188
    d = decode(wire, 40000, 1234)
    assert d.proto == "rtp"
    assert d.summary.endswith("MPEG-TS: 7 TS packets, PIDs 0x0000 (PAT) 0x1000 0x0100")
    assert field(d, "MPEG-TS").value == "7 packets"
    assert "program 1: PMT PID" in [f.name for _x, f in d.walk()]
    assert field(d, "PCR PID").value == "0x0100"
    assert values(d, "PID 0x0100") == ["H.264 video"]
    assert values(d, "PID 0x0101") == ["AAC audio"]
    assert_ranges_inside(d, len(wire))


def test_raw_mpegts_packets() -> None:
    wire = b"".join([ts_packet(0x100, 5, b"x", pcr=27_000_000, discontinuity=True),
                     ts_packet(0x1FFF, 0, b"")])
    d = decode(wire, 40000, 1234)
    assert d.proto == "mpegts" and not d.partial
    assert d.summary == "2 TS packets, PIDs 0x0100 0x1fff (null)"
    assert field(d, "Discontinuity").value == "yes"
    assert field(d, "PCR").value == "27000000 (1.000000 s)"
    assert field(d, "Continuity counter").value == "5"
    assert_ranges_inside(d, len(wire))


def test_mpegts_truncated_and_corrupted() -> None:
    wire = ts_packet(0x100, 5, b"x") * 2
    d = decode_as("mpegts", wire[:200])
    assert d.partial and "after the last whole TS packet" in (d.problem or "")
    assert field(d, "TS packet 1").value == "PID 0x0100 CC 5"
    bad = bytearray(wire)
    bad[188] = 0x46
    d = decode_as("mpegts", bytes(bad))
    assert d.partial and "sync byte 0x46" in (d.problem or "")
    assert classify(bytes(bad)) != "mpegts"
    assert decode_as("mpegts", wire[:100]).partial


def rtcp_sr_sdes() -> bytes:
    sr = struct.pack("!BBHIQIII", 0x81, 200, 12, 0xCAFE, (3913056000 << 32) | (1 << 31),
                     90000, 50, 8000)
    block = struct.pack("!IB3sIIII", 0xBEEF, 12, (5).to_bytes(3, "big"), 70000, 33, 0, 0)
    cname = b"\x01\x08host@lan"
    chunk = struct.pack("!I", 0xCAFE) + cname + b"\x00"
    chunk += b"\x00" * ((4 - len(chunk) % 4) % 4)
    sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
    return sr + block + sdes


def test_rtcp_compound_sr_and_sdes() -> None:
    wire = rtcp_sr_sdes()
    assert classify(wire) == "rtcp"
    d = decode(wire, 40000, 5005)
    assert d.proto == "rtcp" and not d.partial
    assert d.summary == "SR ssrc 0x0000cafe sent 50, SDES CNAME host@lan"
    assert field(d, "Cumulative lost").value == "5"
    assert field(d, "Fraction lost").value == "12/256"
    assert field(d, "Interarrival jitter").value == "33"
    assert field(d, "CNAME").value == "host@lan"
    assert_ranges_inside(d, len(wire))


def test_rtcp_truncated_and_bye() -> None:
    wire = rtcp_sr_sdes()
    d = decode_as("rtcp", wire[:30])
    assert d.partial and "announced" in (d.problem or "")
    assert field(d, "Packet type").value == "200 (SR)"
    bye = struct.pack("!BBHI", 0x81, 203, 1, 0xCAFE)
    d = decode(bye)
    assert (d.proto, d.summary) == ("rtcp", "BYE 0x0000cafe")

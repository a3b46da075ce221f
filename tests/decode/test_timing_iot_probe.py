"""PTP, NTP, CoAP, udpscope's probes, plain data, and how the registry chooses."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from tests.decode.helpers import assert_ranges_inside, field
from tests.streams.build import coap, ntp, ptp_announce, ptp_sync, rtp
from udpscope import probe as probes
from udpscope.decode import PROTOCOLS, classify, decode, decode_as


def test_ptp_sync_and_announce() -> None:
    d = decode(ptp_sync(7), 319, 319)
    assert d.proto == "ptp" and not d.partial
    assert d.summary == "PTPv2 Sync seq 7 domain 0 from 00-1b-19-ff-fe-00-00-01"
    assert field(d, "Origin timestamp").value == "1700000000.000000005"
    assert field(d, "Flags").value == "0x0200 twoStep"
    d = decode(ptp_announce(9), 320, 320)
    assert d.summary.endswith("grandmaster aa-bb-cc-ff-fe-dd-ee-ff class 6")
    assert field(d, "Grandmaster priority 1").value == "128"
    assert classify(ptp_sync(1)) == "ptp"
    assert_ranges_inside(d, 64)


def test_ptp_truncated_and_corrupted() -> None:
    d = decode(ptp_sync(7)[:20], 319, 319)
    assert d.partial and field(d, "Domain").value == "0"
    d = decode(ptp_announce(1)[:50], 320, 320)
    assert d.partial and "message length 64" in (d.problem or "")
    v1 = bytearray(ptp_sync(7))
    v1[1] = 1
    d = decode(bytes(v1), 319, 319)
    assert d.partial and "version 1" in (d.problem or "")


def test_ntp_client_and_server() -> None:
    d = decode(ntp(), 40000, 123)
    assert (d.proto, d.summary) == ("ntp", "NTPv4 client stratum 0")
    server = ntp(mode=4, stratum=1, ref=b"GPS\0", transmit=(3913056000 + 1) << 32)
    d = decode(server, 123, 40000)
    assert d.summary == "NTPv4 server stratum 1 ref GPS"
    assert field(d, "Transmit timestamp").value == f"{3913056001 - 2208988800}.000000"
    two = ntp(mode=4, stratum=2, ref=bytes([192, 168, 1, 1]))
    assert decode(two, 123, 40000).summary == "NTPv4 server stratum 2 ref 192.168.1.1"
    assert classify(ntp()) == "data"       # too weak a signature off its port


def test_ntp_truncated() -> None:
    d = decode(ntp()[:30], 40000, 123)
    assert d.proto == "ntp" and d.partial
    assert field(d, "Stratum").value == "0"


def test_coap_get_with_path_and_token() -> None:
    wire = coap(0, 1, 0x1234, b"\x01\x02", [(11, b".well-known"), (11, b"core"), (15, b"rt=x")])
    d = decode(wire, 40000, 5683)
    assert d.proto == "coap" and not d.partial
    assert d.summary == "CON GET mid 4660 /.well-known/core?rt=x"
    assert field(d, "Token").value == "0102"
    resp = coap(2, 0x45, 0x1234, b"\x01\x02", [(12, b"\x28")], b"</sensors>")
    d = decode(resp, 5683, 40000)
    assert d.summary == "ACK 2.05 mid 4660"
    assert field(d, "Content-Format").value == "40"
    assert field(d, "Payload").value == "10 bytes"
    long_path = coap(1, 2, 1, b"", [(11, b"x" * 300)])   # extended (14) option length
    assert decode(long_path, 40000, 5683).summary == "NON POST mid 1 /" + "x" * 300


def test_coap_truncated_and_corrupted() -> None:
    wire = coap(0, 1, 7, b"\x01\x02\x03", [(11, b"abc")])
    d = decode(wire[:5], 40000, 5683)
    assert d.partial and "token" in (d.problem or "")
    d = decode(wire[:-1], 40000, 5683)
    assert d.partial and "option 11" in (d.problem or "")
    d = decode(bytes([0x4F, 1, 0, 1]), 40000, 5683)
    assert d.partial and "token length 15" in (d.problem or "")
    d = decode(bytes([0x40, 1, 0, 1, 0xFF]), 40000, 5683)
    assert d.partial and "payload marker" in (d.problem or "")


def test_probe_payloads() -> None:
    wire = probes.encode_probe(42, 1_700_000_000.5, size=100, stream=7)
    d = decode(wire, 40000, 5353)          # a probe wins over the port's protocol
    assert d.proto == "probe" and not d.partial
    assert d.summary == "probe stream 7 seq 42 (100 bytes)"
    assert field(d, "Send time").value == "2023-11-14 22:13:20.500000 UTC"
    d = decode(wire[:20])
    assert d.proto == "probe" and d.partial and "truncated" in (d.problem or "")


def test_data_and_registry_choices() -> None:
    d = decode(b"hello")
    assert (d.proto, d.summary, d.partial) == ("data", "5 bytes", False)
    assert decode(b"").summary == "0 bytes"
    assert decode_as("no-such-protocol", b"xy").proto == "data"
    # an RTP stream on the mDNS port is RTP, not broken mDNS
    media = rtp(1, 2, pt=96, payload=b"x" * 40)
    assert classify(media, 40000, 5353) != "mdns"
    assert classify(b"\x00" * 5, 40000, 5353) == "mdns"   # broken mDNS stays mDNS (partial)
    assert decode(b"\x00" * 5, 40000, 5353).partial
    assert set(PROTOCOLS) == {"dns", "mdns", "llmnr", "ssdp", "wsd", "sap", "rtp", "rtcp",
                              "mpegts", "ptp", "ntp", "syslog", "coap", "probe", "data"}


@pytest.mark.parametrize("proto", sorted(set(PROTOCOLS) - {"data"}))
def test_every_decoder_survives_empty_and_one_byte(proto: str) -> None:
    for data in (b"", b"\xff", b"\x00" * 3):
        d = decode_as(proto, data)
        assert d.proto == proto and d.partial, (proto, data, d)


def test_memoryview_and_bytearray_inputs() -> None:
    wire = struct.pack("!BBHIIB", 0x80, 0, 1, 2, 3, 0)
    assert decode(memoryview(wire)).proto == decode(bytearray(wire)).proto == "rtp"


def test_decode_cache_decodes_each_key_once_and_stays_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from udpscope.decode import DecodeCache
    from udpscope.decode import cache as cache_module

    calls: list[bytes] = []
    real = cache_module.decode

    def counting(payload: bytes, src: int | None = None, dst: int | None = None) -> Any:
        calls.append(bytes(payload))
        return real(payload, src, dst)

    monkeypatch.setattr(cache_module, "decode", counting)
    cache = DecodeCache(maxsize=2)
    wire = ntp()
    assert cache.decode(1, wire, 40000, 123).proto == "ntp"
    assert cache.decode(1, wire, 40000, 123).proto == "ntp"
    assert len(calls) == 1
    assert cache.proto(1, wire, 40000, 123) == "ntp"       # known from the full decode
    cache.decode(2, b"x")
    cache.decode(3, b"y")                                   # key 1 is evicted
    cache.decode(1, wire, 40000, 123)
    assert len(calls) == 4
    assert cache.proto(9, MSEARCH_TEXT) == "ssdp"


MSEARCH_TEXT = b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"

"""Every decoder over random and mutated bytes: a Decoded every time, never an exception,
and every field's byte range inside the datagram (a detail view highlights by it)."""

from __future__ import annotations

import dns.message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.decode.helpers import assert_ranges_inside
from tests.streams.build import (
    MSEARCH,
    NOTIFY,
    SDP,
    WSD_PROBE,
    coap,
    ntp,
    pat,
    ptp_announce,
    ptp_sync,
    rtp,
    sap,
    ts_packet,
)
from udpscope import probe as probes
from udpscope.decode import PROTOCOLS, Decoded, classify, decode, decode_as
from udpscope.textsafe import safe_text

SAMPLES = {
    "dns": dns.message.make_query("example.com", "A", use_edns=0).to_wire(),
    "mdns": dns.message.make_query("_ipp._tcp.local", "PTR").to_wire(),
    "llmnr": dns.message.make_query("host", "AAAA").to_wire(),
    "ssdp": MSEARCH + NOTIFY,
    "wsd": WSD_PROBE,
    "sap": sap(SDP),
    "rtp": rtp(1, 2, pt=33, payload=ts_packet(0, 0, pat({1: 0x100}), pusi=True)),
    "rtcp": bytes.fromhex("81c8000c0000cafe") + bytes(44),
    "mpegts": ts_packet(0, 0, pat({1: 0x100}), pusi=True) + ts_packet(0x100, 1, b"x", pcr=9),
    "ptp": ptp_announce(3) + ptp_sync(4),
    "ntp": ntp(mode=4, stratum=2, ref=b"\x0a\0\0\1"),
    "syslog": b"<165>1 2003-10-11T22:14:15.003Z host app - ID47 [sd x=\"1\"] msg",
    "coap": coap(0, 1, 9, b"\x01", [(11, b"a"), (15, b"b=c")], b"payload"),
    "probe": probes.encode_probe(1, 1.5, size=60),
    "data": b"plain",
}
FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def check(d: Decoded, size: int, proto: str | None = None) -> None:
    assert isinstance(d, Decoded)
    if proto is not None:
        assert d.proto == proto
    assert d.proto in PROTOCOLS
    assert isinstance(d.summary, str) and d.summary
    assert d.partial == (d.problem is not None)
    assert_ranges_inside(d, size)
    safe_text(d.summary)                       # the sanitiser takes whatever a decoder says
    for _depth, f in d.walk():
        assert isinstance(f.name, str) and isinstance(f.value, str)


@FUZZ
@given(data=st.binary(max_size=600), proto=st.sampled_from(sorted(PROTOCOLS)))
def test_random_bytes_as_every_protocol(data: bytes, proto: str) -> None:
    check(decode_as(proto, data), len(data), proto)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    proto = draw(st.sampled_from(sorted(SAMPLES)))
    data = bytearray(SAMPLES[proto])
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "set"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif data:
            data[at] = draw(st.sampled_from([0x00, 0xFF, 0xC0, 0x3F, 0x80]))
    return proto, bytes(data)


@FUZZ
@given(case=mutated())
def test_mutated_datagrams_as_their_protocol(case: tuple[str, bytes]) -> None:
    proto, data = case
    check(decode_as(proto, data), len(data), proto)


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), mutated().map(lambda c: c[1])),
       src=st.one_of(st.none(), st.integers(0, 65535)),
       dst=st.one_of(st.none(), st.sampled_from([53, 123, 319, 514, 1900, 3702, 5353, 5355,
                                                  5683, 9875, 5004])))
def test_classify_and_decode_never_raise(data: bytes, src: int | None, dst: int | None) -> None:
    name = classify(data, src, dst)
    d = decode(data, src, dst)
    assert d.proto == name
    check(d, len(data))


def test_every_sample_decodes_cleanly() -> None:
    for proto, data in SAMPLES.items():
        d = decode_as(proto, data)
        assert not d.partial, (proto, d)

"""The same bytes through udpscope's decoders and through tshark (Wireshark's dissectors):
protocol and key fields must agree, and so must "this one is malformed".

Skipped where tshark is not installed (CI installs it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dns.message
import dns.rdatatype
import dns.rrset
import pytest

from tests.decode.helpers import field, values
from tests.decode.test_media import rtcp_sr_sdes
from tests.streams.build import (
    MSEARCH,
    NOTIFY,
    SDP,
    SSDP_RESPONSE,
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
from tests.streams.pcap import find, tshark_available, tshark_json, write_pcap
from udpscope.decode import Decoded, decode
from udpscope.decode.syslog import FACILITIES, SEVERITIES

pytestmark = pytest.mark.skipif(not tshark_available(), reason="tshark is not installed")

DECODE_AS = ["-d", "udp.port==5004,rtp", "-d", "udp.port==5005,rtcp", "-d", "udp.port==1234,mp2t",
             "--enable-heuristic", "xml_udp"]
Check = Callable[[Decoded, dict[str, Any]], None]


def one(layers: dict[str, Any], key: str) -> str:
    found = find(layers, key)
    assert found, f"tshark has no {key}: {list(layers)}"
    value = found[0]
    return value[0] if isinstance(value, list) else value


def flat(layers: dict[str, Any], key: str) -> list[str]:
    out: list[str] = []
    for v in find(layers, key):
        out.extend(v if isinstance(v, list) else [v])
    return out


def dns_query(name: str, rdtype: str, ident: int = 0) -> bytes:
    q = dns.message.make_query(name, rdtype)
    q.id = ident
    return q.to_wire()


def dns_answer() -> bytes:
    q = dns.message.make_query("_ipp._tcp.local", "PTR")
    r = dns.message.make_response(q)
    r.id = 0
    r.answer.append(dns.rrset.from_text("_ipp._tcp.local.", 120, "IN", "PTR",
                                        "Office\\032Printer._ipp._tcp.local."))
    return r.to_wire()


def check_dns_query(d: Decoded, t: dict[str, Any]) -> None:
    assert one(t, "dns.qry.name") == field(d, "Name").value
    assert int(one(t, "dns.qry.type")) == dns.rdatatype.from_text(field(d, "Type").value)
    assert one(t, "dns.flags.response") == "0"


def check_dns_answer(d: Decoded, t: dict[str, Any]) -> None:
    assert one(t, "dns.count.answers") == field(d, "Answers").value
    assert one(t, "dns.flags.response") == "1"
    assert one(t, "dns.ptr.domain_name") in values(d, "Data")


def check_ssdp(d: Decoded, t: dict[str, Any]) -> None:
    start = field(d, "Start line").value
    if start.startswith("HTTP/"):
        assert one(t, "http.response.code") == start.split()[1]
    else:
        assert one(t, "http.request.method") == start.split()[0]


def check_wsd(d: Decoded, t: dict[str, Any]) -> None:
    assert field(d, "Types").value in flat(t, "xml.cdata")


def check_sap(d: Decoded, t: dict[str, Any]) -> None:
    assert one(t, "sap.originating_source") == field(d, "Originating source").value
    assert one(t, "sdp.session_name") == field(d, "Session name").value
    assert one(t, "sdp.media") == field(d, "Media").value


def check_rtp(d: Decoded, t: dict[str, Any]) -> None:
    assert one(t, "rtp.seq") == field(d, "Sequence number").value
    assert one(t, "rtp.timestamp") == field(d, "Timestamp").value
    assert one(t, "rtp.ssrc") == field(d, "SSRC").value
    assert one(t, "rtp.p_type") == field(d, "Payload type").value.split()[0]


def check_ts(d: Decoded, t: dict[str, Any]) -> None:
    assert [int(p, 16) for p in flat(t, "mp2t.pid")] == [int(v.split()[0], 16)
                                                         for v in values(d, "PID")]
    assert flat(t, "mp2t.cc") == values(d, "Continuity counter")


def check_rtp_ts(d: Decoded, t: dict[str, Any]) -> None:
    check_rtp(d, t)
    check_ts(d, t)


def check_rtcp(d: Decoded, t: dict[str, Any]) -> None:
    assert flat(t, "rtcp.pt") == [v.split()[0] for v in values(d, "Packet type")]
    assert one(t, "rtcp.senderssrc") == field(d, "Sender SSRC").value
    assert one(t, "rtcp.sdes.text") == field(d, "CNAME").value
    assert one(t, "rtcp.ssrc.cum_nr") == field(d, "Cumulative lost").value


def check_ptp(d: Decoded, t: dict[str, Any]) -> None:
    assert one(t, "ptp.v2.sequenceid") == field(d, "Sequence id").value
    assert one(t, "ptp.v2.domainnumber") == field(d, "Domain").value
    assert int(one(t, "ptp.v2.messagetype"), 16) == int(field(d, "Message type").value.split()[0])


def check_ntp(d: Decoded, t: dict[str, Any]) -> None:
    assert one(t, "ntp.flags.mode") == field(d, "Mode").value.split()[0]
    assert one(t, "ntp.stratum") == field(d, "Stratum").value


def check_syslog(d: Decoded, t: dict[str, Any]) -> None:
    assert int(one(t, "syslog.facility")) == FACILITIES.index(field(d, "Facility").value)
    assert int(one(t, "syslog.level")) == SEVERITIES.index(field(d, "Severity").value)


def check_coap(d: Decoded, t: dict[str, Any]) -> None:
    assert one(t, "coap.mid") == field(d, "Message id").value
    code = field(d, "Code").value.split()[0]
    cls, detail = code.split(".")
    assert int(one(t, "coap.code")) == (int(cls) << 5) | int(detail)
    assert one(t, "coap.opt.uri_path_recon") in d.summary


TS2 = ts_packet(0, 0, pat({1: 0x1000}), pusi=True) + ts_packet(0x100, 7, b"v", pcr=2700)
# (name, payload, sport, dport, our protocol, tshark's, check)
CASES: list[tuple[str, bytes, int, int, str, str, Check]] = [
    ("mdns query", dns_query("_googlecast._tcp.local", "PTR"), 5353, 5353, "mdns", "mdns",
     check_dns_query),
    ("mdns answer", dns_answer(), 5353, 5353, "mdns", "mdns", check_dns_answer),
    ("dns query", dns_query("example.com", "AAAA", 4660), 40000, 53, "dns", "dns",
     check_dns_query),
    ("llmnr query", dns_query("wpad", "A", 7), 40000, 5355, "llmnr", "llmnr", check_dns_query),
    ("ssdp m-search", MSEARCH, 40000, 1900, "ssdp", "ssdp", check_ssdp),
    ("ssdp notify", NOTIFY, 1900, 1900, "ssdp", "ssdp", check_ssdp),
    ("ssdp response", SSDP_RESPONSE, 1900, 40000, "ssdp", "ssdp", check_ssdp),
    ("ws-discovery", WSD_PROBE, 40000, 3702, "wsd", "xml", check_wsd),
    ("sap", sap(SDP), 9875, 9875, "sap", "sap", check_sap),
    ("rtp", rtp(4660, 123456, ssrc=0xCAFEBABE, pt=8, payload=b"x" * 160), 40000, 5004, "rtp",
     "rtp", check_rtp),
    ("rtp with ts", rtp(9, 90000, pt=33, payload=TS2), 40000, 5004, "rtp", "mp2t", check_rtp_ts),
    ("raw ts", TS2, 40000, 1234, "mpegts", "mp2t", check_ts),
    ("rtcp", rtcp_sr_sdes(), 40001, 5005, "rtcp", "rtcp", check_rtcp),
    ("ptp sync", ptp_sync(77, nanos=123), 319, 319, "ptp", "ptp", check_ptp),
    ("ptp announce", ptp_announce(78), 320, 320, "ptp", "ptp", check_ptp),
    ("ntp server", ntp(mode=4, stratum=2, ref=b"\x0a\0\0\1"), 123, 40000, "ntp", "ntp",
     check_ntp),
    ("syslog", b"<165>Oct 11 22:14:15 host app[1]: hello", 40000, 514, "syslog", "syslog",
     check_syslog),
    ("coap", coap(0, 1, 4660, b"\x01", [(11, b"sensors"), (11, b"temp")]), 40000, 5683, "coap",
     "coap", check_coap),
]
# Truncated or broken datagrams that both must call malformed.
MALFORMED: list[tuple[str, bytes, int, int]] = [
    ("dns cut in a name", dns_query("example.com", "A")[:20], 40000, 53),
    ("mdns answer cut in rdata", dns_answer()[:-4], 5353, 5353),
    ("coap cut in its token", coap(0, 1, 1, b"\x01\x02\x03\x04")[:6], 40000, 5683),
    ("ptp cut in its header", ptp_sync(1)[:20], 319, 319),
]


@pytest.fixture(scope="module")
def tshark_frames(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    path: Path = tmp_path_factory.mktemp("pcap") / "cases.pcap"
    rows = [(payload, "192.168.1.5", sport, "192.168.1.9", dport)
            for _n, payload, sport, dport, *_rest in CASES]
    rows += [(payload, "192.168.1.5", sport, "192.168.1.9", dport)
             for _n, payload, sport, dport in MALFORMED]
    write_pcap(path, rows)
    frames = tshark_json(path, *DECODE_AS)
    assert len(frames) == len(rows)
    return frames


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_protocol_and_key_fields_agree(index: int, tshark_frames: list[dict[str, Any]]) -> None:
    _name, payload, sport, dport, ours, theirs, check = CASES[index]
    layers = tshark_frames[index]
    d = decode(payload, sport, dport)
    assert d.proto == ours and not d.partial, d
    assert theirs in layers["frame"]["frame.protocols"].split(":"), layers["frame"]
    assert "_ws.malformed" not in layers
    check(d, layers)


@pytest.mark.parametrize("index", range(len(MALFORMED)), ids=[m[0] for m in MALFORMED])
def test_both_call_the_same_datagrams_malformed(index: int,
                                                tshark_frames: list[dict[str, Any]]) -> None:
    _name, payload, sport, dport = MALFORMED[index]
    layers = tshark_frames[len(CASES) + index]
    d = decode(payload, sport, dport)
    assert d.partial, d
    assert "_ws.malformed" in layers, layers

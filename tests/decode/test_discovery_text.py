"""SSDP, WS-Discovery, SAP/SDP and syslog: text protocols, valid, truncated and corrupted."""

from __future__ import annotations

from tests.decode.helpers import assert_ranges_inside, field, values
from tests.streams.build import MSEARCH, NOTIFY, SDP, SSDP_RESPONSE, WSD_PROBE, sap
from udpscope.decode import classify, decode, decode_as


def test_ssdp_msearch_notify_response() -> None:
    d = decode(MSEARCH, 40000, 1900)
    assert (d.proto, d.summary) == ("ssdp", "M-SEARCH ST ssdp:all MX 2")
    assert field(d, "ST").value == "ssdp:all"
    st = field(d, "ST")
    assert MSEARCH[st.start:st.end] == b"ST: ssdp:all"
    d = decode(NOTIFY, 1900, 1900)
    assert d.summary == "NOTIFY ssdp:alive upnp:rootdevice http://192.168.1.10:80/desc.xml"
    d = decode(SSDP_RESPONSE, 1900, 40000)
    assert d.summary == "response 200 ST upnp:rootdevice http://192.168.1.10:80/d.xml"
    assert classify(MSEARCH) == "ssdp"          # by content, no port
    assert_ranges_inside(d, len(SSDP_RESPONSE))


def test_ssdp_truncated_and_corrupted() -> None:
    d = decode(MSEARCH[:40], 40000, 1900)
    assert d.proto == "ssdp" and not d.partial       # a cut header line is still a line
    assert field(d, "Start line").value == "M-SEARCH * HTTP/1.1"
    bad = MSEARCH.replace(b"MX: 2", b"MX 2")
    d = decode(bad, 40000, 1900)
    assert d.partial and "no ':'" in (d.problem or "")
    assert decode_as("ssdp", b"").partial


def test_ws_discovery_probe() -> None:
    d = decode(WSD_PROBE, 40000, 3702)
    assert d.proto == "wsd" and not d.partial
    assert d.summary == "Probe Types wsdp:Device"
    action = field(d, "Action")
    assert action.value == "http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe"
    assert WSD_PROBE[action.start:action.end].startswith(b"<wsa:Action>")
    assert WSD_PROBE[action.start:action.end].endswith(b"</wsa:Action>")
    assert field(d, "MessageID").value.startswith("urn:uuid:")
    assert classify(WSD_PROBE) == "wsd"


def test_ws_discovery_truncated_and_hostile_xml() -> None:
    d = decode(WSD_PROBE[:300], 40000, 3702)
    assert d.partial and "XML" in (d.problem or "")
    bomb = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>')
    d = decode(bomb, 40000, 3702)
    assert d.partial and "DTD" in (d.problem or "")


def test_sap_with_sdp() -> None:
    wire = sap(SDP)
    d = decode(wire, 9875, 9875)
    assert d.proto == "sap" and not d.partial
    assert d.summary == 'SAP announce "Channel One" 239.1.1.1/32 m=video 5004 RTP/AVP 33'
    assert field(d, "Originating source").value == "192.168.1.2"
    assert field(d, "Session name").value == "Channel One"
    media = field(d, "Media")
    assert wire[media.start:media.end] == b"m=video 5004 RTP/AVP 33"
    assert classify(wire) == "sap"
    assert_ranges_inside(d, len(wire))
    d = decode(sap(SDP, deletion=True, with_type=False), 9875, 9875)
    assert d.summary.startswith("SAP delete")
    d = decode(sap(SDP, compressed=True), 9875, 9875)
    assert d.summary == 'SAP announce "Channel One" 239.1.1.1/32 m=video 5004 RTP/AVP 33'


def test_sap_truncated_and_corrupted() -> None:
    wire = sap(SDP)
    d = decode(wire[:6], 9875, 9875)
    assert d.partial and "originating source" in (d.problem or "")
    assert field(d, "Message ID hash").value == "0x1234"
    bad = bytearray(sap(SDP, compressed=True))
    bad[30] ^= 0xFF
    d = decode(bytes(bad), 9875, 9875)
    assert d.partial
    d = decode(b"\x40" + wire[1:], 9875, 9875)   # version 2
    assert d.partial and "version 2" in (d.problem or "")


def test_syslog_rfc3164_and_rfc5424() -> None:
    bsd = b"<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick"
    d = decode(bsd, 40000, 514)
    assert d.proto == "syslog" and not d.partial
    assert d.summary == "auth.crit mymachine su: 'su root' failed for lonvick"
    assert field(d, "Process id").value == "123"
    assert field(d, "Format").value == "RFC 3164"
    new = (b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
           b'[exampleSDID@32473 iut="3"] \xef\xbb\xbfAn application event')
    d = decode(new, 40000, 514)
    assert d.summary == "local4.notice mymachine.example.com evntslog: An application event"
    assert field(d, "Message id").value == "ID47"
    assert field(d, "Structured data").value == '[exampleSDID@32473 iut="3"]'
    assert classify(bsd) == "syslog"


def test_syslog_corrupted() -> None:
    d = decode(b"<999>hello", 40000, 514)
    assert d.partial and "priority" in (d.problem or "")
    d = decode(b"no priority at all", 40000, 514)
    assert d.proto == "syslog" and d.partial
    assert values(decode(b"<13>plain text", 40000, 514), "Message") == ["plain text"]


def test_ws_discovery_with_an_unknown_encoding_is_malformed_not_a_crash() -> None:
    d = decode(WSD_PROBE.replace(b'encoding="utf-8"', b'encoding="utf-0"'), 40000, 3702)
    assert d.proto == "wsd" and d.partial and "unknown XML encoding" in (d.problem or "")

"""DNS, mDNS (DNS-SD names) and LLMNR decoded from messages built with dnspython's writer:
valid ones with their expected summary and fields, truncated and corrupted ones partial."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from tests.decode.helpers import assert_ranges_inside, field, values
from udpscope.decode import classify, decode, decode_as


def mdns_query(name: str = "_googlecast._tcp.local", rdtype: str = "PTR") -> bytes:
    q = dns.message.make_query(name, rdtype)
    q.id = 0
    q.flags = 0
    return q.to_wire()


def mdns_response() -> bytes:
    r = dns.message.Message(id=0)
    r.flags = dns.flags.QR | dns.flags.AA
    r.answer.append(dns.rrset.from_text("_googlecast._tcp.local.", 120, "IN", "PTR",
                                        "Living\\032Room._googlecast._tcp.local."))
    r.additional.append(dns.rrset.from_text("Living\\032Room._googlecast._tcp.local.", 120,
                                            "IN", "SRV", "0 0 8009 tv.local."))
    r.additional.append(dns.rrset.from_text("Living\\032Room._googlecast._tcp.local.", 4500,
                                            "IN", "TXT", '"id=abc" "fn=Living Room"'))
    r.additional.append(dns.rrset.from_text("tv.local.", 120, "IN", "A", "192.168.1.20"))
    wire = bytearray(r.to_wire())
    return bytes(wire)


def test_mdns_query_names_the_service() -> None:
    wire = mdns_query()
    d = decode(wire, 5353, 5353)
    assert d.proto == "mdns"
    assert d.summary == "query PTR _googlecast._tcp.local"
    assert not d.partial
    assert field(d, "DNS-SD service").value == "_googlecast._tcp"
    assert field(d, "DNS-SD domain").value == "local"
    assert field(d, "Unicast response (QU)").value == "no"
    q = field(d, "Question 1")
    assert (q.start, q.end) == (12, len(wire))
    assert_ranges_inside(d, len(wire))


def test_mdns_qu_bit_and_cache_flush_are_read_not_taken_as_class() -> None:
    wire = bytearray(mdns_query("printer.local", "A"))
    wire[-2] |= 0x80                       # class IN with the unicast-response bit
    d = decode(bytes(wire), 40000, 5353)
    assert d.summary == "query A printer.local (QU)"
    assert field(d, "Class").value == "IN"
    resp = bytearray(mdns_response())
    # set cache-flush on the SRV record's class: find it after the answer
    d0 = decode(bytes(resp), 5353, 5353)
    srv = next(f for _x, f in d0.walk() if f.name == "Additional 1")
    cls = next(c for c in srv.children if c.name == "Class")
    resp[cls.start] |= 0x80
    d1 = decode(bytes(resp), 5353, 5353)
    assert not d1.partial
    flush = [c for c in next(f for _x, f in d1.walk() if f.name == "Additional 1").children
             if c.name == "Cache flush"]
    assert flush[0].value == "yes"


def test_mdns_response_with_dnssd_records() -> None:
    wire = mdns_response()
    d = decode(wire, 5353, 5353)
    assert d.proto == "mdns" and not d.partial
    assert d.summary == ("response PTR _googlecast._tcp.local -> "
                         "Living Room._googlecast._tcp.local")
    assert "DNS-SD instance" in [f.name for _x, f in d.walk()]
    assert "Living Room" in values(d, "DNS-SD instance")
    assert "tv.local:8009 (priority 0, weight 0)" in values(d, "Data")
    assert set(values(d, "TXT entry")) == {"id=abc", "fn=Living Room"}
    assert "192.168.1.20" in values(d, "Data")
    assert_ranges_inside(d, len(wire))


def test_unicast_dns_query_and_nxdomain() -> None:
    q = dns.message.make_query("example.com", "AAAA", use_edns=0)
    wire = q.to_wire()
    d = decode(wire, 40000, 53)
    assert (d.proto, d.summary) == ("dns", "query AAAA example.com")
    assert values(d, "UDP payload size")  # the EDNS OPT record is read, not a class
    r = dns.message.make_response(q)
    r.set_rcode(3)
    d = decode(r.to_wire(), 53, 40000)
    assert d.summary == "response NXDOMAIN AAAA example.com"


def test_llmnr_flags() -> None:
    q = dns.message.make_query("wpad", "A")
    q.flags = 0
    d = decode(q.to_wire(), 50000, 5355)
    assert (d.proto, d.summary) == ("llmnr", "query A wpad")
    assert field(d, "Tentative").value == "no"


def test_truncated_messages_keep_what_was_read() -> None:
    wire = mdns_response()
    for cut in (5, 12, 20, 40, len(wire) - 3):
        d = decode(wire[:cut], 5353, 5353)
        assert d.proto == "mdns"
        assert d.partial and "truncated" in (d.problem or "")
        assert "[malformed:" in d.summary
        assert_ranges_inside(d, cut)
    d = decode(wire[:40], 5353, 5353)
    assert field(d, "Transaction ID").value == "0x0000"


def test_corrupted_messages_are_partial_never_raise() -> None:
    wire = bytearray(mdns_query())
    wire[12] = 0xC0       # compression pointer pointing forward (at itself)
    wire[13] = 12
    d = decode(bytes(wire), 5353, 5353)
    assert d.partial and "name" in (d.problem or "")
    junk = mdns_query() + b"\x00\x01"
    d = decode(junk, 5353, 5353)
    assert d.partial and "after the last record" in (d.problem or "")
    assert field(d, "Trailing bytes").value == "2"
    bad_rdata = bytearray(mdns_response())
    d0 = decode(bytes(bad_rdata), 5353, 5353)
    a = next(f for _x, f in d0.walk() if f.name == "Additional 3")
    length = next(c for c in a.children if c.name == "Data length")
    bad_rdata[length.start + 1] = 3     # an A record of 3 bytes
    d = decode(bytes(bad_rdata), 5353, 5353)
    assert d.partial


def test_dns_by_content_only_when_it_parses_to_the_last_byte() -> None:
    wire = dns.message.make_query("example.org", "A").to_wire()
    assert classify(wire) == "dns"          # no port: the content heuristic
    assert classify(wire + b"x") != "dns"
    assert decode_as("dns", b"").partial

"""Stream health on real multicast groups, only inside namespaces the tests create: A/B lines
on two groups merged by --arbitrate, and mDNS responses arriving with a TTL other than 255."""

from __future__ import annotations

import json
import signal
import socket
import struct

import dns.flags
import dns.message
import dns.rrset

from tests import netns as N
from tests.cli.clitools import Proc


def group_sender(ns: str, address: str, ttl: int, port: int = 0) -> socket.socket:
    with N.inside(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
    return s


def warm_up(p: Proc, ns: str, address: str, groups: list[str], port: int) -> None:
    """jsonl has no `joined` event: send from another port until each group's datagram comes
    back, so the joins are in place before the test's own datagrams (bounded tries)."""
    warm = group_sender(ns, address, 1)
    try:
        for group in groups:
            for _ in range(50):
                warm.sendto(b"w", (group, port))     # shorter than any --seq field
                try:
                    if json.loads(p.line(timeout=0.2))["destination"] == group:
                        break
                except AssertionError:
                    continue
            else:
                raise AssertionError(f"{group} never arrived")
    finally:
        warm.close()


def rest(p: Proc) -> list[dict]:
    return [json.loads(line) for line in p.rest(timeout=20)]


def test_ab_lines_on_two_groups(veth_pair) -> None:
    a, b = veth_pair.a, veth_pair.b
    a_gaps, b_gaps = {3, 4, 30}, {4, 17}
    with Proc(["listen", "0", "--join", "239.7.7.1@veth0", "--join", "239.7.7.2@veth0",
               "--seq", "0:4", "--arbitrate", "--format", "jsonl", "--timeout", "30"],
              ns=b.ns) as p:
        port = p.json()["port"]
        warm_up(p, a.ns, a.v4, ["239.7.7.1", "239.7.7.2"], port)
        tx = group_sender(a.ns, a.v4, 1)
        try:
            src = f"{a.v4}:{tx.getsockname()[1]}"
            sent = 0
            for s in range(40):
                for group, gaps in (("239.7.7.1", a_gaps), ("239.7.7.2", b_gaps)):
                    if s not in gaps:
                        tx.sendto(struct.pack("!I", s) + b"md", (group, port))
                        sent += 1
                if s % 10 == 9:          # let the listener keep up: read what was sent
                    while sent:
                        assert p.json()["event"] == "message"
                        sent -= 1
        finally:
            tx.close()
        p.signal(signal.SIGINT)
        assert p.wait() == 0
        got = rest(p)
    lines = {e["destination"]: e for e in got
             if e["event"] == "stream" and e["kind"] == "seq" and e["source"] == src}
    assert {k: (v["source"], v["lost"]) for k, v in lines.items()} == {
        f"239.7.7.1:{port}": (src, 3), f"239.7.7.2:{port}": (src, 2)}
    (merged,) = [e for e in got if e["event"] == "stream" and e["kind"] == "arbitrated"]
    assert merged["lost"] == 1
    assert {ln["destination"]: ln["lost"] for ln in merged["lines"] if ln["source"] == src} == {
        f"239.7.7.1:{port}": 3, f"239.7.7.2:{port}": 2}


def mdns_response() -> bytes:
    r = dns.message.Message(id=0)
    r.flags = dns.flags.QR | dns.flags.AA
    r.answer.append(dns.rrset.from_text("printer.local.", 120, "IN", "A", "10.0.0.9"))
    return r.to_wire()


def test_mdns_responses_with_a_low_ttl_are_flagged(veth_pair) -> None:
    a, b = veth_pair.a, veth_pair.b
    with Proc(["listen", "5353", "--join", "224.0.0.251@veth0", "--decode", "--format", "jsonl",
               "--timeout", "30"], ns=b.ns) as p:
        assert p.json()["port"] == 5353
        warm_up(p, a.ns, a.v4, ["224.0.0.251"], 5353)
        for ttl in (1, 255):
            tx = group_sender(a.ns, a.v4, ttl, 5353)
            try:
                tx.sendto(mdns_response(), ("224.0.0.251", 5353))
            finally:
                tx.close()
            msg = p.json()
            assert (msg["proto"], msg["ttl"]) == ("mdns", ttl)
            assert msg["info"] == "response A printer.local -> 10.0.0.9"
        p.signal(signal.SIGINT)
        assert p.wait() == 0
        (close,) = rest(p)
    (finding,) = close["findings"]
    assert finding["id"] == "mdns-ttl" and finding["severity"] == "warning"
    assert finding["title"] == "1 mDNS response arrived with a TTL other than 255"
    assert f"{a.v4} (TTL 1)" in finding["detail"]

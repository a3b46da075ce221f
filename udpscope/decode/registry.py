"""Which decoder a datagram gets: by port first, then by content, as Wireshark chooses.

A well-known port (53, 5353, 1900, …) names the protocol when the bytes do not contradict it
outright; a datagram on such a port that is clearly something else (an RTP stream sent to port
5353) falls through to the content heuristics, and one that is merely broken is decoded as the
port says, partially, so the view shows *why* it is malformed. Without a known port only
protocols with a signature strong enough to be told from random bytes are recognised by
content (probe magic, SSDP and WS-Discovery text, SAP, syslog's `<PRI>`, TS sync bytes, RTCP
lengths that add up, PTP's length field, RTP's header, a DNS message that parses to its last
byte, tried before RTP's header test, which random bytes pass more often). NTP and CoAP are recognised only on their ports, as in Wireshark: their headers are too
short to be told from noise.

Every entry point is total: whatever the bytes, the result is a `Decoded`, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable

from . import coap, dns, mpegts, ntp, probe, ptp, rtcp, rtp, sap, ssdp, syslog, wsd
from .model import Decoded, DecodeError, Tree

__all__ = ["PORTS", "PORT_ONLY", "PROTOCOLS", "classify", "decode", "decode_as",
           "port_protocol"]

Decoder = Callable[[bytes, Tree], None]


def _data(data: bytes, tree: Tree) -> None:
    tree.summary = f"{len(data)} byte{'' if len(data) == 1 else 's'}"
    if data:
        tree.add("Data", f"{len(data)} bytes", 0, len(data))


DECODERS: dict[str, Decoder] = {
    "dns": dns.decode_dns, "mdns": dns.decode_mdns, "llmnr": dns.decode_llmnr,
    "ssdp": ssdp.decode_ssdp, "wsd": wsd.decode_wsd, "sap": sap.decode_sap,
    "rtp": rtp.decode_rtp, "rtcp": rtcp.decode_rtcp, "mpegts": mpegts.decode_mpegts,
    "ptp": ptp.decode_ptp, "ntp": ntp.decode_ntp, "syslog": syslog.decode_syslog,
    "coap": coap.decode_coap, "probe": probe.decode_probe, "data": _data,
}
PROTOCOLS: tuple[str, ...] = tuple(DECODERS)
"""Every protocol name `classify` can return (``data`` when nothing matched)."""

PORTS: dict[int, str] = {
    53: "dns", 5353: "mdns", 5355: "llmnr", 1900: "ssdp", 3702: "wsd", 9875: "sap",
    319: "ptp", 320: "ptp", 123: "ntp", 514: "syslog", 5683: "coap",
}

def _dns_header(d: bytes) -> bool:
    """A DNS header whose opcode and record counts are plausible (RTP's would not be)."""
    if len(d) < 12 or (d[2] >> 3) & 0xF not in (0, 1, 2, 4, 5):
        return False
    qd, an, ns, ar = (int.from_bytes(d[i:i + 2], "big") for i in (4, 6, 8, 10))
    return qd <= 64 and an + ns + ar <= 512


# A port names its protocol unless this cheap check says the bytes are plainly not it.
_PORT_CHECK: dict[str, Callable[[bytes], bool]] = {
    "dns": _dns_header, "mdns": _dns_header, "llmnr": _dns_header, "ssdp": ssdp.looks_like_ssdp, "wsd": wsd.looks_like_wsd,
    "sap": lambda d: len(d) >= 4 and d[0] >> 5 == 1, "ptp": ptp.looks_like_ptp,
    "ntp": lambda d: len(d) >= 48 and 1 <= (d[0] >> 3) & 7 <= 4,
    "syslog": lambda d: d.startswith(b"<"), "coap": lambda d: len(d) >= 4 and d[0] >> 6 == 1,
}

# Content heuristics, strongest signature first.
_BY_CONTENT: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("ssdp", ssdp.looks_like_ssdp),
    ("wsd", wsd.looks_like_wsd),
    ("sap", sap.looks_like_sap),
    ("syslog", syslog.looks_like_syslog),
    ("mpegts", mpegts.looks_like_ts),
    ("rtcp", rtcp.looks_like_rtcp),
    ("ptp", ptp.looks_like_ptp),
    ("dns", dns.looks_like_dns),    # strict (parses to the last byte): before RTP's weak test
    ("rtp", rtp.looks_like_rtp),
)


PORT_ONLY: frozenset[str] = frozenset(PORTS.values()) - {name for name, _ in _BY_CONTENT}
"""Protocols `classify` names only for a datagram to or from one of their PORTS (mdns, llmnr,
ntp, coap): a filter for them can pass over any other datagram without classifying it."""


def port_protocol(port: int | None) -> str | None:
    """The protocol a well-known port names, or None."""
    return PORTS.get(port) if port is not None else None


def _by_content(data: bytes) -> str | None:
    for name, check in _BY_CONTENT:
        try:
            if check(data):
                return name
        except Exception:  # a heuristic must never take the decode down with it
            continue
    return None


def classify(data: bytes | bytearray | memoryview, src_port: int | None = None,
             dst_port: int | None = None) -> str:
    """The protocol name for a datagram (one of PROTOCOLS): cheap, no field tree built.

    `src_port`/`dst_port` are the UDP ports when known (a datagram received on port 5353 is
    mDNS). Never raises.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    if probe.looks_like_probe(data):
        return "probe"
    by_port = [p for p in (port_protocol(dst_port), port_protocol(src_port)) if p is not None]
    for name in by_port:
        try:
            if _PORT_CHECK[name](data):
                return name
        except Exception:
            continue
    found = _by_content(data)
    if found is not None:
        return found
    return by_port[0] if by_port and data else "data"


def decode_as(proto: str, data: bytes | bytearray | memoryview) -> Decoded:
    """Decode `data` as `proto` (a name from PROTOCOLS; unknown names decode as ``data``).

    Malformed input gives a partial `Decoded` (``partial=True``, `problem` says why, the
    summary ends with ``[malformed: …]``) holding every field read before the problem.
    Never raises.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    decoder = DECODERS.get(proto)
    if decoder is None:
        proto, decoder = "data", _data
    tree = Tree(proto)
    try:
        decoder(data, tree)
    except DecodeError as e:
        return tree.result(str(e))
    except RecursionError:
        return tree.result("nested too deeply")
    except Exception as e:  # a decoder bug or a library's surprise: still a partial decode
        return tree.result(f"undecodable ({type(e).__name__})")
    return tree.result()


def decode(data: bytes | bytearray | memoryview, src_port: int | None = None,
           dst_port: int | None = None) -> Decoded:
    """Classify and decode one datagram: protocol, one-line summary, field tree. Never raises."""
    if not isinstance(data, bytes):
        data = bytes(data)
    return decode_as(classify(data, src_port, dst_port), data)

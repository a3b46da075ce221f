"""mDNS and SSDP sanity: the two classic reasons discovery "finds nothing".

1. mDNS responses that did not come straight from a neighbour. RFC 6762 (section 11) has every
   responder send with IP TTL 255 and lets receivers discard anything else, so a response
   with a lower TTL crossed a router, a reflector or a tunnel -- and strict stacks drop it.
2. Queries with no unicast answer. SSDP M-SEARCH (always) and mDNS one-shot or QU queries are
   answered by unicast to the querier's address and port. A stateful firewall (conntrack, a
   host firewall, NAT) links replies only to the flows it saw leave; a reply from a device's
   address to a query that went to a multicast group matches no flow, and is dropped. Queries
   go out, replies never arrive.

Fed per datagram, but only for the discovery ports (5353, 1900), which carry little traffic.
Findings use the same shape as `udpscope doctor`'s (severity, id, title, detail); their text
is raw (it may quote addresses): sanitise before showing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DiscoveryCheck", "Finding"]

MDNS_PORT = 5353
SSDP_PORT = 1900
REPLY_GRACE_S = 3.0     # SSDP MX is 1-5 s; mDNS answers within ~0.5 s
MIN_QUERIES = 3
MAX_EXAMPLES = 4


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str   # "error", "warning" or "info"
    id: str
    title: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity, "id": self.id, "title": self.title,
                "detail": self.detail}


@dataclass(slots=True)
class _Counts:
    queries_seen: int = 0          # multicast queries received (anyone's)
    queries_sent: int = 0          # queries this host sent (told by `sent`)
    first_sent: float | None = None
    responses_multicast: int = 0
    responses_unicast: int = 0
    bad_ttl: int = 0
    bad_ttl_examples: dict[str, int] = field(default_factory=dict)


class DiscoveryCheck:
    """Counts mDNS/SSDP queries and responses on one socket and says what looks wrong."""

    def __init__(self) -> None:
        self.mdns = _Counts()
        self.ssdp = _Counts()

    def observe(self, payload: bytes, source: str, src_port: int, dst_port: int,
                destination: str | None, multicast: bool, ttl: int | None) -> None:
        """One received datagram. `destination` is where it was sent (None if unknown),
        `multicast` whether that was a group, `ttl` its IP TTL / hop limit if known."""
        if MDNS_PORT in (src_port, dst_port) and len(payload) >= 12:
            counts = self.mdns
            response = bool(payload[2] & 0x80)
            if not response:
                if multicast:
                    counts.queries_seen += 1
                return
            if multicast:
                counts.responses_multicast += 1
            else:
                counts.responses_unicast += 1
            if ttl is not None and ttl != 255:
                counts.bad_ttl += 1
                if len(counts.bad_ttl_examples) < MAX_EXAMPLES:
                    counts.bad_ttl_examples.setdefault(source, ttl)
        elif SSDP_PORT in (src_port, dst_port):
            counts = self.ssdp
            if payload.startswith(b"M-SEARCH"):
                if multicast:
                    counts.queries_seen += 1
            elif payload.startswith(b"HTTP/"):
                if multicast:
                    counts.responses_multicast += 1
                else:
                    counts.responses_unicast += 1

    def sent(self, payload: bytes, dst_port: int, now: float) -> None:
        """A datagram this host sent (the TUI's composer): queries wait for unicast replies."""
        if dst_port == MDNS_PORT and len(payload) >= 12 and not payload[2] & 0x80:
            counts = self.mdns
        elif dst_port == SSDP_PORT and payload.startswith(b"M-SEARCH"):
            counts = self.ssdp
        else:
            return
        counts.queries_sent += 1
        if counts.first_sent is None:
            counts.first_sent = now

    def findings(self, now: float) -> list[Finding]:
        """What looks wrong so far (empty when nothing does)."""
        out: list[Finding] = []
        m = self.mdns
        if m.bad_ttl:
            who = ", ".join(f"{a} (TTL {t})" for a, t in m.bad_ttl_examples.items())
            out.append(Finding(
                "warning", "mdns-ttl",
                f"{m.bad_ttl} mDNS response{'s' if m.bad_ttl != 1 else ''} arrived with a TTL "
                f"other than 255",
                f"From {who}. mDNS responders send with TTL 255 (RFC 6762 section 11) and "
                "receivers may discard anything else: a lower TTL means the response crossed a "
                "router, a reflector (mdns-repeater, Avahi's reflector) or a tunnel, and strict "
                "stacks ignore it."))
        for name, counts in (("SSDP", self.ssdp), ("mDNS", m)):
            if (counts.queries_sent and counts.first_sent is not None
                    and now - counts.first_sent >= REPLY_GRACE_S and not counts.responses_unicast):
                out.append(Finding(
                    "warning", "no-unicast-replies",
                    f"{counts.queries_sent} {name} quer{'ies' if counts.queries_sent != 1 else 'y'}"
                    f" sent, no unicast reply",
                    "Devices answer these queries by unicast to the sender's address and port. "
                    "A stateful firewall (conntrack, a host firewall, NAT) does not link a reply "
                    "from a device's address to a query sent to a multicast group, and drops "
                    "it: allow inbound UDP from the local network to this port, or check that "
                    "any device is there at all."))
        if m.queries_seen >= MIN_QUERIES and not (m.responses_multicast or m.responses_unicast):
            out.append(Finding(
                "info", "no-replies",
                f"{m.queries_seen} mDNS queries seen, no response",
                "Nothing on this link answered, or the answers are filtered before they reach "
                "this host (a firewall dropping inbound UDP 5353, IGMP snooping without a "
                "querier, a Wi-Fi access point that does not forward multicast)."))
        return out

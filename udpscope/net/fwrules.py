"""Firewall rules as conditions a test packet can be checked against, and the reader of
`nft -j list ruleset` (`fw_iptables` reads iptables-save into the same model).

A rule that drops IGMP is invisible from the application: the join works, the kernel's
membership list is right, and the switch still prunes the group because the reports never
leave (or the queries never arrive). To say which rule does it, both rule languages are turned
into one model — a chain of rules, each a list of conditions and a verdict — and each condition
answers a test packet with True, False or None ("can't tell": a named set, a rate limit, a match
this reader does not know). Unknown is never guessed to be a match or a miss; the evaluation in
`firewall.py` carries it through as "may drop".

Only the parts of the languages that decide IGMP, MLD and UDP-to-a-group verdicts are read:
protocol, addresses, interfaces, ports, ICMPv6 and IGMP types, conntrack state, packet type and
address type. Parsing never raises on odd input; a rule it cannot read gets an unknown condition.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Tri = bool | None


@dataclass(frozen=True)
class Packet:
    """A packet to test the rules with. None fields are unknown to the caller."""

    label: str                      # for people: "IGMP queries arriving on eth0"
    family: int                     # 4 or 6
    hooks: tuple[str, ...]          # netfilter hooks it passes, in order
    proto: str                      # "igmp", "icmpv6" or "udp"
    dst: str
    src: str | None = None
    iif: str | None = None
    oif: str | None = None
    icmp_type: int | None = None
    igmp_type: int | None = None
    dport: int | None = None
    ct_state: str = "new"           # one-way multicast never gets a reply, so it stays "new"
    pkttype: str | None = "multicast"


Cond = Callable[[Packet], Tri]


@dataclass(frozen=True)
class Rule:
    """One rule: every condition must hold; `verdict` None means "go on" (counter, log)."""

    conds: tuple[Cond, ...]
    verdict: str | None             # accept, drop, reject, jump, goto, return, unknown, None
    target: str | None = None       # chain of a jump/goto
    text: str = ""                  # the rule as the tool prints it (or close to it)
    handle: int | None = None       # nft rule handle


@dataclass
class Chain:
    """A chain of one table. Base chains have a hook; the others are reached by jump/goto."""

    source: str                     # "nft", "iptables" or "ip6tables"
    family: str                     # nft family (ip, ip6, inet, ...); iptables: ip / ip6
    table: str
    name: str
    hook: str | None = None
    priority: int = 0
    policy: str | None = None       # "accept" / "drop" for a base chain
    rules: list[Rule] = field(default_factory=list)


PROTOCOLS = {"hopopts": 0, "icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "ipv6-icmp": 58,
             "icmpv6": 58, "icmp6": 58, "gre": 47, "esp": 50, "ah": 51, "sctp": 132,
             "udplite": 136, "all": -1}
ICMPV6_TYPES = {"destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3,
                "parameter-problem": 4, "echo-request": 128, "echo-reply": 129,
                "mld-listener-query": 130, "mld-listener-report": 131,
                "mld-listener-done": 132, "mld-listener-reduction": 132,
                "nd-router-solicit": 133, "nd-router-advert": 134, "nd-neighbor-solicit": 135,
                "nd-neighbor-advert": 136, "nd-redirect": 137, "router-renumbering": 138,
                "ind-neighbor-solicit": 141, "ind-neighbor-advert": 142,
                "mld2-listener-report": 143}
IGMP_TYPES = {"membership-query": 0x11, "membership-report-v1": 0x12,
              "membership-report-v2": 0x16, "leave-group": 0x17, "membership-report-v3": 0x22}
_CT_STATUS_NOT_OURS = {"dnat", "snat", "expected", "seen-reply", "assured"}
PROTO_NUMBER = {"igmp": 2, "udp": 17, "icmpv6": 58}


def unknown(_pkt: Packet) -> Tri:
    return None


def negate(cond: Cond, negate: bool) -> Cond:
    if not negate:
        return cond

    def inverted(pkt: Packet) -> Tri:
        v = cond(pkt)
        return None if v is None else not v
    return inverted


def proto_number(name: object) -> int | None:
    if isinstance(name, int):
        return name
    text = str(name).lower()
    return int(text) if text.isdigit() else PROTOCOLS.get(text)


def addr_in(value: str | None, spec: object) -> Tri:
    """Whether address `value` is in `spec`: an address, a prefix, a range or a set of those."""
    if value is None:
        return None
    try:
        a = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(spec, dict):
        if "set" in spec:
            return _any(addr_in(value, e) for e in _as_list(spec["set"]))
        if "prefix" in spec:
            p = spec["prefix"]
            return addr_in(value, f"{p.get('addr')}/{p.get('len')}")
        if "range" in spec:
            lo, hi = spec["range"]
            try:
                first, last = ipaddress.ip_address(str(lo)), ipaddress.ip_address(str(hi))
            except ValueError:
                return None
            if first.version != a.version:
                return False
            return int(first) <= int(a) <= int(last)
        return None
    if isinstance(spec, list):
        return _any(addr_in(value, e) for e in spec)
    text = str(spec)
    if text.startswith("@") or text.startswith("$"):
        return None   # a named set or variable: contents unknown here
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return a.version == net.version and a in net


def _any(values: Iterable[Tri]) -> Tri:
    seen_unknown = False
    for v in values:
        if v:
            return True
        if v is None:
            seen_unknown = True
    return None if seen_unknown else False


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


def num_in(value: int | None, spec: object, names: dict[str, int] | None = None) -> Tri:
    """Whether number `value` is in `spec`: a number, a name, a range or a set of those."""
    if value is None:
        return None
    if isinstance(spec, dict):
        if "set" in spec:
            return _any(num_in(value, e, names) for e in _as_list(spec["set"]))
        if "range" in spec:
            lo, hi = (_num_in_one(x, names) for x in spec["range"])
            return None if lo is None or hi is None else lo <= value <= hi
        return None
    if isinstance(spec, list):
        return _any(num_in(value, e, names) for e in spec)
    n = _num_in_one(spec, names)
    return None if n is None else n == value


def _num_in_one(spec: object, names: dict[str, int] | None) -> int | None:
    if isinstance(spec, bool):
        return None
    if isinstance(spec, int):
        return spec
    text = str(spec).lower()
    if text.isdigit():
        return int(text)
    return (names or {}).get(text)


def ifname_is(value: str | None, spec: object) -> Tri:
    if value is None:
        return None
    if isinstance(spec, dict) and "set" in spec:
        return _any(ifname_is(value, e) for e in _as_list(spec["set"]))
    text = str(spec)
    if text.startswith("@") or text.isdigit():
        return None
    if text.endswith("*") or text.endswith("+"):
        return value.startswith(text[:-1])
    return value == text


# --- nftables JSON ---------------------------------------------------------------------------

def _nft_match(match: dict[str, Any]) -> Cond:
    op = match.get("op", "==")
    left, right = match.get("left"), match.get("right")
    if op not in ("==", "!=", "in"):
        return unknown
    test = _nft_test(left, right)
    return negate(test, op == "!=") if test is not None else unknown


def _nft_test(left: Any, right: Any) -> Cond | None:
    if not isinstance(left, dict):
        return None
    if "meta" in left:
        key = left["meta"].get("key") if isinstance(left["meta"], dict) else None
        if key == "l4proto":
            return lambda p: num_in(PROTO_NUMBER[p.proto], right, PROTOCOLS)
        if key == "nfproto":
            return lambda p: ifname_is("ipv4" if p.family == 4 else "ipv6", right)
        if key in ("iif", "iifname"):
            return lambda p: ifname_is(p.iif, right)
        if key in ("oif", "oifname"):
            return lambda p: ifname_is(p.oif, right)
        if key == "pkttype":
            return lambda p: ifname_is(p.pkttype, right) if p.pkttype else None
        return None
    if "ct" in left:
        key = left["ct"].get("key") if isinstance(left["ct"], dict) else None
        values = [str(v) for v in _as_list(
            right["set"] if isinstance(right, dict) and "set" in right else right)]
        if key == "state":
            return lambda p: _any(ifname_is(p.ct_state, v) for v in values)
        if key == "status" and all(v in _CT_STATUS_NOT_OURS for v in values):
            return lambda p: False   # one-way, un-NATed multicast has none of these
        if key == "direction":
            return lambda p: "original" in values
        return None
    if "payload" in left and isinstance(left["payload"], dict):
        return _nft_payload(left["payload"].get("protocol"), left["payload"].get("field"), right)
    return None


def _nft_payload(proto: Any, fld: Any, right: Any) -> Cond | None:
    if proto in ("ip", "ip6"):
        version = 4 if proto == "ip" else 6

        def addr_or_proto(p: Packet) -> Tri:
            if p.family != version:
                return False   # an ip/ip6 payload match implies that family
            if fld == "saddr":
                return addr_in(p.src, right)
            if fld == "daddr":
                return addr_in(p.dst, right)
            if fld == "protocol":
                return num_in(PROTO_NUMBER[p.proto], right, PROTOCOLS)
            if fld == "nexthdr":
                # MLD carries a hop-by-hop header (router alert): ip6 nexthdr is then 0
                return num_in(0 if p.proto == "icmpv6" else PROTO_NUMBER[p.proto], right,
                               PROTOCOLS)
            return None
        return addr_or_proto
    if proto in ("udp", "tcp", "th", "udplite", "sctp", "dccp"):
        def ports(p: Packet) -> Tri:
            if p.proto != "udp" or proto not in ("udp", "th"):
                return False
            if fld == "dport":
                return num_in(p.dport, right)
            return None
        return ports
    if proto == "icmpv6":
        return lambda p: (num_in(p.icmp_type, right, ICMPV6_TYPES) if fld == "type" else None) \
            if p.proto == "icmpv6" else False
    if proto == "igmp":
        return lambda p: (num_in(p.igmp_type, right, IGMP_TYPES) if fld == "type" else None) \
            if p.proto == "igmp" else False
    if proto == "icmp":
        return lambda p: False
    return None


_NFT_VERDICTS = ("accept", "drop", "reject", "return", "continue")


def _nft_rule(rule: dict[str, Any]) -> Rule:
    conds: list[Cond] = []
    verdict: str | None = None
    target = None
    parts: list[str] = []
    for expr in rule.get("expr") or []:
        if not isinstance(expr, dict) or not expr:
            continue
        key = next(iter(expr))
        body = expr[key]
        if key == "match" and isinstance(body, dict):
            conds.append(_nft_match(body))
            parts.append(_nft_show_match(body))
        elif key in _NFT_VERDICTS:
            verdict = None if key == "continue" else key
            parts.append(key)
        elif key in ("jump", "goto") and isinstance(body, dict):
            verdict, target = key, str(body.get("target"))
            parts.append(f"{key} {target}")
        elif key in ("counter", "log", "limit", "comment", "quota"):
            if key == "limit" or key == "quota":
                conds.append(unknown)   # rate-limited: sometimes matches
            parts.append(key)
        elif key in ("xt", "queue", "synproxy", "tproxy"):
            verdict = "unknown"
            parts.append(key if key != "xt" else f"xt {body.get('name', '')}".strip())
        else:
            parts.append(key)   # mangle, notrack, nat...: no verdict on their own
    return Rule(tuple(conds), verdict, target, " ".join(parts), rule.get("handle"))


def _nft_show_match(body: dict[str, Any]) -> str:
    def show(x: Any) -> str:
        if isinstance(x, dict):
            if "meta" in x:
                return f"meta {x['meta'].get('key')}"
            if "payload" in x:
                return f"{x['payload'].get('protocol')} {x['payload'].get('field')}"
            if "ct" in x:
                return f"ct {x['ct'].get('key')}"
            if "set" in x:
                return "{ " + ", ".join(show(e) for e in _as_list(x["set"])) + " }"
            if "prefix" in x:
                return f"{x['prefix'].get('addr')}/{x['prefix'].get('len')}"
            if "range" in x:
                return "-".join(show(e) for e in x["range"])
            return next(iter(x), "?")
        if isinstance(x, list):
            return ",".join(show(e) for e in x)
        return str(x)
    op = body.get("op", "==")
    return f"{show(body.get('left'))} {'' if op in ('==', 'in') else op + ' '}{show(body.get('right'))}"


def parse_nft_json(text: str) -> tuple[list[Chain], set[tuple[str, str]]]:
    """Chains from `nft -j list ruleset` output, and the (family, table) pairs that hold
    iptables-nft compat ("xt") expressions, whose rules iptables-save prints better.

    Raises ValueError when `text` isn't the JSON nft prints.
    """
    import json

    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"not JSON: {e}") from None
    items = doc.get("nftables") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ValueError("no \"nftables\" list in the JSON")
    chains: dict[tuple[str, str, str], Chain] = {}
    xt_tables: set[tuple[str, str]] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("chain"), dict):
            c = item["chain"]
            key = (str(c.get("family")), str(c.get("table")), str(c.get("name")))
            prio = c.get("prio", 0)
            chains[key] = Chain("nft", key[0], key[1], key[2], c.get("hook"),
                                prio if isinstance(prio, int) else 0, c.get("policy"))
        elif isinstance(item.get("rule"), dict):
            r = item["rule"]
            key = (str(r.get("family")), str(r.get("table")), str(r.get("chain")))
            chain = chains.setdefault(key, Chain("nft", *key))
            rule = _nft_rule(r)
            chain.rules.append(rule)
            if any(isinstance(e, dict) and "xt" in e for e in r.get("expr") or []):
                xt_tables.add((key[0], key[1]))
    return list(chains.values()), xt_tables

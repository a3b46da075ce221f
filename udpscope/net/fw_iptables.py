"""iptables-save / ip6tables-save text as the chains of `fwrules`, for hosts whose firewall is
iptables (legacy, or iptables-nft whose compat expressions nft's JSON cannot show).

Every option that decides an IGMP, MLD or UDP-to-a-group verdict becomes a condition; a match
module or option this reader does not know becomes an unknown condition ("may"), never a guess.
The `!` negation is read both before an option and (old syntax) after it.
"""

from __future__ import annotations

import shlex

from .fwrules import (
    ICMPV6_TYPES,
    PROTO_NUMBER,
    Chain,
    Cond,
    Packet,
    Rule,
    Tri,
    addr_in,
    ifname_is,
    negate,
    num_in,
    proto_number,
    unknown,
)

_IPT_HOOKS = {"PREROUTING": "prerouting", "INPUT": "input", "FORWARD": "forward",
              "OUTPUT": "output", "POSTROUTING": "postrouting"}
_IPT_PRIORITY = {"raw": -300, "mangle": -150, "nat": -100, "filter": 0, "security": 50}
_IPT_NONTERMINAL = {"LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "CT", "NOTRACK", "TRACE",
                    "CLASSIFY", "DSCP", "TOS", "TTL", "HL", "TCPMSS", "AUDIT", "SECMARK",
                    "CONNSECMARK", "CHECKSUM", "TEE", "RATEEST", "IDLETIMER", "LED"}


def parse_iptables_save(text: str, family: int = 4) -> list[Chain]:
    """Chains from `iptables-save` (family 4) or `ip6tables-save` (family 6) output."""
    source, fam = ("iptables", "ip") if family == 4 else ("ip6tables", "ip6")
    chains: dict[tuple[str, str], Chain] = {}
    table = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":") and table is not None:
            name, _, rest = line[1:].partition(" ")
            policy = rest.split()[0].lower() if rest.split() else "-"
            chains[(table, name)] = Chain(
                source, fam, table, name, _IPT_HOOKS.get(name), _IPT_PRIORITY.get(table, 0),
                None if policy == "-" else policy)
        elif line.startswith("-A ") and table is not None:
            try:
                tokens = shlex.split(line)
            except ValueError:
                continue
            if len(tokens) < 2:
                continue
            key = (table, tokens[1])
            chain = chains.setdefault(key, Chain(source, fam, table, tokens[1]))
            user_chains = {n for (t, n) in chains if t == table and n not in _IPT_HOOKS}
            chain.rules.append(_ipt_rule(tokens[2:], line, user_chains))
    return list(chains.values())


def _ipt_rule(tokens: list[str], line: str, user_chains: set[str]) -> Rule:
    conds: list[Cond] = []
    verdict: str | None = None
    target = None
    neg = False
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if t == "!":
            neg = True
            i += 1
            continue
        if nxt == "!":   # old syntax: -p ! igmp
            neg, nxt = True, tokens[i + 2] if i + 2 < len(tokens) else ""
            i += 1
        step = 2
        if t in ("-p", "--protocol"):
            conds.append(negate(_ipt_proto(nxt), neg))
        elif t in _IPT_VALUE_OPTIONS:
            conds.append(negate(_ipt_cond(t, nxt), neg))
        elif t in ("-m", "--match"):
            if nxt not in ("comment", "udp", "tcp", "icmp6", "multiport", "conntrack", "state",
                           "pkttype", "addrtype", "icmp", "igmp"):
                conds.append(unknown)
        elif t in ("-f", "--fragment"):
            conds.append(negate(lambda p: False, neg))
            step = 1
        elif t in ("-j", "--jump", "-g", "--goto"):
            verdict, target = _ipt_target(nxt, t in ("-g", "--goto"), user_chains)
            step = len(tokens)   # target options follow; nothing after decides the match
        elif t in ("--comment", "-c", "--set-counters"):
            step = 2 if t == "--comment" else 3
        elif t.startswith("-"):
            conds.append(unknown)   # an option of a match we don't read
            step = 1
            while i + step < len(tokens) and not tokens[i + step].startswith("-") \
                    and tokens[i + step] != "!":
                step += 1
        i += step
        neg = False
    return Rule(tuple(conds), verdict, target, line)


_IPT_VALUE_OPTIONS = {
    "-s", "--source", "-d", "--destination", "-i", "--in-interface", "-o", "--out-interface",
    "--dport", "--destination-port", "--dports", "--destination-ports", "--sport",
    "--source-port", "--sports", "--source-ports", "--icmpv6-type", "--ctstate", "--state",
    "--pkt-type", "--dst-type"}


def _ipt_cond(option: str, value: str) -> Cond:
    """The condition of one iptables option that takes a value."""
    if option in ("-s", "--source", "-d", "--destination"):
        specs = value.split(",")
        if option in ("-s", "--source"):
            return lambda p: addr_in(p.src, specs)
        return lambda p: addr_in(p.dst, specs)
    if option in ("-i", "--in-interface"):
        return lambda p: ifname_is(p.iif, value)
    if option in ("-o", "--out-interface"):
        return lambda p: ifname_is(p.oif, value)
    if option in ("--dport", "--destination-port", "--dports", "--destination-ports"):
        return _ipt_ports(value)
    if option in ("--sport", "--source-port", "--sports", "--source-ports"):
        return lambda p: False if p.proto != "udp" else None   # the sender's port is unknown
    if option == "--icmpv6-type":
        want = value.split("/")[0]
        return lambda p: num_in(p.icmp_type, want, ICMPV6_TYPES) if p.proto == "icmpv6" else False
    if option in ("--ctstate", "--state"):
        states = [s.lower() for s in value.split(",")]
        return lambda p: p.ct_state in states
    if option == "--pkt-type":
        kind = value.lower()
        return lambda p: None if p.pkttype is None else p.pkttype == kind
    if option == "--dst-type":
        return lambda p: "MULTICAST" in value.upper().split(",")   # our destinations are groups
    return unknown


def _ipt_proto(name: str) -> Cond:
    want = proto_number(name)
    if want == -1:
        return lambda p: True
    if want is None:
        return unknown
    return lambda p: PROTO_NUMBER[p.proto] == want


def _ipt_ports(spec: str) -> Cond:
    ranges = []
    for part in spec.split(","):
        lo, _, hi = part.partition(":")
        try:
            ranges.append((int(lo or 0), int(hi or 65535) if _ else int(lo)))
        except ValueError:
            return unknown

    def match(p: Packet) -> Tri:
        if p.proto != "udp":
            return False
        if p.dport is None:
            return None
        return any(lo <= p.dport <= hi for lo, hi in ranges)
    return match


def _ipt_target(name: str, goto: bool, user_chains: set[str]) -> tuple[str | None, str | None]:
    if name in ("ACCEPT", "DROP", "REJECT", "RETURN"):
        return name.lower(), None
    if name in _IPT_NONTERMINAL:
        return None, None
    if name in user_chains:
        return ("goto" if goto else "jump"), name
    return "unknown", None

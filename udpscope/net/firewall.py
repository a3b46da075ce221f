"""Does a local firewall rule drop IGMP/MLD or the group's traffic? Read the rules and find out.

Why: a host firewall that drops IGMP (firewalld's default zone, an "input policy drop" ruleset)
lets the join succeed and the kernel list it, while the reports never leave or the queries never
arrive — so the switch prunes the group minutes later. This module reads the live rules (nftables
JSON, and iptables-save / ip6tables-save where those tools exist), follows the chains a test packet
passes (jumps, gotos, returns, base-chain priorities and policies) and names the rule or policy
that drops it, with the command that fixes it. A rule it cannot fully read makes the answer
"may drop", never a guess. When the rules cannot be read at all (no tool, no CAP_NET_ADMIN) it
says so.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .fw_iptables import parse_iptables_save
from .fwrules import Chain, Packet, Rule, parse_nft_json
from .tools import Runner, run_tool

_HOOK_ORDER = {"prerouting": 0, "input": 1, "forward": 1, "output": 0, "postrouting": 1}
_MAX_DEPTH = 16


@dataclass
class Ruleset:
    """Every chain read, which sources were read, and why others could not be."""

    chains: list[Chain] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)      # "nft", "iptables-save", ...
    problems: list[str] = field(default_factory=list)     # "nft: Operation not permitted"

    @property
    def readable(self) -> bool:
        return bool(self.sources)


@dataclass(frozen=True)
class Verdict:
    """What the rules do to a test packet: "dropped", "may-drop" or "passes"."""

    packet: Packet
    outcome: str
    chain: Chain | None = None
    rule: Rule | None = None        # None with a chain: the chain's policy

    @property
    def where(self) -> str:
        """The rule or policy, named the way its tool names it."""
        c = self.chain
        if c is None:
            return ""
        if c.source == "nft":
            place = f"nft table {c.family} {c.table} chain {c.name}"
            if self.rule is None:
                return f"{place}: policy {c.policy}"
            handle = f" (handle {self.rule.handle})" if self.rule.handle is not None else ""
            return f"{place}: rule `{self.rule.text}`{handle}"
        tool = c.source
        if self.rule is None:
            return f"{tool} -t {c.table}: chain {c.name} policy {(c.policy or '').upper()}"
        return f"{tool} -t {c.table}: `{self.rule.text}`"

    @property
    def fix(self) -> str:
        """A command that lets the packet through (inserting an accept before the drop)."""
        c, p = self.chain, self.packet
        if c is None:
            return ""
        if c.source == "nft" and c.table == "firewalld":
            # firewalld rewrites its table on reload: change its configuration instead
            what = {"igmp": "--add-protocol=igmp", "icmpv6": "--add-protocol=ipv6-icmp",
                    "udp": f"--add-port={p.dport}/udp" if p.dport else
                           f"--add-rich-rule='rule family=ipv{p.family} destination "
                           f"address={p.dst} accept'"}[p.proto]
            return f"firewall-cmd --permanent {what} && firewall-cmd --reload"
        if c.source == "nft":
            match = {"igmp": "meta l4proto igmp",
                     "icmpv6": "icmpv6 type { mld-listener-query, mld-listener-report, "
                               "mld-listener-done, mld2-listener-report }",
                     "udp": f"{'ip' if p.family == 4 else 'ip6'} daddr {p.dst}"
                            + (f" udp dport {p.dport}" if p.dport else "")}[p.proto]
            return f"nft insert rule {c.family} {c.table} {c.name} {match} accept"
        match = {"igmp": "-p igmp",
                 "icmpv6": "-p ipv6-icmp -m icmp6 --icmpv6-type 130",
                 "udp": f"-d {p.dst} -p udp" + (f" --dport {p.dport}" if p.dport else "")}[p.proto]
        text = f"{c.source} -t {c.table} -I {c.name} {match} -j ACCEPT"
        if p.proto == "icmpv6":
            text += f"; {c.source} -t {c.table} -I {c.name} -p ipv6-icmp -m icmp6 --icmpv6-type 143 -j ACCEPT"
        return text


@dataclass
class _Walk:
    verdict: str                                    # accept, drop, fall (end or return)
    certain: bool = True
    where: tuple[Chain, Rule | None] | None = None
    maybe: tuple[Chain, Rule | None] | None = None  # a drop that may apply
    uncertain: bool = False                         # an earlier verdict may have applied


def _applies(chain: Chain, pkt: Packet) -> bool:
    return (chain.family == "inet" or (chain.family == "ip" and pkt.family == 4)
            or (chain.family == "ip6" and pkt.family == 6))


def _match(rule: Rule, pkt: Packet) -> bool | None:
    result: bool | None = True
    for cond in rule.conds:
        try:
            v = cond(pkt)
        except Exception:   # a rule shape we did not expect: unknown, never a crash
            v = None
        if v is False:
            return False
        if v is None:
            result = None
    return result


def _walk(chain: Chain, pkt: Packet, by_name: dict[tuple[str, str, str, str], Chain],
          depth: int = 0) -> _Walk:
    uncertain = False
    maybe: tuple[Chain, Rule | None] | None = None
    for rule in chain.rules:
        m = _match(rule, pkt)
        if m is False or rule.verdict is None:
            continue
        sure = m is True and not uncertain
        v = rule.verdict
        if v in ("jump", "goto"):
            sub = by_name.get((chain.source, chain.family, chain.table, rule.target or ""))
            if sub is None or depth >= _MAX_DEPTH:
                uncertain = True
                continue
            res = _walk(sub, pkt, by_name, depth + 1)
            maybe = maybe or res.maybe
            if res.verdict in ("accept", "drop"):
                if sure and res.certain:
                    return _Walk(res.verdict, True, res.where, maybe, uncertain)
                if res.verdict == "drop":
                    maybe = maybe or res.where
                uncertain = True
                continue
            uncertain = uncertain or res.uncertain
            if v == "goto" and sure and not res.uncertain:
                return _Walk("fall", True, None, maybe, uncertain)
            continue
        if v == "return":
            if sure:
                return _Walk("fall", True, None, maybe, uncertain)
            uncertain = True
        elif v == "accept":
            if sure:
                return _Walk("accept", True, (chain, rule), maybe, uncertain)
            uncertain = True
        elif v in ("drop", "reject"):
            if sure:
                return _Walk("drop", True, (chain, rule), maybe, uncertain)
            maybe = maybe or (chain, rule)
        else:   # unknown target: it may accept, drop or go on
            uncertain = True
    return _Walk("fall", True, None, maybe, uncertain)


def evaluate(chains: Sequence[Chain], pkt: Packet) -> Verdict:
    """What the base chains on `pkt`'s hooks do to it, in hook and priority order."""
    by_name = {(c.source, c.family, c.table, c.name): c for c in chains}
    bases = [c for c in chains if c.hook in pkt.hooks and _applies(c, pkt)]
    bases.sort(key=lambda c: (pkt.hooks.index(c.hook or ""), c.priority))
    maybe: tuple[Chain, Rule | None] | None = None
    for chain in bases:
        res = _walk(chain, pkt, by_name)
        if res.verdict == "drop" and res.where is not None:
            if res.certain and not res.uncertain:
                return Verdict(pkt, "dropped", *res.where)
            maybe = maybe or res.where
        maybe = maybe or res.maybe
        if res.verdict == "fall" and chain.policy == "drop":
            if not res.uncertain:
                return Verdict(pkt, "dropped", chain, None)
            maybe = maybe or (chain, None)
    if maybe is not None:
        return Verdict(pkt, "may-drop", *maybe)
    return Verdict(pkt, "passes")


# --- reading the live rules -------------------------------------------------------------------




def read_ruleset(run: Runner = run_tool, which: Callable[[str], str | None] = shutil.which) -> Ruleset:
    """The live rules of the calling process's network namespace, from every tool present.

    iptables-nft rules show in nft's JSON as compat ("xt") expressions; such tables are taken
    from iptables-save instead, which prints them whole.
    """
    out = Ruleset()
    nft_chains: list[Chain] = []
    if which("nft"):
        code, text, err = run(["nft", "-j", "list", "ruleset"])
        if code == 0:
            try:
                nft_chains, _xt = parse_nft_json(text or '{"nftables": []}')
                out.sources.append("nft")
            except ValueError as e:
                out.problems.append(f"nft -j list ruleset: unreadable output ({e})")
        else:
            out.problems.append(f"nft -j list ruleset: {_first_line(err) or f'exit {code}'}")
    ipt_tables: set[tuple[str, str]] = set()
    for tool, family in (("iptables-save", 4), ("ip6tables-save", 6)):
        if not which(tool):
            continue
        code, text, err = run([tool])
        if code != 0 or (not text.strip() and err.strip()):
            out.problems.append(f"{tool}: {_first_line(err) or f'exit {code}'}")
            continue
        chains = parse_iptables_save(text, family)
        out.sources.append(tool)
        out.chains.extend(chains)
        if "nf_tables" in text.partition("\n")[0] or "(nf_tables)" in text:
            ipt_tables.update((c.family, c.table) for c in chains)
    # the same iptables-nft table read twice would report each rule twice
    out.chains.extend(c for c in nft_chains if (c.family, c.table) not in ipt_tables)
    if not which("nft") and not any(s.endswith("save") for s in out.sources) and not out.problems:
        out.problems.append("neither nft nor iptables-save is installed")
    return out


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]


# --- the packets doctor cares about ------------------------------------------------------------

def igmp_packets(interface: str | None, family: int, querier: str | None = None,
                 local: str | None = None) -> list[Packet]:
    """Queries arriving on `interface` and this host's reports leaving it (IGMP or MLD)."""
    on = f" on {interface}" if interface else ""
    if family == 4:
        return [Packet(f"IGMP queries arriving{on}", 4, ("prerouting", "input"), "igmp",
                       "224.0.0.1", querier, iif=interface, igmp_type=0x11),
                Packet(f"IGMP reports leaving{on}", 4, ("output", "postrouting"), "igmp",
                       "224.0.0.22", local, oif=interface, igmp_type=0x22, pkttype=None)]
    return [Packet(f"MLD queries arriving{on}", 6, ("prerouting", "input"), "icmpv6", "ff02::1",
                   querier, iif=interface, icmp_type=130),
            Packet(f"MLD reports leaving{on}", 6, ("output", "postrouting"), "icmpv6", "ff02::16",
                   local, oif=interface, icmp_type=143, pkttype=None)]


def traffic_packet(group: str, port: int | None, interface: str | None,
                   source: str | None = None) -> Packet:
    """A UDP datagram to the group arriving on `interface`."""
    family = 6 if ":" in group else 4
    on = f" on {interface}" if interface else ""
    return Packet(f"UDP to {group}{f':{port}' if port else ''} arriving{on}", family,
                  ("prerouting", "input"), "udp", group, source, iif=interface, dport=port)

"""The firewall readers on rule sets written here (nft's JSON and iptables-save text, in the
shapes those tools print), the chain walk (jumps, returns, policies, priorities, unknown matches
giving "may drop"), and reading the live tools through a fake runner."""

from __future__ import annotations

import json

import pytest

from udpscope.net import firewall as fw
from udpscope.net import fw_iptables, fwrules

IN4, OUT4 = fw.igmp_packets("eth0", 4, "10.0.0.254", "10.0.0.2")
IN6, OUT6 = fw.igmp_packets("eth0", 6, "fe80::1", "fe80::2")
UDP = fw.traffic_packet("239.1.2.3", 5000, "eth0", "10.0.0.1")


def nft(*items: dict) -> str:
    return json.dumps({"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
                                    *items]})


def chain(name: str, hook: str | None = None, policy: str = "accept", family: str = "inet",
          table: str = "t", prio: int = 0) -> dict:
    c: dict = {"family": family, "table": table, "name": name, "handle": 1}
    if hook:
        c.update(type="filter", hook=hook, prio=prio, policy=policy)
    return {"chain": c}


def rule(chain_name: str, *expr: dict, family: str = "inet", table: str = "t",
         handle: int = 9) -> dict:
    return {"rule": {"family": family, "table": table, "chain": chain_name, "handle": handle,
                     "expr": list(expr)}}


def match(left: dict, right: object, op: str = "==") -> dict:
    return {"match": {"op": op, "left": left, "right": right}}


META_L4 = {"meta": {"key": "l4proto"}}
IP_PROTO = {"payload": {"protocol": "ip", "field": "protocol"}}
IP_DADDR = {"payload": {"protocol": "ip", "field": "daddr"}}
UDP_DPORT = {"payload": {"protocol": "udp", "field": "dport"}}
ICMP6_TYPE = {"payload": {"protocol": "icmpv6", "field": "type"}}
CT_STATE = {"ct": {"key": "state"}}
IIF = {"meta": {"key": "iifname"}}
DROP = {"drop": None}
ACCEPT = {"accept": None}


def outcome(text: str, pkt: fwrules.Packet) -> fw.Verdict:
    chains, _ = fwrules.parse_nft_json(text)
    return fw.evaluate(chains, pkt)


def test_nft_rule_dropping_igmp_is_named_with_its_handle_and_fix() -> None:
    text = nft(chain("in", "input"), rule("in", match(META_L4, "igmp"), {"counter": {}}, DROP,
                                          handle=4))
    v = outcome(text, IN4)
    assert v.outcome == "dropped"
    assert v.where == "nft table inet t chain in: rule `meta l4proto igmp counter drop` (handle 4)"
    assert v.fix == "nft insert rule inet t in meta l4proto igmp accept"
    assert outcome(text, OUT4).outcome == "passes"       # an input rule: reports still leave
    assert outcome(text, UDP).outcome == "passes"
    assert outcome(text, IN6).outcome == "passes"


@pytest.mark.parametrize("expr, drops", [
    ([match(IP_PROTO, "igmp"), DROP], True),
    ([match(IP_PROTO, 2), DROP], True),
    ([match(IP_PROTO, {"set": ["tcp", "igmp"]}), DROP], True),
    ([match(IP_PROTO, {"set": ["tcp", "udp"]}), DROP], False),
    ([match(IP_DADDR, {"prefix": {"addr": "224.0.0.0", "len": 4}}), {"reject": None}], True),
    ([match(IP_DADDR, {"prefix": {"addr": "10.0.0.0", "len": 8}}), DROP], False),
    ([match(IP_DADDR, {"range": ["224.0.0.0", "224.0.0.255"]}), DROP], True),
    ([match(IP_DADDR, {"range": ["ff02::", "ff02::ffff"]}), DROP], False),
    ([match(META_L4, "igmp", "!="), DROP], False),
    ([match(META_L4, "tcp", "!="), DROP], True),
    ([match(UDP_DPORT, 5000), DROP], False),             # a UDP port match misses IGMP
    ([match(IIF, "eth*"), DROP], True),
    ([match(IIF, "wlan0"), DROP], False),
    ([match(CT_STATE, ["established", "related"]), DROP], False),   # queries are "new"
    ([match(CT_STATE, {"set": ["new", "invalid"]}), DROP], True),
    ([DROP], True),
])
def test_nft_matches_on_an_igmp_query(expr: list, drops: bool) -> None:
    text = nft(chain("in", "input"), rule("in", *expr))
    assert outcome(text, IN4).outcome == ("dropped" if drops else "passes")


def test_nft_mld_and_group_traffic() -> None:
    text = nft(chain("in", "input"),
               rule("in", match(ICMP6_TYPE, {"set": ["mld-listener-query",
                                                     "mld2-listener-report"]}), DROP),
               rule("in", match(IP_DADDR, "239.1.2.3"),
                    match(UDP_DPORT, {"range": [5000, 5010]}), DROP),
               chain("out", "output"),
               rule("out", match({"payload": {"protocol": "ip6", "field": "nexthdr"}},
                                 "ipv6-icmp"), DROP))
    assert outcome(text, IN6).outcome == "dropped"
    assert "icmpv6 type" in outcome(text, IN6).fix
    assert outcome(text, UDP).outcome == "dropped"
    assert outcome(text, fw.traffic_packet("239.1.2.3", 6000, "eth0")).outcome == "passes"
    # MLD carries a hop-by-hop header, so `ip6 nexthdr icmpv6` does not match it
    assert outcome(text, OUT6).outcome == "passes"


def test_nft_policy_drop_and_accepts_before_it() -> None:
    base = [chain("in", "input", policy="drop"), rule("in", match(IIF, "lo"), ACCEPT)]
    v = outcome(nft(*base), IN4)
    assert v.outcome == "dropped" and v.rule is None
    assert v.where == "nft table inet t chain in: policy drop"
    accepted = nft(*base, rule("in", match(META_L4, "igmp"), ACCEPT))
    assert outcome(accepted, IN4).outcome == "passes"
    # accepted for IGMP, but the group's UDP still meets the policy
    assert outcome(accepted, UDP).outcome == "dropped"


def test_nft_unknown_match_gives_may_drop() -> None:
    text = nft(chain("in", "input"),
               rule("in", match({"fib": {"flags": ["saddr", "iif"], "result": "oif"}}, False),
                    DROP))
    assert outcome(text, IN4).outcome == "may-drop"
    # a named set: contents unknown
    text = nft(chain("in", "input"), rule("in", match(IP_DADDR, "@blocked"), DROP))
    assert outcome(text, IN4).outcome == "may-drop"
    # an accept that may apply first makes a later certain drop uncertain
    text = nft(chain("in", "input", policy="drop"), rule("in", {"limit": {"rate": 5}}, ACCEPT))
    assert outcome(text, IN4).outcome == "may-drop"


def test_nft_jump_goto_and_return() -> None:
    jump = {"jump": {"target": "sub"}}
    text = nft(chain("in", "input"), chain("sub"),
               rule("in", match(IIF, "eth0"), jump), rule("sub", match(META_L4, "igmp"), DROP))
    v = outcome(text, IN4)
    assert v.outcome == "dropped" and v.chain is not None and v.chain.name == "sub"
    ret = nft(chain("in", "input"), chain("sub"), rule("in", jump),
              rule("sub", {"return": None}), rule("sub", DROP), rule("in", ACCEPT))
    assert outcome(ret, IN4).outcome == "passes"
    missing = nft(chain("in", "input"), rule("in", {"jump": {"target": "nowhere"}}),
                  rule("in", DROP))
    assert outcome(missing, IN4).outcome == "may-drop"


def test_nft_base_chains_by_hook_and_family() -> None:
    text = nft(chain("pre", "prerouting", family="ip", table="raw", prio=-300),
               rule("pre", match(META_L4, "igmp"), DROP, family="ip", table="raw"),
               chain("in", "input", family="ip6", table="six"),
               rule("in", DROP, family="ip6", table="six"),
               chain("br", "input", family="bridge", table="b"),
               rule("br", DROP, family="bridge", table="b"))
    assert outcome(text, IN4).outcome == "dropped"            # prerouting counts for input
    assert outcome(text, IN4).chain.table == "raw"            # type: ignore[union-attr]
    assert outcome(text, UDP).outcome == "passes"             # ip6 and bridge chains: not IPv4
    assert outcome(text, IN6).outcome == "dropped"
    # an accept in one base chain does not save the packet from a later one's drop
    two = nft(chain("a", "input", prio=-10), rule("a", ACCEPT), chain("b", "input", prio=10),
              rule("b", match(META_L4, "igmp"), DROP))
    assert outcome(two, IN4).outcome == "dropped"


def test_nft_json_with_iptables_compat_and_garbage() -> None:
    text = nft({"table": {"family": "ip", "name": "filter"}}, chain("INPUT", "input", "accept",
                                                                  "ip", "filter"),
               rule("INPUT", {"xt": {"type": "match", "name": "conntrack"}}, ACCEPT, family="ip",
                    table="filter"), "junk", {"rule": {"expr": "nonsense"}})
    chains, xt = fwrules.parse_nft_json(text)
    assert xt == {("ip", "filter")}
    assert len(chains) >= 1
    with pytest.raises(ValueError):
        fwrules.parse_nft_json("not json")
    with pytest.raises(ValueError):
        fwrules.parse_nft_json('{"something": 1}')


IPTABLES = """\
# Generated by iptables-save v1.8.9 (nf_tables) on Sat Dec  5 18:56:37 2026
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:SUB - [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -m limit --limit 5/s -j LOG --log-prefix "in: "
-A INPUT -i eth0 -j SUB
-A INPUT -p udp -m multiport --dports 6000,7000:7010 -j ACCEPT
-A OUTPUT -o eth+ -p igmp -j DROP
-A SUB -d 224.0.0.0/4 -p udp -m udp --dport 5000 -j REJECT --reject-with icmp-port-unreachable
-A SUB -m comment --comment "allow igmp" ! -p igmp -j RETURN
-A SUB -p igmp -j ACCEPT
COMMIT
"""


def test_iptables_save_chains_policies_and_fixes() -> None:
    chains = fw_iptables.parse_iptables_save(IPTABLES)
    assert {(c.table, c.name, c.hook, c.policy) for c in chains} >= {
        ("filter", "INPUT", "input", "drop"), ("filter", "SUB", None, None),
        ("raw", "PREROUTING", "prerouting", "accept")}
    assert fw.evaluate(chains, IN4).outcome == "passes"          # SUB accepts IGMP
    out = fw.evaluate(chains, OUT4)
    assert out.outcome == "dropped"
    assert out.where == "iptables -t filter: `-A OUTPUT -o eth+ -p igmp -j DROP`"
    assert out.fix == "iptables -t filter -I OUTPUT -p igmp -j ACCEPT"
    udp = fw.evaluate(chains, UDP)
    assert udp.outcome == "dropped" and "--dport 5000 -j REJECT" in udp.where
    # another port: SUB returns (not IGMP), multiport misses, then the INPUT policy drops it
    other = fw.evaluate(chains, fw.traffic_packet("239.1.2.3", 5555, "eth0"))
    assert other.outcome == "dropped" and other.rule is None
    assert other.where == "iptables -t filter: chain INPUT policy DROP"
    assert fw.evaluate(chains, fw.traffic_packet("239.1.2.3", 7005, "eth0")).outcome == "passes"
    # on wlan0 nothing jumps to SUB: IGMP meets the policy
    assert fw.evaluate(chains, fw.igmp_packets("wlan0", 4)[0]).outcome == "dropped"


def test_ip6tables_save_and_old_negation_syntax() -> None:
    text = ("*filter\n:INPUT ACCEPT [0:0]\n"
            "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j DROP\n"
            "-A INPUT -p ! udp -j ACCEPT\nCOMMIT\n")
    chains = fw_iptables.parse_iptables_save(text, 6)
    v = fw.evaluate(chains, IN6)
    assert v.outcome == "dropped" and v.chain is not None and v.chain.source == "ip6tables"
    assert "--icmpv6-type 143" in v.fix
    assert fw.evaluate(chains, OUT6).outcome == "passes"
    assert fw.evaluate(fw_iptables.parse_iptables_save(text.replace("130", "mld-listener-query"), 6),
                       IN6).outcome == "dropped"


def test_iptables_unknown_target_and_odd_lines() -> None:
    text = ("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p igmp -j NFQUEUE --queue-num 1\n"
            "-A INPUT -p igmp -j DROP\n-A INPUT 'unbalanced\n-A\ngarbage\nCOMMIT\n")
    chains = fw_iptables.parse_iptables_save(text)
    assert fw.evaluate(chains, IN4).outcome == "may-drop"


def fake_tools(outputs: dict[str, tuple[int, str, str]]):
    def run(argv: list[str]) -> tuple[int, str, str]:
        return outputs[argv[0]]

    def which(name: str) -> str | None:
        return f"/usr/sbin/{name}" if name in outputs else None
    return run, which


def test_read_ruleset_prefers_iptables_save_for_its_own_tables() -> None:
    nft_text = nft(chain("INPUT", "input", "accept", "ip", "filter"),
                   rule("INPUT", match(META_L4, "igmp"), DROP, family="ip", table="filter"),
                   chain("in", "input"), rule("in", match(ICMP6_TYPE, "mld-listener-query"), DROP))
    run, which = fake_tools({"nft": (0, nft_text, ""), "iptables-save": (0, IPTABLES, ""),
                             "ip6tables-save": (0, "", "")})
    rs = fw.read_ruleset(run, which)
    assert rs.readable and rs.sources == ["nft", "iptables-save", "ip6tables-save"]
    sources = {(c.source, c.family, c.table) for c in rs.chains}
    assert ("nft", "ip", "filter") not in sources     # read from iptables-save instead
    assert ("nft", "inet", "t") in sources and ("iptables", "ip", "filter") in sources
    assert fw.evaluate(rs.chains, IN6).outcome == "dropped"


def test_read_ruleset_says_why_it_could_not() -> None:
    run, which = fake_tools({"nft": (1, "", "Error: Operation not permitted\n"),
                             "iptables-save": (1, "", "iptables-save v1.8.9 (nf_tables): "
                                               "Could not fetch rule set generation id: "
                                               "Permission denied (you must be root)\n")})
    rs = fw.read_ruleset(run, which)
    assert not rs.readable
    assert rs.problems[0] == "nft -j list ruleset: Error: Operation not permitted"
    assert "Permission denied" in rs.problems[1]
    rs = fw.read_ruleset(*fake_tools({}))
    assert not rs.readable and rs.problems == ["neither nft nor iptables-save is installed"]
    rs = fw.read_ruleset(*fake_tools({"nft": (0, "{broken", "")}))
    assert not rs.readable and "unreadable output" in rs.problems[0]


def test_firewalld_style_ruleset_rejects_igmp_but_accepts_mld() -> None:
    """firewalld's nft layout (tsduck #180): IGMP ends at the final reject of filter_INPUT,
    ICMPv6 (so MLD) is accepted in the zone chain."""
    fam, table = "inet", "firewalld"

    def r(chain_name: str, *expr: dict) -> dict:
        return rule(chain_name, *expr, family=fam, table=table)

    text = nft(chain("filter_INPUT", "input", family=fam, table=table, prio=10),
               chain("filter_INPUT_ZONES", family=fam, table=table),
               chain("filter_IN_public", family=fam, table=table),
               chain("filter_IN_public_allow", family=fam, table=table),
               r("filter_INPUT", match(CT_STATE, {"set": ["established", "related"]}), ACCEPT),
               r("filter_INPUT", match({"ct": {"key": "status"}}, "dnat"), ACCEPT),
               r("filter_INPUT", match(IIF, "lo"), ACCEPT),
               r("filter_INPUT", {"jump": {"target": "filter_INPUT_ZONES"}}),
               r("filter_INPUT", match(CT_STATE, {"set": ["invalid"]}), DROP),
               r("filter_INPUT", {"reject": {"type": "icmpx", "expr": "admin-prohibited"}}),
               r("filter_INPUT_ZONES", {"goto": {"target": "filter_IN_public"}}),
               r("filter_IN_public", {"jump": {"target": "filter_IN_public_allow"}}),
               r("filter_IN_public", match(META_L4, {"set": ["icmp", "ipv6-icmp"]}), ACCEPT),
               r("filter_IN_public_allow",
                 match({"payload": {"protocol": "tcp", "field": "dport"}}, 22),
                 match(CT_STATE, {"set": ["new", "untracked"]}), ACCEPT),
               r("filter_IN_public_allow",
                 match({"payload": {"protocol": "ip6", "field": "daddr"}},
                       {"prefix": {"addr": "fe80::", "len": 64}}),
                 match(UDP_DPORT, 546), ACCEPT))
    v = outcome(text, IN4)
    assert v.outcome == "dropped" and v.rule is not None and v.rule.text.startswith("reject")
    assert v.fix == "firewall-cmd --permanent --add-protocol=igmp && firewall-cmd --reload"
    assert outcome(text, IN6).outcome == "passes"
    assert outcome(text, UDP).outcome == "dropped"

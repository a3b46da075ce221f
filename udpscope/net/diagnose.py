"""The checks that need watching: queriers, snooping timeouts, firewalls, forced versions,
reverse-path drops and TTLs of what arrived.

`checks.why_no_traffic` answers from configuration alone; these answer from what was seen during a
watch (a `Watch`): which querier asked, what arrived from whom with which TTL, what the firewall
does to IGMP/MLD and to the group's datagrams, and what the reverse-path filter dropped. Each is a
pure function returning `Finding`s (id, severity, title, what was seen and why it matters, and a
fix command), so `udpscope doctor` and the TUI run the same checks and tests use made-up watches.
`diagnose` runs all of them, with `why_no_traffic`, and keeps one finding per id.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import firewall as fw
from .checks import _ORDER, Finding, Level, ReceiveSetup, SystemView, why_no_traffic
from .interfaces import Interface
from .querier import FamilyStatus, QuerierView, membership_interval


@dataclass(frozen=True)
class Sender:
    """One sender seen during a watch (monotonic times)."""

    address: str
    port: int
    datagrams: int
    ttl: int | None                 # TTL / hop limit of the last datagram
    interface: str | None           # arrival interface
    first_at: float
    last_at: float


@dataclass(frozen=True)
class Watch:
    """What a watch of one group saw. Times are monotonic seconds."""

    group: str
    interface: str | None           # where the join went (named, or by route)
    interface_named: bool = True    # False: the kernel chose it by route
    source: str | None = None
    port: int | None = None
    started_at: float = 0.0
    ended_at: float = 0.0
    joined_at: float | None = None
    join_error: str | None = None   # why the join failed (message with hint)
    querier_status: FamilyStatus | None = None
    querier: QuerierView | None = None
    senders: tuple[Sender, ...] = ()
    datagrams: int = 0
    rp_drops: int | None = None     # reverse-path filter drops during the watch
    route_to_source: str | None = None   # interface of the route towards `source`
    ruleset: fw.Ruleset | None = None
    local_address: str | None = None     # our address on the interface (reports' source)

    @property
    def family(self) -> str:
        return "IPv6" if ":" in self.group else "IPv4"

    @property
    def watched_s(self) -> float:
        return max(0.0, self.ended_at - self.started_at)


@dataclass
class _Out:
    items: list[Finding] = field(default_factory=list)

    def add(self, level: Level, fid: str, title: str, detail: str, fix: str | None = None) -> None:
        self.items.append(Finding(level, title, detail, fid, fix))


def _proto(w: Watch) -> str:
    return "IGMP" if w.family == "IPv4" else "MLD"


def check_querier(w: Watch) -> list[Finding]:
    """no-querier / querier-unobservable, and an old querier version where it matters."""
    out = _Out()
    proto, on = _proto(w), f" on {w.interface}" if w.interface else ""
    st = w.querier_status
    q = w.querier
    if st is None or st.state != "observing":
        kernel = ""
        if q is not None and q.kernel_version is not None:
            kernel = (f" The kernel's IGMP mode{on} is v{q.kernel_version}"
                      + (" (it shows v1/v2 only after hearing an older querier, so this does "
                         "not prove one exists)" if q.kernel_version == 3 else
                         f": it heard an IGMPv{q.kernel_version} querier recently (or the "
                         "version is forced)") + ".")
        out.add("warning", "querier-unobservable", f"{proto} queries cannot be observed",
                (st.reason if st and st.reason else f"{proto} queries could not be watched")
                + ". Whether a querier exists is unknown — not the same as no querier." + kernel,
                "run as root (or with CAP_NET_RAW) to see queriers")
        return out.items
    if q is None or q.querier is None:
        gmi = membership_interval()
        out.add("warning", "no-querier", f"no {proto} querier seen",
                f"no {proto} query arrived{on} in {w.watched_s:.1f} s. Without a querier, "
                f"IGMP/MLD-snooping switches age the membership out after the group membership "
                f"interval ({gmi:.0f} s by default: robustness 2 x query interval 125 s + 10 s), "
                "and the stream stops about four minutes after the join. Queriers ask every "
                "125 s by default, so a short watch can miss one: watch 130 s to be sure",
                "enable a querier on the switch or multicast router (a Linux bridge: "
                "ip link set BRIDGE type bridge mcast_querier 1)")
        return out.items
    old = (w.family == "IPv4" and q.version in (1, 2)) or (w.family == "IPv6" and q.version == 1)
    if old:
        want = "IGMPv3" if w.family == "IPv4" else "MLDv2"
        if w.source:
            out.add("warning", "querier-version", f"the querier speaks {proto}v{q.version}",
                    f"{q.querier}{on} sends {proto}v{q.version} queries, so this host answers in "
                    f"v{q.version}, whose reports carry no source: the join from {w.source} "
                    f"becomes an any-source join upstream. Source-specific multicast needs {want}",
                    f"configure the querier for {want}")
        else:
            out.add("info", "querier-version", f"the querier speaks {proto}v{q.version}",
                    f"{q.querier}{on} sends {proto}v{q.version} queries; hosts answer in that "
                    "version (source-specific joins need " + want + ")")
    if len(q.other_queriers) > 0:
        out.add("info", "several-queriers", "more than one querier",
                f"queries came from {q.querier} and {', '.join(q.other_queriers)}{on}: the "
                "lowest address should win the election and the others fall silent")
    return out.items


def snooping_timeout(joined_at: float | None, first_at: float | None, last_at: float | None,
                     now: float, view: QuerierView | None) -> Finding | None:
    """A warning when traffic started after the join and stopped about one group membership
    interval after it (a snooping switch that nobody queries ages the membership out)."""
    if joined_at is None or first_at is None or last_at is None:
        return None
    if view is not None and view.querier is not None:
        return None
    gmi = view.membership_interval_s if view is not None else membership_interval()
    stopped_for = now - last_at
    since_join = last_at - joined_at
    tolerance = max(2.0, 0.15 * gmi)
    if stopped_for < max(2.0, 0.05 * gmi) or abs(since_join - gmi) > tolerance:
        return None
    return Finding(
        "warning", "traffic stopped about one membership interval after the join",
        f"datagrams arrived from {first_at - joined_at:.1f} s after the join until "
        f"{since_join:.1f} s after it, then stopped ({stopped_for:.1f} s ago). That matches the "
        f"group membership interval ({gmi:.0f} s): a snooping switch without a querier drops "
        "the membership when nothing refreshes it",
        "snooping-timeout",
        "enable a querier on the switch or router (a Linux bridge: ip link set BRIDGE type "
        "bridge mcast_querier 1), or turn IGMP snooping off on that VLAN")


def check_firewall(w: Watch, local: str | None = None) -> list[Finding]:
    """igmp-filtered / traffic-filtered from the rules; firewall-unreadable when they can't
    be read."""
    out = _Out()
    rs = w.ruleset
    if rs is None:
        return []
    if not rs.readable:
        why = "; ".join(rs.problems) or "no firewall tool found"
        out.add("info", "firewall-unreadable", "firewall rules could not be read",
                f"{why}. A local rule dropping IGMP/MLD or the group's datagrams can't be ruled "
                "out", "run as root (CAP_NET_ADMIN) to read the rules")
        return out.items
    fam = 4 if w.family == "IPv4" else 6
    querier = w.querier.querier if w.querier else None
    packets = fw.igmp_packets(w.interface, fam, querier, local or w.local_address)
    verdicts = [fw.evaluate(rs.chains, p) for p in packets]
    proto = _proto(w)
    _firewall_finding(out, "igmp-filtered", f"a firewall rule drops {proto}",
                      verdicts, f"without {proto} the switch never learns (or forgets) this "
                      "host's membership, and the stream stops or never starts")
    if w.port is not None or w.source is not None:
        verdict = fw.evaluate(rs.chains, fw.traffic_packet(w.group, w.port, w.interface,
                                                           w.source))
        _firewall_finding(out, "traffic-filtered", "a firewall rule drops the group's datagrams",
                          [verdict], "they reach the host but never the socket")
    if rs.problems:
        out.add("info", "firewall-partly-read", "some firewall rules could not be read",
                "; ".join(rs.problems))
    return out.items


def _firewall_finding(out: _Out, fid: str, title: str, verdicts: Sequence[fw.Verdict],
                      why: str) -> None:
    hits = [v for v in verdicts if v.outcome != "passes"]
    if not hits:
        return
    sure = any(v.outcome == "dropped" for v in hits)
    lines = [f"{v.packet.label}: {'dropped' if v.outcome == 'dropped' else 'may be dropped'} by "
             f"{v.where}" for v in hits]
    fixes = list(dict.fromkeys(v.fix for v in hits if v.fix))
    out.add("error" if sure else "warning", fid, title if sure else title.replace("drops",
                                                                                 "may drop"),
            "; ".join(lines) + f". {why[0].upper()}{why[1:]}", "; ".join(fixes) or None)


def check_forced_version(w: Watch, system: SystemView) -> list[Finding]:
    """forced-igmp-version / forced-mld-version (force_igmp_version, force_mld_version)."""
    out = _Out()
    v4 = w.family == "IPv4"
    conf = system.force_igmp_version if v4 else system.force_mld_version
    if not conf:
        return []
    key = "force_igmp_version" if v4 else "force_mld_version"
    values = {k: conf.get(k, 0) for k in ("all", w.interface or "") if conf.get(k, 0)}
    if not values:
        return []
    forced = min(values.values())   # the kernel honours the oldest version forced anywhere
    name = f"{_proto(w)}v{forced}"
    newest = 3 if v4 else 2
    if forced >= newest:
        return []
    where = ", ".join(f"net.{'ipv4' if v4 else 'ipv6'}.conf.{k}.{key}={v}"
                      for k, v in values.items())
    fix = " ".join(f"net.{'ipv4' if v4 else 'ipv6'}.conf.{k}.{key}=0" for k in values)
    level: Level = "warning" if w.source else "info"
    out.add(level, f"forced-{'igmp' if v4 else 'mld'}-version", f"{name} is forced",
            f"{where}: this host speaks only {name}, whose reports carry no sources"
            + (f", so the join from {w.source} reaches the network as an any-source join"
               if w.source else "; source-specific joins will not work"), f"sysctl -w {fix}")
    return out.items


def check_join_limits(w: Watch, system: SystemView, socket_joins: int = 1) -> list[Finding]:
    """join-limit: a socket holding `socket_joins` memberships (join everywhere holds one per
    interface) against net.ipv4.igmp_max_memberships / net.ipv6.mld_max_memberships."""
    v4 = w.family == "IPv4"
    limit = system.igmp_max_memberships if v4 else system.mld_max_memberships
    if limit is None or socket_joins < limit:
        return []
    key = f"net.{'ipv4.igmp' if v4 else 'ipv6.mld'}_max_memberships"
    out = _Out()
    out.add("error" if socket_joins > limit else "warning", "join-limit",
            "at the join limit" if socket_joins == limit else "too many joins on one socket",
            f"this socket holds {socket_joins} joins; {key}={limit}: joins past it fail with "
            "ENOBUFS", f"sysctl -w {key}={max(limit * 2, socket_joins)}")
    return out.items


def check_rp_filter(w: Watch, system: SystemView) -> list[Finding]:
    """rp-filter: drops counted during the watch, or a source the route check says is dropped."""
    if w.family != "IPv4" or not w.interface or not system.rp_filter:
        return []
    out = _Out()
    ifname = w.interface
    eff = max(system.rp_filter.get("all", 0), system.rp_filter.get(ifname, 0))
    mode = {1: "strict", 2: "loose"}.get(eff)
    if mode is None:
        return []
    src = w.source
    fix = f"sysctl -w net.ipv4.conf.{ifname}.rp_filter=2"
    if src and w.route_to_source is None:
        fix = (f"ip route add {src} dev {ifname} (a route back to the sender), or "
               f"sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.{ifname}.rp_filter=0")
    dropped_by_route = src is not None and (
        w.route_to_source is None or (eff == 1 and w.route_to_source != ifname))
    if (w.rp_drops or 0) > 0 or dropped_by_route:
        seen = []
        if w.rp_drops:
            seen.append(f"the kernel dropped {w.rp_drops} packet{'s' if w.rp_drops != 1 else ''}"
                        " by reverse-path filtering during the watch (IPReversePathFilter)")
        if dropped_by_route:
            back = (f"no route leads back to {src}" if w.route_to_source is None
                    else f"the route back to {src} leaves by {w.route_to_source}, not {ifname}")
            seen.append(f"{back}, so with rp_filter={eff} ({mode}) its datagrams arriving on "
                        f"{ifname} are dropped before any socket sees them")
        out.add("error", "rp-filter", "the reverse-path filter drops the sender",
                "; ".join(seen), fix)
    elif eff == 1 and src is None:
        out.add("info", "rp-filter", "strict reverse-path filter",
                f"rp_filter=1 (strict) on {ifname}: senders whose route back does not leave by "
                f"{ifname} are dropped (none were during the watch)", fix)
    return out.items


def _routed(address: str, iface: Interface | None) -> bool | None:
    try:
        a = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return None
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    if a.is_link_local:
        return False
    if iface is None:
        return None
    for n in iface.networks:
        try:
            if a in ipaddress.ip_network(n, strict=False):
                return False
        except ValueError:
            continue
    return True


def check_senders(w: Watch, interfaces: Sequence[Interface]) -> list[Finding]:
    """ttl-too-low for datagrams arriving with TTL 1 from a sender on no connected network;
    no-traffic when a port was watched and nothing arrived."""
    out = _Out()
    by_name = {i.name: i for i in interfaces}
    for s in w.senders:
        if s.ttl != 1:
            continue
        iface = by_name.get(s.interface or w.interface or "")
        if _routed(s.address, iface) is True:
            out.add("warning", "ttl-too-low", "datagrams arrive with TTL 1 from a routed sender",
                    f"{s.address} is on no network of {iface.name if iface else '?'}, so a "
                    "router forwarded its datagrams, and they arrive with TTL 1: one more router "
                    "drops them, and a receiver one hop further never sees the stream",
                    "raise the sender's multicast TTL (IP_MULTICAST_TTL, e.g. "
                    "`udpscope send ... --multicast-ttl 16`)")
            break
    if w.port is not None and w.datagrams == 0:
        out.add("warning", "no-traffic", "no datagrams arrived",
                f"nothing was sent to {w.group} port {w.port}"
                + (f" from {w.source}" if w.source else "")
                + f" in {w.watched_s:.1f} s (or it was dropped before the socket: see the other "
                "findings)")
    return out.items


def diagnose(w: Watch, system: SystemView, *, setup: ReceiveSetup | None = None,
             extra: Sequence[Finding] = ()) -> list[Finding]:
    """Every check on one watch: why_no_traffic, then the watch checks; one finding per id
    (the most severe), errors first."""
    setup = setup or ReceiveSetup(
        w.group, interface=w.interface, source=w.source, bound_address=None, joined=True,
        multicast_all=False, socket_joins=1, socket_sources=1 if w.source else 0,
        sender_address=w.source)
    found: list[Finding] = []
    if w.join_error:
        found.append(Finding("error", "the join failed", w.join_error, "join-failed"))
    found += check_rp_filter(w, system)
    found += check_querier(w)
    found += check_firewall(w)
    found += check_forced_version(w, system)
    found += check_join_limits(w, system)
    found += check_senders(w, system.interfaces)
    first = min((s.first_at for s in w.senders), default=None)
    last = max((s.last_at for s in w.senders), default=None)
    timeout = snooping_timeout(w.joined_at, first, last, w.ended_at, w.querier)
    if timeout is not None:
        found.append(timeout)
    found += list(extra)
    found += why_no_traffic(setup, system)
    best: dict[str, Finding] = {}
    for f in found:
        key = f.id or f.title
        if key not in best or _ORDER[f.level] < _ORDER[best[key].level]:
            best[key] = f
    return sorted(best.values(), key=lambda f: _ORDER[f.level])

""""Why no traffic?" — the usual reasons a multicast receiver stays silent, checked one by one.

Each cause (interface down, strict reverse-path filter, TTL 1 across a router, loopback off in a
same-host test, isolation without a join, the per-socket join limit, a join the kernel doesn't
have…) is cheap to test but easy to forget. The checks are pure functions of two descriptions —
what the user set up (`ReceiveSetup`) and what the system looks like (`SystemView`) — so they are
tested with made-up systems; `read_system()` fills a `SystemView` from the live kernel (the
calling thread's network namespace).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from . import groups as _groups
from .interfaces import Interface, list_interfaces
from .membership import ByteOrder, KernelMembership, net_dir, read_memberships

Level = Literal["error", "warning", "info"]
_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One observation: `error` explains silence, `warning` may, `info` is context."""

    level: Level
    title: str
    detail: str
    id: str = ""                 # stable, for scripts: "interface-down", "rp-filter", ...
    fix: str | None = None       # a command that fixes it, when there is one

    @property
    def severity(self) -> Level:
        """The level under the name the CLI's JSON uses."""
        return self.level


@dataclass(frozen=True)
class ReceiveSetup:
    """What the user is trying to receive, and what is known about the sender."""

    group: str
    interface: str | None = None        # interface name of the join; None = kernel's choice
    source: str | None = None           # source of a source-specific join
    bound_address: str | None = None    # address the receiving socket is bound to
    joined: bool = True                 # this socket joined (False: relies on another's join)
    multicast_all: bool | None = None   # None = kernel default (on)
    socket_joins: int = 1               # memberships held by this socket
    socket_sources: int = 0             # source filters this socket holds for the group
    sender_address: str | None = None   # expected sender's source address
    sender_ttl: int | None = None       # sender's multicast TTL; None = unknown
    sender_routed: bool | None = None   # a router sits between sender and receiver
    sender_same_host: bool = False
    sender_loopback: bool | None = None  # multicast loopback on the sending socket
    socket_family: str | None = None    # "udp4"/"udp6" of the receiving socket; None = unknown
    socket: bool = True                 # False: no receiving socket yet, check the host only


@dataclass(frozen=True)
class Route:
    """An IPv4 route from the main table: destination network and its interface."""

    interface: str
    network: str        # "224.0.0.0/4"
    metric: int = 0


@dataclass(frozen=True)
class SystemView:
    """The facts the checks need; any of them may be unknown (None / empty)."""

    interfaces: tuple[Interface, ...] = ()
    memberships: tuple[KernelMembership, ...] | None = None
    rp_filter: Mapping[str, int] = field(default_factory=dict)  # "all", "default", ifname
    igmp_max_memberships: int | None = None
    igmp_max_msf: int | None = None
    routes: tuple[Route, ...] | None = None
    force_igmp_version: Mapping[str, int] = field(default_factory=dict)  # "all", ifname
    force_mld_version: Mapping[str, int] = field(default_factory=dict)
    mld_max_memberships: int | None = None


# --- readers ----------------------------------------------------------------------------------

def parse_routes(text: str, byteorder: ByteOrder = sys.byteorder) -> list[Route]:
    """Parse /proc/net/route (addresses there are raw words in host byte order)."""
    out = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 8:
            continue
        try:
            dest = ipaddress.IPv4Address(int(parts[1], 16).to_bytes(4, byteorder))
            mask = ipaddress.IPv4Address(int(parts[7], 16).to_bytes(4, byteorder))
            net = ipaddress.IPv4Network(f"{dest}/{mask}", strict=False)
            out.append(Route(parts[0], str(net), int(parts[6])))
        except ValueError:
            continue
    return out


def _read_int(path: str) -> int | None:
    try:
        with open(path) as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def read_conf(key: str, sys_dir: str = "/proc/sys", family: str = "ipv4") -> dict[str, int]:
    """net.{family}.conf.*.{key} for "all", "default" and every interface."""
    base = os.path.join(sys_dir, f"net/{family}/conf")
    out = {}
    try:
        names = os.listdir(base)
    except OSError:
        return {}
    for name in names:
        v = _read_int(os.path.join(base, name, key))
        if v is not None:
            out[name] = v
    return out


def read_rp_filter(sys_dir: str = "/proc/sys") -> dict[str, int]:
    """net.ipv4.conf.*.rp_filter for "all", "default" and every interface."""
    return read_conf("rp_filter", sys_dir)


def parse_rp_filter_drops(text: str) -> int | None:
    """IPReversePathFilter from /proc/net/netstat: packets the reverse-path filter dropped."""
    lines = text.splitlines()
    for names, values in zip(lines, lines[1:], strict=False):
        if names.startswith("TcpExt:") and values.startswith("TcpExt:"):
            row = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            value = row.get("IPReversePathFilter")
            return int(value) if value is not None and value.isdigit() else None
    return None


def read_rp_filter_drops(proc_net: str | None = None) -> int | None:
    """The reverse-path filter's drop counter of the calling thread's namespace, or None."""
    try:
        with open(os.path.join(proc_net or net_dir(), "netstat")) as fh:
            return parse_rp_filter_drops(fh.read())
    except OSError:
        return None


def read_system(sys_dir: str = "/proc/sys", proc_net: str | None = None) -> SystemView:
    """A SystemView of the calling thread's namespace; parts that can't be read stay unknown."""
    d = proc_net or net_dir()
    try:
        memberships: tuple[KernelMembership, ...] | None = tuple(read_memberships(d))
    except OSError:
        memberships = None
    try:
        with open(os.path.join(d, "route")) as fh:
            routes: tuple[Route, ...] | None = tuple(parse_routes(fh.read()))
    except OSError:
        routes = None
    return SystemView(
        interfaces=tuple(list_interfaces()),
        memberships=memberships,
        rp_filter=read_rp_filter(sys_dir),
        igmp_max_memberships=_read_int(os.path.join(sys_dir, "net/ipv4/igmp_max_memberships")),
        igmp_max_msf=_read_int(os.path.join(sys_dir, "net/ipv4/igmp_max_msf")),
        routes=routes,
        force_igmp_version=read_conf("force_igmp_version", sys_dir),
        force_mld_version=read_conf("force_mld_version", sys_dir, "ipv6"),
        mld_max_memberships=_read_int(os.path.join(sys_dir, "net/ipv6/mld_max_memberships")),
    )


# --- checks -----------------------------------------------------------------------------------

def route_interface(group: str, routes: Sequence[Route]) -> str | None:
    """The interface the longest-prefix route for `group` uses, or None without a route."""
    try:
        a = ipaddress.IPv4Address(group)
    except ValueError:
        return None
    best: tuple[int, int, str] | None = None
    for r in routes:
        net = ipaddress.IPv4Network(r.network)
        if a in net:
            key = (net.prefixlen, -r.metric, r.interface)
            if best is None or key[:2] > best[:2]:
                best = key
    return best[2] if best else None


def _in_networks(address: str, iface: Interface) -> bool:
    try:
        a = ipaddress.ip_address(address)
    except ValueError:
        return False
    for n in iface.networks:
        try:
            if a in ipaddress.ip_network(n, strict=False):
                return True
        except ValueError:
            continue
    return False


def why_no_traffic(setup: ReceiveSetup, system: SystemView) -> list[Finding]:
    """Every finding that could explain missing multicast traffic, errors first."""
    out: list[Finding] = []

    def add(level: Level, fid: str, title: str, detail: str, fix: str | None = None) -> None:
        out.append(Finding(level, title, detail, fid, fix))

    group = setup.group.partition("%")[0]
    try:
        addr = ipaddress.ip_address(group)
    except ValueError:
        add("error", "invalid-address", "not a valid address",
            f"{group!r} is not a valid IPv4 or IPv6 address, so it cannot be a group")
        return out
    if not addr.is_multicast:
        add("error", "not-multicast-group", "not a multicast group",
            f"{group} is not a multicast address (IPv4 224.0.0.0/4, IPv6 ff00::/8); joining "
            "it fails with EINVAL")
        return out
    v4 = addr.version == 4
    if setup.socket_family in ("udp4", "udp6") and setup.socket_family != ("udp4" if v4 else "udp6"):
        add("error", "family-mismatch", "address family mismatch",
            f"{group} is an {'IPv4' if v4 else 'IPv6'} group but the socket is "
            f"{setup.socket_family}: it can neither join nor receive it; use a "
            f"{'udp4' if v4 else 'udp6'} socket")
        return out

    # which interface is (or will be) used
    ifname = setup.interface
    if ifname is None and v4 and system.routes is not None:
        ifname = route_interface(group, system.routes)
        if ifname is None:
            add("error", "no-route", "no route for the group",
                f"no interface was named and no route covers {group}: a join fails with "
                "ENODEV and sends with ENETUNREACH. Name the interface or add a route "
                "(ip route add 224.0.0.0/4 dev IFACE)", "ip route add 224.0.0.0/4 dev IFACE")
    elif ifname is None and not v4 and _groups.is_link_local_group(group):
        add("warning", "no-interface", "no interface for a link-local group",
            f"{group} is link-local: name the interface (\"::%ifname\"), otherwise the kernel "
            "picks one from the routing table")
    iface = next((i for i in system.interfaces if i.name == ifname), None)
    if ifname is not None and system.interfaces and iface is None:
        add("error", "interface-not-found", "interface not found",
            f"there is no interface named {ifname!r}")
    if iface is not None:
        if not iface.up:
            add("error", "interface-down", "interface down",
                f"{iface.name} is down: nothing is sent or received on it, and joins on it "
                "send no report", f"ip link set {iface.name} up")
        if not iface.multicast:
            add("warning" if iface.loopback else "error", "not-multicast-interface",
                "interface not multicast-capable",
                f"{iface.name} lacks the MULTICAST flag"
                + (" (normal for lo; local delivery still works)" if iface.loopback else
                   f"; enable it with: ip link set {iface.name} multicast on"),
                None if iface.loopback else f"ip link set {iface.name} multicast on")
        if v4 and not iface.ipv4:
            add("error", "no-ipv4-address", "no IPv4 address",
                f"{iface.name} has no IPv4 address, so an IPv4 join can't name it")

    # the kernel's membership list
    if system.memberships is not None:
        mine = [m for m in system.memberships
                if m.group == str(addr)
                and (ifname is None or m.interface == ifname)]
        where = f" on {ifname}" if ifname else ""
        if not mine:
            if setup.joined:
                add("error", "not-joined", "kernel has no membership",
                    f"the kernel lists no membership for {group}{where}: the join didn't "
                    "happen, was dropped, or landed on another interface")
            else:
                add("error", "not-joined", "nobody joined",
                    f"no socket on this host has joined {group}{where}, so the host doesn't "
                    "accept it")
        elif setup.source is not None and any(m.sources for m in mine):
            # Only a group that shows sources proves ours missing: /proc/net/mcfilter skips a
            # device whose most recently joined group has no sources, so an empty list says
            # nothing.
            src = str(ipaddress.ip_address(setup.source))
            if not any(f.source == src and f.include > 0 for m in mine for f in m.sources):
                add("error", "source-not-joined", "source not in the kernel's filter",
                    f"the kernel's filter for {group}{where} does not include {src}")

    # socket-level causes
    if setup.bound_address is not None:
        try:
            b = ipaddress.ip_address(setup.bound_address.partition("%")[0])
        except ValueError:
            b = None
        if b is not None and not b.is_unspecified and b != addr:
            add("error", "bound-unicast", "socket bound to a unicast address",
                f"the socket is bound to {b}, but group datagrams are addressed to {group}; "
                f"bind {'0.0.0.0' if v4 else '::'} (or the group) instead")
    if setup.socket:  # what this socket's own settings explain
        if not setup.joined and setup.multicast_all is False:
            joined = (f"it joined {setup.socket_joins} other group(s), not {group}"
                      if setup.socket_joins else "it joined none")
            add("error", "isolated-without-join", "isolation without a join",
                "multicast_all is off (isolation), so the kernel hands this socket only groups "
                f"it joined itself — and {joined}")
        elif not setup.joined:
            add("info", "joined-elsewhere", "relying on another socket's join",
                "this socket did not join; it receives the group only because multicast_all is "
                "on (the Linux default) and another socket joined")
        elif setup.multicast_all is not False and setup.bound_address in (None, "0.0.0.0", "::"):
            add("info", "isolation-off", "isolation off",
                "multicast_all is on (Linux default): this socket also receives groups other "
                "sockets joined on the same port")
    limit = system.igmp_max_memberships
    if v4 and limit is not None:
        if setup.socket_joins > limit:
            add("error", "join-limit", "too many joins on one socket",
                f"{setup.socket_joins} joins exceed net.ipv4.igmp_max_memberships={limit}; "
                "joins past the limit fail with ENOBUFS",
                f"sysctl -w net.ipv4.igmp_max_memberships={setup.socket_joins}")
        elif setup.socket_joins == limit:
            add("warning", "join-limit", "at the join limit",
                f"this socket holds {limit} joins = net.ipv4.igmp_max_memberships; the next "
                "one fails with ENOBUFS", f"sysctl -w net.ipv4.igmp_max_memberships={limit * 2}")
    msf = system.igmp_max_msf
    if v4 and msf is not None and setup.socket_sources > msf:
        add("error", "source-limit", "too many sources",
            f"{setup.socket_sources} sources exceed net.ipv4.igmp_max_msf={msf}")

    # group range
    if _groups.is_ssm(group) and setup.source is None:
        add("warning", "ssm-without-source", "SSM group without a source",
            f"{group} is in the source-specific range: join with a source "
            "(add_source_specific_membership); an any-source join gets nothing through "
            "SSM-aware routers")

    # reverse-path filter (IPv4 only; the effective value is the max of all and the interface)
    if v4 and iface is not None and system.rp_filter:
        eff = max(system.rp_filter.get("all", 0), system.rp_filter.get(iface.name, 0))
        sender = setup.sender_address or setup.source
        if eff == 1 and sender is not None and not _in_networks(sender, iface):
            add("warning", "rp-filter", "strict reverse-path filter",
                f"rp_filter=1 (strict) on {iface.name}: datagrams from {sender} are dropped "
                f"unless the route back to {sender} leaves via {iface.name} "
                f"(sysctl net.ipv4.conf.{iface.name}.rp_filter=2 for loose)",
                f"sysctl -w net.ipv4.conf.{iface.name}.rp_filter=2")
        elif eff == 1 and sender is None:
            add("info", "rp-filter", "strict reverse-path filter",
                f"rp_filter=1 (strict) on {iface.name}: senders not routed back via "
                f"{iface.name} are dropped")

    # sender side
    ttl = setup.sender_ttl
    if ttl == 0:
        add("error", "ttl-zero", "sender TTL 0",
            "a multicast TTL of 0 never leaves the sending host")
    if setup.sender_routed:
        if ttl is None or ttl == 1:
            add("error", "ttl-too-low", "TTL 1 on a routed path",
                "the sender's multicast TTL is " + ("1 (the default)" if ttl is None else "1")
                + ": the first router drops it; raise it with set_multicast_ttl()")
        if _groups.is_link_local_group(group):
            add("error", "link-local-routed", "link-local group across a router",
                f"{group} is link-local: routers never forward it, whatever the TTL")
        elif v4 and addr in ipaddress.IPv4Network("239.0.0.0/8"):
            add("info", "admin-scoped", "administratively scoped",
                f"{group} is admin-scoped: boundary routers may be configured to drop it")
        add("info", "routed-multicast", "routed multicast",
            "routers forward multicast only with multicast routing (PIM/IGMP proxy) set up")
    if setup.sender_same_host and setup.sender_loopback is False:
        add("error", "loopback-off", "loopback off in a same-host test",
            "the sender has multicast loopback off, so no copy is delivered on its own host; "
            "call set_multicast_loopback(True)")
    if (not v4 and not setup.sender_same_host
            and ((int(addr) >> 112) & 0xF) == 0x1):
        add("error", "interface-local-group", "interface-local group",
            f"{group} is interface-local: it never leaves the sending host")

    out.sort(key=lambda f: _ORDER[f.level])
    return out

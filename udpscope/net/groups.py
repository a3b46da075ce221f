"""Facts about multicast group addresses that explain surprising traffic.

Two groups can land on the same Ethernet MAC (IPv4 keeps only 23 of 28 group bits, so 32 groups
share each MAC), and then the NIC hands the host both — a classic "why do I see traffic I never
joined?". The group's range also decides who forwards it and whether a source is needed; the
notes here say that in plain words.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from udpscope.addresses import is_multicast

_V4_MC = ipaddress.IPv4Network("224.0.0.0/4")
_V4_LINK = ipaddress.IPv4Network("224.0.0.0/24")
_V4_INTERNETWORK = ipaddress.IPv4Network("224.0.1.0/24")
_V4_SSM = ipaddress.IPv4Network("232.0.0.0/8")
_V4_GLOP = ipaddress.IPv4Network("233.0.0.0/8")
_V4_ADMIN = ipaddress.IPv4Network("239.0.0.0/8")
_V4_ADMIN_LOCAL = ipaddress.IPv4Network("239.255.0.0/16")

_WELL_KNOWN = {
    "224.0.0.1": "all hosts — every IPv4 multicast host is already a member",
    "224.0.0.2": "all routers",
    "224.0.0.5": "OSPF routers",
    "224.0.0.9": "RIPv2 routers",
    "224.0.0.18": "VRRP",
    "224.0.0.22": "IGMPv3 reports",
    "224.0.0.251": "mDNS",
    "224.0.0.252": "LLMNR",
    "224.0.1.1": "NTP",
    "239.255.255.250": "SSDP / UPnP",
    "ff02::1": "all nodes — every IPv6 host is already a member",
    "ff02::2": "all routers",
    "ff02::16": "MLDv2 reports",
    "ff02::fb": "mDNS",
    "ff02::1:3": "LLMNR",
    "ff05::c": "SSDP / UPnP",
}

_V6_SCOPES = {
    0x1: "interface-local: never leaves the host, only local copies are delivered",
    0x2: "link-local: routers never forward it; the join needs an interface (\"::%ifname\")",
    0x3: "realm-local",
    0x4: "admin-local: stays inside an administratively configured area",
    0x5: "site-local: stays inside the site",
    0x8: "organization-local: stays inside the organization",
    0xE: "global scope",
}


def _addr(group: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in `group` ("%scope" allowed), or None if it is not one."""
    try:
        return ipaddress.ip_address(group.partition("%")[0].strip())
    except ValueError:
        return None


def _group(group: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    a = _addr(group)
    if a is None:
        raise ValueError(f"not an IP address: {group!r}")
    if not a.is_multicast:
        raise ValueError(f"not a multicast group: {group}")
    return a


def multicast_mac(group: str) -> str:
    """The Ethernet destination MAC the group is sent to (01:00:5e:… or 33:33:…)."""
    a = _group(group)
    if a.version == 4:
        low = int(a) & 0x7FFFFF
        raw = bytes((0x01, 0x00, 0x5E)) + low.to_bytes(3, "big")
    else:
        raw = bytes((0x33, 0x33)) + (int(a) & 0xFFFFFFFF).to_bytes(4, "big")
    return ":".join(f"{b:02x}" for b in raw)


def mac_siblings(group: str) -> list[str]:
    """All IPv4 groups (32, including this one) that share this group's MAC; [group] for IPv6."""
    a = _group(group)
    if a.version == 6:
        return [str(a)]
    low = int(a) & 0x7FFFFF
    return [str(ipaddress.IPv4Address((0xE0 + hi4) << 24 | b << 23 | low))
            for hi4 in range(16) for b in range(2)]


@dataclass(frozen=True)
class MacCollision:
    """Groups that share one Ethernet MAC: joining one lets the NIC accept all of them."""

    mac: str
    groups: tuple[str, ...]


def mac_collisions(groups: Iterable[str]) -> list[MacCollision]:
    """Sets of distinct groups among `groups` that map to the same MAC (non-groups ignored)."""
    by_mac: dict[str, dict[str, None]] = {}
    for g in groups:
        if not is_multicast(g):
            continue
        norm = str(_addr(g))
        by_mac.setdefault(multicast_mac(norm), {})[norm] = None
    return [MacCollision(mac, tuple(gs)) for mac, gs in sorted(by_mac.items()) if len(gs) > 1]


def collisions_by_interface(joined: Iterable[tuple[str, str]]) -> list[tuple[str, MacCollision]]:
    """MAC collisions among the groups joined on each interface, from (interface, group)
    pairs (e.g. the kernel's membership list), sorted by interface then MAC.

    The NIC filters by MAC, per interface: two groups that share a MAC collide only where
    both are joined on the same interface.
    """
    by_iface: dict[str, list[str]] = {}
    for interface, group in joined:
        by_iface.setdefault(interface, []).append(group)
    return [(iface, c) for iface in sorted(by_iface) for c in mac_collisions(by_iface[iface])]


def is_ssm(group: str) -> bool:
    """Source-specific range (232.0.0.0/8, ff3x::/32): receivers must name a source."""
    a = _addr(group)
    if a is None:
        return False
    if a.version == 4:
        return a in _V4_SSM
    return a.is_multicast and (int(a) >> 116) == 0xFF3 and (int(a) >> 96) & 0xFFFF == 0


def is_link_local_group(group: str) -> bool:
    """Groups routers never forward (224.0.0.0/24, ff01::/16 and ff02::/16 scopes)."""
    a = _addr(group)
    if a is None:
        return False
    if a.version == 4:
        return a in _V4_LINK
    return a.is_multicast and ((int(a) >> 112) & 0xF) in (0x1, 0x2)


def scope_note(group: str) -> str | None:
    """A plain-words note on what the group's range means, or None if it isn't a group."""
    a = _addr(group)
    if a is None or not a.is_multicast:
        return None
    notes = []
    known = _WELL_KNOWN.get(str(a))
    if known:
        notes.append(known)
    if a.version == 4:
        if a in _V4_LINK:
            notes.append("local network control block (224.0.0.0/24): link-local, routers never "
                         "forward it whatever the TTL")
        elif a in _V4_INTERNETWORK:
            notes.append("internetwork control block (224.0.1.0/24): routable protocol groups")
        elif a in _V4_SSM:
            notes.append("source-specific multicast (232.0.0.0/8): join with a source "
                         "(add_source_specific_membership); any-source joins get nothing "
                         "through SSM routers")
        elif a in _V4_GLOP:
            notes.append("GLOP (233.0.0.0/8): assigned per AS number, globally routable")
        elif a in _V4_ADMIN_LOCAL:
            notes.append("administratively scoped, local scope (239.255.0.0/16): stays inside "
                         "the site")
        elif a in _V4_ADMIN:
            notes.append("administratively scoped (239.0.0.0/8): private to the organization, "
                         "dropped at its boundary routers")
        else:
            notes.append("globally scoped group (224.0.0.0/4): routable if the network runs "
                         "multicast routing")
        return "; ".join(notes)
    flags = (int(a) >> 116) & 0xF
    scope = (int(a) >> 112) & 0xF
    notes.append(_V6_SCOPES.get(scope, f"scope {scope:x} (unassigned/reserved)"))
    if is_ssm(group):
        notes.append("source-specific multicast (ff3x::/32): join with a source "
                     "(add_source_specific_membership)")
    elif flags & 0x4:
        notes.append("embedded rendezvous point (ff7x::)")
    elif flags & 0x2:
        notes.append("unicast-prefix-based group")
    elif not flags & 0x1:
        notes.append("well-known (permanently assigned) group")
    if str(a).startswith("ff02::1:ff") and scope == 0x2:
        notes.append("solicited-node group used by neighbour discovery")
    return "; ".join(notes)

"""Local interfaces, and turning what a user types ("eth0", "2", "10.0.0.5") into a join argument.

Multicast joins are per interface, and the engine follows Node/libuv: an IPv4 membership names
the interface by one of its IPv4 *addresses*, an IPv6 one by scope ("::%eth0"). Users think in
interface names, so this module bridges the two and says plainly what is wrong when it can't.

Everything is read in the calling thread's network namespace (getifaddrs, ioctl and
if_nameindex all use sockets of that thread), so it also works for a thread moved into a test
namespace. Names come from the kernel but are still untrusted text: making them safe for a
terminal is the UI's job.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import psutil

Family = Literal["udp4", "udp6"]

_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8
_IFF_MULTICAST = 0x1000
_SIOCGIFFLAGS = 0x8913


class InterfaceError(ValueError):
    """An interface spec that names no usable interface; the message is for people."""


@dataclass(frozen=True)
class Interface:
    """One network interface as the kernel sees it now."""

    name: str
    index: int
    addresses: tuple[str, ...]       # IPv4 then IPv6, without "%scope"
    up: bool
    multicast: bool
    loopback: bool
    mac: str | None
    networks: tuple[str, ...] = ()   # the same addresses with their prefix, e.g. "10.0.0.5/24"

    @property
    def ipv4(self) -> tuple[str, ...]:
        return tuple(a for a in self.addresses if ":" not in a)

    @property
    def ipv6(self) -> tuple[str, ...]:
        return tuple(a for a in self.addresses if ":" in a)


@dataclass(frozen=True)
class ResolvedInterface:
    """An interface chosen for one address family, with the argument `udpscope.dgram` wants."""

    name: str
    index: int
    dgram_arg: str   # IPv4: the interface's IPv4 address; IPv6: "::%name"


def list_interfaces() -> list[Interface]:
    """All interfaces of the calling thread's namespace, ordered by index."""
    try:
        pairs = socket.if_nameindex()
    except OSError:
        pairs = []
    addrs = psutil.net_if_addrs()
    try:
        stats = psutil.net_if_stats()
    except OSError:
        stats = {}
    index_of = {name: idx for idx, name in pairs}
    for name in addrs:
        if name not in index_of:
            with contextlib.suppress(OSError):
                index_of[name] = socket.if_nametoindex(name)
    result = []
    for name, idx in index_of.items():
        v4: list[tuple[str, str]] = []
        v6: list[tuple[str, str]] = []
        mac = None
        for entry in addrs.get(name, ()):
            if entry.family == socket.AF_INET:
                v4.append((entry.address, _prefix(entry.netmask, 32)))
            elif entry.family == socket.AF_INET6:
                v6.append((entry.address.split("%", 1)[0], _prefix(entry.netmask, 128)))
            elif entry.family == getattr(psutil, "AF_LINK", None) and entry.address:
                mac = entry.address.lower()
        st = stats.get(name)
        if st is not None and getattr(st, "flags", None) is not None:
            flags = set(st.flags.split(",")) if st.flags else set()
            up, multicast, loopback = "up" in flags, "multicast" in flags, "loopback" in flags
        else:
            up, multicast, loopback = _ioctl_flags(name)
        both = v4 + v6
        result.append(Interface(
            name=name,
            index=idx,
            addresses=tuple(a for a, _ in both),
            up=up,
            multicast=multicast,
            loopback=loopback,
            mac=mac,
            networks=tuple(f"{a}/{p}" if p else a for a, p in both),
        ))
    result.sort(key=lambda i: i.index)
    return result


def _prefix(netmask: str | None, bits: int) -> str:
    if not netmask:
        return ""
    try:
        mask = int(ipaddress.ip_address(netmask))
    except ValueError:
        return ""
    n = bin(mask).count("1")
    # only a contiguous mask is a prefix
    return str(n) if mask == ((1 << bits) - 1) ^ ((1 << (bits - n)) - 1) else ""


def _ioctl_flags(name: str) -> tuple[bool, bool, bool]:
    # psutil lists names from /proc/net/dev, which follows the process's namespace rather than
    # this thread's; fall back to asking the kernel directly.
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            req = struct.pack("16sH14x", name.encode()[:15], 0)
            flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, req))[1]
    except OSError:
        return False, False, False
    return bool(flags & _IFF_UP), bool(flags & _IFF_MULTICAST), bool(flags & _IFF_LOOPBACK)


def _norm_family(family: str) -> Family:
    f = family.lower()
    if f in ("udp4", "ipv4", "4"):
        return "udp4"
    if f in ("udp6", "ipv6", "6"):
        return "udp6"
    raise ValueError(f"family must be 'udp4' or 'udp6', not {family!r}")


def find_interface(spec: str, interfaces: Sequence[Interface] | None = None) -> Interface:
    """The interface named by `spec`: a name, an index, or one of its addresses."""
    ifaces = list(list_interfaces() if interfaces is None else interfaces)
    text = spec.strip() if isinstance(spec, str) else str(spec)
    if not text:
        raise InterfaceError("interface: empty interface name")
    have = ", ".join(i.name for i in ifaces) or "none"
    for iface in ifaces:
        if iface.name == text:
            return iface
    if text.isdigit():
        idx = int(text)
        for iface in ifaces:
            if iface.index == idx:
                return iface
        listing = ", ".join(f"{i.index} {i.name}" for i in ifaces) or "none"
        raise InterfaceError(f"interface: no interface with index {idx} (have: {listing})")
    addr_text, _, scope = text.partition("%")
    try:
        addr = ipaddress.ip_address(addr_text)
    except ValueError:
        addr = None
    if addr is not None:
        if addr.is_unspecified and scope:
            return find_interface(scope, ifaces)
        for iface in ifaces:
            if scope and scope not in (iface.name, str(iface.index)):
                continue
            if any(ipaddress.ip_address(a) == addr for a in iface.addresses):
                return iface
        raise InterfaceError(f"interface: no interface has the address {text!r} (have: {have})")
    raise InterfaceError(f"interface: no interface named {text!r} (have: {have})")


def resolve_interface(spec: str, family: str,
                      interfaces: Sequence[Interface] | None = None) -> ResolvedInterface:
    """Pick an interface by name, index or address and build the engine's argument for it.

    For IPv4 the argument is an IPv4 address of the interface (the one typed, if an IPv4
    address was typed), because that is how Node/libuv name the interface of a membership or of
    outgoing multicast. For IPv6 it is "::%name".
    """
    fam = _norm_family(family)
    iface = find_interface(spec, interfaces)
    if fam == "udp6":
        return ResolvedInterface(iface.name, iface.index, f"::%{iface.name}")
    typed = spec.strip().partition("%")[0]
    if typed in iface.ipv4:
        return ResolvedInterface(iface.name, iface.index, typed)
    if not iface.ipv4:
        raise InterfaceError(f"interface: {iface.name} has no IPv4 address")
    return ResolvedInterface(iface.name, iface.index, iface.ipv4[0])


def interface_of_address(address: str, interfaces: Sequence[Interface]) -> Interface | None:
    """The interface holding `address` (scope ignored), or None."""
    try:
        want = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return None
    for iface in interfaces:
        if any(ipaddress.ip_address(a) == want for a in iface.addresses):
            return iface
    return None

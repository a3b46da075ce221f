"""The kernel's own list of multicast memberships, to compare with what sockets think they joined.

"I joined but nothing arrives" is often "the join landed on another interface" or "the join
never happened". The kernel's answer is in /proc/net/igmp, igmp6, mcfilter and mcfilter6; this
module turns those into records. Parsing takes text (so it is tested with fixture text and never
raises on odd lines); reading picks /proc/thread-self/net, because /proc/net follows the process
leader's network namespace, not the calling thread's.

Byte order trap: /proc/net/igmp prints each group as the raw 32-bit word in host byte order
(`%08X` of a big-endian __be32), so on x86 224.0.0.1 shows as 010000E0. mcfilter prints
ntohl() of it (0xe0000001), and the IPv6 files print the 16 bytes in order.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from .interfaces import Interface, interface_of_address

Family = Literal["IPv4", "IPv6"]
ByteOrder = Literal["little", "big"]


@dataclass(frozen=True)
class SourceFilter:
    """One source in a group's filter; counts are how many sockets include/exclude it."""

    source: str
    include: int
    exclude: int


@dataclass(frozen=True)
class KernelMembership:
    """One (interface, group) the kernel has joined, with its source filters."""

    interface: str
    index: int
    group: str
    family: Family
    users: int
    sources: tuple[SourceFilter, ...] = ()
    own: bool = False   # set by mark_own(): one of our sockets holds it

    @property
    def source_specific(self) -> bool:
        """Joined only for listed sources (all filters are includes)."""
        return bool(self.sources) and all(s.exclude == 0 for s in self.sources)


@dataclass(frozen=True)
class FilterEntry:
    """A line of /proc/net/mcfilter(6). The device name there is cut to 6 characters."""

    index: int
    device: str
    group: str
    source: SourceFilter


# --- parsing -------------------------------------------------------------------------------

_IGMP_DEV = re.compile(r"^(\d+)\s+([^\s:]+)\s*:\s*(\d+)")
_IGMP_GROUP = re.compile(r"^\s+([0-9A-Fa-f]{8})\s+(\d+)")
_HEX32 = re.compile(r"^[0-9A-Fa-f]{32}$")


def _v4_from_raw_word(hex8: str, byteorder: ByteOrder) -> str:
    # The kernel printed the in-memory big-endian bytes read as a native integer; turning that
    # integer back into bytes in the same native order recovers them (same as socket.ntohl).
    return str(ipaddress.IPv4Address(int(hex8, 16).to_bytes(4, byteorder)))


def _v6_from_hex(hex32: str) -> str:
    return str(ipaddress.IPv6Address(bytes.fromhex(hex32)))


def parse_igmp(text: str, byteorder: ByteOrder = sys.byteorder) -> list[KernelMembership]:
    """Parse /proc/net/igmp. `byteorder` is the host's that produced the text."""
    out: list[KernelMembership] = []
    dev: tuple[int, str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("Idx"):
            continue
        m = _IGMP_DEV.match(line)
        if m:
            dev = (int(m.group(1)), m.group(2))
            continue
        g = _IGMP_GROUP.match(line)
        if g and dev is not None:
            try:
                group = _v4_from_raw_word(g.group(1), byteorder)
            except ValueError:
                continue
            out.append(KernelMembership(dev[1], dev[0], group, "IPv4", int(g.group(2))))
    return out


_IGMP_QUERIER = re.compile(r"^(\d+)\s+([^\s:]+)\s*:\s*\d+\s+V([123])\b")


def parse_igmp_querier_versions(text: str) -> dict[str, int]:
    """The "Querier" column of /proc/net/igmp per device: the IGMP version the kernel speaks.

    The kernel shows V1 or V2 while it has recently heard an older querier (or the version is
    forced), else V3 — so V3 means "a v3 querier, or none heard", not proof of a querier.
    """
    out: dict[str, int] = {}
    for line in text.splitlines():
        m = _IGMP_QUERIER.match(line)
        if m:
            out[m.group(2)] = int(m.group(3))
    return out


def read_igmp_querier_versions(proc_net: str | None = None) -> dict[str, int]:
    """parse_igmp_querier_versions() of the calling thread's namespace ({} if unreadable)."""
    return parse_igmp_querier_versions(_read(os.path.join(proc_net or net_dir(), "igmp")))


def parse_igmp6(text: str) -> list[KernelMembership]:
    """Parse /proc/net/igmp6 (index, device, group, users, flags, timer)."""
    out: list[KernelMembership] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4 or not parts[0].isdigit() or not _HEX32.match(parts[2]):
            continue
        if not parts[3].isdigit():
            continue
        out.append(KernelMembership(parts[1], int(parts[0]), _v6_from_hex(parts[2]), "IPv6",
                                    int(parts[3])))
    return out


def _v4_from_hex(hex8: str) -> str:
    return str(ipaddress.IPv4Address(int(hex8, 16)))


def _v6_from_hex32(hex32: str) -> str:
    if not _HEX32.match(hex32):
        raise ValueError(hex32)
    return _v6_from_hex(hex32)


def _parse_filters(text: str, addr: Callable[[str], str]) -> list[FilterEntry]:
    # index, device[:6], group, source, INC, EXC; a line that does not parse is skipped
    out: list[FilterEntry] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 6 or not parts[0].isdigit():
            continue
        try:
            group, source = addr(parts[2]), addr(parts[3])
            inc, exc = int(parts[4]), int(parts[5])
        except ValueError:
            continue
        out.append(FilterEntry(int(parts[0]), parts[1], group, SourceFilter(source, inc, exc)))
    return out


def parse_mcfilter(text: str) -> list[FilterEntry]:
    """Parse /proc/net/mcfilter (index, device[:6], 0xGROUP, 0xSOURCE, INC, EXC)."""
    return _parse_filters(text, _v4_from_hex)


def parse_mcfilter6(text: str) -> list[FilterEntry]:
    """Parse /proc/net/mcfilter6 (index, device[:6], group hex, source hex, INC, EXC)."""
    return _parse_filters(text, _v6_from_hex32)


def attach_filters(memberships: Iterable[KernelMembership],
                   filters: Iterable[FilterEntry]) -> list[KernelMembership]:
    """Put each filter line on the membership with the same interface index and group."""
    by_key: dict[tuple[int, str], list[SourceFilter]] = {}
    for f in filters:
        by_key.setdefault((f.index, f.group), []).append(f.source)
    return [replace(m, sources=tuple(by_key.get((m.index, m.group), ())))
            for m in memberships]


# --- reading ----------------------------------------------------------------------------------

def net_dir() -> str:
    """The /proc net directory of the calling thread's network namespace."""
    return "/proc/thread-self/net" if os.path.isdir("/proc/thread-self/net") else "/proc/net"


def unavailable_reason() -> str | None:
    """Why the kernel membership view can't be shown here, or None."""
    if not sys.platform.startswith("linux"):
        return f"the kernel membership view needs Linux /proc (this is {sys.platform})"
    if not os.path.exists(os.path.join(net_dir(), "igmp")):
        return f"{net_dir()}/igmp is missing (no /proc, or a kernel without IPv4 multicast)"
    return None


def available() -> bool:
    """Whether read_memberships() can work here; unavailable_reason() says why not."""
    return unavailable_reason() is None


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def read_memberships(proc_net: str | None = None) -> list[KernelMembership]:
    """Every membership of the calling thread's namespace, IPv4 then IPv6, with source filters.

    A missing IPv6 file (IPv6 disabled) just means no IPv6 records. Raises OSError only if the
    IPv4 file itself can't be read.
    """
    d = proc_net or net_dir()
    with open(os.path.join(d, "igmp"), encoding="ascii", errors="replace") as fh:
        v4 = parse_igmp(fh.read())
    v6 = parse_igmp6(_read(os.path.join(d, "igmp6")))
    filters = parse_mcfilter(_read(os.path.join(d, "mcfilter")))
    filters += parse_mcfilter6(_read(os.path.join(d, "mcfilter6")))
    return attach_filters(v4 + v6, filters)


# --- ours versus the kernel's ---------------------------------------------------------------------

def _norm_addr(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.partition("%")[0]))
    except ValueError:
        return None


def _iface_matcher(spec: str | None,
                   interfaces: Sequence[Interface] | None) -> tuple[str | None, int | None]:
    """(name, index) that a membership's interface must match; (None, None) matches any."""
    if spec is None or spec == "":
        return None, None
    addr, _, scope = spec.partition("%")
    if scope:   # "::%eth0" or "fe80::1%eth0": the scope names the interface
        return (None, int(scope)) if scope.isdigit() else (scope, None)
    if spec.isdigit():
        return None, int(spec)
    if _norm_addr(addr) is not None:
        iface = interface_of_address(addr, interfaces or ())
        if iface is not None:
            return iface.name, iface.index
        if _norm_addr(addr) in ("0.0.0.0", "::"):
            return None, None
        return "\0unknown", None   # an address we can't place: match nothing
    return spec, None


def mark_own(kernel: Sequence[KernelMembership],
             own: Iterable[tuple[str, str | None, str | None]],
             interfaces: Sequence[Interface] | None = None) -> list[KernelMembership]:
    """Flag the kernel memberships that our sockets hold.

    `own` holds (group, source, interface) as sockets report them: interface may be None (the
    kernel chose; any interface matches), a name, an index, "::%name", or an address (matched
    through `interfaces`). A source-specific entry matches only a membership that includes that
    source.
    """
    wanted = []
    for group, source, iface in own:
        g = _norm_addr(group)
        if g is None:
            continue
        s = _norm_addr(source) if source else None
        wanted.append((g, s, *_iface_matcher(iface, interfaces)))
    out = []
    for m in kernel:
        hit = m.own
        for g, s, name, index in wanted:
            if g != m.group or (name is not None and name != m.interface):
                continue
            if index is not None and index != m.index:
                continue
            if s is not None and not any(f.source == s and f.include > 0 for f in m.sources):
                continue
            hit = True
            break
        out.append(replace(m, own=hit) if hit != m.own else m)
    return out

"""Passive querier observation: which IGMP/MLD querier each interface has, and how often it asks.

"Multicast works, then stops after about four minutes" is usually a snooping switch whose
membership aged out because no querier asked for reports. Nobody sees queriers without tcpdump, so
this module listens for them on raw sockets (one IGMP, one ICMPv6 filtered to MLD), driven by the
asyncio loop like `udpscope.dgram` (add_reader, non-blocking reads, bounded work per wake-up).
It sends nothing, except — with `watch_reports` — the membership report for 224.0.0.22 / ff02::16
that lets it hear IGMPv3/MLDv2 reports, including this host's own (the kernel loops those back
only to members).

Raw sockets need CAP_NET_RAW. Without it the observer says so (state "unobservable", with the
kernel's own querier version from /proc/net/igmp) rather than pretending nobody queries.

State is bounded: one entry per (interface, family), a short history of query times each, and a
ring of recent messages. A view polls `snapshot()` on a timer; nothing here calls into a UI.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import statistics
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from .igmp import Family, Message, Query, Report, parse_ipv4_packet, parse_mld
from .membership import read_igmp_querier_versions

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
ICMP6_FILTER = 1
_MLD_TYPES = (130, 131, 132, 143)
_REPORT_GROUPS = {"IPv4": "224.0.0.22", "IPv6": "ff02::16"}
_READS_PER_WAKE = 64      # then yield to the loop; the rest waits in the socket buffer
_HISTORY = 16             # general-query times kept per querier, for the interval
_MAX_KEYS = 512           # (interface, family) entries; more interfaces than this are ignored

# RFC 3376 / 3810 defaults, used where nothing better was observed
DEFAULT_ROBUSTNESS = 2
DEFAULT_QUERY_INTERVAL_S = 125.0
DEFAULT_MAX_RESPONSE_S = 10.0


def membership_interval(robustness: int | None = None, interval_s: float | None = None,
                        max_response_s: float | None = None) -> float:
    """Group membership interval: robustness x query interval + max response time (260 s)."""
    return ((robustness or DEFAULT_ROBUSTNESS) * (interval_s or DEFAULT_QUERY_INTERVAL_S)
            + (max_response_s if max_response_s is not None else DEFAULT_MAX_RESPONSE_S))


@dataclass(frozen=True)
class FamilyStatus:
    """Whether one family can be observed: "observing", "unobservable" (no CAP_NET_RAW),
    "unsupported" (no IPv6, not Linux), "idle" (not started) or "closed"; `reason` says why."""

    family: Family
    state: str
    reason: str | None = None


@dataclass(frozen=True)
class QuerierView:
    """What is known about the querier of one interface and family; ages are seconds before `now`.

    `interval_s` is the observed gap between general queries when two or more were heard, else
    the interval the querier advertises (QQIC), else None; `interval_source` says which.
    """

    interface: str
    index: int
    family: Family
    state: str                          # the family's observer state (see FamilyStatus)
    querier: str | None = None
    version: int | None = None
    queries: int = 0
    last_query_age_s: float | None = None
    interval_s: float | None = None
    interval_source: str | None = None  # "observed" | "advertised" | None
    advertised_interval_s: float | None = None
    max_response_s: float | None = None
    robustness: int | None = None
    other_queriers: tuple[str, ...] = ()
    last_report_age_s: float | None = None   # this host's last report seen on the interface
    last_report_groups: tuple[str, ...] = ()
    reports_from_others: int = 0
    kernel_version: int | None = None   # IPv4: /proc/net/igmp's "V1/V2/V3" for the interface
    watched_s: float = 0.0

    @property
    def membership_interval_s(self) -> float:
        """The group membership interval this querier implies (defaults where unknown)."""
        return membership_interval(self.robustness, self.interval_s, self.max_response_s)


@dataclass(frozen=True)
class Observed:
    """One message heard, for a log view: monotonic time, interface and the parsed message."""

    at: float
    interface: str
    message: Message


@dataclass
class _Entry:
    interface: str
    index: int
    family: Family
    querier: str | None = None
    last_query: Query | None = None
    last_query_at: float | None = None
    queries: int = 0
    general_times: dict[str, deque[float]] = field(default_factory=dict)
    other_queriers: dict[str, float] = field(default_factory=dict)
    last_report_at: float | None = None
    last_report_groups: tuple[str, ...] = ()
    reports_from_others: int = 0


class QuerierObserver:
    """Listens for IGMP/MLD queries and reports per interface, on the running asyncio loop.

    Use: ``obs = QuerierObserver(interfaces=["eth0"]); obs.start()`` inside a running loop, then
    poll ``obs.snapshot()`` (or ``obs.view("eth0", "IPv4")``); ``obs.close()`` when done (also a
    context manager). `families` limits it to "IPv4" and/or "IPv6"; `interfaces` (names) limits
    the interfaces (None: all). Never raises for missing privileges: see ``status()``.
    """

    def __init__(self, interfaces: Iterable[str] | None = None,
                 families: Sequence[str] = ("IPv4", "IPv6"), *, watch_reports: bool = True,
                 clock: Callable[[], float] = time.monotonic, history: int = 200) -> None:
        self._names = None if interfaces is None else tuple(interfaces)
        self._families: tuple[Family, ...] = tuple(f for f in ("IPv4", "IPv6") if f in families)
        self._watch_reports = watch_reports
        self._clock = clock
        self._entries: dict[tuple[int, Family], _Entry] = {}
        self._recent: deque[Observed] = deque(maxlen=history)
        self._socks: dict[Family, socket.socket] = {}
        self._status: dict[Family, FamilyStatus] = {
            f: FamilyStatus(f, "idle", "not started") for f in self._families}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started_at: float | None = None
        self._local: set[str] = set()
        self._names_by_index: dict[int, str] = {}
        self.report_joins: list[tuple[str, str]] = []   # (group, interface) joined to hear reports
        self.read_errors = 0

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Open the raw sockets and start reading on `loop` (default: the running loop).

        Raises RuntimeError without a loop; a family that can't be observed gets its status
        ("unobservable" / "unsupported") instead of an exception. A second start is a no-op.
        Sockets and the interface list belong to the calling thread's network namespace.
        """
        if self._socks:
            return   # already running
        self._loop = loop or asyncio.get_running_loop()
        self._started_at = self._clock()
        self._refresh_interfaces()
        for family in self._families:
            self._status[family] = self._open(family)

    def close(self) -> None:
        """Stop reading and close the sockets (leaving the report groups). Idempotent."""
        for family, sock in list(self._socks.items()):
            if self._loop is not None:
                with contextlib.suppress(Exception):
                    self._loop.remove_reader(sock.fileno())
            sock.close()
            self._status[family] = FamilyStatus(family, "closed")
        self._socks.clear()

    def __enter__(self) -> QuerierObserver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def status(self, family: str) -> FamilyStatus:
        """Whether `family` ("IPv4"/"IPv6") is being observed, and if not, why."""
        fam: Family = "IPv6" if family == "IPv6" else "IPv4"
        return self._status.get(fam, FamilyStatus(fam, "idle", "family not requested"))

    def _open(self, family: Family) -> FamilyStatus:
        try:
            if family == "IPv4":
                sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
                sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            else:
                sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
                words = [0xFFFFFFFF] * 8   # a set bit blocks that ICMPv6 type
                for t in _MLD_TYPES:
                    words[t >> 5] &= ~(1 << (t & 31))
                sock.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("8I", *words))
        except PermissionError:
            return FamilyStatus(family, "unobservable",
                                f"{'IGMP' if family == 'IPv4' else 'MLD'} queries can't be seen: "
                                "listening for them needs CAP_NET_RAW (run as root, or "
                                "`setcap cap_net_raw+ep` on the interpreter)")
        except (OSError, AttributeError) as e:
            code = getattr(e, "errno", None)
            why = ("IPv6 is disabled" if code in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT)
                   else f"raw socket failed: {e}")
            return FamilyStatus(family, "unsupported", why)
        sock.setblocking(False)
        if self._watch_reports:
            self._join_report_group(sock, family)
        assert self._loop is not None
        try:
            self._loop.add_reader(sock.fileno(), self._on_readable, family)
        except (NotImplementedError, RuntimeError) as e:
            sock.close()
            return FamilyStatus(family, "unsupported", f"this event loop can't watch sockets: {e}")
        self._socks[family] = sock
        return FamilyStatus(family, "observing")

    def _join_report_group(self, sock: socket.socket, family: Family) -> None:
        group = _REPORT_GROUPS[family]
        for index, name in self._names_by_index.items():
            if self._names is not None and name not in self._names:
                continue
            try:
                if family == "IPv4":
                    req = struct.pack("4s4si", socket.inet_aton(group), b"\0" * 4, index)
                    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, req)
                else:
                    req6 = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", index)
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, req6)
            except OSError:
                continue   # a down or address-less interface: its reports stay unseen
            self.report_joins.append((group, name))

    def _refresh_interfaces(self) -> None:
        from .interfaces import list_interfaces

        try:
            ifaces = list_interfaces()
        except OSError:
            return
        self._names_by_index = {i.index: i.name for i in ifaces
                                if i.multicast and not i.loopback}
        self._local = {a for i in ifaces for a in i.addresses}

    # --- reading -----------------------------------------------------------------------------

    def _on_readable(self, family: Family) -> None:
        sock = self._socks.get(family)
        if sock is None:
            return
        for _ in range(_READS_PER_WAKE):
            try:
                data, ancdata, _flags, addr = sock.recvmsg(65535, 256)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.read_errors += 1
                return
            ifindex = _ifindex(family, ancdata)
            if family == "IPv4":
                message = parse_ipv4_packet(data)
            else:
                message = parse_mld(data, str(addr[0]).partition("%")[0])
            if message is not None and ifindex is not None:
                self.feed(ifindex, message)

    def feed(self, ifindex: int, message: Message, now: float | None = None) -> None:
        """Account one parsed message that arrived on interface `ifindex` (tests call this)."""
        at = self._clock() if now is None else now
        name = self._name_of(ifindex)
        if name is None or (self._names is not None and name not in self._names):
            return
        key = (ifindex, message.family)
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= _MAX_KEYS:
                return
            entry = self._entries[key] = _Entry(name, ifindex, message.family)
        self._recent.append(Observed(at, name, message))
        if isinstance(message, Query):
            self._on_query(entry, message, at)
        elif isinstance(message, Report):
            if message.source in self._local:
                entry.last_report_at = at
                entry.last_report_groups = message.groups[:16]
            else:
                entry.reports_from_others += 1

    def _on_query(self, entry: _Entry, q: Query, at: float) -> None:
        if entry.querier is not None and q.source != entry.querier:
            entry.other_queriers[entry.querier] = entry.last_query_at or at
            if len(entry.other_queriers) > 8:
                entry.other_queriers.pop(next(iter(entry.other_queriers)))
        entry.other_queriers.pop(q.source, None)
        entry.querier = q.source
        entry.queries += 1
        if q.general or entry.last_query is None or not entry.last_query.general:
            entry.last_query = q   # a group-specific query keeps the general one's settings
        entry.last_query_at = at
        if q.general:
            times = entry.general_times.setdefault(q.source, deque(maxlen=_HISTORY))
            times.append(at)
            if len(entry.general_times) > 8:
                entry.general_times.pop(next(iter(entry.general_times)))

    def _name_of(self, ifindex: int) -> str | None:
        name = self._names_by_index.get(ifindex)
        if name is None:
            try:
                name = socket.if_indextoname(ifindex)
            except (OSError, ValueError, OverflowError):
                return None
            if len(self._names_by_index) < _MAX_KEYS:
                self._names_by_index[ifindex] = name
        return name

    # --- what a view shows -------------------------------------------------------------------

    def recent(self) -> list[Observed]:
        """The most recent messages heard (bounded), oldest first."""
        return list(self._recent)

    def snapshot(self, now: float | None = None) -> list[QuerierView]:
        """A view per (interface, family) heard from or asked for, ordered by interface index."""
        at = self._clock() if now is None else now
        versions = read_igmp_querier_versions() if "IPv4" in self._families else {}
        keys = set(self._entries)
        for index, name in self._names_by_index.items():
            if self._names is None or name in self._names:
                keys.update((index, f) for f in self._families)
        return [self._view(index, fam, at, versions)
                for index, fam in sorted(keys, key=lambda k: (k[0], k[1]))]

    def view(self, interface: str, family: str, now: float | None = None) -> QuerierView:
        """The view of one interface (by name) and family, empty if nothing was heard there."""
        fam: Family = "IPv6" if family == "IPv6" else "IPv4"
        at = self._clock() if now is None else now
        index = next((i for i, n in self._names_by_index.items() if n == interface), None)
        if index is None:
            with contextlib.suppress(OSError):
                index = socket.if_nametoindex(interface)
        versions = read_igmp_querier_versions() if fam == "IPv4" else {}
        if index is None:
            return QuerierView(interface, 0, fam, self.status(fam).state)
        return self._view(index, fam, at, versions, interface)

    def _view(self, index: int, fam: Family, at: float, versions: dict[str, int],
              name: str | None = None) -> QuerierView:
        entry = self._entries.get((index, fam))
        ifname = entry.interface if entry else (name or self._names_by_index.get(index, str(index)))
        base = QuerierView(ifname, index, fam, self.status(fam).state,
                           kernel_version=versions.get(ifname) if fam == "IPv4" else None,
                           watched_s=0.0 if self._started_at is None else at - self._started_at)
        if entry is None:
            return base
        q = entry.last_query
        interval, source = None, None
        times = entry.general_times.get(entry.querier or "")
        if times and len(times) >= 2:
            gaps = [b - a for a, b in zip(times, list(times)[1:], strict=False)]
            interval, source = float(statistics.median(gaps)), "observed"
        elif q is not None and q.interval_s:
            interval, source = q.interval_s, "advertised"
        return replace(
            base, querier=entry.querier, version=q.version if q else None, queries=entry.queries,
            last_query_age_s=None if entry.last_query_at is None else at - entry.last_query_at,
            interval_s=interval, interval_source=source,
            advertised_interval_s=q.interval_s if q else None,
            max_response_s=q.max_response_s if q else None,
            robustness=q.robustness if q else None,
            other_queriers=tuple(entry.other_queriers),
            last_report_age_s=None if entry.last_report_at is None else at - entry.last_report_at,
            last_report_groups=entry.last_report_groups,
            reports_from_others=entry.reports_from_others)


def prune_countdown(view: QuerierView, joined_at: float, now: float) -> float | None:
    """Seconds until a snooping switch without a querier drops the membership made at
    `joined_at` (monotonic), or None when a querier keeps it alive (or we can't tell)."""
    if view.querier is not None or view.state != "observing":
        return None
    return max(0.0, joined_at + view.membership_interval_s - now)


def _ifindex(family: Family, ancdata: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancdata:
        if family == "IPv4" and level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(data) >= 4:
            return int(struct.unpack_from("@i", data, 0)[0])
        if (family == "IPv6" and level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO
                and len(data) >= 20):
            return int(struct.unpack_from("@I", data, 16)[0])
    return None

"""Joining a group everywhere, and where the kernel sends a join (and a sender's traffic) by route.

"Which interface does the stream come in on?" is quicker answered by joining on all of them and
counting than by reasoning about routes — so a view can join a group on every multicast-capable
interface of one socket and count arrivals per interface. And a join without an interface goes
where the route for the *group* points, which need not be where the route towards the *source*
points: then reports leave one way while the stream (and the reverse-path filter) expects
another. `join_route_finding` says so.

Routes are looked up with `ip -j route get` (exact: the kernel's own answer, policy routing
included); without iproute2 a connected UDP socket tells which local address — so which
interface — the kernel would use, which sends nothing.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Protocol

from .checks import Finding
from .hints import errno_hint
from .interfaces import Interface, interface_of_address, list_interfaces
from .tools import Runner, run_tool


@dataclass(frozen=True)
class RouteInfo:
    """The kernel's route towards an address: outgoing interface, gateway, preferred source."""

    destination: str
    interface: str | None
    gateway: str | None = None
    source: str | None = None
    kind: str | None = None          # "unicast", "multicast", "local", "unreachable", ...
    error: str | None = None         # why there is no route, as `ip` said



def parse_route_get(text: str, destination: str) -> RouteInfo | None:
    """The first route of `ip -j route get` output, or None if it isn't that JSON."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, list) or not doc or not isinstance(doc[0], dict):
        return None
    r = doc[0]
    return RouteInfo(destination, _str(r.get("dev")), _str(r.get("gateway")),
                     _str(r.get("prefsrc")), _str(r.get("type")) or "unicast")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def route_to(address: str, run: Runner = run_tool,
             which: Callable[[str], str | None] = shutil.which) -> RouteInfo:
    """The route the kernel (of the calling process's namespace) uses towards `address`."""
    try:
        version = ipaddress.ip_address(address.partition("%")[0]).version
    except ValueError:
        return RouteInfo(address, None, kind="unreachable", error="not an IP address")
    if which("ip"):
        code, out, err = run(["ip", "-j", f"-{version}", "route", "get", address])
        if code == 0:
            info = parse_route_get(out, address)
            if info is not None:
                return info
        else:
            msg = err.strip().splitlines()[-1] if err.strip() else f"exit {code}"
            return RouteInfo(address, None, kind="unreachable",
                             error=msg.removeprefix("RTNETLINK answers: "))
    return _route_by_connect(address, version)


def _route_by_connect(address: str, version: int) -> RouteInfo:
    fam = socket.AF_INET if version == 4 else socket.AF_INET6
    try:
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.connect((address, 9))   # UDP connect only picks a route: nothing is sent
            local = s.getsockname()[0]
    except OSError as e:
        return RouteInfo(address, None, kind="unreachable", error=e.strerror or str(e))
    iface = interface_of_address(local, list_interfaces())
    return RouteInfo(address, iface.name if iface else None, source=local)


# --- join everywhere ------------------------------------------------------------------------------

class MembershipSocket(Protocol):
    """What join_everywhere needs of a socket: `udpscope.dgram.Socket` has it."""

    def add_membership(self, group: Any = None, interface: Any = None) -> None: ...

    def drop_membership(self, group: Any = None, interface: Any = None) -> None: ...

    def add_source_specific_membership(self, source: Any, group: Any,
                                       interface: Any = None) -> None: ...

    def drop_source_specific_membership(self, source: Any, group: Any,
                                        interface: Any = None) -> None: ...


@dataclass(frozen=True)
class JoinOutcome:
    """One interface's join: done, or the error (code, message and a hint)."""

    interface: str
    argument: str                    # what was passed to add_membership
    joined: bool
    code: str | None = None
    error: str | None = None
    hint: str | None = None


def candidate_interfaces(family: str, interfaces: Sequence[Interface] | None = None
                         ) -> list[Interface]:
    """Interfaces a group of `family` ("udp4"/"udp6") can be joined on: up, multicast-capable,
    not loopback, and (IPv4) with an address to name them by."""
    ifaces = list_interfaces() if interfaces is None else list(interfaces)
    return [i for i in ifaces if i.up and i.multicast and not i.loopback
            and (family == "udp6" or i.ipv4)]


def join_everywhere(sock: MembershipSocket, group: str, *, source: str | None = None,
                    interfaces: Sequence[Interface] | None = None) -> list[JoinOutcome]:
    """Join `group` (from `source`, if given) on every candidate interface, one membership each.

    Never raises for a failed join: each outcome says what happened (a socket holds at most
    net.ipv4.igmp_max_memberships joins, so ENOBUFS past that is reported, not hidden).
    """
    family = "udp6" if ":" in group else "udp4"
    out = []
    for iface in candidate_interfaces(family, interfaces):
        arg = iface.ipv4[0] if family == "udp4" else f"::%{iface.name}"
        try:
            if source is not None:
                sock.add_source_specific_membership(source, group, arg)
            else:
                sock.add_membership(group, arg)
        except Exception as e:   # DgramError or an argument error: reported per interface
            code = getattr(e, "code", None)
            code = code if isinstance(code, str) else type(e).__name__
            hint = errno_hint(code, getattr(e, "syscall", None))
            out.append(JoinOutcome(iface.name, arg, False, code, str(e), hint))
            continue
        out.append(JoinOutcome(iface.name, arg, True))
    return out


def leave_everywhere(sock: MembershipSocket, group: str, outcomes: Sequence[JoinOutcome], *,
                     source: str | None = None) -> None:
    """Drop every membership `join_everywhere` made (errors ignored: closing drops them too)."""
    for o in outcomes:
        if not o.joined:
            continue
        try:
            if source is not None:
                sock.drop_source_specific_membership(source, group, o.argument)
            else:
                sock.drop_membership(group, o.argument)
        except Exception:   # already gone (interface removed, socket closed)
            continue


class BatchLike(Protocol):
    """What `ArrivalCounter.observe_batch` needs of a batch: `udpscope.dgram.Batch` has it."""

    payloads: tuple[bytes, ...]

    def destination_set(self) -> AbstractSet[str | None]: ...

    def interface_set(self) -> AbstractSet[str | None]: ...

    def rinfo(self, index: int) -> Any: ...


class ArrivalCounter:
    """Counts datagrams per arrival interface (socket with metadata): as a `message` listener,
    or — cheaper — as a `batch` listener (`observe_batch`), which counts a batch whose datagrams
    all went to the group on one interface in one step.

    Bounded: at most `limit` interfaces are told apart; the rest count under "other".
    """

    def __init__(self, group: str | None = None, limit: int = 256) -> None:
        self.group = _canonical(group) if group is not None else None
        self.limit = limit
        self.by_interface: dict[str, int] = {}
        self.total = 0

    def __call__(self, msg: bytes, rinfo: Any) -> None:
        dest = getattr(rinfo, "destination", None)
        if self.group is not None and dest is not None and dest != self.group:
            return
        self.add(getattr(rinfo, "interface", None), 1)

    def add(self, interface: str | None, count: int) -> None:
        """Count `count` datagrams that arrived on `interface` (None: unknown, shown as "?")."""
        name = interface or "?"
        if name not in self.by_interface and len(self.by_interface) >= self.limit:
            name = "other"
        self.by_interface[name] = self.by_interface.get(name, 0) + count
        self.total += count

    def observe_batch(self, batch: BatchLike) -> None:
        """Count a received batch: in one step when every datagram in it went to the group
        (or the destination is unknown) on one interface, else datagram by datagram."""
        group = self.group
        dests = batch.destination_set()
        if group is not None and group not in dests and None not in dests:
            return   # none of it is the group's (the usual case for a busy unicast socket)
        n = len(batch.payloads)
        if group is None or len(dests) == 1:
            interfaces = batch.interface_set()
            if len(interfaces) == 1:
                self.add(next(iter(interfaces)), n)
                return
        for i in range(n):
            self(b"", batch.rinfo(i))

    def busiest(self) -> list[tuple[str, int]]:
        """(interface, datagrams), most datagrams first."""
        return sorted(self.by_interface.items(), key=lambda kv: (-kv[1], kv[0]))


def _canonical(address: str) -> str:
    """`address` spelled as received datagrams' destinations are ("FF15::1" -> "ff15::1")."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


def join_route_finding(group: str, source: str, join_interface: str | None = None,
                       route: Callable[[str], RouteInfo] = route_to) -> Finding | None:
    """A warning when a join made without an interface lands elsewhere than the route towards
    `source`. `join_interface` is where it landed, if known (else: the group's route)."""
    picked = join_interface or route(group).interface
    towards = route(source)
    if picked is None or towards.interface is None or picked == towards.interface:
        return None
    return Finding(
        "warning", "join on the wrong interface",
        f"the join went out {picked} (the route for {group}), but the route towards {source} "
        f"leaves by {towards.interface}: the reports tell the wrong network about this host, "
        f"and a strict reverse-path filter drops {source}'s datagrams arriving elsewhere. "
        f"Join on {towards.interface} explicitly",
        "join-interface-mismatch", f"udpscope doctor {group}@{towards.interface} --source {source}")

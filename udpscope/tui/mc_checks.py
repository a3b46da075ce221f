""""Why no traffic?" for the Multicast view: every check `udpscope doctor` runs, on what the app
has seen since the view opened.

The checks are the headless ones (`udpscope.net.diagnose`): the configuration checks, and the
ones that need watching — querier, snooping timeout, firewall, forced IGMP/MLD version, join
limits, reverse-path filter, TTL 1 from a routed sender. What they need comes in two steps:
`gather` reads the app's own state (the selected socket's joins, the capture's streams, the
querier observer) on the event loop, quickly; `run` reads the host (firewall rules and routes
run tools that can take seconds) and is meant for a worker thread. No Textual here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from udpscope.net.checks import Finding, ReceiveSetup
from udpscope.net.diagnose import Sender, Watch, diagnose
from udpscope.net.querier import FamilyStatus, QuerierView

if TYPE_CHECKING:
    from udpscope.capture import Capture, SocketEntry
    from udpscope.net.interfaces import Interface
    from udpscope.tui.mc_sources import MulticastSources

MAX_SENDERS = 64


@dataclass(frozen=True)
class CheckRequest:
    """What the app knows about receiving `group`; times are in the capture's clock."""

    group: str
    setup: ReceiveSetup
    interface: str | None                 # where the socket's join went; None: the kernel chose
    source: str | None = None
    port: int | None = None
    started_at: float = 0.0               # when the view started watching
    now: float = 0.0
    joined_at: float | None = None
    statuses: Mapping[str, FamilyStatus] = field(default_factory=dict)
    views: Mapping[tuple[str, str], QuerierView] = field(default_factory=dict)
    senders: tuple[Sender, ...] = ()
    datagrams: int = 0
    rp_before: int | None = None

    @property
    def family(self) -> str:
        return "IPv6" if ":" in self.group else "IPv4"


def _canonical(address: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_address(address.partition("%")[0]))
    except ValueError:
        return address


def gather(capture: Capture, entry: SocketEntry | None, group: str, *,
           interfaces: Sequence[Interface], statuses: Mapping[str, FamilyStatus],
           views: Mapping[tuple[str, str], QuerierView], started_at: float,
           rp_before: int | None) -> CheckRequest:
    """The request for `group` on socket `entry` (None, or closed: the host only). Quick: reads
    only the app's state, never a tool."""
    from udpscope.tui.mc_rows import interface_name

    group = _canonical(group)
    now = capture.clock()
    streams = [s for s in capture.groups.rows() if s.group == group][:MAX_SENDERS]
    senders = tuple(Sender(s.source, 0, s.packets, s.ttl_min, s.interface, s.first_seen,
                           s.last_seen) for s in streams)
    request = CheckRequest(group, ReceiveSetup(group, socket=False), None, started_at=started_at,
                           now=now, statuses=statuses, views=views, senders=senders,
                           datagrams=sum(s.packets for s in streams), rp_before=rp_before)
    if entry is None or entry.state == "closed":
        return request
    try:
        joins = entry.sock.get_memberships()
    except Exception:
        joins = []
    mine = [j for j in joins if _canonical(j[0]) == group]
    spec = mine[0][2] if mine else None
    iface = interface_name(spec, group, interfaces, ()) if spec else None
    source = mine[0][1] if mine else None
    local = entry.local()
    setup = ReceiveSetup(
        group, interface=iface, source=source, bound_address=local[0] if local else None,
        joined=bool(mine), multicast_all=False if entry.isolated else None,
        socket_joins=len(joins), socket_sources=sum(1 for j in joins if j[1]),
        sender_address=source or (senders[0].address if senders else None),
        socket_family=entry.type, socket=True)
    return replace(request, setup=setup, interface=iface, source=source,
                   port=local[1] if local else None,
                   joined_at=entry.joined_at.get(mine[0]) if mine else None)


def _local_address(interfaces: Sequence[Interface], name: str | None, family: str) -> str | None:
    iface = next((i for i in interfaces if i.name == name), None)
    if iface is None:
        return None
    if family == "IPv4":
        return next(iter(iface.ipv4), None)
    return next(iter(sorted(iface.ipv6, key=lambda a: not a.startswith("fe80"))), None)


def run(req: CheckRequest, sources: MulticastSources) -> list[Finding]:
    """Every check for `req`, errors first, one finding per id. Blocking: reads the host's
    settings, firewall rules and routes (call it from a worker thread)."""
    from udpscope.net.joins import join_route_finding

    family = req.family
    interface, named = req.interface, req.interface is not None
    if interface is None:
        with contextlib.suppress(Exception):
            interface = sources.route(req.group).interface   # where the kernel puts the join
    system = sources.system()
    status = req.statuses.get(family)
    if status is not None and status.state in ("idle", "closed"):
        status = FamilyStatus(status.family, "unobservable",
                              "the querier watch is off (w in this view starts it)")
    rp_after = sources.rp_drops()
    route_to_source = None
    if req.source:
        with contextlib.suppress(Exception):
            route_to_source = sources.route(req.source).interface
    watch = Watch(
        req.group, interface, named, req.source, req.port if req.setup.socket else None,
        req.started_at, req.now, req.joined_at, None, status,
        req.views.get((interface, family)) if interface else None, req.senders, req.datagrams,
        None if req.rp_before is None or rp_after is None else rp_after - req.rp_before,
        route_to_source, sources.ruleset(),
        _local_address(system.interfaces, interface, family))
    extra = []
    sender = req.source or (req.senders[0].address if req.senders else None)
    if not named and sender is not None and req.setup.socket:
        with contextlib.suppress(Exception):
            found = join_route_finding(req.group, sender, interface, route=sources.route)
            if found is not None:
                extra.append(found)
    return diagnose(watch, system, setup=req.setup, extra=extra)

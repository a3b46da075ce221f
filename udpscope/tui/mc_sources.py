"""Where the Multicast view reads the host from: interfaces, memberships, the system's settings,
firewall rules, routes, and the querier observer — one object, so tests can hand the view a
made-up host.

Why: the view's pictures (snapshots) and its findings must not depend on the machine they run on,
and no test may need the network to draw the view. The real readers are the defaults; a test
replaces any of them. No Textual here: the readers are also called from a worker thread (the
firewall and route readers run tools that may take seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from udpscope.net.checks import SystemView
    from udpscope.net.firewall import Ruleset
    from udpscope.net.interfaces import Interface
    from udpscope.net.joins import RouteInfo
    from udpscope.net.membership import KernelMembership
    from udpscope.net.querier import FamilyStatus, QuerierView


class QuerierSource(Protocol):
    """What the view needs of a querier observer: `udpscope.net.querier.QuerierObserver`."""

    report_joins: list[tuple[str, str]]

    def start(self) -> None:
        """Start listening on the running loop (never raises for missing privileges)."""

    def close(self) -> None:
        """Stop listening and leave the report groups."""

    def snapshot(self) -> list[QuerierView]:
        """A view per (interface, family)."""
        ...

    def status(self, family: str) -> FamilyStatus:
        """Whether `family` is observed, and if not why."""
        ...


def _interfaces() -> list[Interface]:
    from udpscope.net.interfaces import list_interfaces

    return list_interfaces()


def _memberships() -> list[KernelMembership]:
    from udpscope.net.membership import read_memberships

    return read_memberships()


def _memberships_unavailable() -> str | None:
    from udpscope.net.membership import unavailable_reason

    return unavailable_reason()


def _system() -> SystemView:
    from udpscope.net.checks import read_system

    return read_system()


def _ruleset() -> Ruleset:
    from udpscope.net.firewall import read_ruleset

    return read_ruleset()


def _route(address: str) -> RouteInfo:
    from udpscope.net.joins import route_to

    return route_to(address)


def _igmp_versions() -> dict[str, int]:
    from udpscope.net.membership import read_igmp_querier_versions

    return read_igmp_querier_versions()


def _rp_drops() -> int | None:
    from udpscope.net.checks import read_rp_filter_drops

    return read_rp_filter_drops()


def _observer() -> QuerierSource:
    from udpscope.net.querier import QuerierObserver

    return QuerierObserver()


@dataclass
class MulticastSources:
    """The readers the Multicast view uses; each defaults to the live host (the calling
    thread's network namespace)."""

    interfaces: Callable[[], Sequence[Interface]] = _interfaces
    memberships: Callable[[], Sequence[KernelMembership]] = _memberships
    memberships_unavailable: Callable[[], str | None] = _memberships_unavailable
    system: Callable[[], SystemView] = _system
    ruleset: Callable[[], Ruleset] = _ruleset
    route: Callable[[str], RouteInfo] = _route
    rp_drops: Callable[[], int | None] = _rp_drops
    igmp_versions: Callable[[], Mapping[str, int]] = _igmp_versions  # /proc/net/igmp's V1/V2/V3
    observer: Callable[[], QuerierSource] = _observer

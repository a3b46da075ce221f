"""A made-up host for the Multicast view: interfaces, memberships, settings, firewall rules,
routes and a querier observer with fixed answers — so the view's pictures and findings depend on
nothing of the machine and no test needs the network to draw it.

The observer records when it is started and closed: the view must start it only while it is
shown (it joins report groups, which makes the host send reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from udpscope.net.checks import SystemView
from udpscope.net.firewall import Ruleset
from udpscope.net.fw_iptables import parse_iptables_save
from udpscope.net.interfaces import Interface
from udpscope.net.joins import RouteInfo
from udpscope.net.membership import KernelMembership
from udpscope.net.querier import FamilyStatus, QuerierView
from udpscope.tui.mc_sources import MulticastSources

ETH0 = Interface("eth0", 2, ("10.0.0.2", "fd00::2"), True, True, False, "02:00:00:00:00:02",
                 ("10.0.0.2/24", "fd00::2/64"))
ETH1 = Interface("eth1", 3, ("192.168.7.2",), True, True, False, "02:00:00:00:00:03",
                 ("192.168.7.2/24",))
LO = Interface("lo", 1, ("127.0.0.1", "::1"), True, False, True, None,
               ("127.0.0.0/8", "::1/128"))
QUERIER = "10.0.0.254"
CAP_REASON = ("IGMP queries can't be seen: listening for them needs CAP_NET_RAW (run as root, or "
              "`setcap cap_net_raw+ep` on the interpreter)")
# A local rule that drops the host's own IGMP reports: the classic "stops after four minutes".
DROPS_IGMP = ("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
              "-A OUTPUT -o eth0 -p igmp -j DROP\nCOMMIT\n")


def observing_views() -> list[QuerierView]:
    """eth0: an IGMPv3 querier every 125 s and an MLDv1 one; eth1: nobody queries."""
    return [
        QuerierView("eth0", 2, "IPv4", "observing", querier=QUERIER, version=3, queries=4,
                    last_query_age_s=12.4, interval_s=125.0, interval_source="observed",
                    advertised_interval_s=125.0, max_response_s=10.0, robustness=2,
                    last_report_age_s=3.2, last_report_groups=("239.1.2.3",),
                    kernel_version=3, watched_s=400.0),
        QuerierView("eth0", 2, "IPv6", "observing", querier="fe80::1", version=1, queries=1,
                    last_query_age_s=40.0, interval_s=125.0, interval_source="advertised",
                    max_response_s=10.0, watched_s=400.0),
        QuerierView("eth1", 3, "IPv4", "observing", last_report_age_s=1.5, kernel_version=3,
                    watched_s=400.0),
        QuerierView("eth1", 3, "IPv6", "observing", watched_s=400.0),
    ]


def blind_views() -> list[QuerierView]:
    """What an observer without CAP_NET_RAW has: the kernel's IGMP versions, nothing heard."""
    return [QuerierView("eth0", 2, "IPv4", "unobservable", kernel_version=2),
            QuerierView("eth0", 2, "IPv6", "unobservable"),
            QuerierView("eth1", 3, "IPv4", "unobservable", kernel_version=3),
            QuerierView("eth1", 3, "IPv6", "unobservable")]


@dataclass
class FakeObserver:
    """A querier observer with fixed views; counts its starts and closes."""

    views: list[QuerierView] = field(default_factory=observing_views)
    state: str = "observing"
    reason: str | None = None
    report_joins: list[tuple[str, str]] = field(default_factory=list)
    running: bool = False
    starts: int = 0
    closes: int = 0

    def start(self) -> None:
        self.starts += 1
        self.running = True

    def close(self) -> None:
        self.closes += 1
        self.running = False

    def snapshot(self) -> list[QuerierView]:
        return [replace(v, state=self.state) for v in self.views]

    def status(self, family: str) -> FamilyStatus:
        fam = "IPv6" if family == "IPv6" else "IPv4"
        return FamilyStatus(fam, self.state, self.reason)


def system(**changes: object) -> SystemView:
    """eth0 and eth1 up, default sysctls, a multicast route via eth0."""
    from udpscope.net.checks import Route

    base = SystemView(interfaces=(LO, ETH0, ETH1), memberships=(), rp_filter={"all": 0},
                      igmp_max_memberships=20, igmp_max_msf=10,
                      routes=(Route("eth0", "224.0.0.0/4"),),
                      force_igmp_version={"all": 0}, mld_max_memberships=64)
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass
class FakeHost:
    """The readers of a made-up host, with the observers it handed out."""

    observer_views: list[QuerierView] = field(default_factory=observing_views)
    observer_state: str = "observing"
    observer_reason: str | None = None
    memberships: list[KernelMembership] = field(default_factory=list)
    system_view: SystemView = field(default_factory=system)
    ruleset_text: str | None = None
    routes: dict[str, str] = field(default_factory=lambda: {"239.1.2.3": "eth0",
                                                            "192.168.7.1": "eth1"})
    observers: list[FakeObserver] = field(default_factory=list)

    def observer(self) -> FakeObserver:
        obs = FakeObserver(list(self.observer_views), self.observer_state, self.observer_reason)
        self.observers.append(obs)
        return obs

    def ruleset(self) -> Ruleset:
        if self.ruleset_text is None:
            return Ruleset(problems=["no firewall tool in this made-up host"])
        return Ruleset(parse_iptables_save(self.ruleset_text), ["iptables-save"])

    def route(self, address: str) -> RouteInfo:
        dev = self.routes.get(address)
        return RouteInfo(address, dev, kind="unicast" if dev else "unreachable")

    def sources(self) -> MulticastSources:
        return MulticastSources(
            interfaces=lambda: [LO, ETH0, ETH1],
            memberships=lambda: list(self.memberships),
            memberships_unavailable=lambda: None,
            system=lambda: replace(self.system_view, memberships=tuple(self.memberships)),
            ruleset=self.ruleset,
            route=self.route,
            rp_drops=lambda: 0,
            igmp_versions=lambda: {"eth0": 2, "eth1": 3},
            observer=self.observer,
        )


def joined(group: str, interface: str, users: int = 1) -> KernelMembership:
    return KernelMembership(interface, {"eth0": 2, "eth1": 3}.get(interface, 9), group,
                            "IPv6" if ":" in group else "IPv4", users)

"""The querier observer's bookkeeping, fed parsed messages with a fake clock (no sockets): the
querier per interface, its version and observed interval, our own reports, bounded state, the
prune countdown, and the kernel's querier column of /proc/net/igmp."""

from __future__ import annotations

import pytest

from udpscope.net import membership
from udpscope.net.igmp import GroupRecord, Query, Report
from udpscope.net.querier import (
    FamilyStatus,
    QuerierObserver,
    QuerierView,
    membership_interval,
    prune_countdown,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def observer(clock: Clock) -> QuerierObserver:
    obs = QuerierObserver(interfaces=None, clock=clock)
    obs._names_by_index = {2: "eth0", 3: "eth1"}   # what start() would have listed
    obs._local = {"10.0.0.2", "fe80::2"}
    obs._started_at = clock.now
    obs._status = {"IPv4": FamilyStatus("IPv4", "observing"),
                   "IPv6": FamilyStatus("IPv6", "observing")}
    return obs


def q3(source: str = "10.0.0.254", group: str | None = None, interval: float | None = 125.0,
       version: int = 3) -> Query:
    return Query("IPv4", version, source, group, 10.0, robustness=2 if version == 3 else None,
                 interval_s=interval if version == 3 else None)


def test_querier_version_interval_and_ages() -> None:
    clock = Clock()
    obs = observer(clock)
    for t in (0.0, 125.0, 250.5):
        obs.feed(2, q3(), now=clock.now + t)
    clock.now += 260.0
    v = obs.view("eth0", "IPv4")
    assert (v.interface, v.index, v.family, v.state) == ("eth0", 2, "IPv4", "observing")
    assert v.querier == "10.0.0.254" and v.version == 3 and v.queries == 3
    assert v.interval_s == pytest.approx(125.25) and v.interval_source == "observed"
    assert v.advertised_interval_s == 125.0 and v.robustness == 2 and v.max_response_s == 10.0
    assert v.last_query_age_s == pytest.approx(9.5)
    assert v.watched_s == pytest.approx(260.0)
    assert v.membership_interval_s == pytest.approx(2 * 125.25 + 10)
    # nothing heard on eth1: an empty view, but a view
    assert obs.view("eth1", "IPv4").querier is None


def test_one_query_gives_the_advertised_interval_and_group_queries_keep_settings() -> None:
    clock = Clock()
    obs = observer(clock)
    obs.feed(2, q3(interval=3.0), now=clock.now)
    v = obs.view("eth0", "IPv4")
    assert v.interval_s == 3.0 and v.interval_source == "advertised"
    obs.feed(2, Query("IPv4", 3, "10.0.0.254", "239.1.2.3", 1.0), now=clock.now + 1)
    v = obs.view("eth0", "IPv4")
    assert v.queries == 2 and v.max_response_s == 10.0   # the general query's settings stay
    assert v.interval_source == "advertised"              # a group query is no interval sample


def test_v2_querier_has_no_advertised_interval() -> None:
    clock = Clock()
    obs = observer(clock)
    obs.feed(2, q3(version=2), now=clock.now)
    v = obs.view("eth0", "IPv4")
    assert v.version == 2 and v.interval_s is None and v.robustness is None
    assert v.membership_interval_s == membership_interval() == 260.0


def test_own_reports_and_others_and_queriers_changing() -> None:
    clock = Clock()
    obs = observer(clock)
    obs.feed(2, Report("IPv4", 3, "10.0.0.2", (GroupRecord("239.1.2.3", "to_ex"),)),
             now=clock.now)
    obs.feed(2, Report("IPv4", 3, "10.0.0.9", (GroupRecord("239.9.9.9", "to_ex"),)),
             now=clock.now)
    obs.feed(2, q3("10.0.0.254"), now=clock.now)
    obs.feed(2, q3("10.0.0.1"), now=clock.now + 1)
    clock.now += 5
    v = obs.view("eth0", "IPv4")
    assert v.last_report_age_s == 5.0 and v.last_report_groups == ("239.1.2.3",)
    assert v.reports_from_others == 1
    assert v.querier == "10.0.0.1" and v.other_queriers == ("10.0.0.254",)
    assert [o.message.source for o in obs.recent()] == ["10.0.0.2", "10.0.0.9", "10.0.0.254",
                                                        "10.0.0.1"]


def test_interfaces_filter_families_and_snapshot() -> None:
    clock = Clock()
    obs = observer(clock)
    obs._names = ("eth0",)
    obs.feed(3, q3(), now=clock.now)            # eth1 is not watched
    obs.feed(2, Query("IPv6", 2, "fe80::1", None, 1.0, 2, 3.0), now=clock.now)
    snap = obs.snapshot()
    assert [(v.interface, v.family) for v in snap] == [("eth0", "IPv4"), ("eth0", "IPv6")]
    assert snap[1].querier == "fe80::1" and snap[1].version == 2
    assert snap[0].querier is None


def test_bounded_memory() -> None:
    clock = Clock()
    obs = observer(clock)
    for i in range(5000):
        obs.feed(2, q3(f"10.0.{i // 250}.{i % 250}"), now=clock.now + i)
    e = obs._entries[(2, "IPv4")]
    assert len(e.other_queriers) <= 8 and len(e.general_times) <= 8
    assert all(len(t) <= 16 for t in e.general_times.values())
    assert len(obs.recent()) == 200


def test_prune_countdown_without_a_querier() -> None:
    view = QuerierView("eth0", 2, "IPv4", "observing")
    assert prune_countdown(view, joined_at=100.0, now=160.0) == pytest.approx(200.0)
    assert prune_countdown(view, joined_at=100.0, now=500.0) == 0.0
    heard = QuerierView("eth0", 2, "IPv4", "observing", querier="10.0.0.254")
    assert prune_countdown(heard, 100.0, 160.0) is None
    blind = QuerierView("eth0", 2, "IPv4", "unobservable")
    assert prune_countdown(blind, 100.0, 160.0) is None


def test_status_before_start_and_without_loop() -> None:
    obs = QuerierObserver(families=("IPv4",))
    assert obs.status("IPv4").state == "idle"
    assert obs.status("IPv6").state == "idle"
    with pytest.raises(RuntimeError):
        obs.start()   # no running loop
    obs.close()


IGMP = """\
Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter
1\tlo        :     1      V3
\t\t\t\t010000E0     1 0:00000000\t\t0
2\teth0      :     2      V2
\t\t\t\t030201EF     1 1:0000001F\t\t1
\t\t\t\t010000E0     1 0:00000000\t\t0
3\tweird dev :     1      V9
"""


def test_kernel_querier_column() -> None:
    assert membership.parse_igmp_querier_versions(IGMP) == {"lo": 3, "eth0": 2}
    assert membership.parse_igmp_querier_versions("") == {}
    assert [m.group for m in membership.parse_igmp(IGMP, "little")] == [
        "224.0.0.1", "239.1.2.3", "224.0.0.1"]

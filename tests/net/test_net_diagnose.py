"""The watch checks on made-up watches and systems: each finding's id, severity, what it says it
saw and its fix; one finding per id; and the join-everywhere helpers with a fake socket."""

from __future__ import annotations

import pytest

from udpscope.net import diagnose as D
from udpscope.net import firewall as fw
from udpscope.net import fw_iptables, joins
from udpscope.net.checks import SystemView, parse_rp_filter_drops
from udpscope.net.interfaces import Interface
from udpscope.net.querier import FamilyStatus, QuerierView

ETH0 = Interface("eth0", 2, ("10.0.0.2",), True, True, False, "02:00:00:00:00:02",
                 ("10.0.0.2/24",))
ETH1 = Interface("eth1", 3, ("192.168.5.2",), True, True, False, None, ("192.168.5.2/24",))
OBSERVING = FamilyStatus("IPv4", "observing")
QUERIER = QuerierView("eth0", 2, "IPv4", "observing", querier="10.0.0.254", version=3,
                      queries=3, interval_s=125.0, interval_source="observed", max_response_s=10.0,
                      robustness=2)
SYSTEM = SystemView(interfaces=(ETH0, ETH1), memberships=None, rp_filter={"all": 0, "eth0": 0},
                    igmp_max_memberships=20)


def watch(**kw: object) -> D.Watch:
    base: dict = dict(group="239.1.2.3", interface="eth0", started_at=0.0, ended_at=5.0,
                      joined_at=0.1, querier_status=OBSERVING, querier=QUERIER)
    base.update(kw)
    return D.Watch(**base)


def by_id(findings: list) -> dict:
    return {f.id: f for f in findings}


def test_a_healthy_watch_has_no_findings() -> None:
    assert D.diagnose(watch(), SYSTEM) == []


def test_no_querier_and_unobservable_are_different() -> None:
    f = by_id(D.diagnose(watch(querier=QuerierView("eth0", 2, "IPv4", "observing")), SYSTEM))
    assert f["no-querier"].level == "warning" and "querier-unobservable" not in f
    assert "260 s" in f["no-querier"].detail and "mcast_querier 1" in (f["no-querier"].fix or "")
    blind = FamilyStatus("IPv4", "unobservable", "listening for them needs CAP_NET_RAW")
    f = by_id(D.diagnose(watch(querier_status=blind, querier=QuerierView(
        "eth0", 2, "IPv4", "unobservable", kernel_version=2)), SYSTEM))
    assert "no-querier" not in f
    text = f["querier-unobservable"].detail
    assert "CAP_NET_RAW" in text and "not the same as no querier" in text
    assert "IGMPv2 querier recently" in text


def test_old_querier_matters_for_source_specific_joins() -> None:
    v2 = QuerierView("eth0", 2, "IPv4", "observing", querier="10.0.0.254", version=2)
    assert by_id(D.check_querier(watch(querier=v2)))["querier-version"].level == "info"
    f = by_id(D.check_querier(watch(querier=v2, source="10.0.0.1")))["querier-version"]
    assert f.level == "warning" and "IGMPv3" in f.detail and "10.0.0.1" in f.detail
    mld1 = QuerierView("eth0", 2, "IPv6", "observing", querier="fe80::1", version=1)
    f = by_id(D.check_querier(watch(group="ff15::1", querier=mld1, source="2001:db8::1")))
    assert "MLDv2" in f["querier-version"].detail


def test_snooping_timeout_matches_the_membership_interval() -> None:
    # joined at 0, traffic from 1 s to 259 s, watched until 300 s, nobody queried
    silent = QuerierView("eth0", 2, "IPv4", "observing")
    f = D.snooping_timeout(0.0, 1.0, 259.0, 300.0, silent)
    assert f is not None and f.id == "snooping-timeout" and f.level == "warning"
    assert "260 s" in f.detail
    assert D.snooping_timeout(0.0, 1.0, 259.0, 300.0, QUERIER) is None   # a querier refreshes
    assert D.snooping_timeout(0.0, 1.0, 120.0, 300.0, silent) is None    # stopped too early
    assert D.snooping_timeout(0.0, 1.0, 299.5, 300.0, silent) is None    # still flowing
    # with an observed short interval (3 s -> 2*3+1 = 7 s)
    short = QuerierView("eth0", 2, "IPv4", "observing", interval_s=3.0, max_response_s=1.0)
    assert D.snooping_timeout(0.0, 0.5, 7.2, 12.0, short) is not None
    assert D.snooping_timeout(None, 0.5, 7.2, 12.0, short) is None


def test_firewall_findings_and_unreadable_rules() -> None:
    chains = fw_iptables.parse_iptables_save(
        "*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p igmp -j DROP\n"
        "-A INPUT -p udp --dport 5000 -j DROP\nCOMMIT\n")
    rs = fw.Ruleset(chains, ["iptables-save"])
    f = by_id(D.check_firewall(watch(ruleset=rs, port=5000)))
    assert f["igmp-filtered"].level == "error"
    assert "IGMP queries arriving on eth0: dropped by iptables -t filter" in f["igmp-filtered"].detail
    assert f["igmp-filtered"].fix == "iptables -t filter -I INPUT -p igmp -j ACCEPT"
    assert f["traffic-filtered"].level == "error"
    assert "--dport 5000 -j ACCEPT" in (f["traffic-filtered"].fix or "")
    f = by_id(D.check_firewall(watch(ruleset=fw.Ruleset(problems=["nft: Operation not "
                                                                  "permitted"]))))
    assert f["firewall-unreadable"].level == "info"
    assert "Operation not permitted" in f["firewall-unreadable"].detail


def test_forced_igmp_version() -> None:
    system = SystemView(interfaces=(ETH0,), force_igmp_version={"all": 0, "eth0": 2})
    f = by_id(D.check_forced_version(watch(), system))["forced-igmp-version"]
    assert f.level == "info" and "net.ipv4.conf.eth0.force_igmp_version=2" in f.detail
    assert f.fix == "sysctl -w net.ipv4.conf.eth0.force_igmp_version=0"
    f = by_id(D.check_forced_version(watch(source="10.0.0.1"), system))["forced-igmp-version"]
    assert f.level == "warning"
    assert D.check_forced_version(watch(), SystemView(force_igmp_version={"all": 3})) == []
    six = SystemView(force_mld_version={"all": 1})
    assert by_id(D.check_forced_version(watch(group="ff15::1"), six))["forced-mld-version"]


def test_join_limits() -> None:
    f = D.check_join_limits(watch(), SystemView(igmp_max_memberships=20), socket_joins=21)
    assert f[0].level == "error" and f[0].fix == "sysctl -w net.ipv4.igmp_max_memberships=40"
    assert D.check_join_limits(watch(), SystemView(igmp_max_memberships=20), 3) == []
    f = D.check_join_limits(watch(group="ff15::1"), SystemView(mld_max_memberships=1))
    assert f[0].id == "join-limit" and f[0].level == "warning"
    assert D.check_join_limits(watch(group="ff15::1"), SystemView(mld_max_memberships=64)) == []
    f = D.check_join_limits(watch(group="ff15::1"), SystemView(mld_max_memberships=0))
    assert f[0].level == "error"


def test_rp_filter_by_counter_and_by_route() -> None:
    strict = SystemView(interfaces=(ETH0,), rp_filter={"all": 1, "eth0": 1})
    f = by_id(D.check_rp_filter(watch(rp_drops=12), strict))["rp-filter"]
    assert f.level == "error" and "dropped 12 packets" in f.detail
    f = by_id(D.check_rp_filter(watch(source="10.9.9.9", route_to_source="eth1"), strict))
    assert "leaves by eth1, not eth0" in f["rp-filter"].detail
    assert f["rp-filter"].fix == "sysctl -w net.ipv4.conf.eth0.rp_filter=2"
    f = by_id(D.check_rp_filter(watch(source="10.9.9.9", route_to_source=None), strict))
    assert "no route leads back" in f["rp-filter"].detail
    assert "ip route add 10.9.9.9 dev eth0" in (f["rp-filter"].fix or "")
    assert by_id(D.check_rp_filter(watch(), strict))["rp-filter"].level == "info"
    loose = SystemView(interfaces=(ETH0,), rp_filter={"all": 2})
    assert D.check_rp_filter(watch(source="10.9.9.9", route_to_source="eth1"), loose) == []
    assert D.check_rp_filter(watch(rp_drops=0), SYSTEM) == []
    # one finding per id in diagnose: the error wins over why_no_traffic's warning
    found = [f for f in D.diagnose(watch(source="10.9.9.9", route_to_source="eth1"), strict)
             if f.id == "rp-filter"]
    assert len(found) == 1 and found[0].level == "error"


def test_ttl_one_from_a_routed_sender_and_no_traffic() -> None:
    routed = D.Sender("172.16.0.9", 4000, 10, 1, "eth0", 1.0, 4.0)
    local = D.Sender("10.0.0.9", 4000, 10, 1, "eth0", 1.0, 4.0)
    f = by_id(D.check_senders(watch(senders=(routed,), datagrams=10, port=5000), [ETH0]))
    assert f["ttl-too-low"].level == "warning" and "172.16.0.9" in f["ttl-too-low"].detail
    assert D.check_senders(watch(senders=(local,), datagrams=10, port=5000), [ETH0]) == []
    ttl8 = D.Sender("172.16.0.9", 4000, 10, 8, "eth0", 1.0, 4.0)
    assert D.check_senders(watch(senders=(ttl8,), datagrams=10, port=5000), [ETH0]) == []
    f = by_id(D.check_senders(watch(port=5000), [ETH0]))
    assert f["no-traffic"].level == "warning" and "port 5000" in f["no-traffic"].detail
    assert D.check_senders(watch(), [ETH0]) == []   # no --port: traffic not watched


def test_join_error_interface_state_and_ordering() -> None:
    down = Interface("eth0", 2, ("10.0.0.2",), False, True, False, None, ("10.0.0.2/24",))
    found = D.diagnose(watch(join_error="addMembership ENODEV"), SystemView(interfaces=(down,)))
    f = by_id(found)
    assert f["join-failed"].level == "error" and f["interface-down"].level == "error"
    assert f["interface-down"].fix == "ip link set eth0 up"
    levels = [x.level for x in found]
    assert levels == sorted(levels, key=["error", "warning", "info"].index)
    nomc = Interface("eth0", 2, ("10.0.0.2",), True, False, False, None)
    f = by_id(D.diagnose(watch(), SystemView(interfaces=(nomc,))))
    assert f["not-multicast-interface"].fix == "ip link set eth0 multicast on"


def test_rp_filter_counter_parse() -> None:
    text = ("TcpExt: SyncookiesSent IPReversePathFilter TW\nTcpExt: 0 17 3\n"
            "IpExt: InNoRoutes\nIpExt: 0\n")
    assert parse_rp_filter_drops(text) == 17
    assert parse_rp_filter_drops("IpExt: A\nIpExt: 1\n") is None


class FakeSocket:
    def __init__(self, fail_on: set[str]) -> None:
        self.fail_on = fail_on
        self.calls: list[tuple] = []

    def add_membership(self, group: object = None, interface: object = None) -> None:
        self.calls.append(("add", group, interface))
        if interface in self.fail_on:
            err = OSError("addMembership ENOBUFS")
            err.code = "ENOBUFS"          # type: ignore[attr-defined]
            err.syscall = "addMembership"  # type: ignore[attr-defined]
            raise err

    def drop_membership(self, group: object = None, interface: object = None) -> None:
        self.calls.append(("drop", group, interface))

    def add_source_specific_membership(self, source: object = None, group: object = None,
                                       interface: object = None) -> None:
        self.calls.append(("add-ssm", source, group, interface))

    def drop_source_specific_membership(self, source: object = None, group: object = None,
                                        interface: object = None) -> None:
        self.calls.append(("drop-ssm", source, group, interface))


def test_join_everywhere_reports_each_interface() -> None:
    lo = Interface("lo", 1, ("127.0.0.1",), True, False, True, None)
    down = Interface("eth2", 4, ("10.2.0.2",), False, True, False, None)
    sock = FakeSocket({"192.168.5.2"})
    outcomes = joins.join_everywhere(sock, "239.1.2.3", interfaces=[lo, ETH0, ETH1, down])
    assert [(o.interface, o.joined, o.code) for o in outcomes] == [
        ("eth0", True, None), ("eth1", False, "ENOBUFS")]
    assert "igmp_max_memberships" in (outcomes[1].hint or "")
    joins.leave_everywhere(sock, "239.1.2.3", outcomes)
    assert sock.calls[-1] == ("drop", "239.1.2.3", "10.0.0.2")
    six = joins.join_everywhere(sock, "ff15::1", source="2001:db8::1", interfaces=[ETH0])
    assert six[0].argument == "::%eth0"
    assert sock.calls[-1] == ("add-ssm", "2001:db8::1", "ff15::1", "::%eth0")


def test_arrival_counter() -> None:
    class Info:
        def __init__(self, interface: str | None, destination: str) -> None:
            self.interface, self.destination = interface, destination

    count = joins.ArrivalCounter("239.1.2.3", limit=2)
    for name in ("eth1", "eth0", "eth1", "eth2", None):
        count(b"x", Info(name, "239.1.2.3"))
    count(b"x", Info("eth0", "10.0.0.2"))   # unicast to the same port: not counted
    assert count.busiest() == [("eth1", 2), ("other", 2), ("eth0", 1)]
    assert count.total == 5


class FakeBatch:
    """A batch of (interface, destination) datagrams; counts how many were decoded one by one."""

    def __init__(self, *items: tuple[str | None, str | None]) -> None:
        self.items = items
        self.payloads = tuple(b"x" for _ in items)
        self.decoded = 0

    def destination_set(self) -> set[str | None]:
        return {d for _, d in self.items}

    def interface_set(self) -> set[str | None]:
        return {i for i, _ in self.items}

    def rinfo(self, index: int) -> object:
        self.decoded += 1
        iface, dest = self.items[index]
        return type("Info", (), {"interface": iface, "destination": dest})()


def test_arrival_counter_takes_whole_batches() -> None:
    count = joins.ArrivalCounter("FF15:0::1")          # spelled as typed; counted as received
    one = FakeBatch(*[("eth1", "ff15::1")] * 200)
    count.observe_batch(one)
    assert one.decoded == 0 and count.busiest() == [("eth1", 200)]   # one step for the batch
    unicast = FakeBatch(("eth0", "fd00::2"), ("eth0", "fd00::2"))
    count.observe_batch(unicast)
    assert unicast.decoded == 0 and count.total == 200                # not the group's: skipped
    mixed = FakeBatch(("eth0", "ff15::1"), ("eth1", "ff15::1"), ("eth0", "fd00::2"))
    count.observe_batch(mixed)
    assert mixed.decoded == 3                                         # told apart one by one
    assert count.busiest() == [("eth1", 201), ("eth0", 1)]
    two = FakeBatch(("eth0", "ff15::1"), ("eth2", "ff15::1"))
    count.observe_batch(two)
    assert dict(count.busiest()) == {"eth1": 201, "eth0": 2, "eth2": 1} and count.total == 204


def test_route_lookup_parsing_and_mismatch_warning() -> None:
    out = '[{"type":"multicast","dst":"239.1.2.3","dev":"eth0","prefsrc":"10.0.0.2"}]'
    info = joins.parse_route_get(out, "239.1.2.3")
    assert info == joins.RouteInfo("239.1.2.3", "eth0", None, "10.0.0.2", "multicast")
    assert joins.parse_route_get("nope", "x") is None
    r = joins.route_to("10.9.9.9", run=lambda argv: (2, "", "RTNETLINK answers: Network is "
                                                     "unreachable\n"), which=lambda n: "/sbin/ip")
    assert r.interface is None and r.error == "Network is unreachable"
    routes = {"239.1.2.3": joins.RouteInfo("239.1.2.3", "eth0"),
              "10.9.9.9": joins.RouteInfo("10.9.9.9", "eth1")}
    f = joins.join_route_finding("239.1.2.3", "10.9.9.9", route=routes.__getitem__)
    assert f is not None and f.id == "join-interface-mismatch" and f.level == "warning"
    assert f.fix == "udpscope doctor 239.1.2.3@eth1 --source 10.9.9.9"
    assert joins.join_route_finding("239.1.2.3", "10.9.9.9", "eth1",
                                    route=routes.__getitem__) is None


@pytest.mark.parametrize("text", ["", "[]", "{}", "[1]"])
def test_route_get_odd_output(text: str) -> None:
    assert joins.parse_route_get(text, "10.0.0.1") is None

""""Why no traffic?" checks against made-up systems: each cause is reported, and only then."""

import pytest

from udpscope.net.checks import (
    ReceiveSetup,
    Route,
    SystemView,
    parse_routes,
    read_rp_filter,
    read_system,
    route_interface,
    why_no_traffic,
)
from udpscope.net.interfaces import Interface
from udpscope.net.membership import KernelMembership, SourceFilter

ETH = Interface("eth0", 2, ("10.0.0.5", "fd00::5"), True, True, False, "02:00:00:00:00:05",
                ("10.0.0.5/24", "fd00::5/64"))
LO = Interface("lo", 1, ("127.0.0.1", "::1"), True, False, True, None, ("127.0.0.1/8", "::1/128"))


def system(**kw):
    base = dict(
        interfaces=(LO, ETH),
        memberships=(KernelMembership("eth0", 2, "239.1.1.1", "IPv4", 1),
                     KernelMembership("eth0", 2, "232.1.1.1", "IPv4", 1,
                                      (SourceFilter("10.0.0.9", 1, 0),)),
                     KernelMembership("eth0", 2, "ff15::1", "IPv6", 1)),
        rp_filter={"all": 0, "default": 0, "eth0": 0, "lo": 0},
        igmp_max_memberships=20,
        igmp_max_msf=10,
        routes=(Route("eth0", "0.0.0.0/0", 100), Route("eth0", "10.0.0.0/24")),
    )
    base.update(kw)
    return SystemView(**base)


def titles(setup, sys_=None):
    return [f.title for f in why_no_traffic(setup, sys_ or system())]


def errors(setup, sys_=None):
    return [f.title for f in why_no_traffic(setup, sys_ or system()) if f.level == "error"]


def test_healthy_setup_has_no_errors_or_warnings():
    found = why_no_traffic(ReceiveSetup("239.1.1.1", interface="eth0"), system())
    assert [f.level for f in found if f.level != "info"] == []
    assert errors(ReceiveSetup("239.1.1.1")) == []   # interface from the default route


def test_not_a_group():
    assert errors(ReceiveSetup("10.0.0.1")) == ["not a multicast group"]


def test_interface_down_and_not_multicast():
    down = Interface("eth0", 2, ("10.0.0.5",), False, False, False, None, ("10.0.0.5/24",))
    found = errors(ReceiveSetup("239.1.1.1", interface="eth0"), system(interfaces=(down,)))
    assert "interface down" in found and "interface not multicast-capable" in found


def test_loopback_without_multicast_flag_is_only_a_warning():
    found = why_no_traffic(ReceiveSetup("239.1.1.1", interface="lo"),
                           system(memberships=(KernelMembership("lo", 1, "239.1.1.1", "IPv4",
                                                                1),)))
    flag = [f for f in found if f.title == "interface not multicast-capable"]
    assert [f.level for f in flag] == ["warning"] and "normal for lo" in flag[0].detail


def test_unknown_interface():
    assert "interface not found" in errors(ReceiveSetup("239.1.1.1", interface="eth9"))


def test_ipv4_join_on_interface_without_ipv4():
    v6 = Interface("eth0", 2, ("fd00::5",), True, True, False, None)
    assert "no IPv4 address" in errors(ReceiveSetup("239.1.1.1", interface="eth0"),
                                       system(interfaces=(v6,)))


def test_no_route_for_group_without_interface():
    found = errors(ReceiveSetup("239.1.1.1"), system(routes=(Route("eth0", "10.0.0.0/24"),)))
    assert "no route for the group" in found


def test_route_interface_longest_prefix_and_metric():
    routes = [Route("eth0", "0.0.0.0/0", 100), Route("eth1", "0.0.0.0/0", 50),
              Route("veth0", "224.0.0.0/4"), Route("veth1", "239.0.0.0/8")]
    assert route_interface("239.1.1.1", routes) == "veth1"
    assert route_interface("225.1.1.1", routes) == "veth0"
    assert route_interface("225.1.1.1", routes[:2]) == "eth1"
    assert route_interface("225.1.1.1", []) is None


def test_kernel_has_no_membership():
    assert "kernel has no membership" in errors(ReceiveSetup("239.9.9.9", interface="eth0"))
    # joined, but on another interface than the one we look at
    assert "kernel has no membership" in errors(ReceiveSetup("239.1.1.1", interface="lo"))
    # unknown kernel view: no claim either way
    assert "kernel has no membership" not in errors(ReceiveSetup("239.9.9.9", interface="eth0"),
                                                    system(memberships=None))


def test_source_missing_from_kernel_filter():
    assert errors(ReceiveSetup("232.1.1.1", interface="eth0", source="10.0.0.9")) == []
    assert "source not in the kernel's filter" in errors(
        ReceiveSetup("232.1.1.1", interface="eth0", source="10.0.0.8"))
    # a group the kernel lists without any source line: mcfilter may have skipped the device
    assert "source not in the kernel's filter" not in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", source="10.0.0.8"))


def test_bound_to_unicast_address():
    assert "socket bound to a unicast address" in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", bound_address="10.0.0.5"))
    for ok in ("0.0.0.0", "239.1.1.1", None):
        assert "socket bound to a unicast address" not in errors(
            ReceiveSetup("239.1.1.1", interface="eth0", bound_address=ok))


def test_isolation_without_join():
    assert "isolation without a join" in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", joined=False, multicast_all=False))
    relying = titles(ReceiveSetup("239.1.1.1", interface="eth0", joined=False))
    assert "relying on another socket's join" in relying
    assert "isolation without a join" not in relying


def test_nobody_joined():
    assert "nobody joined" in errors(ReceiveSetup("239.7.7.7", interface="eth0", joined=False))


def test_join_limit():
    assert "too many joins on one socket" in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", socket_joins=21))
    at = why_no_traffic(ReceiveSetup("239.1.1.1", interface="eth0", socket_joins=20), system())
    assert [f.level for f in at if f.title == "at the join limit"] == ["warning"]
    assert "igmp_max_memberships" in next(f.detail for f in at if f.title == "at the join limit")
    assert "too many joins on one socket" not in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", socket_joins=21),
        system(igmp_max_memberships=None))


def test_source_limit():
    assert "too many sources" in errors(
        ReceiveSetup("232.1.1.1", interface="eth0", source="10.0.0.9", socket_sources=11))


def test_ssm_without_source_warns():
    found = why_no_traffic(ReceiveSetup("232.1.1.1", interface="eth0"), system())
    assert [f.level for f in found if f.title == "SSM group without a source"] == ["warning"]


@pytest.mark.parametrize("rp, sender, level", [
    ({"all": 1, "eth0": 0}, "192.168.7.7", "warning"),   # max(all, iface) = strict
    ({"all": 0, "eth0": 1}, "192.168.7.7", "warning"),
    ({"all": 0, "eth0": 1}, "10.0.0.77", None),          # on the interface's subnet
    ({"all": 0, "eth0": 2}, "192.168.7.7", None),        # loose
    ({"all": 0, "eth0": 0}, "192.168.7.7", None),
    ({"all": 1, "eth0": 1}, None, "info"),
])
def test_rp_filter(rp, sender, level):
    found = why_no_traffic(
        ReceiveSetup("239.1.1.1", interface="eth0", sender_address=sender), system(rp_filter=rp))
    got = [f.level for f in found if f.title == "strict reverse-path filter"]
    assert got == ([level] if level else [])


def test_ttl_one_on_routed_path():
    assert "TTL 1 on a routed path" in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", sender_routed=True, sender_ttl=1))
    assert "TTL 1 on a routed path" in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", sender_routed=True))   # default TTL
    assert "TTL 1 on a routed path" not in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", sender_routed=True, sender_ttl=8))
    assert "TTL 1 on a routed path" not in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", sender_ttl=1))


def test_ttl_zero_never_leaves_the_host():
    assert "sender TTL 0" in errors(ReceiveSetup("239.1.1.1", interface="eth0", sender_ttl=0))


def test_link_local_group_across_router():
    sys_ = system(memberships=(KernelMembership("eth0", 2, "224.0.0.251", "IPv4", 1),))
    assert "link-local group across a router" in errors(
        ReceiveSetup("224.0.0.251", interface="eth0", sender_routed=True, sender_ttl=32), sys_)


def test_loopback_off_in_same_host_test():
    assert "loopback off in a same-host test" in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", sender_same_host=True,
                     sender_loopback=False))
    assert "loopback off in a same-host test" not in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", sender_same_host=True, sender_loopback=True))
    assert "loopback off in a same-host test" not in errors(
        ReceiveSetup("239.1.1.1", interface="eth0", sender_loopback=False))


def test_ipv6_link_local_group_without_interface_warns():
    sys_ = system(memberships=(KernelMembership("eth0", 2, "ff02::1234", "IPv6", 1),))
    found = why_no_traffic(ReceiveSetup("ff02::1234"), sys_)
    assert "no interface for a link-local group" in [f.title for f in found]
    assert "kernel has no membership" not in [f.title for f in found]


def test_ipv6_interface_local_from_elsewhere():
    sys_ = system(memberships=(KernelMembership("eth0", 2, "ff01::1234", "IPv6", 1),))
    assert "interface-local group" in errors(ReceiveSetup("ff01::1234", interface="eth0"), sys_)
    assert "interface-local group" not in errors(
        ReceiveSetup("ff01::1234", interface="eth0", sender_same_host=True), sys_)


def test_ipv6_healthy():
    assert errors(ReceiveSetup("ff15::1", interface="eth0")) == []


def test_errors_come_first():
    found = why_no_traffic(ReceiveSetup("232.9.9.9", interface="eth0", joined=False,
                                        multicast_all=False), system())
    levels = [f.level for f in found]
    assert levels == sorted(levels, key=["error", "warning", "info"].index)
    assert "error" in levels and "warning" in levels


def test_findings_are_plain_words_without_markup():
    found = why_no_traffic(ReceiveSetup("239.9.9.9", interface="eth0", sender_routed=True,
                                        sender_same_host=True, sender_loopback=False), system())
    assert len(found) >= 3
    for f in found:
        assert f.title and f.detail and "[" not in f.title


ROUTE_TEXT = (
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t010000C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
    "eth0\t000000C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "veth0\t000000E0\t00000000\t0001\t0\t0\t0\t000000F0\t0\t0\t0\n"
    "junk\n"
)


def test_parse_routes_little_endian():
    assert parse_routes(ROUTE_TEXT, "little") == [
        Route("eth0", "0.0.0.0/0", 100), Route("eth0", "192.0.0.0/24", 0),
        Route("veth0", "224.0.0.0/4", 0),
    ]


def test_read_rp_filter_and_system_from_fake_trees(tmp_path):
    conf = tmp_path / "sys/net/ipv4/conf"
    for name, v in {"all": 1, "default": 2, "eth0": 0}.items():
        (conf / name).mkdir(parents=True)
        (conf / name / "rp_filter").write_text(f"{v}\n")
    (conf / "broken").mkdir()
    (tmp_path / "sys/net/ipv4/igmp_max_memberships").write_text("20\n")
    assert read_rp_filter(str(tmp_path / "sys")) == {"all": 1, "default": 2, "eth0": 0}
    net = tmp_path / "net"
    net.mkdir()
    (net / "route").write_text(ROUTE_TEXT)
    view = read_system(str(tmp_path / "sys"), str(net))
    assert view.memberships is None            # no igmp file: unknown, not "none joined"
    assert view.igmp_max_memberships == 20 and view.igmp_max_msf is None
    assert view.rp_filter["all"] == 1
    assert view.routes is not None and len(view.routes) == 3


def test_wording_says_what_is_really_wrong():
    """An invalid address is invalid (not "not a multicast address"); a group of the other
    family is a family mismatch (not isolation errors); a socket that joined other groups is
    not said to have joined none; with no socket, nothing is said about "this socket"."""
    found = why_no_traffic(ReceiveSetup("300.1.1.1"), system())
    assert [f.title for f in found] == ["not a valid address"]
    assert "not a valid" in found[0].detail
    mismatch = why_no_traffic(ReceiveSetup("ff15::1", joined=False, multicast_all=False,
                                           socket_family="udp4"), system())
    assert [f.title for f in mismatch] == ["address family mismatch"]
    assert "udp4" in mismatch[0].detail and "udp6" in mismatch[0].detail
    other = why_no_traffic(ReceiveSetup("239.1.1.1", interface="eth0", joined=False,
                                        multicast_all=False, socket_joins=2), system())
    detail = next(f.detail for f in other if f.title == "isolation without a join")
    assert "2 other group(s), not 239.1.1.1" in detail and "joined none" not in detail
    host_only = titles(ReceiveSetup("239.1.1.1", interface="eth0", socket=False))
    assert "isolation off" not in host_only

"""The querier observer and join-everywhere as the TUI will use them, against a real bridge
querier in test namespaces (tests/snooping.py): started on the running loop, polled for views,
closed. Every socket that joins is created inside the receiver's namespace."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from tests import netns as N
from tests.waiting import wait_for
from udpscope import dgram
from udpscope.net import joins, membership
from udpscope.net.querier import QuerierObserver, prune_countdown

pytestmark = pytest.mark.netns


async def test_observer_sees_the_bridge_querier_and_our_report(lab) -> None:
    with N.inside(lab.rx):
        obs = QuerierObserver(interfaces=["eth0"])
        obs.start()
        joiner = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert obs.status("IPv4").state == "observing"
        assert obs.status("IPv6").state == "observing"
        assert ("224.0.0.22", "eth0") in obs.report_joins
        view = await wait_for(lambda: obs.view("eth0", "IPv4").querier and obs.view("eth0", "IPv4"),
                              8, what="an IGMP query from the bridge")
        assert view.querier == lab.bridge_v4 and view.version == 3
        assert view.advertised_interval_s == 3.0 and view.robustness == 2
        assert prune_countdown(view, 0.0, 1.0) is None   # a querier keeps memberships alive
        # a join sends unsolicited reports; the observer hears its own (looped back to members)
        idx = N.VethEnd(lab.rx, "eth0", "", "").index
        joiner.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                          struct.pack("4s4si", socket.inet_aton("239.4.4.4"), b"\0" * 4, idx))
        seen = await wait_for(lambda: "239.4.4.4" in obs.view("eth0", "IPv4").last_report_groups,
                              5, what="our own IGMPv3 report")
        assert seen
        assert obs.view("eth0", "IPv4").last_report_age_s is not None
        snap = obs.snapshot()
        assert {(v.interface, v.family) for v in snap} == {("eth0", "IPv4"), ("eth0", "IPv6")}
        assert any(o.interface == "eth0" for o in obs.recent())
    finally:
        joiner.close()
        obs.close()
    assert obs.status("IPv4").state == "closed"
    with N.inside(lab.rx):
        groups = {m.group for m in membership.read_memberships()}
    assert "224.0.0.22" not in groups and "239.4.4.4" not in groups   # all left on close


async def test_join_everywhere_counts_the_arrival_interface(lab) -> None:
    with N.inside(lab.rx):
        sock = dgram.create_socket(dgram.SocketOptions(type="udp4", reuse_addr=True,
                                                       metadata=True))
        info = await sock.bind_async(0)
        outcomes = joins.join_everywhere(sock, "239.5.5.5")
        route = joins.route_to("239.5.5.5")
    counter = joins.ArrivalCounter("239.5.5.5")
    sock.on("message", counter)
    try:
        assert [(o.interface, o.joined) for o in outcomes] == [("eth0", True)]
        assert route.interface == "eth0"
        with N.inside(lab.tx):
            sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with sender:
            for _ in range(20):   # bounded; a snooping bridge may need the report first
                sender.sendto(b"hello", ("239.5.5.5", info.port))
                if counter.total:
                    break
                await asyncio.sleep(0.1)
        await wait_for(lambda: counter.total >= 1, 5, what="a datagram on eth0")
        assert counter.busiest()[0][0] == "eth0"
        joins.leave_everywhere(sock, "239.5.5.5", outcomes)
        with N.inside(lab.rx):
            assert "239.5.5.5" not in {m.group for m in membership.read_memberships()}
    finally:
        sock.close()

"""Issue 4's "done when", end to end in the real app, inside namespaces the test creates.

Two senders (two source addresses in namespace A) send probes to a group that the app in
namespace B joined on a chosen interface. The app must show, per datagram, the group, the
interface and the TTL; per (group, source) the counts and the probe loss; the kernel membership
view with udpscope's join marked; and the "why no traffic?" checks must explain deliberately broken
setups (interface down, a group nobody joined, isolation) in plain words. Nothing here touches the
machine's real interfaces.
"""

from __future__ import annotations

import time

import pytest
from textual.widgets import DataTable, Input

from tests.netns import NetnsFactory, VethPair, _ip, inside
from tests.waiting import wait_for
from udpscope import dgram
from udpscope.capture import Capture
from udpscope.probe import encode_probe
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.widgets.message_log import MessageLog

pytestmark = pytest.mark.netns
GROUP = "239.77.0.1"
TTL = 5
COUNT = 20
MISSING_SEQ = 7  # the second sender skips it: one probe lost


def log_lines(app: UdpscopeApp) -> list[str]:
    log = app.screen.query_one(MessageLog)
    return [log.render_line(y).text for y in range(log.scrollable_content_region.height)]


def table_text(table: DataTable) -> str:
    return "\n".join(" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count))


async def start_senders(pair: VethPair) -> list[dgram.Socket]:
    """Two engine sockets in namespace A, one per source address, multicast TTL 5 out of veth."""
    sources = [pair.a.v4, pair.a.v4.rsplit(".", 1)[0] + ".3"]
    senders = []
    with inside(pair.a.ns):
        for source in sources:
            sock = dgram.create_socket("udp4")
            await wait_for(sock.bind_async(0, source), 5, what="the bind")
            sock.set_multicast_interface(source)
            sock.set_multicast_ttl(TTL)
            senders.append(sock)
    return senders


async def test_two_senders_to_a_joined_group_in_the_tui(netns_factory: NetnsFactory) -> None:
    pair = netns_factory.veth_pair(extra_a=(3,))  # a second source address on the sender side
    senders = await start_senders(pair)
    sources = [s.address().address for s in senders]
    try:
        with inside(pair.b.ns):
            app = UdpscopeApp(binds=[("0.0.0.0", 0)], joins=[(GROUP, pair.b.ifname)],
                              capture=Capture(ring_size=1000))
            async with app.run_test(size=(150, 45)) as pilot:
                capture = app.capture
                await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound"
                               and capture.sockets[1].sock.get_memberships(),
                               8.0, what="bound and joined", pilot=pilot)
                entry = capture.sockets[1]
                port = entry.local()[1]
                now = time.time()
                for seq in range(COUNT):
                    senders[0].send(encode_probe(seq, now, 48), port, GROUP)
                    if seq != MISSING_SEQ:
                        senders[1].send(encode_probe(seq, now, 48), port, GROUP)
                await wait_for(lambda: entry.rx_datagrams == 2 * COUNT - 1,
                               8.0, what="all probes", pilot=pilot)

                # Per datagram: the group, the ingress interface and the TTL, in their columns.
                await wait_for(lambda: any(GROUP in line for line in log_lines(app)),
                               8.0, what="log rows", pilot=pilot)
                header = app.screen.query_one(MessageLog).columns.header()
                ttl_at = header.index("ttl")
                rows = [line for line in log_lines(app) if GROUP in line]
                assert rows and all(pair.b.ifname in row and row[ttl_at:ttl_at + 3].strip() == str(TTL)
                                    for row in rows)
                records = [r for r in capture.ring if r.kind == "rx"]
                assert {(r.destination, r.interface, r.ttl) for r in records} == {
                    (GROUP, pair.b.ifname, TTL)}
                assert {r.address for r in records} == set(sources)

                # Per (group, source): counts and probe loss.
                first, second = capture.groups[(GROUP, sources[0])], capture.groups[(GROUP, sources[1])]
                assert (first.packets, second.packets) == (COUNT, COUNT - 1)
                assert first.tracker.stats().lost == 0
                assert second.tracker.stats().lost == 1
                await pilot.press("5")
                await wait_for(lambda: type(app.screen).__name__ == "StatsScreen",
                               8.0, what="stats", pilot=pilot)
                await wait_for(lambda: all(
                    s in table_text(app.screen.query_one("#group-stats", DataTable)) for s in sources),
                               8.0, what="both streams in the stats table", pilot=pilot)
                await pilot.press("escape")

                # The membership view matches the kernel and marks udpscope's join.
                await pilot.press("6")
                await wait_for(lambda: type(app.screen).__name__ == "MulticastScreen",
                               8.0, what="view", pilot=pilot)
                kernel = app.screen.query_one("#kernel-groups", DataTable)
                await wait_for(lambda: any(
                    "★" in line and GROUP in line and pair.b.ifname in line
                    for line in table_text(kernel).splitlines()),
                               8.0, what="own join marked ★", pilot=pilot)

                async def check(group: str) -> str:
                    field = app.screen.query_one("#check-group", Input)
                    field.focus()
                    field.value = group
                    await pilot.press("enter")  # submitting the field runs the checks
                    await wait_for(lambda: f"group    {group}" in app.screen.findings_text(),
                                   8.0, what=f"findings for {group}", pilot=pilot)
                    return app.screen.findings_text()

                # A group nobody joined, with isolation on: both explained in plain words.
                text = await check("239.77.0.99")
                assert "isolation without a join" in text or "nobody joined" in text
                # The joined interface goes down: said plainly.
                _ip("-n", pair.b.ns, "link", "set", "dev", pair.b.ifname, "down")
                text = await check(GROUP)
                assert "interface down" in text and pair.b.ifname in text
                _ip("-n", pair.b.ns, "link", "set", "dev", pair.b.ifname, "up")
    finally:
        for sock in senders:
            sock.close()

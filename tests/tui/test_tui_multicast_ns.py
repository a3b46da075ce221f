"""Join and leave a group from the options pane, inside a namespace the test creates.

Never on the machine's real interfaces: the app (and so every socket it makes) runs with this
thread moved into a throw-away namespace whose veth0/veth1 are looped into each other.
"""

from __future__ import annotations

import pytest
from textual.widgets import Select, Static

from tests.netns import LoopedNs, inside
from tests.tui.tui_helpers import make_app, rendered_log_lines, type_into
from tests.waiting import wait_for
from udpscope.net.membership import read_memberships

pytestmark = pytest.mark.netns
GROUP = "239.7.7.7"


async def test_join_receive_and_leave_group(looped_ns: LoopedNs) -> None:
    with inside(looped_ns.ns):
        app = make_app(binds=[("0.0.0.0", 0)])
        # Wide enough for the log's group / iface / ttl columns beside the preview.
        async with app.run_test(size=(200, 40)) as pilot:
            capture = app.capture
            await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                           what="bound", pilot=pilot)
            sock = capture.sockets[1].sock
            await pilot.press("2")
            await type_into(pilot, "#group", GROUP)
            select = app.screen.query_one("#member-iface", Select)
            await wait_for(lambda: any(str(v) == "veth0" for _, v in select._options),
                           what="namespace interfaces listed", pilot=pilot)
            select.value = "veth0"
            app.screen.query_one("#join").scroll_visible(animate=False)
            await pilot.pause()
            await pilot.click("#join")
            await wait_for(lambda: any(g == GROUP for g, _, _ in sock.get_memberships()),
                           what="joined", pilot=pilot)
            kernel = [(m.interface, m.group) for m in read_memberships()]
            assert ("veth0", GROUP) in kernel
            await wait_for(lambda: GROUP in str(app.screen.query_one("#memberships", Static).render()),
                           what="membership listed", pilot=pilot)

            # A datagram to the group from a second socket arrives with its metadata.
            sender = capture.create_socket("udp4")
            sender.sock.bind(0, looped_ns.end0.v4)
            await wait_for(lambda: sender.state == "bound", what="sender bound", pilot=pilot)
            sender.sock.set_multicast_interface(looped_ns.end0.v4)
            capture.send(sender.id, b"to the group", capture.sockets[1].local()[1], GROUP)
            await wait_for(lambda: capture.sockets[1].rx_datagrams >= 1,
                           what="group datagram", pilot=pilot)
            assert (GROUP, looped_ns.end0.v4) in capture.groups
            await wait_for(lambda: any(GROUP in line and "veth0" in line and "to the group" in line
                                              for line in rendered_log_lines(app)),
                           what="group and interface columns rendered beside the payload", pilot=pilot)
            assert "group" in str(app.screen.query_one("#log-header", Static).render())

            # Keyboard here: under the pilot, a simulated click on Leave after the one on Join
            # focuses the button but does not press it (not yet understood; Join's click works).
            app.screen.query_one("#leave").focus()
            await pilot.press("enter")
            await wait_for(lambda: not sock.get_memberships(), what="left", pilot=pilot)
            assert ("veth0", GROUP) not in [(m.interface, m.group) for m in read_memberships()]
            await pilot.press("x")
            await wait_for(lambda: capture.sockets[1].state == "closed", what="closed", pilot=pilot)


async def test_startup_join_flag_joins_on_the_named_interface(looped_ns: LoopedNs) -> None:
    with inside(looped_ns.ns):
        app = make_app(binds=[("0.0.0.0", 0)], joins=[(GROUP, "veth1")])
        async with app.run_test(size=(130, 40)) as pilot:
            capture = app.capture
            await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                           what="bound", pilot=pilot)
            await wait_for(lambda: capture.sockets[1].sock.get_memberships(),
                           what="joined", pilot=pilot)
            assert ("veth1", GROUP) in [(m.interface, m.group) for m in read_memberships()]
            assert ("veth0", GROUP) not in [(m.interface, m.group) for m in read_memberships()]
            # The multicast view marks it as ours.
            await pilot.press("6")
            await wait_for(lambda: type(app.screen).__name__ == "MulticastScreen",
                           what="view", pilot=pilot)
            table = app.screen.query_one("#kernel-groups")
            await wait_for(lambda: any(
                "★" in str(row[0]) and GROUP in str(row[2])
                for row in (table.get_row_at(i) for i in range(table.row_count))),
                           what="★ mark", pilot=pilot)

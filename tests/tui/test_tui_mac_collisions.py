"""Pane 6 shows the group-MAC collisions among what the kernel has joined, per interface.

The kernel's membership list is replaced by a fixture (no join happens, nothing is sent): two
groups on one interface that share an Ethernet MAC must be listed together; the same pair split
across two interfaces must not.
"""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from tests.tui.tui_helpers import make_app
from tests.waiting import wait_for
from udpscope.net import membership
from udpscope.net.membership import KernelMembership
from udpscope.tui.screens.multicast import MulticastScreen


def _joined(*pairs: tuple[str, str]) -> list[KernelMembership]:
    return [KernelMembership(iface, n + 1, group, "IPv6" if ":" in group else "IPv4", 1)
            for n, (iface, group) in enumerate(pairs)]


def _cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_groups_sharing_a_mac_on_one_interface_are_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    kernel = _joined(("eth7", "239.1.1.1"), ("eth7", "224.1.1.1"), ("eth7", "239.9.9.9"),
                     ("eth8", "239.1.1.1"), ("eth9", "224.1.1.1"))
    monkeypatch.setattr(membership, "unavailable_reason", lambda: None)
    monkeypatch.setattr(membership, "read_memberships", lambda: kernel)
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        await pilot.press("6")
        await wait_for(lambda: isinstance(app.screen, MulticastScreen), what="pane 6", pilot=pilot)
        table = app.screen.query_one("#mac-collisions", DataTable)
        await wait_for(lambda: table.row_count == 1, what="one collision row", pilot=pilot)
        assert _cells(table) == [["eth7", "01:00:5e:01:01:01", "239.1.1.1, 224.1.1.1"]]
        assert not app.screen.query_one("#collisions-note", Static).display


async def test_no_collision_says_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(membership, "unavailable_reason", lambda: None)
    monkeypatch.setattr(membership, "read_memberships",
                        lambda: _joined(("eth7", "239.1.1.1"), ("eth8", "224.1.1.1")))
    app = make_app()
    async with app.run_test(size=(130, 50)) as pilot:
        await pilot.press("6")
        await wait_for(lambda: isinstance(app.screen, MulticastScreen), what="pane 6", pilot=pilot)
        note = app.screen.query_one("#collisions-note", Static)
        await wait_for(lambda: note.display, what="the 'none' note", pilot=pilot)
        assert app.screen.query_one("#mac-collisions", DataTable).row_count == 0

"""Driving the Hosts view (7) in pilot tests, with the fake agents of tests/agent/fake_lan.py."""

from __future__ import annotations

from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.agent.fake_lan import FakeLan
from tests.tui.tui_helpers import make_app, no_blink, type_into, wait_for
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.hosts_session import HostsSession
from udpscope.tui.screens.host_dialog import AddHostDialog
from udpscope.tui.screens.hosts import DetailLines, HostsScreen
from udpscope.tui.widgets.host_grid import HostGrid


def hosts_app(lan: FakeLan, **kwargs) -> UdpscopeApp:  # type: ignore[no-untyped-def]
    """An app whose Hosts view reaches `lan`'s fake agents instead of starting processes."""
    app = make_app(**kwargs)
    app.hosts_session = HostsSession(link_factory=lan.link)
    return app


async def open_hosts(pilot: Pilot) -> HostsScreen:
    await pilot.press("7")
    await wait_for(lambda: isinstance(pilot.app.screen, HostsScreen), what="hosts view", pilot=pilot)
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, HostsScreen)
    return screen


async def add_host(pilot: Pilot, name: str, template: str | None = None) -> AddHostDialog:
    """Press a, type the name (and a template, if given), press enter; returns the dialog."""
    await pilot.press("a")
    await wait_for(lambda: isinstance(pilot.app.screen, AddHostDialog), what="dialog", pilot=pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, AddHostDialog)
    await type_into(pilot, "#host-name", name)
    if template is not None:
        await type_into(pilot, "#template", template)
    await pilot.press("enter")
    await pilot.pause()
    return dialog


async def set_settings(pilot: Pilot, **fields: str) -> None:
    """Type into the settings fields (group, count, rate, ttl, max_loss), then leave them."""
    for key, text in fields.items():
        await type_into(pilot, f"#set-{key.replace('_', '-')}", text)
    await pilot.press("escape")  # leave the field: back to the host list


async def start_and_finish(pilot: Pilot, timeout: float = 20.0) -> HostsScreen:
    """Press s, wait for the run to end and the view to show it."""
    screen = pilot.app.screen
    assert isinstance(screen, HostsScreen)
    await pilot.press("s")
    session = screen.session
    await wait_for(lambda: session.coordinator is not None, what="a run", pilot=pilot)
    await wait_for(lambda: not session.running, timeout, what="the run's end", pilot=pilot)
    screen.update_view(force=True)
    await pilot.pause()
    no_blink(pilot.app)
    return screen


def grid_of(screen: HostsScreen) -> HostGrid:
    return screen.query_one(HostGrid)


def static_text(screen: HostsScreen, selector: str) -> str:
    """The text a Static (or the detail) shows now."""
    widget = screen.query_one(selector)
    if isinstance(widget, DetailLines):
        return widget.content.plain
    assert isinstance(widget, Static)
    return str(widget.render())


def host_row(screen: HostsScreen, name: str) -> dict[str, str]:
    """The host list's row for `name`, as plain text by column."""
    table = screen.query_one("#host-list", DataTable)
    keys = [str(c.value) for c in table.columns]
    cells = table.get_row(name)
    return {k: c.plain if isinstance(c, Text) else str(c) for k, c in zip(keys, cells, strict=True)}


def setting(screen: HostsScreen, key: str) -> Input:
    return screen.query_one(f"#set-{key.replace('_', '-')}", Input)

"""The Hosts view (7) driven by keys, with fake agents (tests/agent/fake_lan.py): adding hosts,
the settings' validation, the grid filling in live, a symbol and a colour per loss level, a
selected cell's streams, a failed host shown while the others are measured, and the run stopped
with the app. The same view over real agents in namespaces: test_tui_hosts_netns.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest
from textual.widgets import Select

from tests.agent.fake_lan import FakeLan
from tests.tui.hosts_helpers import (
    add_host,
    grid_of,
    host_row,
    hosts_app,
    open_hosts,
    set_settings,
    setting,
    start_and_finish,
    static_text,
)
from tests.tui.tui_helpers import make_app, type_into, wait_for
from udpscope.textsafe import is_terminal_safe
from udpscope.tui.hosts_session import HostEntry
from udpscope.tui.screens.help import HelpScreen
from udpscope.tui.screens.host_dialog import AddHostDialog
from udpscope.tui.screens.hosts import HostsScreen
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.footer import KeyFooter


async def test_adding_hosts_through_the_dialog_and_removing_one() -> None:
    app = hosts_app(FakeLan())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_hosts(pilot)
        assert static_text(screen, "#hosts-hint").startswith("No hosts yet: a adds one")
        await add_host(pilot, "h1")
        await add_host(pilot, "user@10.0.0.5", "ip netns exec {host} udpscope agent")
        session = screen.session
        assert [h.name for h in session.hosts] == ["h1", "user@10.0.0.5"]
        assert session.hosts[0].argv == ("ssh", "-T", "-o", "BatchMode=yes", "h1", "udpscope",
                                         "agent")
        assert session.hosts[1].argv[:4] == ("ip", "netns", "exec", "user@10.0.0.5")
        assert host_row(screen, "h1")["host"] == "h1"
        assert not screen.query_one("#hosts-hint").display
        # The dialog offers the last template used; this machine needs none.
        await pilot.press("a")
        await wait_for(lambda: isinstance(app.screen, AddHostDialog), what="dialog", pilot=pilot)
        dialog = app.screen
        assert dialog.query_one("#template").value == "ip netns exec {host} udpscope agent"
        dialog.query_one("#via", Select).value = "local"
        await pilot.pause()
        assert dialog.query_one("#template").disabled
        await pilot.press("enter")
        await wait_for(lambda: app.screen is screen, what="dialog closed", pilot=pilot)
        assert session.hosts[-1].name == "local"
        assert session.hosts[-1].argv == (sys.executable, "-m", "udpscope", "agent")
        assert session.hosts[-1].via == "local"
        assert host_row(screen, "local")["notes"] == "this machine"
        # x removes the host under the list's cursor.
        assert app.focused is screen.query_one("#host-list")
        await pilot.press("x")
        assert [h.name for h in session.hosts] == ["h1", "user@10.0.0.5"]


async def test_a_bad_host_is_answered_under_its_field_and_the_text_stays() -> None:
    app = hosts_app(FakeLan())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_hosts(pilot)
        await add_host(pilot, "h1")
        dialog = await add_host(pilot, "-oProxyCommand=sh", "ssh {host} udpscope agent")
        assert app.screen is dialog, "the dialog stays open on bad input"
        name_error = dialog.query_one("#name-error", FieldMessage)
        assert "starts with '-'" in name_error.text
        assert dialog.query_one("#host-name").value == "-oProxyCommand=sh"
        await type_into(pilot, "#host-name", "h1")
        await type_into(pilot, "#template", "ssh h1 udpscope agent")
        await pilot.press("enter")
        await pilot.pause()
        assert "in the list already" in dialog.query_one("#name-error", FieldMessage).text
        assert "has no {host}" in dialog.query_one("#template-error", FieldMessage).text
        assert dialog.query_one("#template").value == "ssh h1 udpscope agent"
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, what="dialog cancelled", pilot=pilot)
        assert [h.name for h in screen.session.hosts] == ["h1"]


async def test_bad_settings_are_answered_and_nothing_starts() -> None:
    lan = FakeLan()
    app = hosts_app(lan)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_hosts(pilot)
        await add_host(pilot, "h1")
        await add_host(pilot, "h2")
        await set_settings(pilot, group="239.1.2.3", count="0")
        await pilot.press("s")
        await pilot.pause()
        message = screen.query_one("#settings-error", FieldMessage).text
        assert "needs GROUP:PORT" in message and "count: 0 is out of range" in message
        assert setting(screen, "group").value == "239.1.2.3"
        assert setting(screen, "count").value == "0"
        assert setting(screen, "group").has_class("-invalid")
        assert not setting(screen, "rate").has_class("-invalid")
        assert app.focused is setting(screen, "group"), "the first bad field gets the focus"
        assert screen.session.coordinator is None and lan.links == {}
        # One host is not a grid.
        await set_settings(pilot, group="239.1.2.3:5000", count="20")
        await pilot.press("x")
        await pilot.press("s")
        await pilot.pause()
        assert "add at least two hosts" in screen.query_one("#settings-error", FieldMessage).text
        assert screen.session.coordinator is None


async def test_the_grid_fills_in_live_and_stop_ends_the_run() -> None:
    lan = FakeLan()
    app = hosts_app(lan)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_hosts(pilot)
        for name in ("h1", "h2", "h3"):
            await add_host(pilot, name)
        await set_settings(pilot, group="239.1.2.3:5000", count="3000", rate="100")
        grid = grid_of(screen)
        assert grid.cell_plain("h1", "h2") == ("·", "none")
        await pilot.press("s")
        session = screen.session
        assert session.running and app.focused is grid
        await wait_for(lambda: grid.cell_plain("h1", "h2") == ("✓0/0", "ok"), 10,
                       what="a measured cell", pilot=pilot)
        snap = session.snapshot()
        assert snap is not None and snap.phase == "sending" and snap.ok is None
        assert "running: s stops it" in static_text(screen, "#verdict")
        assert "sending probes" in static_text(screen, "#hosts-title")
        # The selected cell's numbers grow as reports come in (the slow tick pulls them).
        detail = static_text(screen, "#detail")
        assert detail.startswith("h1 → h2")
        refreshes = screen.refresh_count
        await wait_for(lambda: static_text(screen, "#detail") != detail, 5,
                       what="the detail to change", pilot=pilot)
        assert screen.refresh_count > refreshes
        footer = screen.query_one(KeyFooter)
        assert [label.label for label in footer.shown if label.key == "s"] == ["Stop"]
        await pilot.press("s")
        await wait_for(lambda: not session.running, 10, what="the run to stop", pilot=pilot)
        await wait_for(lambda: "NOT OK" in static_text(screen, "#verdict"), what="verdict", pilot=pilot)
        assert "stopped before the end" in static_text(screen, "#verdict")
        assert lan.joined == {} and all(link.closed for link in lan.links.values())
        assert [label.label for label in footer.shown if label.key == "s"] == ["Start"]


async def test_each_loss_level_has_its_symbol_and_its_colour() -> None:
    lan = FakeLan(drop={("h3", "multicast"): 1.0, ("h2", "unicast"): 0.2})
    app = hosts_app(lan)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_hosts(pilot)
        for name in ("h1", "h2", "h3"):
            await add_host(pilot, name)
        await set_settings(pilot, group="239.1.2.3:5000", count="20", rate="200")
        await start_and_finish(pilot)
        grid = grid_of(screen)
        colours = app.theme_variables
        expected = {
            ("h2", "h1"): ("✓0/0", colours["text-success"], False),
            ("h1", "h2"): ("!0/15", colours["text-warning"], True),
            ("h1", "h3"): ("✗100/0", colours["text-error"], True),
            ("h1", "h1"): ("—", None, False),
        }
        for (sender, receiver), (text, colour, bold) in expected.items():
            assert grid.cell_plain(sender, receiver)[0] == text  # type: ignore[index]
            style = grid.cell_style(sender, receiver)
            if colour is None:
                assert style.dim
            else:
                assert style.color is not None and style.color.triplet is not None
                assert style.color.triplet.hex.upper() == colour.upper()
                assert bool(style.bold) == bold
        legend = static_text(screen, "#grid-legend")
        assert all(mark in legend for mark in ("✓", "!", "✗", "·"))
        verdict = " ".join(line.strip() for line in static_text(screen, "#verdict").splitlines())
        assert verdict.startswith("✗ NOT OK: h2: loss on all unicast into it; h3: multicast fails "
                                  "where unicast works (in); 4 cells over max loss 0%")
        assert host_row(screen, "h3")["mc in"] == "✗100"


async def test_a_selected_cell_shows_that_pairs_streams() -> None:
    app = hosts_app(FakeLan())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_hosts(pilot)
        for name in ("h1", "h2", "h3"):
            await add_host(pilot, name)
        await set_settings(pilot, group="239.1.2.3:5000", count="20", rate="200", ttl="3")
        await start_and_finish(pilot)
        grid = grid_of(screen)
        assert app.focused is grid and grid.selected() == ("h1", "h2")
        await pilot.press("down", "right")
        assert grid.selected() == ("h2", "h3")
        lines = static_text(screen, "#detail").splitlines()
        assert lines[0] == "h2 → h3"
        assert lines[1] == " multicast: sent 20, heard 20, lost 0 (0%), 0 dup, 0 reordered"
        assert lines[2] == "   delay 0.2 ms (0.12–0.41), jitter 0.03, TTL 3, from 10.77.0.2 on eth0"
        assert lines[3] == " unicast: sent 20, heard 20, lost 0 (0%), 0 dup, 0 reordered"
        assert "TTL 64, from 10.77.0.2" in lines[4]
        # A host's own cell, or the host list, describes the host.
        await pilot.press("left")
        assert static_text(screen, "#detail").startswith("h2: done, 10.77.0.2")
        await pilot.press("shift+tab")
        assert app.focused is screen.query_one("#host-list")
        assert static_text(screen, "#detail").startswith("h3: done, 10.77.0.3")  # the last added
        await pilot.press("up")
        assert static_text(screen, "#detail").startswith("h2: done, 10.77.0.2")


async def test_a_failed_host_shows_its_error_while_the_others_are_measured() -> None:
    hostile = "ssh: connect to host h4 port 22: \x1b]52;c;AAAA\x07No route to host\x1b[2J"
    lan = FakeLan(exits={"h4": hostile})
    app = hosts_app(lan)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_hosts(pilot)
        for name in ("h1", "h2", "h3", "h4"):
            await add_host(pilot, name)
        await set_settings(pilot, group="239.1.2.3:5000", count="20", rate="200")
        await start_and_finish(pilot)
        row = host_row(screen, "h4")
        assert row["state"] == "failed"
        assert row["notes"].startswith("failed: the agent did not start (exit status 255): ssh: "
                                       "connect to host h4 port 22: \\e]52;c;AAAA\\x07No route")
        grid = grid_of(screen)
        for sender in ("h1", "h2", "h3"):
            for receiver in ("h1", "h2", "h3"):
                if sender != receiver:
                    assert grid.cell_plain(sender, receiver) == ("✓0/0", "ok")
            assert grid.cell_plain(sender, "h4") == ("·", "none")
        assert grid.column_label("h4") == "✗h4"
        assert static_text(screen, "#verdict") == "✗ NOT OK: 1 host failed (h4)"
        # The host's detail has the whole error, escaped.
        screen.set_focus(screen.query_one("#host-list"))
        await pilot.pause()
        detail = static_text(screen, "#detail")
        assert "h4: failed" in detail and "No route to host\\e[2J" in detail
        # Nothing of it reaches the terminal raw.
        shown = app.export_screenshot()
        assert "\x1b]52" not in shown and "\x07" not in shown
        assert all(is_terminal_safe(line) for line in detail.splitlines())


@pytest.mark.parametrize("how", ["ctrl+q", "SIGTERM"])
async def test_quitting_stops_the_run_and_every_agent(how: str) -> None:
    lan = FakeLan()
    app = hosts_app(lan, handle_signals=how == "SIGTERM")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_hosts(pilot)
        for name in ("h1", "h2"):
            await add_host(pilot, name)
        await set_settings(pilot, group="239.1.2.3:5000", count="3000", rate="100")
        await pilot.press("s")
        await wait_for(lambda: len(lan.joined) == 2, 10, what="both to join", pilot=pilot)
        # The run goes on while another view is shown.
        await pilot.press("1")
        await pilot.pause(0.3)
        assert screen.session.running and len(lan.joined) == 2
        if how == "ctrl+q":
            await pilot.press("ctrl+q")
        else:
            handlers = getattr(asyncio.get_running_loop(), "_signal_handlers", {})
            assert signal.SIGTERM in handlers, "the app catches SIGTERM (else it would kill us)"
            os.kill(os.getpid(), signal.SIGTERM)
            await wait_for(lambda: app.exit_signal == signal.SIGTERM, what="the signal", pilot=pilot)
    if how == "SIGTERM":
        assert app.return_value == 128 + signal.SIGTERM
    assert lan.joined == {} and all(link.closed for link in lan.links.values())
    assert all("bye" in link.commands for link in lan.links.values())
    assert not screen.session.running


async def test_escape_leaves_a_field_then_the_view() -> None:
    app = hosts_app(FakeLan())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_hosts(pilot)
        screen.set_focus(setting(screen, "count"))
        await pilot.press("7", "escape")
        assert setting(screen, "count").value == "7", "a digit goes into the field, not to panes"
        assert app.focused is screen.query_one("#host-list")
        await pilot.press("escape")
        await wait_for(lambda: app.current_mode == "main", what="back to main", pilot=pilot)


async def test_the_hosts_key_is_in_the_footer_at_80_columns_and_in_the_help() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        shown = [(label.key, label.label) for label in app.screen.query_one(KeyFooter).shown]
        assert ("7", "Hosts") in shown
        assert ("6", "Multicast") in shown and ("?", "Help") in shown
        await pilot.press("7")
        await wait_for(lambda: isinstance(app.screen, HostsScreen), what="hosts view", pilot=pilot)
        await pilot.pause()
        shown = [(label.key, label.label) for label in app.screen.query_one(KeyFooter).shown]
        assert ("s", "Start") in shown and ("a", "Add host") in shown and ("esc", "Back") in shown
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), what="help", pilot=pilot)
        text = app.screen.plain_text()
        assert "Hosts view" in text and "who hears whom" in text
        assert "stop the run: every agent is stopped" in text


async def test_sixteen_hosts_at_80x24_the_grid_follows_the_cursor() -> None:
    names = [f"rack{i // 4 + 1}-node{i % 4 + 1:02d}.example.net" for i in range(16)]
    app = hosts_app(FakeLan())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_hosts(pilot)
        for name in names:
            screen.session.add(HostEntry(name, "ssh {host} udpscope agent", ("ssh", name)))
        await set_settings(pilot, group="239.1.2.3:5000", count="20", rate="200")
        screen.update_view(force=True)
        await start_and_finish(pilot)
        grid = grid_of(screen)
        assert app.focused is grid and grid.scroll_x == 0 and grid.scroll_y == 0
        # Cut names would all read "rac…e01": the grid numbers its hosts instead.
        assert grid.column_label(names[15]) == "#16"
        assert host_row(screen, names[0])["#"] == "1"
        await pilot.press("end", "pagedown", "pagedown")
        assert grid.selected() == (names[15], names[15])
        assert grid.scroll_x > 0 and grid.scroll_y > 0, "the view follows the cursor"
        await pilot.press("left")
        assert grid.selected() == (names[15], names[14])
        assert static_text(screen, "#detail").startswith(f"{names[15]} → {names[14]}")
        await pilot.press("home", "up")
        assert grid.selected() == (names[14], names[0])
        assert grid.scroll_x == 0
        # Every cell was measured, in and out of view.
        assert all(grid.cell_plain(s, r) == ("✓0/0", "ok") for s in names for r in names if s != r)


async def test_g_goes_to_the_settings_and_an_edited_template_is_ones_own() -> None:
    app = hosts_app(FakeLan())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_hosts(pilot)
        await pilot.press("g")
        assert app.focused is setting(screen, "group")
        await pilot.press("escape", "a")
        await wait_for(lambda: isinstance(app.screen, AddHostDialog), what="dialog", pilot=pilot)
        dialog = app.screen
        assert dialog.query_one("#via", Select).value == "ssh"
        await type_into(pilot, "#template", "ssh -p 2222 {host} udpscope agent")
        await pilot.pause()
        assert dialog.query_one("#via", Select).value == "custom"
        assert dialog.query_one("#template").value == "ssh -p 2222 {host} udpscope agent"

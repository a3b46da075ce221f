"""What a first-time user relies on without reading docs: the empty start says which key begins,
"n, Enter" makes a bound socket, panes say what state they act on, and stale messages go away."""

from __future__ import annotations

from textual.widgets import Button, Checkbox, Input, Select, Static

from tests.tui.tui_helpers import make_app, type_into
from tests.waiting import wait_for
from udpscope.tui.screens.dialogs import NewSocketDialog
from udpscope.tui.widgets.socket_list import SocketList


async def test_empty_start_hint_then_n_enter_creates_a_bound_socket() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        sockets = app.screen.query_one(SocketList)
        assert "press n" in str(sockets.border_subtitle)
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, NewSocketDialog), what="dialog", pilot=pilot)
        # Focus starts in a text field, so Enter creates instead of opening the type list.
        assert isinstance(app.focused, Input)
        await pilot.press("enter")
        capture = app.capture
        await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                       what="bound socket", pilot=pilot)
        await wait_for(lambda: "b bind" in str(sockets.border_subtitle),
                       what="key hint", pilot=pilot)
        compose_from = app.screen.query_one("#compose-from", Static)
        await wait_for(lambda: "#1 udp4" in str(compose_from.render()),
                       what="from line", pilot=pilot)


async def test_options_pane_follows_close_and_disables_controls() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(100, 30)) as pilot:
        capture = app.capture
        await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                       what="bound", pilot=pilot)
        await pilot.press("2")
        title = app.screen.query_one("#opt-title", Static)
        await wait_for(lambda: "(bound)" in str(title.render()), what="bound title", pilot=pilot)
        await pilot.press("x")
        await wait_for(lambda: "is closed" in str(title.render()), what="closed title", pilot=pilot)
        assert app.screen.query_one("#set-ttl", Button).disabled
        assert app.screen.query_one("#broadcast", Checkbox).disabled
        assert "ERR_" not in str(app.screen.query_one("#k-ttl", Static).render())


async def test_options_pane_is_built_when_its_tab_is_clicked() -> None:
    # The pane is not composed at start (start-up time); a click on its tab, not only key 2,
    # must build it for the selected socket.
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(120, 30)) as pilot:  # wide: the tabs are beside the log
        capture = app.capture
        await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                       what="bound", pilot=pilot)
        assert not app.screen.query("#opt-title")
        await pilot.click("#--content-tab-options-tab")
        await wait_for(lambda: app.screen.query("#opt-title"), what="options pane", pilot=pilot)
        title = app.screen.query_one("#opt-title", Static)
        await wait_for(lambda: "(bound)" in str(title.render()), what="bound title", pilot=pilot)


async def test_composer_placeholder_follows_kind_and_errors_clear_on_edit() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: app.capture.sockets and app.capture.sockets[1].state == "bound",
                       what="bound", pilot=pilot)
        await pilot.press("3")
        payload = app.screen.query_one("#payload", Input)
        app.screen.query_one("#payload-kind", Select).value = "hex"
        await wait_for(lambda: "hex" in payload.placeholder, what="hex placeholder", pilot=pilot)
        await type_into(pilot, "#dest-host", "127.0.0.1")
        await type_into(pilot, "#dest-port", "99999")
        await pilot.press("enter")
        error = app.screen.query_one("#dest-error")
        await wait_for(lambda: error.has_class("-visible"), what="port error", pilot=pilot)
        await pilot.press("backspace")
        await wait_for(lambda: not error.has_class("-visible"), what="error cleared", pilot=pilot)
        assert app.screen.query_one("#dest-port", Input).value == "9999"


async def test_udp6_options_show_only_what_applies_and_buffers_are_settable() -> None:
    app = make_app(binds=[("::1", 0)])
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(lambda: app.capture.sockets and app.capture.sockets[1].state == "bound",
                       what="bound", pilot=pilot)
        await pilot.press("2")
        await wait_for(lambda: app.screen.query("#opt-title"), what="options", pilot=pilot)
        title = app.screen.query_one("#opt-title", Static)
        await wait_for(lambda: "udp6" in str(title.render()), what="udp6 title", pilot=pilot)
        assert not app.screen.query_one("#broadcast-row").display  # IPv6 has no broadcast
        assert str(app.screen.query_one("#label-ttl").render()) == "hop limit"
        await type_into(pilot, "#recv-buf", "256KiB")
        await pilot.press("enter")
        sock = app.capture.sockets[1].sock
        await wait_for(lambda: sock.get_recv_buffer_size() >= 256 * 1024, what="set", pilot=pilot)
        await wait_for(lambda: "KiB" in str(app.screen.query_one("#k-bufs").render()),
                       what="kernel value in IEC units", pilot=pilot)


async def test_disconnect_is_logged() -> None:
    app = make_app(binds=[("127.0.0.1", 0), ("127.0.0.1", 0)])
    async with app.run_test(size=(120, 36)) as pilot:
        capture = app.capture
        await wait_for(lambda: len(capture.sockets) == 2 and all(
            e.state == "bound" for e in capture.sockets.values()),
                       what="bound", pilot=pilot)
        peer = capture.sockets[2].local()
        capture.sockets[1].sock.connect(peer[1], peer[0])
        await wait_for(lambda: capture.sockets[1].state == "connected",
                       what="connected", pilot=pilot)
        app.selected_socket = 1
        await pilot.press("d")
        await wait_for(lambda: any(r.event == "disconnect" for r in capture.ring),
                       what="disconnect in the log", pilot=pilot)
        row = next(r for r in capture.ring if r.event == "disconnect")
        assert row.sock_id == 1 and str(peer[1]) in (row.text or "")


async def test_one_tab_reaches_the_group_field_of_the_checks() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(120, 36)) as pilot:
        for path in (["6"], ["escape", "3", "escape", "6"], ["escape", "5", "6"]):
            await pilot.press(*path)
            await wait_for(lambda: type(app.screen).__name__ == "MulticastScreen",
                           what="view", pilot=pilot)
            await pilot.press("tab")
            await wait_for(lambda: getattr(app.focused, "id", None) == "check-group",
                           what=f"group field after {path}", pilot=pilot)

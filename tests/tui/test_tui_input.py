"""Exact input: keys that arrive together (tmux send-keys, a paste, a script) land where they were
typed, in order, and a send reads every field as it was when Enter was pressed.

Each burst is posted in one go through the terminal driver's own parser, so no key is handled
before the last one has arrived: the situation in which Textual's bubbling of bound keys used to
overtake typed text (to=127.0.0.15555, an empty hex datagram).
"""

from __future__ import annotations

import asyncio
import time

from textual.widgets import Input, Select

from tests.tui.tui_helpers import burst, make_app, receive, udp_receiver
from tests.waiting import wait_for
from udpscope.tui.screens import main as main_screen
from udpscope.tui.screens.dialogs import NewSocketDialog


async def _bound(pilot, app) -> None:  # type: ignore[no-untyped-def]
    await wait_for(lambda: app.capture.sockets and app.capture.sockets[1].state == "bound",
                   what="bound", pilot=pilot)


def value(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return app.screen.query_one(selector, Input).value


async def test_tab_in_a_burst_moves_the_following_text_to_the_next_field() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(100, 30)) as pilot:
        await _bound(pilot, app)
        for _ in range(3):
            await pilot.press("escape", "4")  # out of the field: "4" is the log's key again
            # "3" focuses the composer's 'to' field: the text right behind it goes there.
            burst(app, "3127.0.0.1\t5555")
            await wait_for(lambda: value(app, "#dest-port") == "5555",
                           what="port typed", pilot=pilot)
            assert value(app, "#dest-host") == "127.0.0.1"
            # Back, clear both, again: shift+tab and ctrl+u in the same burst.
            burst(app, "\x15\x1b[Z\x15")
            await wait_for(lambda: not value(app, "#dest-host") and not value(app, "#dest-port"),
                           what="both cleared", pilot=pilot)


async def test_a_whole_send_in_one_burst_right_after_3_follows_the_fields_order() -> None:
    """At 100 columns "3" shows the composer instead of the log; the Tabs behind it in the same
    read are handled before that layout. Tab follows the fields' order (to, port, kind, payload,
    Saved), not the stale positions of a pane just shown, so the text lands in the payload and
    Enter sends it (it once went to the Saved button, and "n" opened a new-socket dialog)."""
    app = make_app(binds=[("127.0.0.1", 0)])
    rx = udp_receiver()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await _bound(pilot, app)
            await pilot.press("4")
            burst(app, f"3127.0.0.1\t{rx.getsockname()[1]}\t\tsent in one burst\r")
            assert await receive(pilot, rx) == b"sent in one burst"
            assert app.screen.focused is app.screen.query_one("#payload", Input)
            burst(app, "\t\t")  # past the payload: Saved, then count
            await wait_for(lambda: app.screen.focused is app.screen.query_one("#count", Input),
                           what="count focused", pilot=pilot)
    finally:
        rx.close()


async def test_hex_payload_retyped_in_a_burst_is_sent_exactly() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    rx = udp_receiver()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await _bound(pilot, app)
            await pilot.press("3")
            burst(app, f"127.0.0.1\t{rx.getsockname()[1]}")
            await wait_for(lambda: value(app, "#dest-port") != "", what="port", pilot=pilot)
            app.screen.query_one("#payload-kind", Select).value = "hex"
            app.screen.set_focus(app.screen.query_one("#payload", Input))
            for n in range(6):
                # ctrl+u clears what is there, then new digits, then Enter sends: in this order.
                data = bytes([0x41 + n, 0x42 + n])
                burst(app, "\x15" + data.hex(" ") + "\r")
                assert await receive(pilot, rx) == data
    finally:
        rx.close()


async def test_backspace_and_arrows_apply_between_the_characters_around_them() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(100, 30)) as pilot:
        await _bound(pilot, app)
        await pilot.press("3")
        burst(app, "127.0.0.2\x7f1\x1b[D\x1b[D\x7f9")  # 127.0.0.2, ⌫, 1, ←, ←, ⌫, 9
        await wait_for(lambda: value(app, "#dest-host") == "127.0.9.1", what="edited", pilot=pilot)


async def test_n_enter_in_a_burst_creates_a_bound_socket() -> None:
    """The dialog is not there yet when Enter arrives: the key waits for it, not lost."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        burst(app, "n127.0.0.1\r")
        await wait_for(lambda: app.capture.sockets and app.capture.sockets[1].state == "bound",
                       what="a socket created and bound", pilot=pilot)
        assert app.capture.sockets[1].local()[0] == "127.0.0.1"
        assert not isinstance(app.screen, NewSocketDialog)


async def test_enter_on_a_checkbox_submits_the_dialog() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, NewSocketDialog), what="dialog", pilot=pilot)
        app.screen.set_focus(app.screen.query_one("#reuse-addr"))
        burst(app, " \r")  # space ticks it, Enter creates
        await wait_for(lambda: app.capture.sockets, what="created", pilot=pilot)
        assert not isinstance(app.screen, NewSocketDialog)


async def test_a_100k_unbracketed_paste_is_one_edit_not_one_per_key() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(100, 30)) as pilot:
        await _bound(pilot, app)
        await pilot.press("3")
        payload = app.screen.query_one("#payload", Input)
        app.screen.set_focus(payload)
        edits = []
        app.screen.watch(payload, "value", lambda v: edits.append(len(v)), init=False)
        text = "abcdefghij" * 10_000
        started = time.monotonic()
        burst(app, text)
        await wait_for(lambda: len(payload.value) == len(text), 30, what="pasted", pilot=pilot)
        assert payload.value == text
        assert len(edits) <= 5, f"{len(edits)} edits of the field for one paste"
        assert time.monotonic() - started < 20


async def test_bracketed_paste_of_a_maximum_datagram_is_sent_whole() -> None:
    from textual import events

    app = make_app(binds=[("127.0.0.1", 0)])
    rx = udp_receiver()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await _bound(pilot, app)
            await pilot.press("3")
            burst(app, f"127.0.0.1\t{rx.getsockname()[1]}")
            await wait_for(lambda: value(app, "#dest-port") != "", what="port", pilot=pilot)
            app.screen.set_focus(app.screen.query_one("#payload", Input))
            text = "x" * 65507  # the most a UDP/IPv4 datagram carries
            app.post_message(events.Paste(text))
            burst(app, "\r")
            assert await receive(pilot, rx) == text.encode()
    finally:
        rx.close()


async def test_a_filter_edit_applies_before_the_next_key() -> None:
    """/, ctrl+u (clearing a filter that hid every row), Enter (back to the log), Enter (open the
    newest row): the second Enter must see the rows of the cleared filter."""
    from tests.tui.tui_helpers import log_of
    from udpscope.tui.screens.detail import PacketDetail

    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(100, 30)) as pilot:
        await _bound(pilot, app)
        await pilot.press("slash", *"text:nothing", "enter")
        await wait_for(lambda: log_of(app).has_focus and not log_of(app).rows,
                       what="filtered", pilot=pilot)
        burst(app, "/\x15\r\r")
        await wait_for(lambda: isinstance(app.screen, PacketDetail),
                       what="detail opened", pilot=pilot)
        assert app.screen.record.event == "listening"


async def test_keys_after_a_pane_key_wait_until_that_pane_has_its_place_in_the_layout(
        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The wait behind a pane key ends when the pane is laid out, not at the next refresh: the
    screen can refresh before the change that shows the pane reaches its layout."""
    monkeypatch.setattr(main_screen, "LAYOUT_WAIT", 60.0)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        log = screen.message_log
        log.display = False
        await wait_for(lambda: not log.region, what="log hidden", pilot=pilot)
        laid_out = screen._laid_out(log)
        for _ in range(5):  # laid out five times over, the log still hidden
            refreshed = asyncio.get_running_loop().create_future()
            screen.call_after_refresh(lambda f=refreshed: f.done() or f.set_result(None))
            screen.refresh(layout=True)
            await wait_for(refreshed, what="a refresh")
        assert not laid_out.done()
        log.display = True
        await wait_for(laid_out, what="laid out once shown")
        assert log.region

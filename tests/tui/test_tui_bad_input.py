"""Bad input in every field: a visible message next to it, the typed text kept, nothing changed."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Select

from tests.tui.tui_helpers import field_message, make_app, type_into
from tests.waiting import wait_for
from udpscope.tui.screens.dialogs import NewSocketDialog


async def _bound_app(pilot, app) -> None:  # type: ignore[no-untyped-def]
    await wait_for(lambda: app.capture.sockets and app.capture.sockets[1].state == "bound",
                   what="bound", pilot=pilot)


@pytest.mark.parametrize(
    ("field", "text", "kind", "error_box", "expect"),
    [
        ("#dest-port", "70000", "text", "#dest-error", "out of range"),
        ("#dest-port", "abc", "text", "#dest-error", "not a number"),
        ("#dest-host", "300.1.1.1", "text", "#dest-error", "not a valid IPv4"),
        ("#payload", "zz", "hex", "#payload-error", "bad character"),
        ("#payload", "!!!", "base64", "#payload-error", "bad character"),
        ("#count", "0", "text", "#count-error", "count"),
        ("#rate", "fast", "text", "#count-error", "rate"),
    ],
)
async def test_composer_rejects_bad_field(field: str, text: str, kind: str, error_box: str, expect: str) -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        await _bound_app(pilot, app)
        entry = app.capture.sockets[1]
        await pilot.press("3")
        good = {"#dest-host": "127.0.0.1", "#dest-port": "9", "#payload": "6869", "#count": "1"}
        for sel, value in good.items():
            if sel != field:
                app.screen.query_one(sel, Input).value = value
        app.screen.query_one("#payload-kind", Select).value = kind
        await type_into(pilot, field, text)
        issued: list[tuple[object, ...]] = []
        send = entry.sock.send
        entry.sock.send = lambda *args: (issued.append(args), send(*args))[1]  # type: ignore[method-assign]  # counts what the composer issues
        await pilot.press("enter")
        await wait_for(lambda: field_message(app, error_box), what="error message", pilot=pilot)
        assert expect in field_message(app, error_box)
        assert app.screen.query_one(field, Input).value == text
        assert issued == []  # a send is issued before the composer returns: none was
        assert entry.tx_datagrams == 0 and entry.tx_errors == 0
        assert not any(r.kind == "tx" for r in app.capture.ring)


@pytest.mark.parametrize(
    ("field", "text", "expect"),
    [("#ttl", "300", "out of range"), ("#mcast-ttl", "-1", "TTL"), ("#ttl", "ten", "TTL")],
)
async def test_options_reject_bad_ttl(field: str, text: str, expect: str) -> None:
    box = f"{field}-error"
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        await _bound_app(pilot, app)
        sock = app.capture.sockets[1].sock
        before = (sock.get_ttl(), sock.get_multicast_ttl())
        await pilot.press("2")
        await type_into(pilot, field, text)
        await pilot.press("enter")
        await wait_for(lambda: field_message(app, box), what="error message", pilot=pilot)
        assert expect in field_message(app, box)
        assert app.screen.query_one(field, Input).value == text
        assert (sock.get_ttl(), sock.get_multicast_ttl()) == before


async def test_options_good_ttl_is_read_back_from_kernel() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        await _bound_app(pilot, app)
        await pilot.press("2")
        await type_into(pilot, "#ttl", "33")
        await pilot.press("enter")
        await wait_for(lambda: "kernel: 33" in str(app.screen.query_one("#k-ttl").render()),
                       what="kernel TTL shown", pilot=pilot)
        assert app.capture.sockets[1].sock.get_ttl() == 33


async def test_options_bad_group_keeps_text() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        await _bound_app(pilot, app)
        await pilot.press("2")
        await type_into(pilot, "#group", "239.1.2")
        await pilot.press("enter")
        await wait_for(lambda: field_message(app, "#member-error"), what="error message", pilot=pilot)
        assert app.screen.query_one("#group", Input).value == "239.1.2"
        assert app.capture.sockets[1].sock.get_memberships() == []


@pytest.mark.parametrize(
    ("field", "text", "box", "expect"),
    [
        ("#bind-port", "99999", "#bind-error", "out of range"),
        ("#bind-address", "1.2.3", "#bind-error", "not a valid IPv4"),
        ("#recv-buf", "lots", "#buf-error", "receive buffer"),
    ],
)
async def test_new_socket_dialog_rejects_bad_field(field: str, text: str, box: str, expect: str) -> None:
    app = make_app()
    async with app.run_test(size=(130, 36)) as pilot:
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, NewSocketDialog), what="dialog", pilot=pilot)
        await type_into(pilot, field, text)
        await pilot.press("enter")
        await wait_for(lambda: field_message(app, box), what="error message", pilot=pilot)
        assert expect in field_message(app, box)
        assert isinstance(app.screen, NewSocketDialog)
        assert app.screen.query_one(field, Input).value == text
        assert app.capture.sockets == {}


async def test_log_filter_rejects_bad_hex_and_filters_good() -> None:
    app = make_app()
    async with app.run_test(size=(130, 36)) as pilot:
        await pilot.press("slash")
        await type_into(pilot, "#filter", "hex:zz")
        await wait_for(lambda: field_message(app, "#filter-error"), what="filter error", pilot=pilot)
        assert app.screen.query_one("#filter", Input).value == "hex:zz"


async def test_composer_file_that_is_a_fifo_is_refused_without_freezing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A FIFO as "as file" used to block the event loop inside open() (capture stopped, ctrl+q
    ignored); now it is refused at once with a message under the payload."""
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        await _bound_app(pilot, app)
        await pilot.press("3")
        app.screen.query_one("#dest-host", Input).value = "127.0.0.1"
        app.screen.query_one("#dest-port", Input).value = "9"
        app.screen.query_one("#payload-kind", Select).value = "file"
        await type_into(pilot, "#payload", str(fifo))
        await pilot.press("enter")
        await wait_for(lambda: field_message(app, "#payload-error"), 5, what="refused", pilot=pilot)
        assert "FIFO" in field_message(app, "#payload-error")
        assert app.capture.sockets[1].tx_datagrams == 0


async def test_composer_quotes_the_limit_of_the_sockets_family() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        await _bound_app(pilot, app)
        await pilot.press("3")
        screen = app.screen
        screen.query_one("#dest-host", Input).value = "127.0.0.1"
        screen.query_one("#dest-port", Input).value = "9"
        screen.query_one("#payload", Input).value = "x" * 65508
        screen.set_focus(screen.query_one("#payload", Input))
        await pilot.press("enter")
        await wait_for(lambda: field_message(app, "#payload-error"), what="too large", pilot=pilot)
        text = field_message(app, "#payload-error")
        assert "65507" in text and "IPv4" in text and "65527" not in text

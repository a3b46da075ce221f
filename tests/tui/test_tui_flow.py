"""The main path through the app, driven by keys as a user would, on real loopback sockets."""

from __future__ import annotations

import socket

from textual.widgets import Input, Static

from tests.tui.tui_helpers import log_of, make_app, rendered_log_lines, type_into
from tests.waiting import wait_for
from udpscope.textsafe import is_terminal_safe
from udpscope.tui.screens.detail import PacketDetail
from udpscope.tui.screens.dialogs import NewSocketDialog


async def test_create_bind_send_to_itself_detail_close() -> None:
    app = make_app()
    async with app.run_test(size=(130, 36)) as pilot:
        capture = app.capture
        # n: the new-socket dialog; bind to loopback, random port.
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, NewSocketDialog), what="dialog", pilot=pilot)
        await type_into(pilot, "#bind-address", "127.0.0.1")
        await pilot.press("enter")
        await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                       what="socket bound", pilot=pilot)
        entry = capture.sockets[1]
        port = entry.local()[1]
        assert app.selected_socket == 1

        # 3: the composer; send "hello udpscope" to ourselves.
        await pilot.press("escape", "3")
        await type_into(pilot, "#dest-host", "127.0.0.1")
        await type_into(pilot, "#dest-port", str(port))
        await type_into(pilot, "#payload", "hello udpscope")
        await pilot.press("ctrl+s")
        await wait_for(lambda: entry.rx_datagrams == 1 and entry.tx_datagrams == 1,
                       what="datagram looped back", pilot=pilot)
        # The payload stays for the next send.
        assert app.screen.query_one("#payload", Input).value == "hello udpscope"
        log = log_of(app)
        await wait_for(lambda: any(r.kind == "rx" for r in log.rows), what="log row", pilot=pilot)
        lines = rendered_log_lines(app)
        rx_lines = [line for line in lines if " rx " in line and "hello udpscope" in line]
        assert rx_lines, lines
        assert f"127.0.0.1:{port}" in rx_lines[0]
        assert all(is_terminal_safe(line) for line in lines)
        await wait_for(lambda: "sent 1/1" in str(app.screen.query_one("#send-result").render()),
                       what="send result shown", pilot=pilot)
        assert "14 bytes" in str(app.screen.query_one("#send-result").render())

        # 4: the log; select the received row and open its detail.
        await pilot.press("escape", "4")
        assert app.focused is log
        index = next(i for i, r in enumerate(log.rows) if r.kind == "rx")
        log.cursor = None
        await pilot.press("home")
        for _ in range(index):
            await pilot.press("down")
        assert log.selected is not None and log.selected.kind == "rx"
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, PacketDetail), what="detail", pilot=pilot)
        fields = str(app.screen.query_one("#fields", Static).render())
        assert f"127.0.0.1:{port}" in fields and "14 bytes" in fields
        hexdump = str(app.screen.query_one("#hex", Static).render())
        assert "68 65 6c 6c 6f 20 75 64" in hexdump and "|hello udpscope|" in hexdump
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, PacketDetail),
                       what="detail closed", pilot=pilot)

        # x: close the socket; the close event reaches the log.
        await pilot.press("x")
        await wait_for(lambda: entry.state == "closed", what="closed", pilot=pilot)
        await wait_for(lambda: any(r.event == "close" for r in log.rows),
                       what="close row", pilot=pilot)


async def test_startup_bind_shows_datagram_sent_to_it() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        capture = app.capture
        await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                       what="start-up bind", pilot=pilot)
        host, port = capture.sockets[1].local()
        assert host == "127.0.0.1" and port > 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"from outside", ("127.0.0.1", port))
        await wait_for(lambda: any("from outside" in line for line in rendered_log_lines(app)),
                       what="datagram rendered", pilot=pilot)


async def test_engine_error_is_notified_logged_and_not_fatal() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        app = make_app(binds=[("127.0.0.1", port)])
        async with app.run_test(size=(130, 36)) as pilot:
            capture = app.capture
            await wait_for(lambda: capture.error_count >= 1, what="bind error", pilot=pilot)
            entry = capture.sockets[1]
            assert entry.last_error_code == "EADDRINUSE"
            await wait_for(lambda: any("EADDRINUSE" in n.message for n in app._notifications),
                           what="notification", pilot=pilot)
            await wait_for(lambda: any("EADDRINUSE" in line for line in rendered_log_lines(app)),
                           what="error row", pilot=pilot)
            # The app still works: a new socket can be made.
            await pilot.press("n")
            await wait_for(lambda: isinstance(app.screen, NewSocketDialog),
                           what="dialog", pilot=pilot)
            await pilot.press("escape")


async def test_connect_send_without_destination_and_disconnect() -> None:
    app = make_app(binds=[("127.0.0.1", 0), ("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        capture = app.capture
        await wait_for(lambda: len(capture.sockets) == 2 and all(
            e.state == "bound" for e in capture.sockets.values()),
                       what="bound", pilot=pilot)
        first, second = capture.sockets[1], capture.sockets[2]
        # Pick socket #2 in the list with the keyboard.
        await pilot.press("1")
        await wait_for(lambda: app.focused is app.screen.query_one("#sockets"),
                       what="focus", pilot=pilot)
        await pilot.press("down")
        await wait_for(lambda: app.selected_socket == 2, what="socket 2 selected", pilot=pilot)
        await pilot.press("c")
        await wait_for(lambda: type(app.screen).__name__ == "EndpointDialog",
                       what="dialog", pilot=pilot)
        await type_into(pilot, "#address", "127.0.0.1")
        await type_into(pilot, "#port", str(first.local()[1]))
        await pilot.press("enter")
        await wait_for(lambda: second.state == "connected", what="connected", pilot=pilot)
        assert second.peer() == first.local()
        await wait_for(lambda: any(r.event == "connect" for r in capture.ring),
                       what="event", pilot=pilot)
        # Composer with no destination: goes to the connected peer.
        await pilot.press("3")
        await type_into(pilot, "#payload", "via connect")
        await pilot.press("ctrl+s")
        await wait_for(lambda: first.rx_datagrams == 1, what="received", pilot=pilot)
        assert [r.payload for r in capture.ring if r.kind == "rx"] == [b"via connect"]
        await pilot.press("escape", "d")
        await wait_for(lambda: second.state == "bound", what="disconnected", pilot=pilot)


async def test_udp6_socket_sends_to_itself_on_ipv6_loopback() -> None:
    app = make_app(binds=[("::1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        capture = app.capture
        await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                       what="bound", pilot=pilot)
        entry = capture.sockets[1]
        assert entry.type == "udp6"
        port = entry.local()[1]
        await pilot.press("3")
        await type_into(pilot, "#dest-host", "::1")
        await type_into(pilot, "#dest-port", str(port))
        app.screen.query_one("#payload-kind").value = "hex"
        await type_into(pilot, "#payload", "de ad be ef")
        await pilot.press("enter")
        await wait_for(lambda: entry.rx_datagrams == 1, what="received", pilot=pilot)
        rx = next(r for r in capture.ring if r.kind == "rx")
        assert rx.payload == b"\xde\xad\xbe\xef" and rx.family == "IPv6"
        await wait_for(lambda: any(f"[::1]:{port}" in line for line in rendered_log_lines(app)),
                       what="IPv6 peer rendered in brackets", pilot=pilot)


async def test_detail_steps_copies_and_saves(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """In the detail: ←/→ step through the log's rows (the log's cursor follows), c/x copy the
    payload as safe text or hex (OSC 52 through Textual), s saves its exact bytes to a new file."""
    monkeypatch.chdir(tmp_path)
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        capture = app.capture
        await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                       what="bound", pilot=pilot)
        port = capture.sockets[1].local()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for payload in (b"first", b"\x1b]0;second\x07", b"third"):
                s.sendto(payload, ("127.0.0.1", port))
        log = log_of(app)
        await wait_for(lambda: sum(r.kind == "rx" for r in log.rows) == 3, what="rows", pilot=pilot)
        app.screen.set_focus(log)
        await pilot.press("enter")  # the newest row: "third"
        await wait_for(lambda: isinstance(app.screen, PacketDetail), what="detail", pilot=pilot)
        detail = app.screen
        assert detail.record.payload == b"third"
        await pilot.press("left")
        assert detail.record.payload == b"\x1b]0;second\x07"
        assert log.selected is detail.record or log.selected == detail.record
        copied: list[str] = []
        monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
        await pilot.press("c", "x")
        assert copied == [r"\e]0;second\x07", "1b 5d 30 3b 73 65 63 6f 6e 64 07"]
        await pilot.press("s")
        await wait_for(lambda: type(app.screen).__name__ == "SavePayloadDialog",
                       what="save", pilot=pilot)
        await pilot.press("enter")
        saved = tmp_path / f"udpscope-{detail.record.seq}.bin"
        await wait_for(saved.exists, what="saved", pilot=pilot)
        assert saved.read_bytes() == b"\x1b]0;second\x07"
        await pilot.press("left", "left")  # past the oldest datagram: the listening event, then stop
        assert detail.record.kind == "event"
        await pilot.press("right", "right", "right", "right")
        assert detail.record.payload == b"third"  # the newest: stays there


async def test_send_on_a_connected_socket_ignores_to_and_port_and_says_so() -> None:
    app = make_app(binds=[("127.0.0.1", 0), ("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        capture = app.capture
        await wait_for(lambda: len(capture.sockets) == 2 and all(
            e.state == "bound" for e in capture.sockets.values()),
                       what="bound", pilot=pilot)
        first, second = capture.sockets[1], capture.sockets[2]
        second.sock.connect(first.local()[1], "127.0.0.1")
        await wait_for(lambda: second.state == "connected", what="connected", pilot=pilot)
        app.selected_socket = 2
        await pilot.press("3")
        await type_into(pilot, "#dest-host", "10.9.9.9")
        await type_into(pilot, "#dest-port", "9")
        await type_into(pilot, "#payload", "to the peer")
        await pilot.press("enter")
        await wait_for(lambda: first.rx_datagrams == 1, what="delivered to the peer", pilot=pilot)
        result = app.screen.query_one("#send-result")
        await wait_for(lambda: "sent 1/1" in str(result.render()), what="result", pilot=pilot)
        assert "ignored" in str(result.render())

"""The live log: follow / "N new" / jump back, pause, clear, filters, and no per-datagram work."""

from __future__ import annotations

import socket

import pytest
from textual.widgets import Input, Static

from tests.tui.tui_helpers import log_of, make_app, refresh_ticks, rendered_log_lines, type_into
from tests.waiting import wait_for
from udpscope.tui.widgets.message_log import MessageLog


async def _started(pilot, app) -> int:  # type: ignore[no-untyped-def]
    await wait_for(lambda: app.capture.sockets and app.capture.sockets[1].state == "bound",
                   what="bound", pilot=pilot)
    return app.capture.sockets[1].local()[1]


def _send(port: int, payloads) -> None:  # type: ignore[no-untyped-def]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for p in payloads:
            s.sendto(p, ("127.0.0.1", port))


async def _hundred_rows(pilot, app) -> tuple[MessageLog, int]:  # type: ignore[no-untyped-def]
    """The bound socket's port, once the log shows its event and rows "row 0" .. "row 99"."""
    port = await _started(pilot, app)
    log = log_of(app)
    _send(port, [f"row {i}".encode() for i in range(100)])
    await wait_for(lambda: len(log.rows) == 101, what="100 rows", pilot=pilot)
    return log, port


def status(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one("#log-status", Static).render())


async def test_follow_turns_off_on_scroll_up_and_counts_new_rows() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        log, port = await _hundred_rows(pilot, app)
        assert log.following and log.scroll_y == log.max_scroll_y
        assert "row 99" in rendered_log_lines(app)[-1]
        log.focus()
        await pilot.press("up", "pageup", "pageup")
        await wait_for(lambda: not log.following, what="follow off", pilot=pilot)
        top = log.scroll_y
        _send(port, [f"late {i}".encode() for i in range(7)])
        await wait_for(lambda: log.new_count == 7, what="7 new", pilot=pilot)
        assert log.scroll_y == top  # the view did not jump
        await wait_for(lambda: "7 new" in status(app), what="marker shown", pilot=pilot)
        await pilot.click("#log-status")  # the marker is clickable
        await wait_for(lambda: log.following and log.new_count == 0,
                       what="following again", pilot=pilot)
        assert log.scroll_y == log.max_scroll_y
        assert "late 6" in " ".join(rendered_log_lines(app))
        # And by keyboard: End jumps back to the newest row and follows.
        log.focus()
        await pilot.press("pageup", "pageup")
        await wait_for(lambda: not log.following, what="follow off again", pilot=pilot)
        await pilot.press("end")
        await wait_for(lambda: log.following and log.scroll_y == log.max_scroll_y,
                       what="End follows", pilot=pilot)


async def test_pause_resume_and_clear() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        port = await _started(pilot, app)
        log = log_of(app)
        log.focus()
        await pilot.press("space")
        assert log.paused
        _send(port, [b"while paused"])
        await wait_for(lambda: app.capture.sockets[1].rx_datagrams == 1,
                       what="received", pilot=pilot)
        await refresh_ticks(pilot)  # the log had its chances to pull the datagram
        assert not any(r.kind == "rx" for r in log.rows)
        assert "paused" in status(app)
        await pilot.press("space")
        await wait_for(lambda: any(r.payload == b"while paused" for r in log.rows),
                       what="shown after resume", pilot=pilot)
        await pilot.press("ctrl+l")
        assert len(log.rows) == 0
        _send(port, [b"after clear"])
        await wait_for(lambda: [r.payload for r in log.rows] == [b"after clear"],
                       what="only new rows", pilot=pilot)


async def test_filters_by_socket_direction_peer_text_and_hex() -> None:
    app = make_app(binds=[("127.0.0.1", 0), ("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        await wait_for(lambda: len(app.capture.sockets) == 2 and all(
            e.state == "bound" for e in app.capture.sockets.values()),
                       what="bound", pilot=pilot)
        p1 = app.capture.sockets[1].local()[1]
        p2 = app.capture.sockets[2].local()[1]
        _send(p1, [b"alpha", b"\x01\x02bin"])
        _send(p2, [b"beta"])
        log = log_of(app)
        await wait_for(lambda: sum(r.kind == "rx" for r in log.rows) == 3, what="3 rx", pilot=pilot)

        async def apply(text: str) -> list[bytes]:
            await type_into(pilot, "#filter", text)
            await pilot.pause()
            return [r.payload for r in log.rows if r.kind == "rx"]

        assert await apply("#2") == [b"beta"]
        assert await apply("dir:ev") == []
        assert all(r.kind == "event" for r in log.rows) and log.rows
        assert await apply("text:alp") == [b"alpha"]
        assert await apply("hex:0102") == [b"\x01\x02bin"]
        assert await apply(f"peer:{p2}") == []  # peer is the sender, not us
        assert sorted(await apply("dir:rx")) == sorted([b"alpha", b"\x01\x02bin", b"beta"])
        assert len(await apply("")) == 3
        # New rows obey the active filter.
        await apply("#1")
        _send(p2, [b"hidden"])
        _send(p1, [b"shown"])
        await wait_for(lambda: any(r.payload == b"shown" for r in log.rows),
                       what="shown", pilot=pilot)
        assert not any(r.payload == b"hidden" for r in log.rows)


async def test_burst_is_not_formatted_per_datagram(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls = 0
    original = MessageLog._format

    def counting(self, *args):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return original(self, *args)

    monkeypatch.setattr(MessageLog, "_format", counting)
    app = make_app(binds=[("127.0.0.1", 0)], ring_size=50_000)
    async with app.run_test(size=(130, 36)) as pilot:
        port = await _started(pilot, app)
        entry = app.capture.sockets[1]
        total = 20_000
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for start in range(0, total, 100):
                for i in range(start, start + 100):
                    s.sendto(b"burst %d" % i, ("127.0.0.1", port))
                await pilot.pause(0.002)
        # The kernel may drop some of a burst; its drop counter only advances with the next
        # datagram read, so wait for the last datagram (or for the counters to add up).
        await wait_for(lambda: entry.rx_datagrams + entry.kernel_drops >= total
                       or any(r.payload == b"burst %d" % (total - 1) for r in app.capture.ring),
                       20, what="burst received", pilot=pilot)
        log = log_of(app)
        await wait_for(lambda: len(log.rows) == entry.rx_datagrams + 1,
                       what="log caught up", pilot=pilot)
        # How much the kernel dropped depends on the machine's load; what must hold is that the
        # log has every datagram the socket got, and that formatting did not follow the count.
        assert entry.rx_datagrams >= total // 4, (entry.rx_datagrams, entry.kernel_drops)
        assert calls < 3000, calls  # ~visible rows per frame, not one per datagram
        last = log.rows[-1].payload.decode()
        assert last in " ".join(rendered_log_lines(app))


async def test_kernel_drops_of_a_flood_are_shown_and_accounted() -> None:
    """A burst larger than the receive buffer: what the kernel dropped is on the main screen."""
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        port = await _started(pilot, app)
        entry = app.capture.sockets[1]
        sent = 20_000
        _send(port, [b"d" * 1000] * sent)  # the loop is blocked meanwhile: the buffer overflows
        await wait_for(lambda: entry.kernel_drops > 0
                       and entry.rx_datagrams + entry.kernel_drops == sent,
                       10, what="every datagram received or counted as dropped", pilot=pilot)
        await wait_for(lambda: f"kernel dropped {entry.kernel_drops}" in status(app),
                       10, what="drops in the status line", pilot=pilot)


async def test_a_full_log_holds_the_rows_being_read_and_catches_up_on_end() -> None:
    """Under a flood the ring turns over in a fraction of a second: once the user moves the
    cursor up, the rows on screen (and the selected one) must stay until they jump back."""
    app = make_app(binds=[("127.0.0.1", 0)], ring_size=60)
    async with app.run_test(size=(130, 36)) as pilot:
        port = await _started(pilot, app)
        log = log_of(app)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(80):
                s.sendto(b"old %d" % i, ("127.0.0.1", port))
            await wait_for(lambda: log.rows and log.rows[-1].payload == b"old 79",
                           what="first 80", pilot=pilot)
            log.focus()
            await pilot.press("up", "up")
            await wait_for(lambda: not log.following, what="cursor stopped following", pilot=pilot)
            selected = log.selected
            first = log.rows[0]
            for i in range(100):
                s.sendto(b"new %d" % i, ("127.0.0.1", port))
            await wait_for(lambda: app.capture.seq >= 181, what="100 more captured", pilot=pilot)
            await wait_for(lambda: log.new_count == 100, what="100 counted as new", pilot=pilot)
        assert log.rows[0] == first and log.selected == selected  # nothing moved under the reader
        status = str(app.screen.query_one("#log-status").render())
        assert "100 new (view held)" in status
        await pilot.press("end")
        await wait_for(lambda: log.rows[-1].payload == b"new 99", what="caught up", pilot=pilot)
        assert log.following and log.new_count == 0 and len(log.rows) == 60
        assert [r.payload for r in log.rows][-60:] == [b"new %d" % i for i in range(40, 100)]


async def test_new_counts_rows_that_arrived_not_filter_edits() -> None:
    """With the cursor up and no traffic, typing and deleting a filter re-reads the ring: that
    adds no "new" rows (each re-read used to add every matching row to the count)."""
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        port = await _started(pilot, app)
        log = log_of(app)
        _send(port, [f"row {i}".encode() for i in range(60)])
        await wait_for(lambda: len(log.rows) == 61, what="60 rows", pilot=pilot)
        log.focus()
        await pilot.press("up", "up", "pageup")
        await wait_for(lambda: not log.following, what="not following", pilot=pilot)
        await pilot.press("slash")
        filter_bar = app.screen.query_one("#filter", Input)
        counts = []
        # Each matches 11 rows (row 5, row 50..59): fewer than the view shows, so no scrolling.
        for text in ("text:row 5", "text:row 4", "text:row 3", ""):
            filter_bar.value = text
            await pilot.pause()
            counts.append(log.new_count)
        assert counts == [0, 0, 0, 0]
        assert "new" not in status(app)
        # Reading up again, only arrivals count.
        log.focus()
        await pilot.press("up", "up", "pageup")
        await wait_for(lambda: not log.following, what="not following again", pilot=pilot)
        _send(port, [b"late 1", b"late 2", b"late 3"])
        await wait_for(lambda: log.new_count == 3, what="3 new", pilot=pilot)
        await wait_for(lambda: "▼ 3 new" in status(app), what="shown", pilot=pilot)


async def test_new_counts_only_rows_that_match_the_filter_while_held() -> None:
    app = make_app(binds=[("127.0.0.1", 0)], ring_size=40)
    async with app.run_test(size=(130, 36)) as pilot:
        port = await _started(pilot, app)
        log = log_of(app)
        await type_into(pilot, "#filter", "text:keep")
        _send(port, [b"keep %d" % i for i in range(50)])
        await wait_for(lambda: len(log.rows) == 40, what="a full log", pilot=pilot)
        log.focus()
        await pilot.press("up", "up")  # the first selects the last row, the second moves up
        await wait_for(lambda: not log.following, what="not following", pilot=pilot)
        _send(port, [b"drop", b"keep new", b"drop", b"keep newer"])
        await wait_for(lambda: app.capture.sockets[1].rx_datagrams == 54,
                       what="received", pilot=pilot)
        await wait_for(lambda: log.new_count == 2, what="2 matching new", pilot=pilot)
        await refresh_ticks(pilot)  # later refreshes count nothing twice
        assert log.new_count == 2 and log.held


async def test_a_filter_matching_nothing_says_so() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        port = await _started(pilot, app)
        _send(port, [b"alpha"])
        log = log_of(app)
        await wait_for(lambda: any(r.kind == "rx" for r in log.rows), what="a row", pilot=pilot)
        await type_into(pilot, "#filter", "text:nothing-like-this")
        await wait_for(lambda: "no rows match text:nothing-like-this" in status(app),
                       what="status says no rows match", pilot=pilot)
        assert "no datagrams yet" not in status(app)
        assert "no rows match" in rendered_log_lines(app)[0]


@pytest.mark.parametrize("theme", ["udpscope-dark", "udpscope-light", "high-contrast"])
async def test_the_selected_row_is_visible_in_every_theme_and_dimmer_when_blurred(theme: str) -> None:
    """The cursor is drawn over every segment of the row (it used to sit under each segment's
    own background, so no row looked selected), and it is dimmer while the log lacks focus."""
    app = make_app(binds=[("127.0.0.1", 0)], theme=theme)
    async with app.run_test(size=(100, 30)) as pilot:
        port = await _started(pilot, app)
        log = log_of(app)
        _send(port, [b"\x1b[31mescaped\x1b[0m and plain", b"next"])
        await wait_for(lambda: len(log.rows) == 3, what="rows", pilot=pilot)
        log.focus()
        await pilot.press("up", "up")
        await wait_for(lambda: log.cursor == 1, what="row 1 selected", pilot=pilot)
        y = 1 - int(log.scroll_y)

        def backgrounds(row: int) -> set[object]:
            return {seg.style.bgcolor for seg in log.render_line(row) if seg.style and seg.text.strip()}

        focused = backgrounds(y)
        assert len(focused) == 1 and focused.isdisjoint(backgrounds(y + 1))
        await pilot.press("slash")  # focus leaves the log
        await wait_for(lambda: not log.has_focus, what="blurred", pilot=pilot)
        await pilot.pause()
        blurred = backgrounds(y)
        assert len(blurred) == 1 and blurred != focused and blurred.isdisjoint(backgrounds(y + 1))


class _Counted:
    """Counts the rows the log draws (render_line calls), from a given moment."""

    def __init__(self, log: MessageLog) -> None:
        self.calls: list[int] = []
        draw = log.render_line

        def counted(y: int):  # type: ignore[no-untyped-def]
            self.calls.append(y)
            return draw(y)

        log.render_line = counted  # type: ignore[method-assign]


async def test_a_cursor_step_redraws_two_rows_and_a_pause_none() -> None:
    # Under a flood the frame after a key waited for the whole log to be drawn again: a step of
    # the cursor changes two rows, pausing (a status-line matter) changes none.
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 36)) as pilot:
        log, _port = await _hundred_rows(pilot, app)
        log.focus()
        await pilot.press("up")  # selects the newest row
        await wait_for(lambda: log.cursor == 100, what="the last row selected", pilot=pilot)
        await pilot.pause()
        counted = _Counted(log)
        await pilot.press("up")
        await wait_for(lambda: log.cursor == 99, what="the row above selected", pilot=pilot)
        await wait_for(lambda: len(counted.calls) >= 2, what="the two rows drawn", pilot=pilot)
        await pilot.pause()
        top = int(log.scroll_y)
        assert sorted(counted.calls) == [99 - top, 100 - top]
        counted.calls.clear()
        await pilot.press("space")
        await wait_for(lambda: log.paused and "paused" in status(app), what="paused", pilot=pilot)
        await pilot.pause()
        assert counted.calls == []
        await pilot.press("space")
        await wait_for(lambda: not log.paused and "paused" not in status(app), what="resumed",
                       pilot=pilot)

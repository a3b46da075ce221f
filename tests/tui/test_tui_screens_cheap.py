"""Opening help and moving focus must not rebuild what did not change; the status line keeps up.

The help screen is built once and reused (same content, from the bindings, starting at the top
each time); the footer rebuilds its keys only when the keys it shows change. Both used to rebuild
and lay the main screen out again on every press, which under a flood took the CPU from the
datagram reader.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static

from tests.tui.tui_helpers import make_app, refresh_ticks
from tests.waiting import wait_for
from udpscope.tui.screens.help import HelpScreen
from udpscope.tui.screens.main import MainScreen
from udpscope.tui.widgets.footer import KeyFooter
from udpscope.tui.widgets.message_log import MessageLog


def help_text(app) -> str:  # type: ignore[no-untyped-def]
    return app.screen.plain_text()


async def test_help_is_built_once_reused_with_the_same_text_and_starts_at_the_top() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), what="help", pilot=pilot)
        first = app.screen
        text = help_text(app)
        assert "this help" in text and "Filter syntax" in text
        box = first.query_one(VerticalScroll)
        await pilot.press("end")  # scroll the help to its end
        await wait_for(lambda: box.scroll_y > 0, what="help scrolled", pilot=pilot)
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, MainScreen), what="main again", pilot=pilot)
        await pilot.press("f1")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), what="help again", pilot=pilot)
        assert app.screen is first
        assert help_text(app) == text
        await wait_for(lambda: box.scroll_y == 0, what="reopened at the top", pilot=pilot)
        await pilot.press("q")
        await wait_for(lambda: isinstance(app.screen, MainScreen), what="closed by q", pilot=pilot)


async def test_help_lists_every_binding_key_of_the_main_screen() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), what="help", pilot=pilot)
        text = help_text(app)
        for binding in MainScreen.BINDINGS:
            assert app.get_key_display(binding) in text  # type: ignore[arg-type]


def footer_keys(footer: KeyFooter) -> list[str]:
    return [f"{k.key} {k.label}" for k in footer.shown]


async def test_footer_keeps_its_keys_across_help_and_follows_focus() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(120, 30)) as pilot:
        footer = app.screen.query_one(KeyFooter)
        log = app.screen.query_one(MessageLog)
        await wait_for(lambda: log.has_focus, what="the log focused", pilot=pilot)
        await wait_for(lambda: "? Help" in footer_keys(footer),
                       what="footer keys of the log", pilot=pilot)
        before = footer_keys(footer)
        assert "del Forget" not in before  # the socket list's own key, not the log's
        for _ in range(2):
            await pilot.press("question_mark")
            await wait_for(lambda: isinstance(app.screen, HelpScreen), what="help", pilot=pilot)
            await pilot.press("escape")
            await wait_for(lambda: isinstance(app.screen, MainScreen), what="main", pilot=pilot)
        await refresh_ticks(pilot)
        assert footer_keys(footer) == before
        # The composer has its own key (ctrl+s Send): focusing it must show it, and help stays
        # reachable (f1: the field takes "?").
        await pilot.press("3")
        await wait_for(lambda: "^s Send" in footer_keys(footer),
                       what="Send in the footer", pilot=pilot)
        assert "f1 Help" in footer_keys(footer) and "esc Leave field" in footer_keys(footer)
        await pilot.press("escape")
        await wait_for(lambda: "^s Send" not in footer_keys(footer),
                       what="Send gone from the footer", pilot=pilot)


async def test_status_line_changes_in_the_same_call_as_the_log_state() -> None:
    """So the frame that shows a pause (or follow / N new) shows the status line too."""
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(120, 30)) as pilot:
        log = app.screen.query_one(MessageLog)
        status = app.screen.query_one("#log-status", Static)
        await wait_for(lambda: "following" in str(status.content), what="status", pilot=pilot)
        log.action_pause()  # no await: no message can have been handled in between
        assert "paused" in str(status.content)
        log.action_pause()
        assert "paused" not in str(status.content)
        log.following = False
        assert "not following" in str(status.content)


async def test_log_rows_survive_pause_but_not_a_theme_change_and_the_scrollbar_follows() -> None:
    """Pausing toggles a class that changes no row style: the formatted rows stay cached.
    A theme change does change them: the cache must go. Growing past the view keeps the
    scrollbar's idea of the row count in step (it is updated without a screen layout)."""
    import socket

    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(120, 30)) as pilot:
        log = app.screen.query_one(MessageLog)
        entry = next(iter(app.capture.sockets.values()))
        await wait_for(lambda: entry.state == "bound", what="bound", pilot=pilot)
        port = entry.local()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(60):
                s.sendto(b"row %d" % i, ("127.0.0.1", port))
            await wait_for(lambda: len(log.rows) == 61, what="61 rows", pilot=pilot)
            await pilot.pause()
            assert log.virtual_size.height == 61
            assert log.vertical_scrollbar.window_virtual_size == 61
            for i in range(60, 90):
                s.sendto(b"row %d" % i, ("127.0.0.1", port))
            await wait_for(lambda: len(log.rows) == 91, what="91 rows", pilot=pilot)
        await pilot.pause()
        assert log.virtual_size.height == 91
        assert log.vertical_scrollbar.window_virtual_size == 91
        assert log.max_scroll_y == 91 - log.scrollable_content_region.height
        cached = {k: log._cache.get(k) for k in list(log._cache.keys())}
        assert cached
        await pilot.press("space")
        await wait_for(lambda: log.paused, what="paused", pilot=pilot)
        await refresh_ticks(pilot)
        assert all(log._cache.get(k) is v for k, v in cached.items())  # nothing re-formatted
        app.theme = "udpscope-light"
        await pilot.pause()
        assert not any(log._cache.get(k) is v for k, v in cached.items())

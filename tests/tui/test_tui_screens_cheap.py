"""Opening help and moving focus must not rebuild what did not change; the status line keeps up.

The help screen is built once and reused (same content, from the bindings, starting at the top
each time); the footer rebuilds its keys only when the keys it shows change. Both used to rebuild
and lay the main screen out again on every press, which under a flood took the CPU from the
datagram reader.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.widgets._footer import FooterKey
from tui_helpers import make_app, wait_for

from udpscope.tui.screens.help import HelpScreen
from udpscope.tui.screens.main import MainScreen
from udpscope.tui.widgets.footer import KeyFooter
from udpscope.tui.widgets.message_log import MessageLog


def help_text(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one("#help-text", Static).render())


async def test_help_is_built_once_reused_with_the_same_text_and_starts_at_the_top() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        first = app.screen
        text = help_text(app)
        assert "this help" in text and "Filter syntax" in text
        box = first.query_one(VerticalScroll)
        await pilot.press("end")  # scroll the help to its end
        await wait_for(pilot, lambda: box.scroll_y > 0, what="help scrolled")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="main again")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help again")
        assert app.screen is first
        assert help_text(app) == text
        await wait_for(pilot, lambda: box.scroll_y == 0, what="reopened at the top")
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="closed by q")


async def test_help_lists_every_binding_key_of_the_main_screen() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        text = help_text(app)
        for binding in MainScreen.BINDINGS:
            assert app.get_key_display(binding) in text  # type: ignore[arg-type]


async def test_footer_keeps_its_keys_across_help_and_follows_focus() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(120, 30)) as pilot:
        footer = app.screen.query_one(KeyFooter)
        log = app.screen.query_one(MessageLog)
        await wait_for(pilot, lambda: log.has_focus, what="the log focused")
        # The socket list (focused first at start-up) has a key of its own: wait until it is gone.
        await wait_for(pilot, lambda: footer.query(FooterKey)
                       and "del" not in {k.key_display for k in footer.query(FooterKey)},
                       what="footer keys of the log")
        before = list(footer.query(FooterKey))
        assert "?" in {k.key_display for k in before}
        for _ in range(2):
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="main")
        await pilot.pause(0.1)
        assert list(footer.query(FooterKey)) == before  # the same widgets: not rebuilt
        # The composer has its own key (ctrl+s Send): focusing it must show it.
        await pilot.press("3")
        await wait_for(pilot, lambda: any(k.description == "Send" for k in footer.query(FooterKey)),
                       what="Send in the footer")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not any(k.description == "Send"
                                              for k in footer.query(FooterKey)),
                       what="Send gone from the footer")


async def test_status_line_changes_in_the_same_call_as_the_log_state() -> None:
    """So the frame that shows a pause (or follow / N new) shows the status line too."""
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(120, 30)) as pilot:
        log = app.screen.query_one(MessageLog)
        status = app.screen.query_one("#log-status", Static)
        await wait_for(pilot, lambda: "following" in str(status.content), what="status")
        log.action_pause()  # no await: no message can have been handled in between
        assert "paused" in str(status.content)
        log.action_pause()
        assert "paused" not in str(status.content)
        log.following = False
        assert "not following" in str(status.content)

"""Hostile payloads sent to the running app: nothing reaches the terminal raw, no markup acts.

Each payload of the shared corpus arrives on a real loopback socket; then every log row (through
the same formatting the screen uses), the visible lines, and the detail view of every record are
checked for control characters and for markup that took effect. The app must still be running.
"""

from __future__ import annotations

import socket
import unicodedata

from rich.style import Style
from textual.widgets import Static

from tests.fixtures.hostile import HOSTILE
from tests.tui.tui_helpers import log_of, make_app, rendered_log_lines
from tests.waiting import wait_for
from udpscope.textsafe import is_terminal_safe
from udpscope.tui.screens.detail import PacketDetail


def assert_clean(text: str) -> None:
    """One or more rendered rows (a multi-line Static renders rows split on newlines)."""
    for row in text.split("\n"):
        assert is_terminal_safe(row), repr(row)
        for ch in row:
            assert unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"), repr(row)


async def test_hostile_corpus_is_rendered_inert() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(130, 60)) as pilot:
        capture = app.capture
        await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                       what="bound", pilot=pilot)
        port = capture.sockets[1].local()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, payload in HOSTILE:
                s.sendto(payload, ("127.0.0.1", port))
        entry = capture.sockets[1]
        await wait_for(lambda: entry.rx_datagrams == len(HOSTILE), what="all received", pilot=pilot)
        log = log_of(app)
        await wait_for(lambda: sum(r.kind == "rx" for r in log.rows) == len(HOSTILE),
                       what="all in the log", pilot=pilot)

        width = log.scrollable_content_region.width
        for record in log.rows:
            strip = log._format(record, width, Style())
            assert_clean(strip.text)
            assert "\n" not in strip.text
            for segment in strip:
                style = segment.style
                assert style is None or (not style.meta and style.link is None), segment
        for line in rendered_log_lines(app):
            assert_clean(line)
        lines = " ".join(log._format(r, 400, Style()).text for r in log.rows)
        # Markup was shown, not applied.
        assert "[@click=app.quit]x[/]" in lines
        assert "[bold]loud[/bold]" in lines
        assert "\\e]52;" in lines

        # The detail view of every record.
        for record in list(log.rows):
            if record.kind != "rx":
                continue
            app.push_screen(PacketDetail(record, app.tz))
            await wait_for(lambda: isinstance(app.screen, PacketDetail), what="detail", pilot=pilot)
            await pilot.pause()
            for widget in app.screen.query(Static):
                assert_clean(str(widget.render()))
            app.pop_screen()
            await wait_for(lambda: not isinstance(app.screen, PacketDetail),
                           what="closed", pilot=pilot)
        assert app.is_running
        assert entry.state == "bound"

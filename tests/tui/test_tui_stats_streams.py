"""Pane 5 lists the streams the capture layer keeps and, past its cap, how much went elsewhere."""

from __future__ import annotations

from datetime import UTC

from textual.widgets import DataTable

from tests.batches import fake_batch
from tests.tui.tui_helpers import ROOT, frozen
from tests.waiting import wait_for
from udpscope.capture import Capture
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.screens.stats import StatsScreen


async def test_streams_past_the_cap_are_shown_as_one_other_row() -> None:
    capture = Capture(clock=frozen, monotonic=frozen, max_streams=2)
    app = UdpscopeApp(capture=capture, tz=UTC, theme_dirs=[ROOT / "themes"], theme="udpscope-dark")
    async with app.run_test(size=(160, 40)) as pilot:
        entry = capture.create_socket("udp4")
        sources = [f"10.0.0.{n}" for n in range(1, 6)]
        entry.sock.emit("batch", fake_batch([b"abc"] * 5, sources=sources, destination="239.1.1.1"))
        await pilot.press("5")
        await wait_for(lambda: isinstance(app.screen, StatsScreen), what="pane 5", pilot=pilot)
        table = app.screen.query_one("#group-stats", DataTable)
        await wait_for(lambda: table.row_count == 3, what="two streams and the rest", pilot=pilot)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(3)]
        assert [r[:2] for r in rows[:2]] == [["239.1.1.1", "10.0.0.1"], ["239.1.1.1", "10.0.0.2"]]
        assert rows[2][0] == "(other streams)" and rows[2][3] == "3" and rows[2][4] == "9B"

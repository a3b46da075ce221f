"""Stream health in pane 5 with streams built in the test (frozen clock, kernel times given):
the table's numbers, the selected stream's verdict and per-PID table, the findings, and the
sequence-field / A/B form with its messages."""

from __future__ import annotations

import struct

from textual.widgets import DataTable, Input, Static

from tests.tui.decode_helpers import RTP_LOST, decode_app, emit, health_scene, ready
from tests.tui.tui_helpers import FROZEN, wait_for
from udpscope.tui.screens.stats import StatsScreen
from udpscope.tui.screens.stream_options import StreamOptionsDialog
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.health_pane import HealthPane
from udpscope.tui.widgets.tick import Tick


def cells(table: DataTable, row: int) -> dict[str, str]:  # type: ignore[type-arg]
    keys = [str(c.value) for c in table.columns]
    return {k: str(v) for k, v in zip(keys, table.get_row_at(row), strict=True)}


async def to_stats(pilot) -> StatsScreen:  # type: ignore[no-untyped-def]
    await pilot.press("5")
    await wait_for(lambda: isinstance(pilot.app.screen, StatsScreen), what="pane 5", pilot=pilot)
    screen = pilot.app.screen
    assert isinstance(screen, StatsScreen)
    screen.refresh_data(True)
    await pilot.pause()
    return screen


async def test_the_health_table_shows_loss_jitter_ts_errors_and_kernel_drops() -> None:
    app = decode_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await health_scene(pilot)
        screen = await to_stats(pilot)
        table = screen.query_one("#health-table", DataTable)
        await wait_for(lambda: table.row_count == 3, what="three streams", pilot=pilot)
        rtp, rtp_ts, ts = (cells(table, i) for i in range(3))
        assert (rtp["kind"], rtp["source"], rtp["lost"]) == ("rtp", "10.0.0.5:40000",
                                                             f"{len(RTP_LOST)} (1.6%)")
        assert rtp["kernel"] == "7" and rtp["jitter"].endswith(" ms") and rtp["jitter"] != "0.00 ms"
        assert rtp["ssrc"] == "0000cafe"
        # Loss per second in the row: seconds 1, 6 and 8 of the stream are not the lowest block.
        assert len(rtp["loss/s"]) == 12 and sum(ch != "▁" for ch in rtp["loss/s"].strip()) == 3
        assert (rtp_ts["kind"], rtp_ts["TS"], rtp_ts["lost"]) == ("rtp", "carries TS", "0")
        assert rtp_ts["kernel"] == "0"   # it began after the kernel's drops
        assert ts["kind"] == "ts" and ts["TS"] == "CC 2 · 3 PIDs" and ts["PCR max"] == "25.00 ms"
        # The first stream is selected: its verdict blames this host (the kernel dropped 7).
        verdict = str(screen.query_one("#stream-verdict", Static).render())
        assert verdict.startswith("8 lost while this socket's kernel dropped 7")
        # The TS stream selected: its PIDs, with the continuity errors on the video PID.
        table.focus()
        await pilot.press("down", "down")
        await wait_for(lambda: screen.query_one(HealthPane).selected_key() is not None
                       and "mpegts" in (screen.query_one(HealthPane).selected_key() or ""),
                       what="TS selected", pilot=pilot)
        verdict = str(screen.query_one("#stream-verdict", Static).render())
        assert verdict.startswith("2 continuity errors; the kernel dropped nothing")
        pids = screen.query_one("#pid-table", DataTable)
        await wait_for(lambda: pids.row_count == 3, what="PID table", pilot=pilot)
        rows = {cells(pids, i)["PID"]: cells(pids, i) for i in range(3)}
        assert rows["0x0000"]["role"] == "PAT" and rows["0x0100"]["role"] == "PMT"
        assert rows["0x0101"]["role"] == "PCR" and rows["0x0101"]["CC errors"] == "2"
        findings = str(screen.query_one("#findings", Static).render())
        assert "⚠ #1 1 mDNS response arrived with a TTL other than 255" in findings
        assert "From 192.168.1.9 (TTL 64)" in findings


async def test_the_sequence_field_and_ab_form_checks_then_applies() -> None:
    app = decode_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        app.capture.track_streams()
        entry = app.capture.sockets[1]
        before = entry.streams
        screen = await to_stats(pilot)
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, StreamOptionsDialog), what="form", pilot=pilot)
        dialog = app.screen
        seq = dialog.query_one("#seq", Input)
        for ch in "4:3":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause()
        message = dialog.query_one("#seq-error", FieldMessage)
        assert "width 3 must be 1, 2, 4 or 8 bytes" in message.text
        assert app.screen is dialog and seq.value == "4:3" and entry.streams is before
        seq.value = ""
        dialog.query_one("#arbitrate", Tick).value = True
        await pilot.press("enter")
        await pilot.pause()
        assert "give one" in dialog.query_one("#arbitrate-error", FieldMessage).text
        assert not dialog.query_one("#seq-error", FieldMessage).has_class("-visible")
        assert app.screen is dialog and entry.streams is before
        dialog.set_focus(seq)
        for ch in "0:4":
            await pilot.press(ch)
        await pilot.press("enter")
        await wait_for(lambda: app.screen is screen, what="form closed", pilot=pilot)
        assert entry.streams is not before and entry.streams is not None
        assert entry.streams.settings() == {"seq": "0:4", "arbitrate": True}
        # Two lines carrying the same numbers, each losing different ones: the merge loses one.
        emit(app, [struct.pack("!I", n) + b"A" for n in range(20) if n not in (3, 4)],
             source="10.0.0.1", port=6000, destination="239.9.9.9", times=[FROZEN] * 18)
        emit(app, [struct.pack("!I", n) + b"B" for n in range(20) if n not in (4, 9)],
             source="10.0.0.2", port=6000, destination="239.9.9.9", times=[FROZEN] * 18)
        screen.refresh_data(True)
        await pilot.pause()
        table = screen.query_one("#health-table", DataTable)
        rows = [cells(table, i) for i in range(table.row_count)]
        assert [(r["kind"], r["lost"]) for r in rows] == [("seq", "2 (10.0%)"),
                                                          ("seq", "2 (10.0%)"),
                                                          ("A/B", "1 (5.0%)")]
        # Opening the form again shows what is set.
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, StreamOptionsDialog), what="form", pilot=pilot)
        assert app.screen.query_one("#seq", Input).value == "0:4"
        assert app.screen.query_one("#arbitrate", Tick).value is True
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, what="cancelled", pilot=pilot)
        assert entry.streams.settings() == {"seq": "0:4", "arbitrate": True}

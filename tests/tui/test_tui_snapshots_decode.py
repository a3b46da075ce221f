"""Snapshots of the decoded detail (an mDNS response, RTP carrying MPEG-TS, a truncated mDNS
response) and of the stream-health view, at 80x24 and 140x40. Deterministic as the other
snapshots: frozen clocks, UTC, a port-0 socket shown as a fixed port, batches with fixed peers and kernel times.

Update after a deliberate UI change with `pytest tests/tui --snapshot-update` and look at the
SVGs before committing them.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.tui.decode_helpers import (
    MDNS_RESPONSE,
    RTP_TS,
    TRUNCATED,
    decode_app,
    emit,
    health_scene,
    open_detail,
    ready,
)
from tests.tui.tui_helpers import SnapshotApp, no_blink, wait_for
from udpscope.tui.screens.stats import StatsScreen

SIZES = [(80, 24), (140, 40)]
DATAGRAMS = {
    "mdns-response": (MDNS_RESPONSE, {"source": "192.168.1.20", "port": 5353}),
    "rtp-carrying-ts": (RTP_TS, {"source": "10.1.1.1", "port": 40000,
                                 "destination": "239.1.1.1", "ttl": 16}),
    "truncated-mdns": (TRUNCATED, {"source": "192.168.1.20", "port": 5353}),
}


@pytest.mark.parametrize("which", list(DATAGRAMS))
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_detail_tree(snap_compare, size: tuple[int, int], which: str) -> None:  # type: ignore[no-untyped-def]
    payload, peer = DATAGRAMS[which]

    async def before(pilot: Pilot) -> None:
        await ready(pilot)
        emit(pilot.app, [payload], **peer)  # type: ignore[arg-type]
        await open_detail(pilot, payload)
        # A few fields down: the highlight is on a field inside the datagram, not its start.
        await pilot.press("down", "down", "down")
        await pilot.pause()
        no_blink(pilot.app)

    assert snap_compare(decode_app(app_class=SnapshotApp), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_health_view(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await health_scene(pilot)
        # The kernel's drop counter is read on the app's tick: read it now, so the picture does
        # not depend on whether a tick came after the drops (once none had: 0 kernel drops).
        pilot.app.capture.tick()
        # The finding's toast is said on the app's own timer: say it now and clear it, so the
        # picture does not depend on when that timer ran.
        pilot.app._announce_findings()
        await pilot.pause()   # a notification is posted, then added
        pilot.app.clear_notifications()
        await pilot.press("5")
        await wait_for(lambda: isinstance(pilot.app.screen, StatsScreen), what="pane 5", pilot=pilot)
        screen = pilot.app.screen
        assert isinstance(screen, StatsScreen)
        screen.refresh_data(True)
        await pilot.pause()
        screen.refresh_data(True)   # columns fitted to the laid-out width
        await pilot.pause()
        no_blink(pilot.app)

    assert snap_compare(decode_app(app_class=SnapshotApp), terminal_size=size, run_before=before)

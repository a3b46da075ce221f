"""Snapshots of every pane and state, made deterministic: fixed size, frozen clocks, UTC, ports
bound as port 0 and shown as fixed ones (`SnapshotApp`), shipped themes only, cursor blink off.

The main screen (with traffic and a selected row), the detail view, options and stats are taken
at 80x24, 100x30 and 140x40: below 110 columns the side pane takes turns with the log, below 30
rows the title bar goes. The main screen in each theme, where the cursor and the checkboxes
must stay readable.

Update after a deliberate UI change with `pytest tests/tui --snapshot-update` and look at the
SVGs before committing them.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.netns import inside
from tests.tui.tui_helpers import (
    FROZEN,
    SIZE,
    SnapshotApp,
    field_message,
    log_of,
    make_app,
    no_blink,
    type_into,
)
from tests.waiting import wait_for
from udpscope.tui.forms import SocketRequest
from udpscope.tui.screens.detail import PacketDetail
from udpscope.tui.screens.dialogs import NewSocketDialog
from udpscope.tui.screens.multicast import MulticastScreen
from udpscope.tui.workbench import TimerPane

SIZES = [(80, 24), (100, 30), (140, 40)]
THEMES = ["udpscope-dark", "udpscope-light", "high-contrast"]

PAYLOADS = [
    b"hello udpscope",
    b"\x1b[31mred?\x1b[0m [bold]not bold[/] \\ tab\there",
    bytes(range(0, 24)),
    "grüße → ☃".encode(),
]


async def fill_traffic(pilot: Pilot) -> None:
    """Two sockets on loopback (port 0); #2 sends each payload to #1, one at a time."""
    app = pilot.app
    assert isinstance(app, SnapshotApp)
    capture = app.capture
    await wait_for(lambda: len(capture.sockets) == 2
                   and all(e.state == "bound" for e in capture.sockets.values()),
                   what="bound", pilot=pilot)
    app.pin_ports()
    rx = capture.sockets[1]
    for n, payload in enumerate(PAYLOADS, 1):
        capture.send(2, payload, rx.local()[1], "127.0.0.1")
        await wait_for(lambda n=n: rx.rx_datagrams == n and capture.sockets[2].tx_datagrams == n,
                       what="delivery", pilot=pilot)
    # Records are immutable: freeze the kernel timestamps by replacing them, then let the log
    # re-read the whole ring (set_filter(None) rebuilds its rows from the ring).
    frozen = [r._replace(timestamp=FROZEN + 0.000125) if r.timestamp is not None else r
              for r in capture.ring]
    capture.ring.clear()
    capture.ring.extend(frozen)
    log_of(app).set_filter(None)
    app.selected_socket = 1
    await wait_for(lambda: sum(r.kind == "rx" for r in log_of(app).rows) == len(PAYLOADS),
                   what="log caught up", pilot=pilot)
    await settle(pilot)


async def settle(pilot: Pilot) -> None:
    """Run the slow refresh now (tables, status) instead of waiting for the timer to get there."""
    app = pilot.app
    if isinstance(app.screen, TimerPane):
        app.screen.refresh_data(True)
    await pilot.pause()
    no_blink(app)


async def select_a_row(pilot: Pilot) -> None:
    """The log focused, the cursor two rows up from the newest (a selected row, not following)."""
    log = log_of(pilot.app)
    pilot.app.screen.set_focus(log)
    await pilot.press("up", "up")
    await settle(pilot)


def traffic_app(theme: str = "udpscope-dark"):  # type: ignore[no-untyped-def]
    return make_app(SnapshotApp, binds=[("127.0.0.1", 0), ("127.0.0.1", 0)], theme=theme)


def test_empty_start(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        no_blink(pilot.app)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=before)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_with_traffic_and_a_selected_row(snap_compare, size: tuple[int, int], theme: str) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await fill_traffic(pilot)
        await select_a_row(pilot)

    assert snap_compare(traffic_app(theme), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_detail_view(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await fill_traffic(pilot)
        log = log_of(pilot.app)
        pilot.app.screen.set_focus(log)
        index = next(i for i, r in enumerate(log.rows) if r.kind == "rx" and r.payload == PAYLOADS[1])
        log.select(index)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(pilot.app.screen, PacketDetail),
                       what="detail", pilot=pilot)
        await pilot.pause()

    assert snap_compare(traffic_app(), terminal_size=size, run_before=before)


def test_bind_error_shown(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """#1 binds port 0 at start-up; #2 then asks for #1's port the way start-up binds do."""

    async def before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, SnapshotApp)
        first = app.capture.sockets[1]
        await wait_for(lambda: first.state == "bound", what="#1 bound", pilot=pilot)
        app.pin_ports()
        app.create_socket(SocketRequest(type="udp4", address="127.0.0.1", port=first.local()[1]))
        await wait_for(lambda: app._notifications, what="notification", pilot=pilot)
        await wait_for(lambda: any(r.event == "error" for r in log_of(app).rows),
                       what="row", pilot=pilot)
        await settle(pilot)

    app = make_app(SnapshotApp, binds=[("127.0.0.1", 0)])
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


@pytest.mark.parametrize(("size", "theme"), [(s, "udpscope-dark") for s in SIZES]
                         + [((100, 30), "high-contrast")], ids=lambda v: v if isinstance(v, str) else f"{v[0]}x{v[1]}")
def test_options_pane(snap_compare, size: tuple[int, int], theme: str) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await fill_traffic(pilot)
        await pilot.press("2")
        await wait_for(lambda: pilot.app.screen.query("#ttl"), what="options", pilot=pilot)
        await type_into(pilot, "#ttl", "300")
        await pilot.press("enter")
        await wait_for(lambda: "out of range" in field_message(pilot.app, "#ttl-error"),
                       what="the TTL's message", pilot=pilot)
        await pilot.pause()
        no_blink(pilot.app)

    assert snap_compare(traffic_app(theme), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_stats_view(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await fill_traffic(pilot)
        await pilot.press("5")
        await wait_for(lambda: type(pilot.app.screen).__name__ == "StatsScreen",
                       what="stats", pilot=pilot)
        await pilot.pause()
        await settle(pilot)

    assert snap_compare(traffic_app(), terminal_size=size, run_before=before)


def test_help_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=(80, 24), press=["question_mark"])


def test_new_socket_dialog_with_error(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await pilot.press("n")
        await wait_for(lambda: isinstance(pilot.app.screen, NewSocketDialog), what="dialog",
                       pilot=pilot)
        await type_into(pilot, "#bind-port", "99999")
        await pilot.press("enter")
        await wait_for(lambda: "out of range" in field_message(pilot.app, "#bind-error"),
                       what="the port's message", pilot=pilot)
        await pilot.pause()
        no_blink(pilot.app)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)


@pytest.mark.netns
def test_multicast_view_in_namespace(snap_compare, netns: str) -> None:  # type: ignore[no-untyped-def]
    """Only `lo` exists in a fresh namespace, so the interface and membership lists are fixed."""

    async def before(pilot: Pilot) -> None:
        await pilot.press("6")
        await wait_for(lambda: isinstance(pilot.app.screen, MulticastScreen), what="pane 6",
                       pilot=pilot)
        await type_into(pilot, "#check-group", "239.1.2.3")
        await pilot.press("enter")
        await wait_for(lambda: "239.1.2.3" in pilot.app.screen.findings_text(),
                       what="the group's findings", pilot=pilot)
        await pilot.pause()
        no_blink(pilot.app)

    with inside(netns):
        assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)

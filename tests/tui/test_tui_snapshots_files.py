"""Snapshots of what files, responders, saved payloads and workspaces add, at 80x24 and 140x40:
a capture file opened read-only, the save-log dialog with a filter set, the responder dialog
with rules, counters and a bad field, the saved-payload picker, the workspace save dialog.

Deterministic as the other snapshots: frozen clocks, UTC, fixed loopback ports, no real paths
(the workspace is named relatively, the log's default name comes from the frozen clock).
Update after a deliberate change with `--snapshot-update` and look at every SVG.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Select

from tests.files import pcapgen as g
from tests.tui.tui_helpers import (
    ROOT,
    SnapshotApp,
    composer_built,
    log_of,
    make_app,
    no_blink,
    type_into,
    wait_for,
)
from udpscope.cli.open_file import load
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.screens.file_dialogs import SaveLogDialog, SaveWorkspaceDialog
from udpscope.tui.screens.payloads import PayloadPicker
from udpscope.tui.screens.responder import ResponderDialog
from udpscope.tui.workbench import TimerPane
from udpscope.workspace import parse_workspace

SIZES = [(80, 24), (140, 40)]
T0 = 1_764_000_000.25


async def settle(pilot: Pilot) -> None:
    app = pilot.app
    if isinstance(app.screen, TimerPane):
        app.screen.refresh_data(True)
    await pilot.pause()
    no_blink(app)


async def log_settled(pilot: Pilot, rows: int) -> None:
    """The log holds ``rows`` rows and its status line says so, before a dialog covers it (the
    app's timer refreshes only the screen on top)."""
    app = pilot.app
    await wait_for(lambda: len(log_of(app).rows) == rows, what=f"{rows} log rows", pilot=pilot)
    app.main_screen.refresh_data(True)
    await pilot.pause()


def file_app(tmp_path: Path) -> UdpscopeApp:
    from datetime import UTC

    frames = [(T0 + i * 0.125, g.ethernet(g.ipv4("192.0.2.1", "239.1.2.3",
                                                 g.udp(4000, 5004, b"frame %d \x1b[1m" % i)), 0x0800))
              for i in range(6)]
    frames.append((T0 + 1, g.ethernet(g.ipv4("192.0.2.2", "192.0.2.9", b"\0" * 20, proto=6), 0x0800)))
    path = tmp_path / "capture.pcap"
    path.write_bytes(g.pcap(frames, 1))
    capture, note = load(str(path), None)
    return UdpscopeApp(capture=capture, tz=UTC, theme_dirs=[ROOT / "themes"], theme="udpscope-dark",
                       notice=note, title="capture.pcap (read-only)")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_capture_file_opened_read_only(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await composer_built(pilot)
        await log_settled(pilot, 6)
        pilot.app.screen.set_focus(log_of(pilot.app))
        await pilot.press("up", "up", "b")  # a socket action on a read-only socket: one warning
        await settle(pilot)

    assert snap_compare(file_app(tmp_path), terminal_size=size, run_before=before)


async def traffic(pilot: Pilot) -> None:
    app = pilot.app
    capture = app.capture
    await wait_for(lambda: len(capture.sockets) == 2
                   and all(e.state == "bound" for e in capture.sockets.values()), what="bound", pilot=pilot)
    app.pin_ports()
    await composer_built(pilot)
    port = capture.sockets[1].local()[1]
    for n, payload in enumerate((b"ping 1", b"hello", b"ping 2"), 1):
        capture.send(2, payload, port, "127.0.0.1")
        await wait_for(lambda n=n: capture.sockets[1].rx_datagrams == n, what="delivery", pilot=pilot)
    app.selected_socket = 1
    await log_settled(pilot, 8)  # two "listening" events, three sent, three received


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_save_log_dialog_with_a_filter(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await traffic(pilot)
        await type_into(pilot, "#filter", "dir:rx text:ping")
        await pilot.press("enter")
        await log_settled(pilot, 2)
        await pilot.press("w")
        await wait_for(lambda: isinstance(pilot.app.screen, SaveLogDialog), what="dialog", pilot=pilot)
        await settle(pilot)

    app = make_app(SnapshotApp, binds=[("127.0.0.1", 0), ("127.0.0.1", 0)])
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_responder_dialog_with_rules_and_counters(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await traffic(pilot)
        app = pilot.app
        entry = app.capture.sockets[1]
        responder = app.session.set_rules(entry, ["text:ping=>text:pong", r"re:^GET \d+=>hex:06 00",
                                                  "*=>echo"], 50)
        responder.matched, responder.replies, responder.replies_dropped = 120, 100, 20
        app.screen.set_focus(log_of(app))
        await pilot.press("r")
        await wait_for(lambda: isinstance(app.screen, ResponderDialog), what="dialog", pilot=pilot)
        app.screen.query_one("#match-kind", Select).value = "prefix"
        await type_into(pilot, "#match", "0g")
        await pilot.press("enter")  # a bad hex prefix: the message under the field
        await settle(pilot)

    app = make_app(SnapshotApp, binds=[("127.0.0.1", 0), ("127.0.0.1", 0)])
    assert snap_compare(app, terminal_size=size, run_before=before)


PAYLOADS = """\
[[payload]]
name = "discover"
to = "239.255.255.250:1900"
text = "M-SEARCH * HTTP/1.1"

[[payload]]
name = "ack \\u001b[31m"
hex = "06 00 ff"

[[payload]]
name = "a rather long payload name"
to = "[::1]:5000"
text = "hello"
"""


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_saved_payload_picker(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await wait_for(lambda: pilot.app.capture.sockets
                       and pilot.app.capture.sockets[1].state == "bound", what="bound", pilot=pilot)
        pilot.app.pin_ports()
        await composer_built(pilot)
        await log_settled(pilot, 1)
        await pilot.press("3")
        await type_into(pilot, "#payload", "current one")
        await pilot.press("ctrl+o")
        await wait_for(lambda: isinstance(pilot.app.screen, PayloadPicker), what="picker", pilot=pilot)
        pilot.app.screen.query_one("#payloads", OptionList).highlighted = 1
        await settle(pilot)

    app = make_app(SnapshotApp, binds=[("127.0.0.1", 0)], workspace=parse_workspace(PAYLOADS, "ws.toml"))
    assert snap_compare(app, terminal_size=size, run_before=before)


WORKSPACE = """\
[[socket]]
bind = "127.0.0.1:0"
ttl = 9
respond = ["text:ping=>text:pong"]

[[socket]]
bind = "127.0.0.1:0"
"""


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_workspace_save_dialog(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        app = pilot.app
        await wait_for(lambda: len(app.capture.sockets) == 2 and all(
            e.state == "bound" for e in app.capture.sockets.values()), what="bound", pilot=pilot)
        app.pin_ports()
        await composer_built(pilot)
        await log_settled(pilot, 2)
        from udpscope.tui.session_actions import open_save_workspace

        open_save_workspace(app)
        await wait_for(lambda: isinstance(app.screen, SaveWorkspaceDialog), what="dialog", pilot=pilot)
        await settle(pilot)

    app = make_app(SnapshotApp, workspace=parse_workspace(WORKSPACE, "ws.toml"))
    assert snap_compare(app, terminal_size=size, run_before=before)

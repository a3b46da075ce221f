"""Save log (w, palette "log: save"): all rows or what the filter shows, as pcapng that tshark,
capinfos and udpscope's reader read back; bad paths answered in the dialog with the typed text
kept; an existing file replaced only when confirmed; the write off the event loop, so datagrams
and keys go on meanwhile; a failed write one clear message."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Select

from tests.files.tools import capinfos, tshark_fields
from tests.tui.tui_helpers import composer_built, make_app, paste_into, type_into, wait_for
from udpscope.files.capture_file import read_capture
from udpscope.tui import session_actions
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.commands import palette_commands
from udpscope.tui.screens.file_dialogs import SaveLogDialog
from udpscope.tui.widgets.fields import FieldMessage


def messages(app: UdpscopeApp) -> list[str]:
    return [n.message for n in app._notifications]


async def two_sockets_with_traffic(pilot, payloads: list[bytes]) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    app = pilot.app
    capture = app.capture
    await wait_for(lambda: len(capture.sockets) == 2
                   and all(e.state == "bound" for e in capture.sockets.values()), what="bound", pilot=pilot)
    await composer_built(pilot)
    port1 = capture.sockets[1].local()[1]
    port2 = capture.sockets[2].local()[1]
    for n, payload in enumerate(payloads, 1):
        capture.send(2, payload, port1, "127.0.0.1")
        await wait_for(lambda n=n: capture.sockets[1].rx_datagrams == n, what="delivery", pilot=pilot)
    return port1, port2


async def open_dialog(pilot) -> SaveLogDialog:  # type: ignore[no-untyped-def]
    app = pilot.app
    app.screen.set_focus(app.main_screen.message_log)
    await pilot.press("w")
    await wait_for(lambda: isinstance(app.screen, SaveLogDialog), what="save dialog", pilot=pilot)
    await pilot.pause()
    assert isinstance(app.screen, SaveLogDialog)
    return app.screen


async def save_to(pilot, path: Path) -> None:  # type: ignore[no-untyped-def]
    before = pilot.app.last_saved_log
    await paste_into(pilot, "#path", str(path))
    await pilot.press("enter")
    await wait_for(lambda: pilot.app.last_saved_log not in (None, before), what="saved", pilot=pilot)


async def test_the_filtered_rows_and_all_rows_are_saved_for_wireshark(tmp_path: Path) -> None:
    app = make_app(binds=[("127.0.0.1", 0), ("127.0.0.1", 0)])
    async with app.run_test(size=(100, 30)) as pilot:
        payloads = [b"alpha", b"beta \x1b[31m", b"alpha two"]
        port1, port2 = await two_sockets_with_traffic(pilot, payloads)
        await type_into(pilot, "#filter", "dir:rx text:alpha")
        await pilot.press("enter")
        log = app.main_screen.message_log
        await wait_for(lambda: len(log.rows) == 2, what="filtered rows", pilot=pilot)

        dialog = await open_dialog(pilot)
        assert dialog.query_one("#scope", Select).value == "shown"  # what the user sees
        await save_to(pilot, tmp_path / "shown.pcapng")
        assert app.last_saved_log == (str(tmp_path / "shown.pcapng"), 2)
        assert any("Saved 2 datagrams" in m and "shown.pcapng" in m for m in messages(app))
        rows = tshark_fields(str(tmp_path / "shown.pcapng"), "udp.srcport", "udp.dstport", "udp.payload")
        assert rows == [[str(port2), str(port1), b"alpha".hex()], [str(port2), str(port1), b"alpha two".hex()]]

        dialog = await open_dialog(pilot)
        dialog.query_one("#scope", Select).value = "all"
        await save_to(pilot, tmp_path / "all.pcapng")
        path = str(tmp_path / "all.pcapng")
        assert capinfos(path)["Number of packets"] == "6"
        rows = tshark_fields(path, "udp.srcport", "udp.dstport", "udp.payload", "frame.comment",
                             "frame.packet_flags_direction")
        sent = [r for r in rows if r[3] == "sent by udpscope"]
        received = [r for r in rows if r[3] != "sent by udpscope"]
        assert [bytes.fromhex(r[2]) for r in sent] == payloads == [bytes.fromhex(r[2]) for r in received]
        assert {(r[0], r[1]) for r in sent} == {(str(port2), str(port1))}
        datagrams, summary = read_capture(path)
        assert [(d.payload, d.outbound) for d in datagrams] == [
            (p, outbound) for p in payloads for outbound in (True, False)]
        assert not summary.truncated
        # The socket events (two "listening") are not datagrams: counted as left out.
        assert any("Saved 6 datagrams" in m and "2 rows left out" in m for m in messages(app))


async def test_the_palette_saves_the_log_too(tmp_path: Path) -> None:
    app = make_app(binds=[("127.0.0.1", 0), ("127.0.0.1", 0)])
    async with app.run_test(size=(80, 24)) as pilot:
        await two_sockets_with_traffic(pilot, [b"one"])
        (command,) = [c for c in palette_commands(app, app.screen) if c.title == "log: save"]
        command.callback()
        await wait_for(lambda: isinstance(app.screen, SaveLogDialog), what="save dialog", pilot=pilot)
        await pilot.pause()
        assert app.screen.query("#scope-all")  # no filter: nothing to choose, all rows
        await save_to(pilot, tmp_path / "p.pcapng")
        assert [d.payload for d in read_capture(str(tmp_path / "p.pcapng"))[0]] == [b"one", b"one"]


async def test_bad_paths_are_answered_and_an_existing_file_is_replaced_only_when_confirmed(
        tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    existing = tmp_path / "old.pcapng"
    existing.write_bytes(b"precious")
    app = make_app(binds=[("127.0.0.1", 0), ("127.0.0.1", 0)])
    async with app.run_test(size=(80, 24)) as pilot:
        await two_sockets_with_traffic(pilot, [b"x"])
        dialog = await open_dialog(pilot)
        error = dialog.query_one("#path-error", FieldMessage)
        for text, words in ((str(tmp_path), "is a folder"), (str(fifo), "a FIFO"),
                            ("/dev/null", "character device"),
                            (str(tmp_path / "no" / "x.pcapng"), "does not exist"), ("  ", "no file")):
            await paste_into(pilot, "#path", text)
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is dialog and words in error.text, (text, error.text)
            assert dialog.query_one("#path", Input).value == text  # what was typed stays
        assert os.stat(fifo).st_size == 0 and not (tmp_path / "no").exists()

        await paste_into(pilot, "#path", str(existing))
        await pilot.press("enter")
        await pilot.pause()
        assert "exists" in error.text and str(dialog.query_one("#ok", Button).label) == "Replace"
        assert app.screen is dialog and existing.read_bytes() == b"precious"
        await pilot.press("enter")  # the second Enter is the yes
        await wait_for(lambda: app.last_saved_log is not None, what="replaced", pilot=pilot)
        assert existing.read_bytes()[:4] == b"\n\r\r\n"  # a pcapng section header now
        assert [d.payload for d in read_capture(str(existing))[0]] == [b"x", b"x"]
        assert sorted(os.listdir(tmp_path)) == ["fifo", "old.pcapng"]  # no temporary file left


async def test_the_write_runs_off_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()
    real = session_actions.write_snapshot

    def held(snapshot, path):  # type: ignore[no-untyped-def]
        started.set()
        if not release.wait(15):  # on the event loop this would hold up the whole test
            raise AssertionError("never released")
        return real(snapshot, path)

    monkeypatch.setattr(session_actions, "write_snapshot", held)
    app = make_app(binds=[("127.0.0.1", 0), ("127.0.0.1", 0)])
    async with app.run_test(size=(100, 30)) as pilot:
        port1, _ = await two_sockets_with_traffic(pilot, [b"before"])
        await open_dialog(pilot)
        await paste_into(pilot, "#path", str(tmp_path / "held.pcapng"))
        await pilot.press("enter")
        await wait_for(started.is_set, what="the write started", pilot=pilot)
        # While the writer waits: datagrams are received and logged, keys are handled.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            for i in range(50):
                peer.sendto(b"during %d" % i, ("127.0.0.1", port1))
        entry = app.capture.sockets[1]
        await wait_for(lambda: entry.rx_datagrams == 51, what="datagrams during the save", pilot=pilot)
        await pilot.press("3")
        await wait_for(lambda: app.focused is not None and app.focused.id == "dest-host",
                       what="a key handled during the save", pilot=pilot)
        assert app.last_saved_log is None and app.saves_running == 1
        release.set()
        await wait_for(lambda: app.last_saved_log is not None, what="saved", pilot=pilot)
        # The file holds the log as it was when save was pressed.
        assert [d.payload for d in read_capture(str(tmp_path / "held.pcapng"))[0]] == [b"before"] * 2
        assert len(app.main_screen.message_log.rows) >= 53


async def test_a_failed_write_is_one_message_and_the_path_is_offered_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(snapshot, path):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(session_actions, "write_snapshot", full)
    app = make_app(binds=[("127.0.0.1", 0), ("127.0.0.1", 0)])
    async with app.run_test(size=(80, 24)) as pilot:
        await two_sockets_with_traffic(pilot, [b"x"])
        await open_dialog(pilot)
        target = str(tmp_path / "full.pcapng")
        await paste_into(pilot, "#path", target)
        await pilot.press("enter")
        await wait_for(lambda: any("No space left" in m for m in messages(app)),
                       what="the failure", pilot=pilot)
        assert [m for m in messages(app) if "not saved" in m] == [
            f"The log was not saved to {target}: No space left on device"]
        assert app.is_running and app.capture.sockets[1].state == "bound"
        dialog = await open_dialog(pilot)
        assert dialog.query_one("#path", Input).value == target  # to be corrected

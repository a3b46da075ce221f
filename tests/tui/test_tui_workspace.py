"""Saved payloads in the composer (^o) and "workspace: save": a workspace opened, changed in the
UI (an option, a rule, a socket, a saved payload, a join inside a test namespace), saved, and
reopened in a new app with the same sockets, kernel options, rules and payloads; bad paths and a
failed write answered in the dialog."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from textual.widgets import Button, Input, OptionList, Select

from tests.cli.clitools import run_cli
from tests.netns import LoopedNs, inside
from tests.tui.tui_helpers import (
    composer_built,
    make_app,
    paste_into,
    receive,
    type_into,
    udp_receiver,
    wait_for,
)
from udpscope.net.membership import read_memberships
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.commands import palette_commands
from udpscope.tui.screens.dialogs import NewSocketDialog
from udpscope.tui.screens.file_dialogs import SaveWorkspaceDialog
from udpscope.tui.screens.payloads import PayloadPicker
from udpscope.tui.screens.responder import ResponderDialog
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.workspace import JoinSpec, dump_workspace, load_workspace, parse_workspace


def run_command(app: UdpscopeApp, title: str) -> None:
    (command,) = [c for c in palette_commands(app, app.screen) if c.title == title]
    command.callback()


async def all_bound(pilot, n: int) -> None:  # type: ignore[no-untyped-def]
    sockets = pilot.app.capture.sockets
    await wait_for(lambda: len(sockets) == n and all(e.state == "bound" for e in sockets.values()),
                   what=f"{n} sockets bound", pilot=pilot)


async def open_picker(pilot) -> PayloadPicker:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+o")
    await wait_for(lambda: isinstance(pilot.app.screen, PayloadPicker), what="picker", pilot=pilot)
    await pilot.pause()
    assert isinstance(pilot.app.screen, PayloadPicker)
    return pilot.app.screen


async def test_saved_payloads_fill_send_save_and_delete() -> None:
    rx = udp_receiver()
    port = rx.getsockname()[1]
    ws = parse_workspace(f'[[payload]]\nname = "greet"\nto = "127.0.0.1:{port}"\n'
                         'text = "hello from the workspace"\n')
    app = make_app(binds=[("127.0.0.1", 0)], workspace=ws)
    with rx:
        async with app.run_test(size=(80, 24)) as pilot:
            await all_bound(pilot, 1)
            await composer_built(pilot)
            await pilot.press("3")
            picker = await open_picker(pilot)
            assert picker.query_one("#payloads", OptionList).option_count == 1
            await pilot.press("enter")  # fill
            await wait_for(lambda: not isinstance(app.screen, PayloadPicker), what="filled", pilot=pilot)
            screen = app.main_screen
            assert screen.query_one("#payload", Input).value == "hello from the workspace"
            assert (screen.query_one("#dest-host", Input).value,
                    screen.query_one("#dest-port", Input).value) == ("127.0.0.1", str(port))
            await pilot.press("ctrl+s")
            assert await receive(pilot, rx) == b"hello from the workspace"

            # Save the composer's current payload (hex) under a name; a bad name is refused.
            screen.query_one("#payload-kind", Select).value = "hex"
            await type_into(pilot, "#payload", "de ad be ef")
            picker = await open_picker(pilot)
            await type_into(pilot, "#name", "   ")
            await pilot.press("enter")
            assert "name: required" in picker.query_one("#name-error", FieldMessage).text
            await type_into(pilot, "#name", "beef")
            await pilot.press("enter")
            assert [(p.name, p.kind, p.data) for p in app.session.payloads] == [
                ("greet", "text", b"hello from the workspace"), ("beef", "hex", b"\xde\xad\xbe\xef")]
            # Send it straight from the list (ctrl+s), after changing the composer's text.
            picker.set_focus(picker.query_one("#payloads", OptionList))
            picker.query_one("#payloads", OptionList).highlighted = 1
            await pilot.press("ctrl+s")
            assert await receive(pilot, rx) == b"\xde\xad\xbe\xef"
            assert screen.query_one("#payload-kind", Select).value == "hex"

            # Delete the workspace's one (del on the list).
            picker = await open_picker(pilot)
            listing = picker.query_one("#payloads", OptionList)
            picker.set_focus(listing)
            listing.highlighted = 0
            await pilot.press("delete")
            assert [p.name for p in app.session.payloads] == ["beef"]
            assert listing.option_count == 1
            await pilot.press("escape")


WORKSPACE = """\
[[socket]]
bind = "127.0.0.1:0"
ttl = 7
respond = ["text:ping=>text:pong"]

[[socket]]
type = "udp6"
bind = "[::1]:0"
multicast_loopback = false

[[payload]]
name = "hello"
to = "127.0.0.1:9"
text = "hello"
"""


async def test_a_workspace_changed_in_the_ui_is_saved_and_reopened_the_same(tmp_path: Path) -> None:
    path = tmp_path / "ws.toml"
    path.write_text(WORKSPACE)
    app = make_app(workspace=load_workspace(path))
    async with app.run_test(size=(140, 40)) as pilot:
        await all_bound(pilot, 2)
        await composer_built(pilot)
        # An option of #1 from the options pane.
        await pilot.press("2")
        await wait_for(lambda: app.screen.query("#ttl"), what="options", pilot=pilot)
        await type_into(pilot, "#ttl", "9")
        await pilot.press("enter")
        await wait_for(lambda: app.capture.sockets[1].sock.get_ttl() == 9, what="ttl set", pilot=pilot)
        # A rule on #2 from the responder dialog.
        app.selected_socket = 2
        await pilot.press("escape")
        await pilot.press("r")
        await wait_for(lambda: isinstance(app.screen, ResponderDialog), what="dialog", pilot=pilot)
        await type_into(pilot, "#match", "hi")
        await type_into(pilot, "#reply", "ho")
        await pilot.press("enter", "escape")
        # A new socket from the new-socket dialog.
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, NewSocketDialog), what="new socket", pilot=pilot)
        await type_into(pilot, "#bind-address", "127.0.0.1")
        await pilot.press("enter")
        await all_bound(pilot, 3)
        # A saved payload from the composer.
        await pilot.press("3")
        await type_into(pilot, "#dest-host", "::1")
        await type_into(pilot, "#dest-port", "7")
        app.main_screen.query_one("#payload-kind", Select).value = "hex"
        await type_into(pilot, "#payload", "de ad")
        await open_picker(pilot)
        await type_into(pilot, "#name", "dead")
        await pilot.press("enter", "escape")

        run_command(app, "workspace: save")
        await wait_for(lambda: isinstance(app.screen, SaveWorkspaceDialog), what="save dialog", pilot=pilot)
        await pilot.pause()
        dialog = app.screen
        assert dialog.query_one("#path", Input).value == str(path)  # the opened one
        await pilot.press("enter")  # no question: it is the file that was opened
        await wait_for(lambda: not isinstance(app.screen, SaveWorkspaceDialog), what="saved", pilot=pilot)
        assert any("Saved 3 sockets" in n.message for n in app._notifications)

    saved = load_workspace(path)
    assert [(s.type, s.bind) for s in saved.sockets] == [
        ("udp4", ("127.0.0.1", 0)), ("udp6", ("::1", 0)), ("udp4", ("127.0.0.1", 0))]
    assert saved.sockets[0].ttl == 9 and saved.sockets[1].multicast_loopback is False
    assert [s.respond for s in saved.sockets] == [["text:ping=>text:pong"], ["text:hi=>text:ho"], []]
    assert [(p.name, p.data, p.to) for p in saved.payloads] == [
        ("hello", b"hello", ("127.0.0.1", 9)), ("dead", b"\xde\xad", ("::1", 7))]

    again = make_app(workspace=load_workspace(path))
    async with again.run_test(size=(80, 24)) as pilot:
        await all_bound(pilot, 3)
        await composer_built(pilot)
        sockets = again.capture.sockets
        assert sockets[1].sock.get_ttl() == 9 and sockets[2].sock.get_multicast_loopback() is False
        # Read back from the kernel, the reopened session is the saved workspace.
        assert dump_workspace(again.session.snapshot(), tmp_path) == dump_workspace(saved, tmp_path)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.settimeout(5)
            peer.sendto(b"ping", ("127.0.0.1", sockets[1].local()[1]))
            await wait_for(lambda: sockets[1].tx_datagrams == 1, what="the rule answers", pilot=pilot)
            assert peer.recv(100) == b"pong"

    # Edited by hand and broken: one message with file, line and key, and nothing starts.
    text = path.read_text()
    path.write_text(text.replace("ttl = 9", "ttl = 900"))
    line = path.read_text().splitlines().index("ttl = 900") + 1
    res = run_cli("--workspace", str(path))
    assert res.returncode == 2
    assert res.stderr.decode().splitlines()[-1].endswith(
        f"argument --workspace: {path}:{line}: socket[1].ttl: 900 is out of range (1-255)")


async def test_workspace_save_answers_bad_paths_and_a_failed_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.toml"
    other.write_text("# someone else's\n")
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(80, 24)) as pilot:
        await all_bound(pilot, 1)
        await composer_built(pilot)
        run_command(app, "workspace: save")
        await wait_for(lambda: isinstance(app.screen, SaveWorkspaceDialog), what="dialog", pilot=pilot)
        await pilot.pause()
        dialog = app.screen
        error = dialog.query_one("#path-error", FieldMessage)
        assert dialog.query_one("#path", Input).value == "udpscope-workspace.toml"
        await paste_into(pilot, "#path", str(tmp_path))
        await pilot.press("enter")
        assert "is a folder" in error.text and app.screen is dialog

        await paste_into(pilot, "#path", str(other))
        await pilot.press("enter")
        assert "exists" in error.text and str(dialog.query_one("#ok", Button).label) == "Replace"

        def refused(workspace, target):  # type: ignore[no-untyped-def]
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("udpscope.workspace.save_workspace", refused)
        await pilot.press("enter")
        await wait_for(lambda: "not saved: Permission denied" in error.text, what="failure", pilot=pilot)
        assert app.screen is dialog and not dialog.query_one("#ok", Button).disabled
        assert other.read_text() == "# someone else's\n"
        monkeypatch.undo()
        await pilot.press("enter")  # still confirmed: the same path
        await wait_for(lambda: app.screen is not dialog, what="saved", pilot=pilot)
    saved = load_workspace(other)
    assert [s.bind for s in saved.sockets] == [("127.0.0.1", 0)]


GROUPS = ("239.7.7.21", "239.7.7.22")
PORT = 47351


@pytest.mark.netns
async def test_joins_are_saved_with_their_interface_names(looped_ns: LoopedNs, tmp_path: Path) -> None:
    path = tmp_path / "joins.toml"
    path.write_text(f'[[socket]]\nbind = "0.0.0.0:{PORT}"\njoin = ["{GROUPS[0]}@veth0"]\n')
    with inside(looped_ns.ns):
        app = make_app(workspace=load_workspace(path))
        async with app.run_test(size=(140, 40)) as pilot:
            await all_bound(pilot, 1)
            await composer_built(pilot)
            sock = app.capture.sockets[1].sock
            await wait_for(lambda: sock.get_memberships(), what="workspace join", pilot=pilot)
            await pilot.press("2")
            await type_into(pilot, "#group", GROUPS[1])
            select = app.screen.query_one("#member-iface", Select)
            await wait_for(lambda: any(str(v) == "veth1" for _, v in select._options),
                           what="namespace interfaces listed", pilot=pilot)
            select.value = "veth1"
            app.screen.set_focus(app.screen.query_one("#join"))
            await pilot.press("enter")
            await wait_for(lambda: len(sock.get_memberships()) == 2, what="UI join", pilot=pilot)
            run_command(app, "workspace: save")
            await wait_for(lambda: isinstance(app.screen, SaveWorkspaceDialog), what="dialog", pilot=pilot)
            await pilot.pause()
            await pilot.press("enter")
            await wait_for(lambda: not isinstance(app.screen, SaveWorkspaceDialog), what="saved", pilot=pilot)
        saved = load_workspace(path)
        assert saved.sockets[0].joins == [JoinSpec(GROUPS[0], "veth0"), JoinSpec(GROUPS[1], "veth1")]
        assert "veth1" in path.read_text()

        again = make_app(workspace=saved)
        async with again.run_test(size=(80, 24)) as pilot:
            await all_bound(pilot, 1)
            await composer_built(pilot)
            sock = again.capture.sockets[1].sock
            await wait_for(lambda: len(sock.get_memberships()) == 2, what="both joined", pilot=pilot)
            kernel = {(m.interface, m.group) for m in read_memberships()}
            assert {("veth0", GROUPS[0]), ("veth1", GROUPS[1])} <= kernel

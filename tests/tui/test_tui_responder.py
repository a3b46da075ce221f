"""Responder rules in the TUI (r, the options pane, the palette): rules built from kinds and
values, bad ones answered under their field, replies sent to the asker and logged as sent,
counters (matched, replies, held back by the limit, errors) that follow, rules removed."""

from __future__ import annotations

import asyncio
import socket

from textual.widgets import Input, OptionList, Select, Static

from tests.tui.tui_helpers import composer_built, make_app, type_into, wait_for
from udpscope.tui.app import UdpscopeApp
from udpscope.tui.commands import palette_commands
from udpscope.tui.screens.responder import ResponderDialog
from udpscope.tui.widgets.fields import FieldMessage


def rules_of(app: UdpscopeApp, sock_id: int = 1) -> list[str]:
    session = app.workspace_session
    responder = session.responders.get(sock_id) if session is not None else None
    return responder.rule_texts if responder is not None else []


async def ask(pilot, peer: socket.socket, port: int, payload: bytes) -> bytes:  # type: ignore[no-untyped-def]
    peer.sendto(payload, ("127.0.0.1", port))
    reply = asyncio.get_running_loop().run_in_executor(None, peer.recv, 1000)
    await wait_for(reply.done, what=f"a reply to {payload!r}", pilot=pilot)
    return reply.result()


async def test_rules_made_in_the_dialog_answer_and_are_counted() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(80, 24)) as pilot:
        capture = app.capture
        await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                       what="bound", pilot=pilot)
        await composer_built(pilot)
        entry = capture.sockets[1]
        port = entry.local()[1]
        app.screen.set_focus(app.main_screen.message_log)
        await pilot.press("r")
        await wait_for(lambda: isinstance(app.screen, ResponderDialog), what="dialog", pilot=pilot)
        dialog = app.screen
        assert isinstance(dialog, ResponderDialog)

        # A bad match is answered under its field; the text stays; nothing answers yet.
        dialog.query_one("#match-kind", Select).value = "prefix"
        await type_into(pilot, "#match", "zz")
        await pilot.press("enter")
        assert "bad character" in dialog.query_one("#match-error", FieldMessage).text
        assert dialog.query_one("#match", Input).value == "zz" and rules_of(app) == []

        dialog.query_one("#match-kind", Select).value = "text"
        await type_into(pilot, "#match", "ping")
        await type_into(pilot, "#reply", "pong")
        await pilot.press("enter")
        assert rules_of(app) == ["text:ping=>text:pong"]
        assert "rule 1 answers" in dialog.query_one("#match-error", FieldMessage).text

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.settimeout(5)
            assert await ask(pilot, peer, port, b"a ping") == b"pong"
            # The reply is in the log as a datagram sent to the asker.
            await wait_for(lambda: entry.tx_datagrams == 1, what="reply logged", pilot=pilot)
            sent = [r for r in capture.ring if r.kind == "tx"]
            assert [(r.payload, r.port) for r in sent] == [(b"pong", peer.getsockname()[1])]
            await wait_for(lambda: "matched 1 · replies 1 · held back 0 · errors 0"
                           in str(dialog.query_one("#counters", Static).render()),
                           what="counters in the dialog", pilot=pilot)

            # A second rule: anything else is echoed (the first match answers, once).
            dialog.query_one("#match-kind", Select).value = "any"
            dialog.query_one("#reply-kind", Select).value = "echo"
            await pilot.pause()
            dialog.set_focus(dialog.query_one("#add"))
            await pilot.press("enter")
            assert rules_of(app) == ["text:ping=>text:pong", "*=>echo"]
            assert await ask(pilot, peer, port, b"hello?") == b"hello?"
            assert await ask(pilot, peer, port, b"ping") == b"pong"

            # A limit of 1 a second: of a burst of five, one is answered, four held back.
            await type_into(pilot, "#limit", "1")
            await pilot.press("enter")
            assert "at most 1 replies" in dialog.query_one("#limit-error", FieldMessage).text
            responder = app.session.responders[1]
            assert responder.limit.limit == 1 and responder.replies == 3  # counters kept
            for i in range(5):
                peer.sendto(b"ping %d" % i, ("127.0.0.1", port))
            await wait_for(lambda: responder.matched == 8, what="the burst matched", pilot=pilot)
            await wait_for(lambda: responder.replies == 4, what="one reply", pilot=pilot)
            assert responder.replies_dropped == 4 and responder.reply_errors == 0
            await wait_for(lambda: "held back 4" in str(
                dialog.query_one("#counters", Static).render()), what="held back shown", pilot=pilot)

        # Remove the first rule from the list (del), then close: the options pane shows the rest.
        listing = dialog.query_one("#rules", OptionList)
        dialog.set_focus(listing)
        listing.highlighted = 0
        await pilot.press("delete")
        assert rules_of(app) == ["*=>echo"]
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, ResponderDialog), what="closed", pilot=pilot)
        await pilot.press("2")
        summary = app.screen.query_one("#responder-summary", Static)
        await wait_for(lambda: "1. *=>echo" in str(summary.render()), what="options pane", pilot=pilot)
        assert "matched 8" in str(summary.render())


async def test_the_responder_dialog_from_the_palette_and_on_a_closed_socket() -> None:
    app = make_app(binds=[("127.0.0.1", 0)])
    async with app.run_test(size=(140, 40)) as pilot:
        capture = app.capture
        await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                       what="bound", pilot=pilot)
        await composer_built(pilot)
        (command,) = [c for c in palette_commands(app, app.screen) if c.title == "socket: responder"]
        command.callback()
        await wait_for(lambda: isinstance(app.screen, ResponderDialog), what="dialog", pilot=pilot)
        await pilot.press("escape")
        capture.close(1)
        await wait_for(lambda: capture.sockets[1].state == "closed", what="closed", pilot=pilot)
        command.callback()
        await pilot.pause()
        assert not isinstance(app.screen, ResponderDialog)
        assert any("closed" in n.message for n in app._notifications)

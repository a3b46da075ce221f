"""Join everywhere from the TUI: the dialog asking for the group, and the steps around it.

The app's actions (`j` in pane 6, `group: join everywhere` in the palette) come here: ask for a
group and an optional source for the selected socket, join on every multicast-capable interface
(`udpscope.tui.mc_everywhere`), say what happened, and show pane 6, where the arrivals are
counted per interface. Kept apart from the app module so it stays small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from udpscope.textsafe import safe_text
from udpscope.tui.forms import FormError, JoinEverywhereRequest, parse_join_everywhere
from udpscope.tui.screens.dialogs import Dialog
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.workbench import app_of

if TYPE_CHECKING:
    from udpscope.tui.app import UdpscopeApp

TITLE = "Join everywhere"


class JoinEverywhereDialog(Dialog[JoinEverywhereRequest]):
    """Group and optional source for joining on every multicast-capable interface."""

    AUTO_FOCUS = "#everywhere-group"

    def __init__(self, sock_id: int, sock_type: str, group: str = "") -> None:
        super().__init__()
        self.sock_id = sock_id
        self.sock_type = sock_type
        self.group = group

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Join everywhere with socket #{self.sock_id}"
            box.border_subtitle = "enter join · esc cancel"
            with Horizontal(classes="row"):
                yield Label("group")
                yield Input(self.group, placeholder="239.1.2.3 / ff15::1",
                            id="everywhere-group", compact=True)
            yield FieldMessage(id="group-error")
            with Horizontal(classes="row"):
                yield Label("source")
                yield Input(placeholder="optional (source-specific)", id="everywhere-source",
                            compact=True)
            yield FieldMessage(id="source-error")
            with Horizontal(classes="row buttons"):
                yield Button("Join", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def submit(self) -> None:
        boxes = {"group": self.query_one("#group-error", FieldMessage),
                 "source": self.query_one("#source-error", FieldMessage)}
        for box in boxes.values():
            box.clear()
        app_of(self).flush_typing()
        try:
            request = parse_join_everywhere(self.query_one("#everywhere-group", Input).value,
                                            self.query_one("#everywhere-source", Input).value,
                                            self.sock_type)
        except FormError as exc:
            for name, message in exc.errors.items():
                boxes[name].error(message)
            return
        self.dismiss(request)


def ask(app: UdpscopeApp) -> None:
    """Ask for a group (and source), then join it everywhere with the selected socket."""
    entry = app.selected_entry()
    if entry is None:
        app.notify("No socket selected: press n to create one.", severity="warning")
        return
    if entry.state == "closed":
        app.notify(f"Socket #{entry.id} is closed: pick an open one (1 Sockets).", title=TITLE,
                   severity="warning")
        return
    group = app.everywhere.group if app.everywhere is not None else ""
    if not group and app.current_mode == "multicast":
        group = app.screen.query_one("#check-group", Input).value.strip()

    def done(req: JoinEverywhereRequest | None) -> None:
        if req is not None:
            join(app, entry.id, req.group, req.source)

    app.push_screen(JoinEverywhereDialog(entry.id, entry.type, group), done)


def join(app: UdpscopeApp, sock_id: int, group: str, source: str | None = None) -> None:
    """Join ``group`` (from ``source``) on every candidate interface with socket ``sock_id``,
    replacing a running join everywhere, say what happened and show pane 6 (failures per
    interface are listed there; an unexpected one is reported)."""
    from udpscope.tui import mc_everywhere
    from udpscope.tui.mc_sources import MulticastSources

    leave(app, quiet=True)
    sources = app.multicast_sources or MulticastSources()
    try:
        session = mc_everywhere.start(app.capture, sock_id, group, source,
                                      interfaces=sources.interfaces())
    except Exception as exc:
        app.report_error(sock_id, exc)
        return
    app.everywhere = session
    joined, already, failed = session.joined, session.already, session.failed
    text = (f"Socket #{sock_id} joined {safe_text(group, 48)} on "
            f"{safe_text(', '.join(joined), 200) if joined else 'no new interface'}")
    if already:
        text += f"; already on {safe_text(', '.join(already), 120)}"
    if failed:
        text += f"; {len(failed)} failed ({safe_text(', '.join(o.interface for o in failed), 120)})"
    app.notify(text, title=TITLE, markup=False,
               severity="warning" if failed or not (joined or already) else "information")
    app.switch_mode("multicast")


def leave(app: UdpscopeApp, quiet: bool = False) -> None:
    """Leave the group joined everywhere and stop counting its arrivals."""
    session, app.everywhere = app.everywhere, None
    if session is None:
        if not quiet:
            app.notify("Nothing joined everywhere (j in pane 6 joins).", title=TITLE,
                       severity="warning")
        return
    session.leave(app.capture)
    if not quiet:
        app.notify(f"Left {safe_text(session.group, 48)} on every interface.", title=TITLE,
                   markup=False)

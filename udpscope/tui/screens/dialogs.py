"""Dialogs that create, bind and connect sockets.

Each reads its fields with udpscope.tui.forms and answers bad input under the field, keeping
what was typed and leaving the socket alone; only valid values reach the engine. Enter submits
from any field or checkbox (a focused button still does what it says; a list opens with space or
↓). Errors the engine reports later (EADDRINUSE arrives as an `error` event) are shown by the app
as a notification and a log row.
"""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from udpscope.tui.forms import (
    EndpointRequest,
    FormError,
    NewSocketFields,
    SocketRequest,
    parse_endpoint,
    parse_new_socket,
)
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.select import Select
from udpscope.tui.widgets.tick import Tick
from udpscope.tui.workbench import app_of

__all__ = ["EndpointDialog", "EndpointRequest", "NewSocketDialog", "SocketRequest"]

ResultType = TypeVar("ResultType")


class _Dialog(ModalScreen[ResultType | None]):
    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel", id="dialog-cancel"),
        Binding("enter", "submit_from_field", "Submit", id="dialog-submit", priority=True),
    ]

    DEFAULT_CSS = """
    _Dialog { align: center middle; }
    _Dialog > Vertical {
        width: 66; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $panel; padding: 0 1;
        border-title-color: $accent; border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    _Dialog .row { height: auto; margin-top: 1; }
    _Dialog Label { width: 9; }
    _Dialog Label.inline { width: auto; padding: 0 1; }
    _Dialog Input { width: 1fr; background: $boost; }
    _Dialog Input.short { width: 12; }
    _Dialog Select { width: 14; }
    _Dialog Tick { margin-right: 2; }
    _Dialog .buttons { align-horizontal: right; margin: 1 0; }
    _Dialog Button { margin-left: 2; min-width: 10; }
    _Dialog FieldMessage { padding-left: 9; }
    """

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def action_submit_from_field(self) -> None:
        # A button does what it says, now; a Select that is open picks its item.
        focused = self.focused
        if isinstance(focused, Button):
            if focused.id == "cancel":
                self.dismiss(None)
            else:
                self.submit()
            return
        if (isinstance(focused, Select) and focused.expanded) or (
                focused is not None and isinstance(focused.parent, Select)):
            raise SkipAction()
        self.submit()

    @on(Button.Pressed, "#ok")
    def _ok(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def submit(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class NewSocketDialog(_Dialog[SocketRequest]):
    """Create a socket with SocketOptions, bound at once (port 0 = random) unless unticked."""

    AUTO_FOCUS = "#bind-address"

    def __init__(self, default_type: str = "udp4") -> None:
        super().__init__()
        self.default_type = default_type

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "New socket"
            box.border_subtitle = "enter create · tab next field · esc cancel"
            with Horizontal(classes="row"):
                yield Label("type")
                yield Select(
                    [("udp4", "udp4"), ("udp6", "udp6")],
                    value=self.default_type,
                    allow_blank=False,
                    id="type",
                    compact=True,
                )
                yield Tick("bind now", value=True, id="bind", compact=True)
            with Horizontal(classes="row"):
                yield Label("address")
                yield Input(placeholder="empty: all interfaces (0.0.0.0 / ::)", id="bind-address", compact=True)
            with Horizontal(classes="row"):
                yield Label("port")
                yield Input(placeholder="0: random", id="bind-port", classes="short", compact=True)
            yield FieldMessage(id="bind-error")
            with Horizontal(classes="row"):
                yield Label("options")
                yield Tick("reuse addr", id="reuse-addr", compact=True)
                yield Tick("reuse port", id="reuse-port", compact=True)
                yield Tick("IPv6 only", id="ipv6-only", compact=True)
            with Horizontal(classes="row"):
                yield Label("")
                yield Tick("isolate: only my own groups (multicast_all off)", value=True,
                           id="isolate", compact=True)
            with Horizontal(classes="row"):
                yield Label("buffers")
                yield Label("recv", classes="inline")
                yield Input(placeholder="default", id="recv-buf", classes="short", compact=True)
                yield Label("send", classes="inline")
                yield Input(placeholder="e.g. 4MiB", id="send-buf", classes="short", compact=True)
            yield FieldMessage(id="buf-error")
            with Horizontal(classes="row buttons"):
                yield Button("Create", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self._family_shown(self.default_type)

    @on(Select.Changed, "#type")
    def _type_changed(self, event: Select.Changed) -> None:
        self._family_shown(str(event.value))

    def _family_shown(self, sock_type: str) -> None:
        # "IPv6 only" means nothing to a udp4 socket.
        self.query_one("#ipv6-only", Tick).display = sock_type == "udp6"

    @on(Tick.Changed, "#bind")
    def _bind_toggled(self, event: Tick.Changed) -> None:
        for fid in ("#bind-address", "#bind-port"):
            self.query_one(fid, Input).disabled = not event.value

    def fields(self) -> NewSocketFields:
        """The dialog's fields as they are now."""
        app_of(self).flush_typing()

        def text(selector: str) -> str:
            return self.query_one(selector, Input).value

        def ticked(selector: str) -> bool:
            return self.query_one(selector, Tick).value

        return NewSocketFields(
            type=str(self.query_one("#type", Select).value),
            bind=ticked("#bind"),
            address=text("#bind-address"),
            port=text("#bind-port"),
            recv_buffer=text("#recv-buf"),
            send_buffer=text("#send-buf"),
            reuse_addr=ticked("#reuse-addr"),
            reuse_port=ticked("#reuse-port"),
            ipv6_only=ticked("#ipv6-only"),
            isolate=ticked("#isolate"),
        )

    def submit(self) -> None:
        boxes = {"bind": self.query_one("#bind-error", FieldMessage),
                 "buffers": self.query_one("#buf-error", FieldMessage)}
        for box in boxes.values():
            box.clear()
        try:
            request = parse_new_socket(self.fields())
        except FormError as exc:
            for name, message in exc.errors.items():
                boxes[name].error(message)
            return
        self.dismiss(request)


class EndpointDialog(_Dialog[EndpointRequest]):
    """Address + port, for bind (port 0 allowed, address optional) and connect."""

    AUTO_FOCUS = "#address"

    def __init__(self, title: str, *, bind: bool, sock_type: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.bind_mode = bind
        self.sock_type = sock_type

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            box.border_subtitle = "enter OK · esc cancel"
            with Horizontal(classes="row"):
                yield Label("address")
                yield Input(
                    placeholder="empty: all interfaces" if self.bind_mode else "peer, e.g. 127.0.0.1",
                    id="address",
                    compact=True,
                )
            with Horizontal(classes="row"):
                yield Label("port")
                yield Input(
                    placeholder="0: random" if self.bind_mode else "1-65535",
                    id="port",
                    classes="short",
                    compact=True,
                )
            yield FieldMessage(id="error")
            with Horizontal(classes="row buttons"):
                yield Button("OK", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def submit(self) -> None:
        msg = self.query_one("#error", FieldMessage)
        msg.clear()
        app_of(self).flush_typing()
        try:
            request = parse_endpoint(self.query_one("#address", Input).value,
                                     self.query_one("#port", Input).value,
                                     bind=self.bind_mode, sock_type=self.sock_type)
        except FormError as exc:
            msg.error(str(exc))
            return
        self.dismiss(request)


Dialog = _Dialog  # the base (Enter submits, Esc cancels), for dialogs kept in other modules

"""Dialogs that create, bind and connect sockets.

Each validates its fields with the shared parsers and answers bad input under the field, keeping
what was typed and leaving the socket alone; only valid values reach the engine. Errors the
engine reports later (EADDRINUSE arrives as an `error` event) are shown by the app as a
notification and a log row.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from udpscope.addresses import AddressError, parse_endpoint_host, parse_int_range, parse_port
from udpscope.tui.widgets.fields import FieldMessage


@dataclass
class SocketRequest:
    """What the new-socket dialog asks for (already validated)."""

    type: str
    reuse_addr: bool = False
    reuse_port: bool = False
    ipv6_only: bool = False
    isolate: bool = True
    recv_buffer_size: int | None = None
    send_buffer_size: int | None = None
    bind: bool = True
    address: str | None = None
    port: int = 0


@dataclass
class EndpointRequest:
    address: str | None
    port: int


class _Dialog(ModalScreen):
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="dialog-cancel")]

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
    _Dialog Checkbox { margin-right: 2; }
    _Dialog .buttons { align-horizontal: right; margin: 1 0; }
    _Dialog Button { margin-left: 2; min-width: 10; }
    _Dialog FieldMessage { padding-left: 9; }
    """

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class NewSocketDialog(_Dialog):
    """Create a socket with SocketOptions, bound at once (port 0 = random) unless unticked."""

    def __init__(self, default_type: str = "udp4") -> None:
        super().__init__()
        self.default_type = default_type

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "New socket"
            box.border_subtitle = "Enter: create · Tab: next field · Esc: cancel"
            with Horizontal(classes="row"):
                yield Label("type")
                yield Select(
                    [("udp4", "udp4"), ("udp6", "udp6")],
                    value=self.default_type,
                    allow_blank=False,
                    id="type",
                    compact=True,
                )
                yield Checkbox("bind now", value=True, id="bind", compact=True)
            with Horizontal(classes="row"):
                yield Label("address")
                yield Input(placeholder="empty: all interfaces (0.0.0.0 / ::)", id="bind-address", compact=True)
            with Horizontal(classes="row"):
                yield Label("port")
                yield Input(placeholder="0: random", id="bind-port", classes="short", compact=True)
            yield FieldMessage(id="bind-error")
            with Horizontal(classes="row"):
                yield Label("options")
                yield Checkbox("reuse addr", id="reuse-addr", compact=True)
                yield Checkbox("reuse port", id="reuse-port", compact=True)
                yield Checkbox("IPv6 only", id="ipv6-only", compact=True)
            with Horizontal(classes="row"):
                yield Label("")
                yield Checkbox(
                    "isolate: only my own groups (multicast_all off)",
                    value=True,
                    id="isolate",
                    compact=True,
                )
            with Horizontal(classes="row"):
                yield Label("buffers")
                yield Label("recv", classes="inline")
                yield Input(placeholder="default", id="recv-buf", classes="short", compact=True)
                yield Label("send", classes="inline")
                yield Input(placeholder="default", id="send-buf", classes="short", compact=True)
            yield FieldMessage(id="buf-error")
            with Horizontal(classes="row buttons"):
                yield Button("Create", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        # Enter in a text field creates, so "n, Enter" makes a bound socket at once; a Select
        # would swallow that Enter by opening its list.
        self.query_one("#bind-address", Input).focus()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if event.checkbox.id == "bind":
            for fid in ("#bind-address", "#bind-port"):
                self.query_one(fid, Input).disabled = not event.value

    def submit(self) -> None:
        ok = True
        buf = self.query_one("#buf-error", FieldMessage)
        bind_msg = self.query_one("#bind-error", FieldMessage)
        buf.clear()
        bind_msg.clear()
        sizes: list[int | None] = []
        for fid, what in (("#recv-buf", "receive buffer"), ("#send-buf", "send buffer")):
            text = self.query_one(fid, Input).value.strip()
            if not text:
                sizes.append(None)
                continue
            try:
                sizes.append(parse_int_range(text, 1, 2**31 - 1, what))
            except (AddressError, ValueError) as exc:
                buf.error(str(exc))
                ok = False
        address: str | None = None
        port = 0
        bind = self.query_one("#bind", Checkbox).value
        if bind:
            addr_text = self.query_one("#bind-address", Input).value.strip()
            port_text = self.query_one("#bind-port", Input).value.strip() or "0"
            try:
                if addr_text:
                    address = parse_endpoint_host(addr_text)
                port = parse_port(port_text, allow_zero=True)
            except (AddressError, ValueError) as exc:
                bind_msg.error(str(exc))
                ok = False
        if not ok:
            return
        self.dismiss(
            SocketRequest(
                type=str(self.query_one("#type", Select).value),
                reuse_addr=self.query_one("#reuse-addr", Checkbox).value,
                reuse_port=self.query_one("#reuse-port", Checkbox).value,
                ipv6_only=self.query_one("#ipv6-only", Checkbox).value,
                isolate=self.query_one("#isolate", Checkbox).value,
                recv_buffer_size=sizes[0],
                send_buffer_size=sizes[1],
                bind=bind,
                address=address,
                port=port,
            )
        )


class EndpointDialog(_Dialog):
    """Address + port, for bind (port 0 allowed, address optional) and connect."""

    def __init__(self, title: str, *, bind: bool) -> None:
        super().__init__()
        self.title_text = title
        self.bind_mode = bind

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            box.border_subtitle = "Enter: OK · Esc: cancel"
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

    def on_mount(self) -> None:
        self.query_one("#address", Input).focus()

    def submit(self) -> None:
        msg = self.query_one("#error", FieldMessage)
        msg.clear()
        addr_text = self.query_one("#address", Input).value.strip()
        port_text = self.query_one("#port", Input).value.strip()
        try:
            address: str | None = None
            if addr_text:
                address = parse_endpoint_host(addr_text)
            elif not self.bind_mode:
                raise AddressError("address", "required")
            port = parse_port(port_text or ("0" if self.bind_mode else ""), allow_zero=self.bind_mode)
        except (AddressError, ValueError) as exc:
            msg.error(str(exc))
            return
        self.dismiss(EndpointRequest(address, port))

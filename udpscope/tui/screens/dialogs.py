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
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

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
        width: 64; height: auto; max-height: 90%;
        border: round $primary; background: $panel; padding: 1 2;
    }
    _Dialog .title { text-style: bold; padding-bottom: 1; }
    _Dialog Vertical > Horizontal { height: auto; }
    _Dialog Label { padding: 1 1 0 0; }
    _Dialog .buttons { margin-top: 1; align-horizontal: right; }
    _Dialog Button { margin-left: 1; }
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
        with Vertical():
            yield Static("New socket", classes="title")
            with Horizontal():
                yield Label("type")
                yield Select(
                    [("udp4", "udp4"), ("udp6", "udp6")],
                    value=self.default_type,
                    allow_blank=False,
                    id="type",
                )
            with Horizontal():
                yield Checkbox("reuse addr", id="reuse-addr")
                yield Checkbox("reuse port", id="reuse-port")
                yield Checkbox("IPv6 only", id="ipv6-only")
            with Horizontal():
                yield Checkbox("isolate (multicast_all off)", value=True, id="isolate")
            with Horizontal():
                yield Label("recv buf")
                yield Input(placeholder="default", id="recv-buf")
                yield Label("send buf")
                yield Input(placeholder="default", id="send-buf")
            yield FieldMessage(id="buf-error")
            with Horizontal():
                yield Checkbox("bind now", value=True, id="bind")
            with Horizontal():
                yield Input(placeholder="address (empty: all interfaces)", id="bind-address")
                yield Input(placeholder="port (0: random)", id="bind-port")
            yield FieldMessage(id="bind-error")
            with Horizontal(classes="buttons"):
                yield Button("Create", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

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
                    parsed = parse_endpoint_host(addr_text)
                    address = parsed if isinstance(parsed, str) else addr_text
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
        with Vertical():
            yield Static(self.title_text, classes="title", markup=False)
            with Horizontal():
                yield Input(
                    placeholder="address (empty: all interfaces)" if self.bind_mode else "address",
                    id="address",
                )
                yield Input(placeholder="port (0: random)" if self.bind_mode else "port", id="port")
            yield FieldMessage(id="error")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def submit(self) -> None:
        msg = self.query_one("#error", FieldMessage)
        msg.clear()
        addr_text = self.query_one("#address", Input).value.strip()
        port_text = self.query_one("#port", Input).value.strip()
        try:
            address: str | None = None
            if addr_text:
                parsed = parse_endpoint_host(addr_text)
                address = parsed if isinstance(parsed, str) else addr_text
            elif not self.bind_mode:
                raise AddressError("address", "required")
            port = parse_port(port_text or ("0" if self.bind_mode else ""), allow_zero=self.bind_mode)
        except (AddressError, ValueError) as exc:
            msg.error(str(exc))
            return
        self.dismiss(EndpointRequest(address, port))

"""The composer: build a datagram (text, hex, base64 or a file) and send it once or N times.

Everything typed is validated here with the shared parsers (udpscope.addresses, .payload) so the
TUI and the CLI reject the same things with the same words. A bad field gets a message under it
and keeps its text; the socket is not touched. The send goes through the capture layer, whose
engine callback reports bytes or an error; the result line follows the job on the app's tick.
The payload stays in the box after sending, for the next try.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from udpscope.addresses import (
    AddressError,
    format_endpoint,
    parse_endpoint_host,
    parse_int_range,
    parse_port,
)
from udpscope.capture import MAX_SEND_COUNT, SendJob
from udpscope.payload import PayloadError, parse_payload
from udpscope.textsafe import safe_text
from udpscope.tui.widgets.fields import FieldMessage

KINDS = [("text", "text"), ("hex", "hex"), ("base64", "base64"), ("file", "file")]
PLACEHOLDERS = {
    "text": "payload text, e.g. hello",
    "hex": "hex bytes, e.g. 68 69 0a",
    "base64": "base64, e.g. aGkK",
    "file": "path of the file to send",
}
FIELD_MESSAGES = {
    "dest-host": "#dest-error",
    "dest-port": "#dest-error",
    "payload": "#payload-error",
    "count": "#count-error",
    "rate": "#count-error",
}


class ComposePane(VerticalScroll):
    """Destination, payload and repetition fields, and the last send's result."""

    BINDINGS = [Binding("ctrl+s", "send", "Send", id="compose-send", priority=True)]

    DEFAULT_CSS = """
    ComposePane { padding: 0 1; }
    ComposePane > .row { height: auto; margin-top: 1; }
    ComposePane Label { width: 7; }
    ComposePane Label.inline { width: auto; padding: 0 1; }
    ComposePane Input { background: $boost; }
    ComposePane #compose-from { color: $text-muted; }
    ComposePane #dest-host { width: 1fr; }
    ComposePane #dest-port { width: 9; }
    ComposePane #payload-kind { width: 12; }
    ComposePane #payload { margin-top: 1; }
    ComposePane #count, ComposePane #rate { width: 8; }
    ComposePane #send-row Button { margin-right: 1; min-width: 8; }
    ComposePane #probe { margin-left: 1; }
    """

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.job: SendJob | None = None
        self._shown: tuple[bool, str] | None = None
        self._from = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="compose-from", markup=False)
        with Horizontal(classes="row"):
            yield Label("to")
            yield Input(placeholder="host, e.g. 127.0.0.1 or ::1", id="dest-host", compact=True)
        with Horizontal(classes="row"):
            yield Label("port")
            yield Input(placeholder="1-65535", id="dest-port", type="text", compact=True)
            yield Label("as", classes="inline")
            yield Select(KINDS, value="text", allow_blank=False, id="payload-kind", compact=True)
        yield FieldMessage(id="dest-error")
        yield Input(placeholder=PLACEHOLDERS["text"], id="payload", compact=True)
        yield FieldMessage(id="payload-error")
        with Horizontal(classes="row"):
            yield Label("count")
            yield Input("1", id="count", compact=True)
            yield Label("rate/s", classes="inline")
            yield Input(placeholder="max", id="rate", compact=True)
        yield FieldMessage(id="count-error")
        with Horizontal(id="send-row", classes="row"):
            yield Button("Send ^s", id="send", variant="primary", compact=True)
            yield Button("Stop", id="stop", compact=True)
            yield Checkbox("probe", id="probe", compact=True)
        yield FieldMessage(id="send-result")

    def on_mount(self) -> None:
        self.update_from()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "payload-kind":
            event.stop()
            self.query_one("#payload", Input).placeholder = PLACEHOLDERS.get(str(event.value), "")

    def on_input_changed(self, event: Input.Changed) -> None:
        # An edited field is no longer the one the message was about.
        target = FIELD_MESSAGES.get(event.input.id or "")
        if target:
            self.query_one(target, FieldMessage).clear()

    def update_from(self) -> None:
        """The 'from socket #N' line: which socket a send would use (cheap; on the slow tick)."""
        entry = self.app.selected_entry()  # type: ignore[attr-defined]
        if entry is None:
            text = "from: no socket yet (press n)"
        else:
            local = entry.local()
            where = safe_text(format_endpoint(*local), 60) if local else entry.state
            text = f"from #{entry.id} {entry.type} {where}"
            peer = entry.peer()
            if peer:
                text += f", connected to {safe_text(format_endpoint(*peer), 60)}: leave 'to' and 'port' empty"
        if text != self._from:
            self._from = text
            self.query_one("#compose-from", Static).update(Content(text))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "send":
            self.action_send()
        elif event.button.id == "stop" and self.job is not None:
            self.job.cancel()
            self.update_result()

    def _clear_messages(self) -> None:
        for fid in ("dest-error", "payload-error", "count-error", "send-result"):
            self.query_one(f"#{fid}", FieldMessage).clear()

    def action_send(self) -> None:
        """Validate every field, then send through the capture layer."""
        app = self.app
        self._clear_messages()
        entry = app.selected_entry()  # type: ignore[attr-defined]
        result = self.query_one("#send-result", FieldMessage)
        if entry is None:
            result.error("no socket selected: press n to create one (or pick one in the list)")
            return
        sock_id = entry.id
        connected = entry.state == "connected"
        host_text = self.query_one("#dest-host", Input).value.strip()
        port_text = self.query_one("#dest-port", Input).value.strip()
        dest = self.query_one("#dest-error", FieldMessage)
        address: str | None = None
        port: int | None = None
        ok = True
        if not (connected and not host_text and not port_text):
            try:
                if not host_text:
                    raise AddressError("host", "required (e.g. 127.0.0.1), or connect the socket first")
                address = parse_endpoint_host(host_text)
            except (AddressError, ValueError) as exc:
                dest.error(str(exc))
                ok = False
            if ok:
                try:
                    port = parse_port(port_text, allow_zero=False)
                except (AddressError, ValueError) as exc:
                    dest.error(str(exc))
                    ok = False
        kind = str(self.query_one("#payload-kind", Select).value)
        payload = b""
        try:
            payload = parse_payload(self.query_one("#payload", Input).value, kind)
        except (PayloadError, ValueError, OSError) as exc:
            self.query_one("#payload-error", FieldMessage).error(str(exc))
            ok = False
        count_msg = self.query_one("#count-error", FieldMessage)
        count = 1
        rate: float | None = None
        try:
            count = parse_int_range(
                self.query_one("#count", Input).value.strip() or "1", 1, MAX_SEND_COUNT, "count"
            )
            rate_text = self.query_one("#rate", Input).value.strip()
            if rate_text:
                try:
                    rate = float(rate_text)
                except ValueError:
                    raise ValueError(f"rate: not a number: {rate_text}") from None
                if not (0 < rate <= 1_000_000):
                    raise ValueError("rate: must be between 0 and 1000000 datagrams/s")
        except (AddressError, ValueError) as exc:
            count_msg.error(str(exc))
            ok = False
        if not ok:
            return
        if self.job is not None and not self.job.done:
            self.job.cancel()
        probe = self.query_one("#probe", Checkbox).value
        try:
            self.job = app.capture.send(sock_id, payload, port, address, count, rate, probe)  # type: ignore[attr-defined]
        except Exception as exc:  # engine argument errors: shown, never a crash
            result.error(str(exc))
            app.report_error(sock_id, exc)  # type: ignore[attr-defined]
            return
        self._shown = None
        result.info(f"sending {count} datagram(s)…")

    def update_result(self) -> None:
        """Called on the app's tick: show the job's progress / outcome."""
        self.update_from()
        job = self.job
        if job is None:
            return
        if job.ok + job.failed == 0 and not job.cancelled:
            return
        summary = (job.failed > 0, job.summary())
        if summary == self._shown:
            return
        self._shown = summary
        result = self.query_one("#send-result", FieldMessage)
        if job.failed:
            result.error(summary[1])
        else:
            result.ok(summary[1])

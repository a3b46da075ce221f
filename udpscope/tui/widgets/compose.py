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
from textual.widgets import Button, Checkbox, Input, Label, Select

from udpscope.addresses import AddressError, parse_endpoint_host, parse_int_range, parse_port
from udpscope.capture import MAX_SEND_COUNT, SendJob
from udpscope.payload import PayloadError, parse_payload
from udpscope.tui.widgets.fields import FieldMessage

KINDS = [("text", "text"), ("hex", "hex"), ("base64", "base64"), ("file", "file")]


class ComposePane(VerticalScroll):
    """Destination, payload and repetition fields, and the last send's result."""

    BINDINGS = [Binding("ctrl+s", "send", "Send", id="compose-send", priority=True)]

    DEFAULT_CSS = """
    ComposePane { padding: 0 1; }
    ComposePane > Horizontal { height: auto; margin-top: 1; }
    ComposePane Label { padding: 0 1 0 0; min-width: 3; }
    ComposePane Input { background: $boost; }
    ComposePane #payload { margin-top: 1; }
    ComposePane #dest-host { width: 1fr; }
    ComposePane #dest-port { width: 8; }
    ComposePane #payload-kind { width: 16; }
    ComposePane #count, ComposePane #rate { width: 9; }
    ComposePane #probe { margin-left: 1; }
    ComposePane #send-row Button { margin-right: 1; }
    """

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.job: SendJob | None = None
        self._shown: tuple[bool, str] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("to")
            yield Input(placeholder="host / 127.0.0.1 / ::1 / fe80::1%eth0", id="dest-host", compact=True)
            yield Label(" port")
            yield Input(placeholder="port", id="dest-port", type="text", compact=True)
        yield FieldMessage(id="dest-error")
        with Horizontal():
            yield Label("payload")
            yield Select(KINDS, value="text", allow_blank=False, id="payload-kind", compact=True)
        yield Input(placeholder="text to send (hex: 68 69, base64, or a file path)", id="payload", compact=True)
        yield FieldMessage(id="payload-error")
        with Horizontal():
            yield Label("count")
            yield Input("1", id="count", compact=True)
            yield Label("rate/s")
            yield Input(placeholder="max", id="rate", compact=True)
            yield Checkbox("probe", id="probe", compact=True)
        yield FieldMessage(id="count-error")
        with Horizontal(id="send-row"):
            yield Button("Send", id="send", variant="primary", compact=True)
            yield Button("Stop", id="stop", compact=True)
        yield FieldMessage(id="send-result")

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
        sock_id = getattr(app, "selected_socket", None)
        capture = app.capture  # type: ignore[attr-defined]
        result = self.query_one("#send-result", FieldMessage)
        if sock_id is None or sock_id not in capture.sockets:
            result.error("no socket selected: press n to create one (or pick one in the list)")
            return
        entry = capture.sockets[sock_id]
        connected = entry.state == "connected"
        host_text = self.query_one("#dest-host", Input).value.strip()
        port_text = self.query_one("#dest-port", Input).value.strip()
        dest = self.query_one("#dest-error", FieldMessage)
        address: str | None
        port: int | None
        ok = True
        if connected and not host_text and not port_text:
            address, port = None, None
        else:
            address, port = None, None
            try:
                if not host_text:
                    raise AddressError("host", "required (e.g. 127.0.0.1), or connect the socket first")
                parsed = parse_endpoint_host(host_text)
                address = parsed if isinstance(parsed, str) else host_text
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
            payload = parse_payload(self.query_one("#payload", Input).value, kind)  # type: ignore[arg-type]
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
            self.job = capture.send(sock_id, payload, port, address, count, rate, probe)
        except Exception as exc:  # engine argument errors: shown, never a crash
            result.error(str(exc))
            app.report_error(sock_id, exc)  # type: ignore[attr-defined]
            return
        self._shown = None
        result.info(f"sending {count} datagram(s)…")

    def update_result(self) -> None:
        """Called on the app's tick: show the job's progress / outcome."""
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

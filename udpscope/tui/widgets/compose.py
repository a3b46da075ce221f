"""The composer: build a datagram (text, hex, base64 or a file) and send it once or N times.

The fields are read once, in the turn of the key that sends (Enter in a field, ctrl+s, the Send
button), and validated by udpscope.tui.forms with the shared parsers, so the TUI and the CLI
reject the same things with the same words. A bad field gets a message under it and keeps its
text; the socket is not touched. The send goes through the capture layer, whose engine callback
reports bytes or an error; the result line follows the job on the app's tick. The payload stays
in the box after sending, for the next try. "as file" reads only regular files, without blocking.
Saved payloads (ctrl+o) fill the fields from a named list, or save the current ones there.
"""

from __future__ import annotations

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from udpscope.addresses import format_endpoint
from udpscope.capture import SendJob
from udpscope.textsafe import safe_text
from udpscope.tui.fileforms import compose_fields_of
from udpscope.tui.forms import ComposeFields, FormError, parse_compose
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.select import Select
from udpscope.tui.widgets.tick import Tick
from udpscope.tui.workbench import app_of

KINDS = [("text", "text"), ("hex", "hex"), ("base64", "base64"), ("file", "file")]
PLACEHOLDERS = {
    "text": "payload, e.g. hello",
    "hex": "hex, e.g. 68 69 0a",
    "base64": "base64, e.g. aGkK",
    "file": "path of a regular file",
}
# Which message line answers for which field.
FIELD_MESSAGES = {
    "dest-host": "#dest-error",
    "dest-port": "#dest-error",
    "payload": "#payload-error",
    "count": "#count-error",
    "rate": "#count-error",
}
BOXES = {"dest": "#dest-error", "payload": "#payload-error", "count": "#count-error"}


class ComposePane(VerticalScroll):
    """Destination, payload and repetition fields, and the last send's result."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="compose-send", priority=True),
        Binding("ctrl+o", "payloads", "Saved", id="compose-payloads", priority=True),
        # Enter in any of the composer's text fields sends, at once (before the next key).
        Binding("enter", "send_from_field", "Send", show=False, priority=True),
    ]

    DEFAULT_CSS = """
    ComposePane { padding: 0 1; scrollbar-size-vertical: 1; }
    ComposePane > .row { height: auto; margin-top: 1; }
    ComposePane Label { width: 7; }
    ComposePane Label.inline { width: auto; padding: 0 1; }
    ComposePane Input { background: $boost; }
    ComposePane #compose-from { color: $text-muted; }
    ComposePane #dest-host { width: 1fr; }
    ComposePane #dest-port { width: 9; }
    ComposePane #payload-kind { width: 12; }
    ComposePane #payload { width: 1fr; }
    ComposePane #saved { margin-left: 1; min-width: 10; }
    ComposePane #count, ComposePane #rate { width: 8; }
    ComposePane #send-row Button { margin-right: 1; min-width: 8; }
    ComposePane #probe { margin-left: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.job: SendJob | None = None
        self._shown: tuple[bool, str] | None = None
        self._from = ""
        self._note = ""
        # Kept, not queried: the timer updates them, and may run while the pane is still being
        # composed (it is mounted after the first frame).
        self._from_label = Static("", id="compose-from", markup=False)
        self._result = FieldMessage(id="send-result")

    def compose(self) -> ComposeResult:
        yield self._from_label
        with Horizontal(classes="row"):
            yield Label("to")
            yield Input(placeholder="host, e.g. 127.0.0.1 or ::1", id="dest-host", compact=True)
        with Horizontal(classes="row"):
            yield Label("port")
            yield Input(placeholder="1-65535", id="dest-port", compact=True)
            yield Label("as", classes="inline")
            yield Select(KINDS, value="text", allow_blank=False, id="payload-kind", compact=True)
        yield FieldMessage(id="dest-error")
        with Horizontal(classes="row", id="payload-row"):
            yield Input(placeholder=PLACEHOLDERS["text"], id="payload", compact=True)
            yield Button("Saved ^o", id="saved", compact=True)
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
            yield Tick("probe", id="probe", compact=True)
        yield self._result

    def on_mount(self) -> None:
        self.update_from()

    @on(Select.Changed, "#payload-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.query_one("#payload", Input).placeholder = PLACEHOLDERS.get(str(event.value), "")
        self.query_one("#payload-error", FieldMessage).clear()

    @on(Input.Changed)
    def _field_edited(self, event: Input.Changed) -> None:
        # An edited field is no longer the one the message was about.
        target = FIELD_MESSAGES.get(event.input.id or "")
        if target:
            self.query_one(target, FieldMessage).clear()

    def update_from(self) -> None:
        """The 'from socket #N' line: which socket a send would use (cheap; on the slow tick)."""
        entry = app_of(self).selected_entry()
        if entry is None:
            text = "from: no socket yet (press n)"
        elif entry.state == "file":
            text = f"from #{entry.id}: read-only (a capture file's): press n for a socket to send from"
        else:
            local = entry.local()
            where = safe_text(format_endpoint(*local), 60) if local else entry.state
            text = f"from #{entry.id} {entry.type} {where}"
            peer = entry.peer()
            if peer:
                text += f", connected to {safe_text(format_endpoint(*peer), 60)}: 'to' and 'port' are ignored"
        if text != self._from:
            self._from = text
            self._from_label.update(Content(text))

    @on(Button.Pressed, "#send")
    def _send_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send()

    @on(Button.Pressed, "#saved")
    def _saved_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_payloads()

    def action_payloads(self) -> None:
        """Open the saved payloads: pick one to fill the fields (or send it), save these."""
        from udpscope.tui.screens.payloads import PayloadChoice, PayloadPicker

        def done(choice: PayloadChoice | None) -> None:
            if choice is None:
                return
            self.fill(compose_fields_of(choice.spec, self.fields()))
            if choice.send:
                self.action_send()
            else:
                self.set_focus_to("#payload")

        entry = app_of(self).selected_entry()
        self.app.push_screen(PayloadPicker(self.fields(), entry.type if entry else None), done)

    def set_focus_to(self, selector: str) -> None:
        self.screen.set_focus(self.query_one(selector))

    def fill(self, fields: ComposeFields) -> None:
        """Put ``fields`` in the composer (a picked saved payload); messages are cleared."""
        self.query_one("#dest-host", Input).value = fields.host
        self.query_one("#dest-port", Input).value = fields.port
        self.query_one("#payload-kind", Select).value = fields.kind
        self.query_one("#payload", Input).value = fields.payload
        self.query_one("#payload", Input).placeholder = PLACEHOLDERS.get(fields.kind, "")
        self._clear_messages()

    @on(Button.Pressed, "#stop")
    def _stop_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._stop()

    def _stop(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.update_result()

    def action_send_from_field(self) -> None:
        # Enter on a field or on a button acts now (a Button's press is a message, which keys
        # typed next would overtake).
        focused = self.screen.focused
        if focused is None or self not in focused.ancestors:
            raise SkipAction()
        if isinstance(focused, Input) or (isinstance(focused, Button) and focused.id == "send"):
            self.action_send()
        elif isinstance(focused, Button) and focused.id == "stop":
            self._stop()
        elif isinstance(focused, Button) and focused.id == "saved":
            self.action_payloads()
        else:
            raise SkipAction()

    def fields(self) -> ComposeFields:
        """The composer's fields as they are now."""
        app_of(self).flush_typing()
        value = self.query_one("#payload-kind", Select).value
        return ComposeFields(
            host=self.query_one("#dest-host", Input).value,
            port=self.query_one("#dest-port", Input).value,
            kind=str(value),
            payload=self.query_one("#payload", Input).value,
            count=self.query_one("#count", Input).value,
            rate=self.query_one("#rate", Input).value,
            probe=self.query_one("#probe", Tick).value,
        )

    def _clear_messages(self) -> None:
        for selector in (*BOXES.values(), "#send-result"):
            self.query_one(selector, FieldMessage).clear()

    def action_send(self) -> None:
        """Validate every field, then send through the capture layer."""
        app = app_of(self)
        self._clear_messages()
        entry = app.selected_entry()
        result = self._result
        if entry is None:
            result.error("no socket selected: press n to create one (or pick one in 1 Sockets)")
            return
        if entry.state == "file":
            result.error(f"socket #{entry.id} is read-only (a capture file's): press n for a "
                         "socket to send from")
            return
        peer = entry.peer()
        try:
            req = parse_compose(self.fields(), family=entry.type,
                                connected_to=format_endpoint(*peer) if peer else None)
        except FormError as exc:
            for box, message in exc.errors.items():
                self.query_one(BOXES[box], FieldMessage).error(message)
            return
        if self.job is not None and not self.job.done:
            self.job.cancel()
        try:
            self.job = app.capture.send(entry.id, req.payload, req.port, req.address, req.count,
                                        req.rate, req.probe)
        except Exception as exc:  # engine argument errors: shown, never a crash
            result.error(str(exc))
            app.report_error(entry.id, exc, notify=False)
            return
        self._shown = None
        self._note = f" ({req.note})" if req.note else ""
        result.info(f"sending {req.count} datagram(s)…{self._note}")

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
        result = self._result
        if job.failed:
            result.error(summary[1] + self._note)
        else:
            result.ok(summary[1] + self._note)

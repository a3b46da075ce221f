"""Saving a datagram's payload to a file: the raw bytes, to a new file only.

The detail view shows the payload safely; saving is how to get the exact bytes out (for a hex
editor, a replay, a bug report). The file must not exist yet, so nothing is overwritten by a
slip of the Enter key; errors (folder missing, permission, disk full) are shown under the field.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from udpscope.records import Record
from udpscope.textsafe import safe_text
from udpscope.tui.regular_file import FileReadError, write_new_file
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.workbench import app_of


class SavePayloadDialog(ModalScreen[str | None]):
    """Ask for a file name and write the payload there."""

    AUTO_FOCUS = "#save-path"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog-cancel"),
        Binding("enter", "save", "Save", id="dialog-submit", priority=True),
    ]
    DEFAULT_CSS = """
    SavePayloadDialog { align: center middle; }
    SavePayloadDialog > Vertical {
        width: 66; max-width: 100%; height: auto; border: round $primary; background: $panel;
        padding: 0 1; border-title-color: $accent; border-subtitle-color: $text-muted;
    }
    SavePayloadDialog .row { height: auto; margin-top: 1; }
    SavePayloadDialog Label { width: 6; }
    SavePayloadDialog Input { width: 1fr; background: $boost; }
    SavePayloadDialog .buttons { align-horizontal: right; margin: 1 0; height: auto; }
    SavePayloadDialog Button { margin-left: 2; min-width: 10; }
    """

    def __init__(self, record: Record) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Save the payload of #{self.record.seq} ({self.record.size} bytes)"
            box.border_subtitle = "enter save · esc cancel · a new file only"
            with Horizontal(classes="row"):
                yield Label("file")
                yield Input(f"udpscope-{self.record.seq}.bin", id="save-path", compact=True)
            yield FieldMessage(id="save-error")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if isinstance(self.focused, Button) and self.focused.id == "cancel":
            self.dismiss(None)
            return
        app_of(self).flush_typing()
        msg = self.query_one("#save-error", FieldMessage)
        path = self.query_one("#save-path", Input).value.strip()
        try:
            written = write_new_file(path, self.record.payload)
        except FileReadError as exc:
            msg.error(str(exc))
            return
        self.app.notify(f"saved {self.record.size} bytes to {safe_text(written, 200)}",
                        title="Saved", markup=False)
        self.dismiss(written)

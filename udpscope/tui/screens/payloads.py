"""The composer's saved payloads: pick one to fill the composer (or send it), save the current
one under a name, delete one.

A list the composer would keep on screen does not fit 80x24 beside its fields, so it is a
dialog (ctrl+o in the composer, or the palette). The list is the session's (`WorkspaceSession.
payloads`): what a workspace brought and what was saved here, and what "workspace: save"
writes. Names, destinations and payloads are untrusted text (a workspace is a file): shown
escaped. Saving reads the composer's fields as they were when the dialog opened, with the same
rules as sending (`tui/fileforms.parse_saved_payload`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from udpscope.addresses import format_endpoint
from udpscope.textsafe import safe_text
from udpscope.tui.fileforms import parse_saved_payload
from udpscope.tui.forms import ComposeFields, FormError
from udpscope.tui.logcolumns import fit
from udpscope.tui.screens.dialogs import _Dialog
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.workbench import app_of
from udpscope.units import human_bytes
from udpscope.workspace.schema import PayloadSpec

__all__ = ["PayloadChoice", "PayloadPicker", "payload_line"]


@dataclass(frozen=True)
class PayloadChoice:
    """A saved payload to put in the composer, and whether to send it at once."""

    spec: PayloadSpec
    send: bool = False


def payload_line(spec: PayloadSpec, width: int = 62) -> str:
    """One list line: name, destination, kind, size and a preview, in ``width`` cells."""
    to = format_endpoint(*spec.to) if spec.to is not None else "(composer's)"
    head = (f"{fit(safe_text(spec.name, 40), 14)} {fit(safe_text(to, 60), 21)} "
            f"{fit(spec.kind, 4)} {fit(human_bytes(len(spec.data)), 7, right=True)}  ")
    rest = width - len(head)
    return head + (fit(safe_text(spec.data, rest * 4), rest).rstrip() if rest > 0 else "")


class PayloadPicker(_Dialog[PayloadChoice]):
    """Saved payloads: enter fills the composer, ctrl+s sends, del deletes; save the current."""

    AUTO_FOCUS = "#payloads"
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="payloads-send", priority=True),
        Binding("delete", "delete", "Delete", id="payloads-delete"),
    ]

    DEFAULT_CSS = """
    PayloadPicker Label { width: 6; }
    PayloadPicker FieldMessage { padding-left: 6; }
    PayloadPicker #payloads { height: auto; max-height: 10; border: none; padding: 0;
                              background: $boost; margin-top: 1; }
    PayloadPicker .note { color: $text-muted; height: auto; margin-top: 1; }
    PayloadPicker .buttons Button { margin-left: 1; }
    """

    def __init__(self, current: ComposeFields, family: str | None) -> None:
        super().__init__()
        self.current = current
        self.family = family

    def payloads(self) -> list[PayloadSpec]:
        return app_of(self).session.payloads

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Saved payloads"
            box.border_subtitle = "enter fill · ^s send · del delete · esc close"
            yield OptionList(id="payloads", compact=True)
            yield Static("", classes="note", id="payloads-note", markup=False)
            with Horizontal(classes="row"):
                yield Label("name")
                yield Input(placeholder="save the composer's payload as…", id="name", compact=True)
                yield Button("Save", id="save", compact=True)
            yield FieldMessage(id="name-error")
            with Horizontal(classes="row buttons"):
                yield Button("Fill", id="ok", variant="primary", compact=True)
                yield Button("Send", id="send", compact=True)
                yield Button("Delete", id="delete", compact=True)
                yield Button("Close", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.show_list()
        if not self.payloads():
            self.set_focus(self.query_one("#name", Input))

    def show_list(self, highlight: int | None = None) -> None:
        """List the saved payloads as they are now."""
        specs = self.payloads()
        listing = self.query_one("#payloads", OptionList)
        listing.clear_options()
        listing.add_options([Option(Content(payload_line(spec))) for spec in specs])
        listing.display = bool(specs)
        for bid in ("ok", "send", "delete"):
            self.query_one(f"#{bid}", Button).disabled = not specs
        note = self.query_one("#payloads-note", Static)
        note.update("no saved payloads yet: name the composer's payload below" if not specs
                    else "workspace: save keeps them with the sockets")
        if specs:
            listing.highlighted = min(highlight if highlight is not None else 0, len(specs) - 1)

    def _chosen(self) -> PayloadSpec | None:
        specs = self.payloads()
        index = self.query_one("#payloads", OptionList).highlighted
        if index is None or not 0 <= index < len(specs):
            self.query_one("#name-error", FieldMessage).error("no saved payload to pick")
            return None
        return specs[index]

    # ---- acting ------------------------------------------------------------------------------

    def action_submit_from_field(self) -> None:
        focused = self.focused
        if isinstance(focused, Button):
            self.press(focused.id or "")
        elif focused is not None and focused.id == "name":
            self.press("save")
        else:
            self.press("ok")

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        self.press(event.button.id or "")

    @on(OptionList.OptionSelected, "#payloads")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.press("ok")

    def action_send(self) -> None:
        self.press("send")

    def action_delete(self) -> None:
        if isinstance(self.focused, Input):
            raise SkipAction()  # delete edits the name
        self.press("delete")

    def submit(self) -> None:
        self.press("ok")

    def press(self, what: str) -> None:
        """Do what button ``what`` does: ok (fill), send, delete, save, cancel."""
        app_of(self).flush_typing()
        if what == "cancel":
            self.dismiss(None)
        elif what == "save":
            self._save()
        elif what in ("ok", "send", "delete"):
            spec = self._chosen()
            if spec is None:
                return
            if what == "delete":
                index = self.payloads().index(spec)
                self.payloads().remove(spec)
                self.show_list(index)
                self.query_one("#name-error", FieldMessage).ok(
                    f"deleted {safe_text(spec.name, 40)}")
                return
            self.dismiss(PayloadChoice(spec, send=what == "send"))

    def _save(self) -> None:
        message = self.query_one("#name-error", FieldMessage)
        message.clear()
        try:
            spec = parse_saved_payload(self.query_one("#name", Input).value, self.current,
                                       self.family)
        except FormError as exc:
            message.error(" · ".join(exc.errors.values()))
            return
        specs = self.payloads()
        names = [s.name for s in specs]
        if spec.name in names:
            index = names.index(spec.name)
            specs[index] = spec
            word = "replaced"
        else:
            specs.append(spec)
            index = len(specs) - 1
            word = "saved"
        self.show_list(index)
        self.query_one("#name", Input).value = ""
        message.ok(f"{word} {safe_text(spec.name, 40)} ({len(spec.data)} bytes)")

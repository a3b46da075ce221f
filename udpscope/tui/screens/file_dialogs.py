"""Dialogs that save to a file the user names: the log as pcapng, the session as a workspace.

Both check the path before anything is written (`regular_file.check_output_path`): a folder, a
FIFO, a device or a missing folder is answered under the field, with the typed text kept; an
existing file is replaced only after a second Enter (the button then reads "Replace"). The log
dialog also asks which rows: all of them, or what the log's filter shows. It returns the
request; the app writes the log in a worker thread (see `tui/session_actions.py`). The
workspace dialog saves itself, off the event loop, and stays open with the reason if that fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from udpscope.textsafe import safe_text
from udpscope.tui.regular_file import FileReadError, OutputTarget, check_output_path
from udpscope.tui.screens.dialogs import _Dialog
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.select import Select
from udpscope.tui.workbench import app_of
from udpscope.units import human_bytes

__all__ = ["SaveLogDialog", "SaveLogRequest", "SaveWorkspaceDialog"]

ResultType = TypeVar("ResultType")


@dataclass(frozen=True)
class SaveLogRequest:
    """Where to save the log, and whether only the rows the filter shows."""

    path: str
    shown_only: bool


class _SaveDialog(_Dialog[ResultType]):
    """A file field whose path is checked, and an existing file replaced only when confirmed."""

    DEFAULT_CSS = """
    _SaveDialog Label { width: 6; }
    _SaveDialog FieldMessage { padding-left: 6; }
    _SaveDialog .note { color: $text-muted; padding-left: 6; height: auto; }
    _SaveDialog #scope-all { width: 1fr; }
    _SaveDialog Select { width: 1fr; }
    """

    ok_label = "Save"

    def __init__(self, default_path: str, replace_silently: str | None = None) -> None:
        super().__init__()
        self.default_path = default_path
        # A path the user already chose to save to (the opened workspace): no question for it.
        self.replace_silently = replace_silently
        self._confirming: str | None = None

    def path_row(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label("file")
            yield Input(self.default_path, id="path", compact=True)
        yield FieldMessage(id="path-error")

    def buttons(self, ok: str) -> ComposeResult:
        with Horizontal(classes="row buttons"):
            yield Button(ok, id="ok", variant="primary", compact=True)
            yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        # A watcher, not Input.Changed: it runs in the turn of the key that edits the path, so
        # an Enter typed right after sees the question about the old path already withdrawn.
        self.watch(self.query_one("#path", Input), "value", self._path_edited, init=False)

    def _path_edited(self) -> None:
        # Another path: any question about the old one no longer applies.
        if self._confirming is not None:
            self._confirming = None
            self.query_one("#ok", Button).label = self.ok_label
            self.query_one("#path-error", FieldMessage).clear()

    def checked_target(self) -> OutputTarget | None:
        """The path field checked; None (with the reason, or the question, under it) when the
        save must not go ahead yet."""
        app_of(self).flush_typing()
        message = self.query_one("#path-error", FieldMessage)
        message.clear()
        try:
            target = check_output_path(self.query_one("#path", Input).value)
        except FileReadError as exc:
            message.error(str(exc))
            return None
        if not target.exists or target.path in (self._confirming, self.replace_silently):
            return target
        self._confirming = target.path
        self.query_one("#ok", Button).label = "Replace"
        message.error(f"{target.shown} exists ({human_bytes(target.size or 0)}): "
                      "Enter again replaces it, or type another name")
        return None


class SaveLogDialog(_SaveDialog[SaveLogRequest]):
    """Save the log as pcapng: the path, and all rows or only what the filter shows."""

    AUTO_FOCUS = "#path"

    def __init__(self, default_path: str, all_rows: int, shown_rows: int, filter_text: str) -> None:
        super().__init__(default_path)
        self.all_rows = all_rows
        self.shown_rows = shown_rows
        self.filter_text = filter_text

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Save the log as pcapng"
            box.border_subtitle = "enter save · esc cancel"
            yield from self.path_row()
            with Horizontal(classes="row"):
                yield Label("rows")
                if self.filter_text:
                    yield Select([(Content(_rows(self.all_rows, "all ")), "all"),
                                  (Content(_rows(self.shown_rows, "only what the filter shows: ")),
                                   "shown")],
                                 value="shown", allow_blank=False, id="scope", compact=True)
                else:
                    yield Static(Content(_rows(self.all_rows, "all ")), id="scope-all")
            if self.filter_text:
                note = f"filter: {safe_text(self.filter_text, 60)}"
            else:
                note = "no filter is set: every row of the log is saved"
            yield Static(Content(note), classes="note", id="scope-note")
            yield Static(Content("Wireshark, tshark and udpscope open read it; sent datagrams "
                                 "are marked outbound, events are left out"), classes="note")
            yield from self.buttons("Save")

    def submit(self) -> None:
        target = self.checked_target()
        if target is None:
            return
        shown = self.filter_text != "" and self.query_one("#scope", Select).value == "shown"
        self.dismiss(SaveLogRequest(target.path, shown))


def _rows(n: int, what: str) -> str:
    return f"{what}{n} row" + ("" if n == 1 else "s")


class SaveWorkspaceDialog(_SaveDialog[str]):
    """Save the session (sockets, options, joins, rules, saved payloads) as a workspace."""

    AUTO_FOCUS = "#path"

    def __init__(self, default_path: str, opened: str | None, summary: str) -> None:
        super().__init__(default_path, replace_silently=opened)
        self.summary = summary

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Save the workspace"
            box.border_subtitle = "enter save · esc cancel"
            yield from self.path_row()
            yield Static(Content(self.summary), classes="note", id="ws-summary")
            yield Static(Content("udpscope --workspace FILE opens it all again"), classes="note")
            yield from self.buttons("Save")

    def submit(self) -> None:
        target = self.checked_target()
        if target is None:
            return
        self.query_one("#ok", Button).disabled = True
        self.save(target)

    @work(exclusive=True, group="workspace-save")
    async def save(self, target: OutputTarget) -> None:
        """Write the workspace off the event loop; close on success, say why not otherwise."""
        from udpscope.tui.session_actions import write_workspace

        error = await write_workspace(app_of(self), target.path)
        if error is None:
            self.dismiss(target.path)
            return
        self.query_one("#ok", Button).disabled = False
        self.query_one("#path-error", FieldMessage).error(error)

"""Every key in one place, generated from the bindings so it cannot drift from them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

EXTRA = [
    ("Tab / Shift+Tab", "move between fields and panes"),
    ("Escape", "leave a field (then the pane keys work) / close a dialog"),
    ("Enter (in a field)", "submit: send in the composer, set/join in options"),
    ("ctrl+p", "command palette (socket: …, log: …, theme: …, view: …)"),
    ("ctrl+q", "quit"),
    ("Filter syntax", "#N  dir:rx|tx|ev  peer:TEXT  hex:6869  text:WORD  (all must match)"),
]


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help-close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84; height: 90%; border: round $primary; background: $panel; padding: 0 1;
    }
    """

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        parts: list[Content] = []
        for title, bindings in self.sections:
            parts.append(Content.styled(title, "bold $accent"))
            for b in bindings:
                try:
                    key = self.app.get_key_display(b)
                except Exception:
                    key = b.key_display or b.key
                desc = b.description or b.tooltip or b.action
                parts.append(Content.assemble((f"  {key:<16}", "bold"), desc))
            parts.append(Content(""))
        parts.append(Content.styled("Everywhere", "bold $accent"))
        for key, desc in EXTRA:
            parts.append(Content.assemble((f"  {key:<16}", "bold"), desc))
        with VerticalScroll():
            yield Static(Content("\n").join(parts), id="help-text")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)

"""The findings of "why no traffic?": one selectable entry each — level, what was seen and why it
matters, and the command that fixes it — wrapping inside its own column at any width.

A list rather than one block of text so that a finding can be picked (↑/↓) and its fix copied
with one key: fix commands are what users paste into a shell, and retyping `sysctl -w
net.ipv4.conf.eth0.rp_filter=2` from the screen is where mistakes come in. All text here comes
from the checks, which quote interface names, addresses and firewall rules: it is sanitised
and shown as Text, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from udpscope.net.checks import Finding
from udpscope.textsafe import safe_text

LEVEL_STYLE = {"error": "error", "warning": "warning", "info": "text-muted"}
LEVEL_WIDTH = 8
TITLE_LIMIT = 200
DETAIL_LIMIT = 1200
FIX_LIMIT = 600


def finding_grid(rows: Sequence[tuple[Text, Text]]) -> Table:
    """Two columns: a short label, and text that wraps within its own column."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(width=LEVEL_WIDTH, no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    for label, text in rows:
        table.add_row(label, text)
    return table


def fix_of(finding: Finding) -> str | None:
    """The finding's fix command as shown and copied (sanitised), or None."""
    return safe_text(finding.fix, FIX_LIMIT) if finding.fix else None


class FindingsList(OptionList):
    """Findings, one option each; the highlighted one's fix is what `selected_fix` gives."""

    DEFAULT_CSS = """
    FindingsList { height: auto; max-height: 1000; border: none; padding: 0;
                   background: transparent; scrollbar-size-vertical: 0; }
    FindingsList:focus { border: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.findings: list[Finding] = []

    def _style(self, level: str) -> str:
        colour = self.app.theme_variables.get(LEVEL_STYLE.get(level, ""), "")
        return f"bold {colour}".strip()

    def _prompt(self, f: Finding) -> RenderableType:
        text = Text.assemble((safe_text(f.title, TITLE_LIMIT), "bold"), "\n",
                             safe_text(f.detail, DETAIL_LIMIT))
        fix = fix_of(f)
        if fix:
            accent = self.app.theme_variables.get("accent", "")
            text.append("\nfix: ", style="bold")
            text.append(fix, style=accent)
        # A blank row apart from the next one (OptionList leaves an option's padding out of
        # its height, so padding would be cut off).
        return finding_grid([(Text(f.level.upper(), style=self._style(f.level)), text),
                             (Text(""), Text(""))])

    def show(self, findings: Sequence[Finding]) -> None:
        """Show `findings` (an "OK" entry when there are none); the first one with a fix is
        highlighted, so the copy key has something to copy at once."""
        self.findings = list(findings)
        self.clear_options()
        if not self.findings:
            success = self.app.theme_variables.get("success", "")
            ok = finding_grid([(Text("OK", style=f"bold {success}".strip()),
                                Text("No problems found for this setup."))])
            self.add_option(Option(ok, disabled=True))
            return
        self.add_options(Option(self._prompt(f), id=f"finding-{n}")
                         for n, f in enumerate(self.findings))
        first = next((n for n, f in enumerate(self.findings) if f.fix), 0)
        self.highlighted = first

    def show_message(self, message: str, error: bool = False) -> None:
        """Show one line instead of findings (a running check, a bad group)."""
        self.findings = []
        self.clear_options()
        colour = self.app.theme_variables.get("text-error" if error else "text-muted", "")
        self.add_option(Option(Text(safe_text(message, 300), style=colour), disabled=True))

    def selected(self) -> Finding | None:
        """The highlighted finding, if any."""
        index = self.highlighted
        if index is None or not 0 <= index < len(self.findings):
            return None
        return self.findings[index]

    def selected_fix(self) -> str | None:
        """The highlighted finding's fix (sanitised), or None."""
        f = self.selected()
        return fix_of(f) if f is not None else None

    def plain_text(self, width: int) -> str:
        """The entries as plain lines at `width` columns (tests, screen readers)."""
        console = Console(width=max(40, width), color_system=None, file=None)
        with console.capture() as capture:
            for option in self.options:
                console.print(option.prompt)
        return capture.get()

"""The Hosts view's grid: a row per sender, a column per receiver, a cell per ordered pair.

A DataTable with a cell cursor: the arrow keys pick a pair, the sender names stay at the left
while the columns scroll (16 hosts do not fit 80 columns), and names longer than a column are cut
with "…". Each refresh touches only the cells whose text or level changed since the last one
(a healthy run changes few), so a new report costs a few updates, not a rebuild of 240 cells.
Cells carry their loss level as a symbol as well as a colour (see udpscope.tui.hostgrid).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from udpscope.agent.grid import Cell
from udpscope.tui.hostgrid import SYMBOL, Labels, cell_text

LABEL_WIDTH = 17  # a sender's name at the left ("#16 rack1-node01", and room for a ✗)
CELL_WIDTH = 8  # "✗100/100"; a receiver's name is cut to this (with room for a ✗)


class HostGrid(DataTable[Text]):
    """Sender x receiver cells; `show` brings it up to date, `selected` names the cursor's pair."""

    DEFAULT_CSS = """
    HostGrid { scrollbar-size: 1 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="cell", zebra_stripes=False, show_row_labels=True)
        self.names: tuple[str, ...] = ()
        self._failed: frozenset[str] = frozenset()
        self._labels: Labels | None = None
        self._shown: dict[tuple[str, str], tuple[str, str]] = {}
        self.styles_by_level: dict[str, str] = {}

    def set_level_styles(self, styles: Mapping[str, str]) -> None:
        """Rich styles per level (from the theme); every cell is redrawn with them."""
        if dict(styles) != self.styles_by_level:
            self.styles_by_level = dict(styles)
            self._shown.clear()

    def show(self, names: Sequence[str], labels: Labels, cells: Mapping[tuple[str, str], Cell],
             failed: frozenset[str], max_loss: float) -> int:
        """Show ``names`` (senders and receivers, in order, named by ``labels``) with ``cells``
        (missing: not measured); hosts in ``failed`` are marked ✗.

        Returns:
            How many cells were redrawn.
        """
        names = tuple(names)
        if names != self.names or failed != self._failed or labels != self._labels:
            self._rebuild(names, labels, failed)
        changed = 0
        for sender in names:
            for receiver in names:
                if sender == receiver:
                    shown = (SYMBOL["self"], "self")
                else:
                    cell = cells.get((sender, receiver))
                    shown = cell_text(cell, max_loss) if cell is not None else (SYMBOL["none"], "none")
                if self._shown.get((sender, receiver)) != shown:
                    self._shown[(sender, receiver)] = shown
                    self.update_cell(sender, receiver, self._text(*shown))
                    changed += 1
        return changed

    def _text(self, text: str, level: str) -> Text:
        return Text(text, style=self.styles_by_level.get(level, ""), no_wrap=True, overflow="ellipsis")

    def _label(self, name: str, text: str) -> Text:
        if name in self._failed:
            return Text("✗" + text, style=self.styles_by_level.get("lost", ""), no_wrap=True,
                        overflow="ellipsis")
        return Text(text, no_wrap=True, overflow="ellipsis")

    def _rebuild(self, names: tuple[str, ...], labels: Labels, failed: frozenset[str]) -> None:
        cursor = self.cursor_coordinate
        previous = len(self.names) > 1
        self.clear(columns=True)
        self._shown.clear()
        self.names, self._labels, self._failed = names, labels, failed
        for name, label in zip(names, labels.columns, strict=True):
            self.add_column(self._label(name, label), width=CELL_WIDTH, key=name)
        for name, label in zip(names, labels.rows, strict=True):
            self.add_row(*(self._text("", "none") for _ in names), key=name,
                         label=self._label(name, label))
        if len(names) > 1:
            # A new grid starts on its first pair (not on a host's own diagonal cell).
            last = len(names) - 1
            row, column = min(cursor.row, last), min(cursor.column, last)
            if not previous:
                row, column = 0, 1
            self.move_cursor(row=row, column=column, animate=False)

    def selected(self) -> tuple[str, str] | None:
        """(sender, receiver) under the cursor; None when the grid is empty."""
        at: Coordinate = self.cursor_coordinate
        if not self.names or at.row >= len(self.names) or at.column >= len(self.names):
            return None
        return self.names[at.row], self.names[at.column]

    def cell_plain(self, sender: str, receiver: str) -> tuple[str, str] | None:
        """What a cell shows and its level (for tests and screen readers)."""
        return self._shown.get((sender, receiver))

"""The Hosts view's grid: a row per sender, a column per receiver, a cell per ordered pair.

A Line-API view, not a DataTable: a DataTable redraws every visible cell through Rich (padding,
wrapping) whenever any one cell changes, which with 16 hosts cost ~25 ms a frame and up to 120
ms (measured with scripts/hosts_view_cost.py) — on the loop that also reads the keyboard. Here a
line is a few pre-styled segments per visible cell, built when the line is drawn; `show` only
compares each cell's text and level with what is shown, and redraws when one changed.

The sender names stay at the left and the receivers' header at the top while the cells scroll
(16 hosts do not fit 80 columns); the arrow keys move a cell cursor and the view follows it.
Cells carry their loss level as a symbol as well as a colour (see udpscope.tui.hostgrid).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from udpscope.agent.grid import Cell
from udpscope.tui.hostgrid import SYMBOL, Labels, cell_text

LABEL_WIDTH = 17  # a sender's name at the left ("#16 rack1-node01", and room for a ✗)
CELL_WIDTH = 8  # "✗100/100"; a receiver's name is cut to this (with room for a ✗)
PAD = 1  # a blank column each side of a cell


class HostGrid(ScrollView, can_focus=True):
    """Sender x receiver cells; `show` brings it up to date, `selected` names the cursor's pair."""

    COMPONENT_CLASSES = {"host-grid--header", "host-grid--label", "host-grid--cursor"}
    DEFAULT_CSS = """
    HostGrid { scrollbar-size: 1 1; background: $surface; }
    HostGrid > .host-grid--header { text-style: bold; background: $panel; }
    HostGrid > .host-grid--label { text-style: bold; background: $panel; }
    HostGrid > .host-grid--cursor {
        background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
    }
    HostGrid:focus > .host-grid--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    """
    BINDINGS = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("home", "move(0, -1000)", "First column", show=False),
        Binding("end", "move(0, 1000)", "Last column", show=False),
        Binding("pageup", "move(-10, 0)", "Page up", show=False),
        Binding("pagedown", "move(10, 0)", "Page down", show=False),
    ]

    class CursorMoved(Message):
        """The cursor is on another pair (or the grid was rebuilt)."""

        def __init__(self, grid: HostGrid, pair: tuple[str, str] | None) -> None:
            super().__init__()
            self.grid = grid
            self.pair = pair

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.names: tuple[str, ...] = ()
        self.labels: Labels | None = None
        self._failed: frozenset[str] = frozenset()
        self._shown: dict[tuple[str, str], tuple[str, str]] = {}
        self.styles_by_level: dict[str, str] = {}
        self._rich_levels: dict[str, Style] = {}
        self.row = 0
        self.column = 1
        self._frame: tuple[Style, Style, Style, Style] | None = None

    # ---- data ---------------------------------------------------------------------------------

    def set_level_styles(self, styles: Mapping[str, str]) -> None:
        """Rich style strings per level (from the theme)."""
        if dict(styles) != self.styles_by_level:
            self.styles_by_level = dict(styles)
            self._rich_levels = {level: Style.parse(text) for level, text in styles.items()}
            self.refresh()

    def show(self, names: Sequence[str], labels: Labels, cells: Mapping[tuple[str, str], Cell],
             failed: frozenset[str], max_loss: float) -> int:
        """Show ``names`` (senders and receivers, in order, named by ``labels``) with ``cells``
        (missing: not measured); hosts in ``failed`` are marked ✗.

        Returns:
            How many cells changed.
        """
        names = tuple(names)
        rebuilt = names != self.names or labels != self.labels or failed != self._failed
        if rebuilt:
            first = len(self.names) < 2
            self.names, self.labels, self._failed = names, labels, failed
            self._shown = {}
            if first:  # a new grid starts on its first pair, not on a host's own cell
                self.row, self.column = 0, 1
            last = max(0, len(names) - 1)
            self.row, self.column = min(self.row, last), min(self.column, last)
            self.virtual_size = Size(self._label_width() + len(names) * (CELL_WIDTH + 2 * PAD),
                                     len(names) + 1)
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
                    changed += 1
        if changed or rebuilt:
            self.refresh()
        if rebuilt:
            self.post_message(self.CursorMoved(self, self.selected()))
        return changed

    def selected(self) -> tuple[str, str] | None:
        """(sender, receiver) under the cursor; None when the grid is empty."""
        if not self.names:
            return None
        return self.names[self.row], self.names[self.column]

    def cell_plain(self, sender: str, receiver: str) -> tuple[str, str] | None:
        """What a cell shows and its level (for tests and screen readers)."""
        return self._shown.get((sender, receiver))

    def cell_style(self, sender: str, receiver: str) -> Style:
        """The style a cell is drawn with, cursor aside (its level's colour)."""
        shown = self._shown.get((sender, receiver))
        return self._rich_levels.get(shown[1], Style()) if shown else Style()

    def column_label(self, name: str) -> str:
        """A receiver's header as drawn."""
        if self.labels is None or name not in self.names:
            return ""
        return ("✗" if name in self._failed else "") + self.labels.columns[self.names.index(name)]

    # ---- the cursor -----------------------------------------------------------------------------

    def action_move(self, rows: int, columns: int) -> None:
        """Move the cursor by ``rows`` and ``columns`` (clamped) and keep it in view."""
        if not self.names:
            return
        last = len(self.names) - 1
        self.move_to(min(last, max(0, self.row + rows)), min(last, max(0, self.column + columns)))

    def move_to(self, row: int, column: int) -> None:
        """Put the cursor on (row, column), scroll it into view, say so."""
        if (row, column) == (self.row, self.column):
            return
        self.row, self.column = row, column
        self._reveal()
        self.refresh()
        self.post_message(self.CursorMoved(self, self.selected()))

    def _reveal(self) -> None:
        region = self.scrollable_content_region
        view_w = max(1, region.width - self._label_width())
        view_h = max(1, region.height - 1)
        step = CELL_WIDTH + 2 * PAD
        x, y = int(self.scroll_x), int(self.scroll_y)
        left = self.column * step
        if left < x:
            x = left
        elif left + step > x + view_w:
            x = left + step - view_w
        if self.row < y:
            y = self.row
        elif self.row >= y + view_h:
            y = self.row - view_h + 1
        self.scroll_to(x=x, y=y, animate=False, immediate=True, force=True)

    def on_click(self, event: Click) -> None:
        column = (event.x - self._label_width() + int(self.scroll_x)) // (CELL_WIDTH + 2 * PAD)
        row = event.y - 1 + int(self.scroll_y)
        if event.x >= self._label_width() and event.y >= 1 and 0 <= row < len(self.names) \
                and 0 <= column < len(self.names):
            self.move_to(row, column)

    # ---- drawing ----------------------------------------------------------------------------------

    def _label_width(self) -> int:
        widest = max((len(label) for label in self.labels.rows), default=0) if self.labels else 0
        return min(LABEL_WIDTH, widest + 1) + 2 * PAD

    def _cell(self, text: str, style: Style) -> Segment:
        return Segment(" " * PAD + text[:CELL_WIDTH].ljust(CELL_WIDTH) + " " * PAD, style)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Resolve the styles once per frame, not once per line.
        self._frame = self._resolve_styles()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _resolve_styles(self) -> tuple[Style, Style, Style, Style]:
        component = self.get_component_rich_style
        return (self.rich_style, component("host-grid--header"), component("host-grid--label"),
                component("host-grid--cursor"))

    def _styles(self) -> tuple[Style, Style, Style, Style]:
        return self._frame if self._frame is not None else self._resolve_styles()

    def render_line(self, y: int) -> Strip:
        base, header_style, label_style, cursor = self._styles()
        width = self.scrollable_content_region.width or self.size.width
        labels, names = self.labels, self.names
        if labels is None or not names:
            return Strip.blank(width, base)
        label_w = self._label_width()
        scroll_x = int(self.scroll_x)
        lost = self._rich_levels.get("lost", Style())
        if y == 0:
            header = base + header_style
            left = [Segment(" " * label_w, header)]
            cells = [self._cell(self.column_label(name), header + (lost if name in self._failed
                                                                   else Style()))
                     for name in names]
        else:
            row = int(self.scroll_y) + y - 1
            if row >= len(names):
                return Strip.blank(width, base)
            sender = names[row]
            label_style = base + label_style
            mark = "✗" if sender in self._failed else ""
            text = (mark + labels.rows[row])[: label_w - 2 * PAD]
            left = [Segment(" " * PAD + text.ljust(label_w - PAD),
                            label_style + (lost if mark else Style()))]
            cells = []
            for column, receiver in enumerate(names):
                text, level = self._shown.get((sender, receiver), ("", "none"))
                style = base + self._rich_levels.get(level, Style())
                if (row, column) == (self.row, self.column):
                    style += cursor
                cells.append(self._cell(text, style))
        right = Strip(cells).crop(scroll_x, scroll_x + max(0, width - label_w))
        return Strip.join([Strip(left), right]).extend_cell_length(width, base)

"""Keeping a DataTable in step with live data by diffing cells, and its columns with the width.

Rebuilding a table every tick loses the cursor and the scroll position and costs a full layout;
instead each refresh compares the new row values with what is shown and touches only the cells
that changed (the dolphie approach). Cells are rich Text, never strings: DataTable parses markup
in string cells, and these cells carry peer-controlled text.

A table wider than its pane used to lose its right-hand columns silently; `choose_columns` drops
whole columns by priority instead, and a flexible column takes the rest (cut with "…").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

Cell = str | int | float | Text
PADDING = 2  # DataTable's cell padding, one column each side


@dataclass(frozen=True)
class ColumnSpec:
    """A column: its key (also the label), its width (0: takes what is left), and its priority
    (0 is never dropped; higher numbers are dropped first)."""

    key: str
    width: int
    priority: int
    min_width: int = 6


def choose_columns(
    specs: Sequence[ColumnSpec], width: int, droppable_first: Iterable[str] = ()
) -> tuple[tuple[str, int], ...]:
    """The columns (key, width) that fit ``width`` cells, in their order.

    Columns named in ``droppable_first`` go first, then by priority, highest first; priority 0
    always stays. A flexible column (width 0) gets the remaining cells, or is dropped when fewer
    than its ``min_width`` remain.
    """
    kept = list(specs)
    first = set(droppable_first)
    order = sorted((s for s in specs if s.priority), key=lambda s: (s.key not in first, -s.priority))

    def need(columns: list[ColumnSpec]) -> int:
        return sum((c.width or c.min_width) + PADDING for c in columns)

    for spec in order:
        if need(kept) <= width:
            break
        kept.remove(spec)
    fixed = sum(c.width + PADDING for c in kept if c.width)
    out = []
    for c in kept:
        w = c.width or max(c.min_width, width - fixed - PADDING)
        out.append((c.key, w))
    return tuple(out)


def as_text(value: Cell) -> Text:
    """A cell value as Text (strings are taken literally: no markup is parsed)."""
    if isinstance(value, Text):
        value.no_wrap = True
        value.overflow = "ellipsis"
        return value
    return Text(str(value), no_wrap=True, overflow="ellipsis")


def sync_rows(table: DataTable[Cell], rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
    """Make ``table`` show ``rows`` (key, cells) in order, touching only what changed."""
    wanted = [key for key, _ in rows]
    current = [str(k.value) for k in table.rows]
    if current != wanted[: len(current)] or len(current) > len(wanted):
        # Rows went away or changed order: rebuild (rare: sockets are few and stable).
        cursor = table.cursor_row
        table.clear()
        for key, cells in rows:
            table.add_row(*(as_text(c) for c in cells), key=key)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)
        return
    columns = list(table.columns)
    for key, cells in rows:
        if key not in table.rows:
            table.add_row(*(as_text(c) for c in cells), key=key)
            continue
        old = table.get_row(key)
        for col, (before, after) in enumerate(zip(old, cells, strict=False)):
            text = as_text(after)
            if not isinstance(before, Text) or before.plain != text.plain or before.style != text.style:
                table.update_cell(key, columns[col], text, update_width=False)

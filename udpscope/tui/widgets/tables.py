"""Keeping a DataTable in step with live data by diffing cells, not rebuilding it.

Rebuilding a table every tick loses the cursor and the scroll position and costs a full layout;
instead each refresh compares the new row values with what is shown and touches only the cells
that changed (the dolphie approach). Cells are rich Text, never strings: DataTable parses markup
in string cells, and these cells carry peer-controlled text.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = str | int | float | Text


def as_text(value: Cell) -> Text:
    """A cell value as Text (strings are taken literally: no markup is parsed)."""
    if isinstance(value, Text):
        return value
    return Text(str(value), no_wrap=True, overflow="ellipsis")


def sync_rows(table: DataTable, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
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
                table.update_cell(key, columns[col], text, update_width=True)

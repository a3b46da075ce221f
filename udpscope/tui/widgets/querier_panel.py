"""The querier part of the Multicast view: each interface's querier, our joins with the time left
before a snooping switch without a querier prunes them, and the arrivals of a join everywhere.

The "stops after about four minutes" complaint is a snooping switch whose membership aged out
because nobody queried; this panel shows whether anybody queries, how often, and — for each group
we joined — how long until a switch without a querier drops it. What a row says is decided in
`udpscope.tui.mc_rows` (plain, sanitised text); here it is laid out in tables that fit the width
(columns dropped by priority, the last one cut with "…") and coloured by the row's tone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Static

from udpscope.net.querier import membership_interval
from udpscope.tui.mc_rows import Row
from udpscope.tui.widgets.tables import Cell, ColumnSpec, choose_columns, sync_rows

# At 80 columns all but "max resp" fit: the querier's address, version, when it last asked,
# how often, and when this host last reported.
QUERIER_COLS = (ColumnSpec("iface", 8, 0), ColumnSpec("kind", 4, 0),
                ColumnSpec("querier", 0, 0, min_width=16), ColumnSpec("version", 9, 1),
                ColumnSpec("queried", 9, 1), ColumnSpec("interval", 8, 2),
                ColumnSpec("max resp", 8, 4), ColumnSpec("reported", 9, 3))
# The status cell of each table (coloured by the row's tone).
QUERIER_STATUS = 2
JOIN_COLS = (ColumnSpec("sock", 4, 2), ColumnSpec("group", 15, 0),
             ColumnSpec("interface", 9, 0), ColumnSpec("joined", 9, 1),
             ColumnSpec("prune countdown", 0, 0, min_width=20))
JOIN_STATUS = 4
ARRIVAL_COLS = (ColumnSpec("interface", 9, 0), ColumnSpec("join", 8, 0),
                ColumnSpec("datagrams", 9, 0), ColumnSpec("", 0, 0, min_width=10))
ARRIVAL_STATUS = 3
TONES = {"good": "success", "warn": "warning", "bad": "error", "muted": "text-muted"}
JOINS_NOTE = ("A snooping switch without a querier prunes a group one membership interval "
              "({gmi} s by default) after the join; the countdown says when.")


class QuerierPanel(Vertical):
    """Queriers, our joins and join-everywhere arrivals; filled by `show_*` from the screen."""

    DEFAULT_CSS = """
    QuerierPanel { height: auto; }
    QuerierPanel .note { color: $text-muted; padding: 0 1; }
    QuerierPanel #everywhere { height: auto; display: none; }
    QuerierPanel #everywhere.-active { display: block; }
    QuerierPanel #everywhere-warning { color: $text-warning; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Queriers (IGMP / MLD)", classes="heading")
        yield Static("", id="querier-note", classes="note", markup=False)
        yield DataTable(id="queriers", cursor_type="none")
        yield Static("Our joins", classes="heading")
        yield Static(JOINS_NOTE.format(gmi=f"{membership_interval():.0f}"), id="joins-note",
                     classes="note", markup=False)
        yield DataTable(id="own-joins", cursor_type="none")
        with Vertical(id="everywhere"):
            yield Static("Join everywhere", classes="heading")
            yield Static("", id="everywhere-note", classes="note", markup=False)
            yield DataTable(id="arrivals", cursor_type="none")
            yield Static("", id="everywhere-warning", markup=False)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.can_focus = False

    def _fill(self, selector: str, specs: tuple[ColumnSpec, ...], status: int,
              rows: Sequence[Row], width: int) -> None:
        table: DataTable[Any] = self.query_one(selector, DataTable)
        plan = choose_columns(specs, width)
        if [(str(c.key.value), c.width) for c in table.columns.values()] != list(plan):
            table.clear(columns=True)
            for key, w in plan:
                table.add_column(key, width=w, key=key)
        keys = [s.key for s in specs]
        shown = [keys.index(k) for k, _ in plan]
        colours = self.app.theme_variables
        out: list[tuple[str, list[Cell]]] = []
        for row in rows:
            cells: list[Cell] = []
            for i in shown:
                text = row.cells[i] if i < len(row.cells) else ""
                if i == status and row.tone:
                    cells.append(Text(text, style=colours.get(TONES[row.tone], "")))
                else:
                    cells.append(text)
            out.append((row.key, cells))
        sync_rows(table, out)

    def show_queriers(self, note: str, rows: Sequence[Row], width: int) -> None:
        """The note above the querier table (what is watched, or what can't be) and its rows."""
        self.query_one("#querier-note", Static).update(Content(note))
        if not rows:
            rows = [Row("none", ("—", "", "no multicast interface besides loopback"), "muted")]
        self._fill("#queriers", QUERIER_COLS, QUERIER_STATUS, rows, width)

    def show_joins(self, rows: Sequence[Row], width: int) -> None:
        """Our joins with their prune countdown."""
        if not rows:
            rows = [Row("none", ("", "—", "", "", "no udpscope socket has joined a group"),
                         "muted")]
        self._fill("#own-joins", JOIN_COLS, JOIN_STATUS, rows, width)

    def show_everywhere(self, note: str | None, rows: Sequence[Row], warning: str,
                        width: int) -> None:
        """The join-everywhere section (hidden when `note` is None)."""
        box = self.query_one("#everywhere")
        box.set_class(note is not None, "-active")
        if note is None:
            return
        self.query_one("#everywhere-note", Static).update(Content(note))
        self._fill("#arrivals", ARRIVAL_COLS, ARRIVAL_STATUS, rows, width)
        warn = self.query_one("#everywhere-warning", Static)
        warn.update(Content(warning))
        warn.display = bool(warning)

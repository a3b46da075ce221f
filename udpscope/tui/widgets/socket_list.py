"""The sockets pane: every socket udpscope made, its state, addresses, counters and last error.

It is a DataTable refreshed a few times a second by diffing cells; choosing a row makes that the
socket the composer and the options pane act on (the app's ``selected_socket``). Columns follow
the width: the least needed go first (type, then peer while nothing is connected, then tx), and
the last error takes what is left, cut with "…".
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.events import Resize
from textual.widgets import DataTable

from udpscope.addresses import format_endpoint
from udpscope.capture import Capture, SocketEntry
from udpscope.textsafe import safe_text
from udpscope.tui.widgets.tables import Cell, ColumnSpec, choose_columns, sync_rows
from udpscope.units import human_bytes, human_count

COLUMNS = (
    ColumnSpec("#", 3, 0),
    ColumnSpec("type", 4, 5),
    ColumnSpec("state", 9, 0),
    ColumnSpec("local", 21, 1),
    ColumnSpec("peer", 21, 4),
    ColumnSpec("rx", 16, 2),
    ColumnSpec("tx", 16, 3),
    ColumnSpec("last error", 0, 6, min_width=12),  # 0: takes the rest
)
STATE_STYLE = {"bound": "green", "connected": "bold green", "closed": "dim", "binding": "yellow",
               "file": "italic"}
STATE_SHOWN = {"file": "read-only"}  # a capture file's datagrams (udpscope open): no OS socket


def socket_row(entry: SocketEntry) -> dict[str, Cell]:
    """Every column's cell for ``entry`` (untrusted text already sanitised)."""
    state = entry.state
    local = entry.local()
    peer = entry.peer()
    return {
        "#": str(entry.id),
        "type": entry.type,
        "state": Text(STATE_SHOWN.get(state, state), style=STATE_STYLE.get(state, "")),
        "local": safe_text(format_endpoint(*local), 60) if local else "—",
        "peer": safe_text(format_endpoint(*peer), 60) if peer else "—",
        "rx": f"{human_count(entry.rx_datagrams)} / {human_bytes(entry.rx_bytes)}",
        "tx": f"{human_count(entry.tx_datagrams)} / {human_bytes(entry.tx_bytes)}",
        "last error": Text(safe_text(entry.last_error, 80), style="red") if entry.last_error else "",
    }


HINT_EMPTY = "no sockets yet: press n to create one"
HINT_KEYS = "n new · b bind · c connect · d disconnect · x close · del forget"
HINT_SHORT = "n b c d x del"
HINT_FILE = "read-only: datagrams from a capture file · w save log · n new socket"
HINT_FILE_SHORT = "read-only · w save · n new"


class SocketList(DataTable[Cell]):
    """Sockets table; Enter/click selects the socket other panes act on."""

    # n/b/c/d/x live on the main screen (they work from every pane); only forgetting a socket
    # needs the list itself in focus.
    BINDINGS = [
        Binding("delete", "app.forget_socket", "Forget", id="socket-forget"),
    ]

    def __init__(self, capture: Capture, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(cursor_type="row", zebra_stripes=False, id=id)
        self.capture = capture
        self._shown_columns: tuple[tuple[str, int], ...] = ()

    def on_mount(self) -> None:
        self.refresh_rows()

    def on_resize(self, event: Resize) -> None:
        self.refresh_rows()

    def _plan(self) -> tuple[tuple[str, int], ...]:
        width = self.scrollable_content_region.width or self.size.width or 120
        connected = any(e.state == "connected" for e in self.capture.sockets.values())
        optional = () if connected else ("peer",)
        return choose_columns(COLUMNS, width, droppable_first=optional)

    def refresh_rows(self) -> None:
        """Bring the table in line with the sockets (and the width) now."""
        plan = self._plan()
        if plan != self._shown_columns:
            self._shown_columns = plan
            self.clear(columns=True)
            for key, width in plan:
                self.add_column(key, width=width, key=key)
        keys = [key for key, _ in plan]
        rows = []
        for entry in self.capture.entries():
            cells = socket_row(entry)
            rows.append((str(entry.id), [cells[k] for k in keys]))
        sync_rows(self, rows)
        # The keys that act on sockets, where the user looks for sockets: on an empty start this
        # is the one hint that says how to begin.
        hint = HINT_KEYS if rows else HINT_EMPTY
        short = HINT_SHORT
        if rows and all(e.state == "file" for e in self.capture.entries()):
            hint, short = HINT_FILE, HINT_FILE_SHORT
        if rows and len(hint) + 4 > (self.size.width or 120):
            hint = short
        if self.border_subtitle != hint:
            self.border_subtitle = hint

    def selected_id(self) -> int | None:
        """The id of the socket under the cursor, if any."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        except Exception:
            return None
        return int(str(key.value))

    def select_id(self, sock_id: int) -> None:
        """Move the cursor to socket ``sock_id``."""
        key = str(sock_id)
        if key in self.rows:
            self.move_cursor(row=self.get_row_index(key), animate=False)

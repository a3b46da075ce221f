"""The sockets pane: every socket udpscope made, its state, addresses, counters and last error.

It is a DataTable refreshed a few times a second by diffing cells; choosing a row makes that the
socket the composer and the options pane act on (the app's ``selected_socket``).
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from udpscope.addresses import format_endpoint
from udpscope.capture import Capture, SocketEntry
from udpscope.textsafe import safe_text
from udpscope.tui.widgets.tables import Cell, sync_rows
from udpscope.units import human_bytes, human_count

COLUMNS = ("#", "type", "state", "local", "peer", "rx", "tx", "last error")


def socket_row(entry: SocketEntry) -> list[Cell]:
    state = entry.state
    style = {
        "bound": "green",
        "connected": "bold green",
        "closed": "dim",
        "binding": "yellow",
    }.get(state, "")
    local = entry.local()
    peer = entry.peer()
    return [
        str(entry.id),
        entry.type,
        Text(state, style=style),
        safe_text(format_endpoint(*local), 60) if local else "—",
        safe_text(format_endpoint(*peer), 60) if peer else "—",
        f"{human_count(entry.rx_datagrams)} / {human_bytes(entry.rx_bytes)}",
        f"{human_count(entry.tx_datagrams)} / {human_bytes(entry.tx_bytes)}",
        Text(safe_text(entry.last_error, 80), style="red") if entry.last_error else "",
    ]


HINT_EMPTY = "no sockets yet: press n to create one"
HINT_KEYS = "n new · b bind · c connect · d disconnect · x close · del forget"


class SocketList(DataTable):
    """Sockets table; Enter/click selects the socket other panes act on."""

    # n/b/c/d/x live on the main screen (they work from every pane); only forgetting a socket
    # needs the list itself in focus.
    BINDINGS = [
        Binding("delete", "app.forget_socket", "Forget", id="socket-forget"),
    ]

    def __init__(self, capture: Capture, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.capture = capture

    def on_mount(self) -> None:
        for name in COLUMNS:
            self.add_column(name, key=name)
        self.refresh_rows()

    def refresh_rows(self) -> None:
        rows = [(str(e.id), socket_row(e)) for e in self.capture.entries()]
        sync_rows(self, rows)
        # The keys that act on sockets, where the user looks for sockets: on an empty start this
        # is the one hint that says how to begin.
        hint = HINT_KEYS if rows else HINT_EMPTY
        if self.border_subtitle != hint:
            self.border_subtitle = hint

    def selected_id(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key
        except Exception:
            return None
        return int(str(key.value))

    def select_id(self, sock_id: int) -> None:
        key = str(sock_id)
        if key in self.rows:
            self.move_cursor(row=self.get_row_index(key), animate=False)

"""Counters and rates per socket; stream health (RTP, MPEG-TS, probes, sequence fields, A/B) and
the per (group, source) streams, on two tabs.

Rates come from the capture layer's tick (never per datagram); the tables are refreshed by
diffing cells a few times a second. Every table fits its columns to the width by priority (the
counts stay, the finer columns go first), never losing the right-hand ones silently. Below 30
rows the receive-rate sparkline goes: the socket table has the rate, the streams need the room.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import DataTable, Header, Sparkline, Static, TabbedContent, TabPane

from udpscope.capture import Capture, GroupStats, SocketEntry
from udpscope.textsafe import safe_text
from udpscope.tui.widgets.footer import KeyFooter
from udpscope.tui.widgets.health_pane import HealthPane
from udpscope.tui.widgets.socket_list import STATE_SHOWN
from udpscope.tui.widgets.tables import Cell, ColumnSpec, choose_columns, sync_rows
from udpscope.tui.workbench import app_of
from udpscope.units import human_bytes, human_count

SOCK_COLS = (
    ColumnSpec("#", 3, 0),
    ColumnSpec("state", 9, 0),
    ColumnSpec("rx dgrams", 9, 0),
    ColumnSpec("rx bytes", 9, 1),
    ColumnSpec("rx/s", 7, 2),
    ColumnSpec("rx B/s", 10, 6),
    ColumnSpec("tx dgrams", 9, 3),
    ColumnSpec("tx bytes", 9, 5),
    ColumnSpec("tx/s", 7, 7),
    ColumnSpec("tx errors", 9, 4),
    ColumnSpec("kernel drops", 12, 1),
    ColumnSpec("ring evicted", 12, 2),
)
GROUP_COLS = (
    ColumnSpec("group / dest", 15, 0),
    ColumnSpec("source", 15, 0),
    ColumnSpec("iface", 8, 6),
    ColumnSpec("packets", 8, 0),
    ColumnSpec("bytes", 9, 5),
    ColumnSpec("pkt/s", 7, 3),
    ColumnSpec("first", 8, 8),
    ColumnSpec("last", 8, 7),
    ColumnSpec("ttl", 5, 4),
    ColumnSpec("probe lost", 12, 1),
    ColumnSpec("dup", 5, 2),
    ColumnSpec("reord", 5, 2),
    ColumnSpec("delay avg", 10, 3),
)


def socket_stats_row(e: SocketEntry) -> dict[str, Cell]:
    """The stats table's cells for one socket."""
    return {
        "#": str(e.id), "state": STATE_SHOWN.get(e.state, e.state),
        "rx dgrams": str(e.rx_datagrams), "rx bytes": human_bytes(e.rx_bytes),
        "rx/s": f"{e.rx_rate:.0f}", "rx B/s": human_bytes(e.rx_byte_rate) + "/s",
        "tx dgrams": str(e.tx_datagrams), "tx bytes": human_bytes(e.tx_bytes), "tx/s": f"{e.tx_rate:.0f}",
        "tx errors": Text(str(e.tx_errors), style="red" if e.tx_errors else ""),
        "kernel drops": Text(str(e.kernel_drops), style="bold red" if e.kernel_drops else ""),
        "ring evicted": Text(str(e.evictions), style="yellow" if e.evictions else ""),
    }


def group_row(g: GroupStats, tz: tzinfo | None) -> dict[str, Cell]:
    """The streams table's cells for one (group, source)."""

    def t(x: float) -> str:
        return datetime.fromtimestamp(x, tz).strftime("%H:%M:%S")

    ttl = ""
    if g.ttl_min is not None:
        ttl = str(g.ttl_min) if g.ttl_min == g.ttl_max else f"{g.ttl_min}-{g.ttl_max}"
    lost = dup = reord = delay = ""
    if g.tracker is not None:
        s = g.tracker.stats()
        lost = f"{s.lost} ({s.loss_ratio:.1%})"
        dup, reord = str(s.duplicates), str(s.reordered)
        delay = f"{s.delay_avg * 1000:.2f} ms" if s.delay_avg is not None else ""
    return {
        "group / dest": safe_text(g.group, 48), "source": safe_text(g.source, 48),
        "iface": safe_text(g.interface or "", 16), "packets": human_count(g.packets),
        "bytes": human_bytes(g.bytes), "pkt/s": f"{g.rate:.0f}",
        "first": t(g.first_seen), "last": t(g.last_seen), "ttl": ttl,
        "probe lost": Text(lost, style="red" if lost[:1] not in ("", "0") else ""),
        "dup": dup, "reord": reord, "delay avg": delay,
    }


NO_STREAMS = (
    "none yet: multicast received after a join (2 Options), or datagrams sent with the "
    "composer's probe box ticked (loss, duplicates, reordering, delay)"
)


def _fit_table(table: DataTable[Cell], specs: tuple[ColumnSpec, ...], shown: tuple[tuple[str, int], ...]
               ) -> tuple[tuple[str, int], ...]:
    # A table on a tab not shown has no width yet: it will have the screen's.
    plan = choose_columns(specs, table.size.width or table.app.size.width)
    if plan != shown:
        table.clear(columns=True)
        for key, width in plan:
            table.add_column(key, width=width, key=key)
    return plan


class StatsScreen(Screen[None]):
    """Per-socket counters with a receive-rate sparkline; stream health and per-group streams."""

    BINDINGS = [
        Binding("escape", "app.switch_mode('main')", "Back", id="view-back"),
        Binding("s", "app.stream_options", "Seq / A/B", id="streams-options"),
        Binding("h", "tab('health-tab')", "Health", id="streams-health"),
        Binding("g", "tab('groups-tab')", "Groups", id="streams-groups"),
    ]

    DEFAULT_CSS = """
    StatsScreen #sock-stats { height: auto; max-height: 12; }
    StatsScreen #group-stats { height: 1fr; }
    StatsScreen #rx-spark { height: 3; margin: 0 1; }
    StatsScreen .heading { text-style: bold; color: $accent; padding: 1 1 0 1; }
    StatsScreen #streams-note { color: $text-muted; padding: 0 1; }
    StatsScreen #stats-tabs { height: 1fr; }
    StatsScreen #stats-tabs > ContentSwitcher { height: 1fr; }
    StatsScreen TabPane { height: 1fr; padding: 0; }
    StatsScreen.-short Header { display: none; }
    StatsScreen.-short #sock-stats { max-height: 5; }
    StatsScreen.-short #spark-label, StatsScreen.-short #rx-spark { display: none; }
    StatsScreen.-short .heading { padding: 0 1; }
    StatsScreen.-short #findings-box { max-height: 3; }
    StatsScreen.-short HealthPane Sparkline { height: 1; }
    StatsScreen.-short #stream-verdict, StatsScreen.-short .spark-label {
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    def __init__(self, capture: Capture, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.capture = capture
        self.tz = tz
        self._sock_cols: tuple[tuple[str, int], ...] = ()
        self._group_cols: tuple[tuple[str, int], ...] = ()

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static("5 Stats — sockets", classes="heading")
            yield DataTable(id="sock-stats", cursor_type="row")
            yield Static("", id="spark-label", classes="heading", markup=False)
            yield Sparkline([], id="rx-spark")
            with TabbedContent(id="stats-tabs", initial="health-tab"):
                with TabPane("Stream health", id="health-tab"):
                    yield HealthPane(id="health")
                with TabPane("Groups (group, source)", id="groups-tab"):
                    yield Static(NO_STREAMS, id="streams-note", markup=False)
                    yield DataTable(id="group-stats", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.refresh_data(True)
        self.set_focus(self.query_one("#health-table", DataTable))

    def action_tab(self, tab: str) -> None:
        self.query_one("#stats-tabs", TabbedContent).active = tab
        table = "#health-table" if tab == "health-tab" else "#group-stats"
        self.set_focus(self.query_one(table, DataTable))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "health-table":  # the selected stream's details, now
            self.query_one(HealthPane).show_selected(self.capture, self.capture.clock())

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self.refresh_data, True)

    def refresh_data(self, slow: bool) -> None:
        """Redraw the tables and the sparkline (on the slow tick only)."""
        if not slow:
            return
        capture = self.capture
        socks = self.query_one("#sock-stats", DataTable)
        groups = self.query_one("#group-stats", DataTable)
        with self.app.batch_update():
            self._sock_cols = _fit_table(socks, SOCK_COLS, self._sock_cols)
            keys = [k for k, _ in self._sock_cols]
            sync_rows(socks, [(str(e.id), [row[k] for k in keys])
                              for e in capture.entries() for row in (socket_stats_row(e),)])
            self._group_cols = _fit_table(groups, GROUP_COLS, self._group_cols)
            keys = [k for k, _ in self._group_cols]
            streams = [(f"{g.group}|{g.source}", [row[k] for k in keys])
                       for g in capture.groups.rows() for row in (group_row(g, self.tz),)]
            sync_rows(groups, streams)
            self.query_one("#streams-note", Static).display = not streams
            self.query_one(HealthPane).refresh_health(capture, capture.clock())
            entry = app_of(self).selected_entry()
            label = self.query_one("#spark-label", Static)
            spark = self.query_one("#rx-spark", Sparkline)
            if entry is None:
                label.update("receive rate: no socket selected")
                spark.data = []
            else:
                history = list(entry.rx_history) or [0.0]
                label.update(
                    Content(
                        f"receive rate of socket #{entry.id}: {entry.rx_rate:.0f} dgrams/s "
                        f"(peak {max(history):.0f}, last {len(history) / 2:.0f} s)"
                    )
                )
                # A leading 0 pins the scale to zero (Sparkline scales min..max, and draws a
                # lone sample as a full bar); an idle socket gets a flat baseline.
                spark.data = [0.0, *history] if max(history) > 0 else []

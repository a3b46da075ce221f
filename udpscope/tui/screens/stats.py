"""Counters and rates: per socket, and per (group, source) stream with probe loss and delay.

Rates come from the capture layer's tick (never per datagram); the tables are refreshed by
diffing cells a few times a second.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Header, Sparkline, Static

from udpscope.capture import Capture, GroupStats, SocketEntry
from udpscope.textsafe import safe_text
from udpscope.tui.widgets.footer import KeyFooter
from udpscope.tui.widgets.tables import Cell, sync_rows
from udpscope.units import human_bytes, human_count

SOCK_COLS = ("#", "state", "rx dgrams", "rx bytes", "rx/s", "rx B/s", "tx dgrams", "tx bytes",
             "tx/s", "tx errors", "kernel drops", "ring evicted")
GROUP_COLS = ("group / dest", "source", "iface", "packets", "bytes", "pkt/s", "first", "last", "ttl",
              "probe lost", "dup", "reord", "delay avg")


def socket_stats_row(e: SocketEntry) -> list[Cell]:
    return [
        str(e.id), e.state,
        str(e.rx_datagrams), human_bytes(e.rx_bytes), f"{e.rx_rate:.0f}", human_bytes(e.rx_byte_rate),
        str(e.tx_datagrams), human_bytes(e.tx_bytes), f"{e.tx_rate:.0f}",
        Text(str(e.tx_errors), style="red" if e.tx_errors else ""),
        Text(str(e.kernel_drops), style="bold red" if e.kernel_drops else ""),
        Text(str(e.evictions), style="yellow" if e.evictions else ""),
    ]


def group_row(g: GroupStats, tz: tzinfo | None) -> list[Cell]:
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
    return [
        safe_text(g.group, 48), safe_text(g.source, 48), safe_text(g.interface or "", 16),
        human_count(g.packets), human_bytes(g.bytes), f"{g.rate:.0f}",
        t(g.first_seen), t(g.last_seen), ttl, Text(lost, style="red" if lost[:1] not in ("", "0") else ""),
        dup, reord, delay,
    ]


NO_STREAMS = (
    "none yet: multicast received after a join (2 Options), or datagrams sent with the "
    "composer's probe box ticked (loss, duplicates, reordering, delay)"
)


class StatsScreen(Screen):
    """Per-socket counters with a receive-rate sparkline, and per-group streams."""

    BINDINGS = [Binding("escape", "app.switch_mode('main')", "Back", id="view-back")]

    DEFAULT_CSS = """
    StatsScreen #sock-stats { height: auto; max-height: 12; }
    StatsScreen #group-stats { height: 1fr; }
    StatsScreen Sparkline { height: 3; margin: 0 1; }
    StatsScreen .heading { text-style: bold; color: $accent; padding: 1 1 0 1; }
    StatsScreen #streams-note { color: $text-muted; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static("5 Stats — sockets", classes="heading")
            yield DataTable(id="sock-stats", cursor_type="row")
            yield Static("", id="spark-label", classes="heading", markup=False)
            yield Sparkline([], id="rx-spark")
            yield Static("Streams (group, source)", classes="heading")
            yield Static(NO_STREAMS, id="streams-note", markup=False)
            yield DataTable(id="group-stats", cursor_type="row")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#sock-stats", DataTable).add_columns(*SOCK_COLS)
        self.query_one("#group-stats", DataTable).add_columns(*GROUP_COLS)
        self.refresh_data(True)

    def refresh_data(self, slow: bool) -> None:
        if not slow:
            return
        capture: Capture = self.app.capture  # type: ignore[attr-defined]
        tz = self.app.tz  # type: ignore[attr-defined]
        with self.app.batch_update():
            sync_rows(
                self.query_one("#sock-stats", DataTable),
                [(str(e.id), socket_stats_row(e)) for e in capture.entries()],
            )
            streams = [(f"{g.group}|{g.source}", group_row(g, tz)) for g in capture.groups.rows()]
            sync_rows(self.query_one("#group-stats", DataTable), streams)
            self.query_one("#streams-note", Static).display = not streams
            entry = self.app.selected_entry()  # type: ignore[attr-defined]
            label = self.query_one("#spark-label", Static)
            spark = self.query_one(Sparkline)
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

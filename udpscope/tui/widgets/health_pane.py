"""Stream health in pane 5: every followed stream with its loss, and a timeline to look at.

One row per stream (source, destination; RTP by SSRC) from every socket's tracker, with the
socket's kernel drops beside it and sparklines of loss and jitter per second in the row; the
selected stream below, with a sentence on whether the loss is this host's or the network's,
larger loss and jitter timelines, and for MPEG-TS its per-PID table. Above them, what the
mDNS/SSDP checks found and why it usually happens.

Pulled on the slow timer from snapshots (`SocketStreams.streams()`), never per datagram; the
tables are diffed cell by cell (tables.sync_rows). Addresses and finding text are untrusted
(they quote what arrived) and are sanitised; cells are Text, never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Sparkline, Static

from udpscope.textsafe import safe_text
from udpscope.tui.healthtext import KIND_NAMES, describe, spark, timeline, verdict
from udpscope.tui.widgets.tables import Cell, ColumnSpec, choose_columns, sync_rows
from udpscope.units import human_count

if TYPE_CHECKING:
    from udpscope.capture import Capture
    from udpscope.health import Finding, StreamHealth, TsStats

__all__ = ["HEALTH_COLS", "HealthPane", "health_row"]

SPARK_SECONDS = 12  # seconds in a row's sparkline
TIMELINE_SECONDS = 120  # seconds in the selected stream's timelines
PID_ROWS = 64
JITTER_FLOOR_MS = 5.0  # a row's jitter sparkline scale starts here: a calm stream looks calm
NULL_PID = 0x1FFF

HEALTH_COLS = (   # priority: 0 always shown, higher numbers dropped first
    ColumnSpec("#", 3, 0),
    ColumnSpec("kind", 5, 0),
    ColumnSpec("source", 0, 0, min_width=15),
    ColumnSpec("destination", 21, 3),
    ColumnSpec("ssrc", 10, 6),
    ColumnSpec("packets", 8, 2),
    ColumnSpec("lost", 13, 0),
    ColumnSpec("dup", 5, 5),
    ColumnSpec("reord", 5, 5),
    ColumnSpec("jitter", 9, 1),
    ColumnSpec("TS", 16, 2),
    ColumnSpec("PCR max", 8, 7),
    ColumnSpec("kernel", 7, 0),
    ColumnSpec("loss/s", SPARK_SECONDS, 1),
    ColumnSpec("jitter/s", SPARK_SECONDS, 4),
)
PID_COLS = (ColumnSpec("PID", 6, 0), ColumnSpec("role", 5, 0), ColumnSpec("packets", 9, 0),
            ColumnSpec("CC errors", 9, 0))

NO_STREAMS = ("none yet: RTP, MPEG-TS and probe streams are followed as they arrive (and mDNS / "
              "SSDP checked); s sets a sequence field or A/B arbitration for the selected socket")


def _ms(value: object) -> str:
    return f"{value:.2f} ms" if isinstance(value, int | float) else ""


def health_row(sock_id: int, s: StreamHealth, now: float) -> dict[str, Cell]:
    """The health table's cells for one stream."""
    d = s.details
    lost_text = f"{s.lost} ({s.loss_ratio:.1%})" if s.lost else "0"
    cc = int(d.get("cc_errors") or 0)
    ts = ""
    if s.kind == "mpegts":
        ts = f"CC {cc} · {d.get('pids', 0)} PIDs"
    elif d.get("carries_mpegts"):
        ts = "carries TS"
    losses, jitters = timeline(s, now, SPARK_SECONDS)
    bad = any(v for v in losses if v)
    jitter_seen = any(v is not None for v in jitters)
    return {
        "#": str(sock_id), "kind": KIND_NAMES.get(s.kind, s.kind),
        "source": safe_text(s.source or "(merged lines)", 60),
        "destination": safe_text(s.destination or "", 60),
        "ssrc": f"{int(d['ssrc']):08x}" if s.kind == "rtp" and "ssrc" in d else "",
        "packets": human_count(s.packets),
        "lost": Text(lost_text, style="bold red" if s.lost or cc else ""),
        "dup": str(s.duplicates), "reord": "" if s.reordered is None else str(s.reordered),
        "jitter": _ms(d.get("jitter_ms")),
        "TS": Text(ts, style="red" if cc else ""),
        "PCR max": _ms(d.get("pcr_interval_ms_max")),
        "kernel": Text(str(s.kernel_drops), style="bold red" if s.kernel_drops else ""),
        "loss/s": Text(spark(losses), style="red" if bad else "green"),
        "jitter/s": Text(spark(jitters, max(JITTER_FLOOR_MS, *(v or 0.0 for v in jitters)))
                         if jitter_seen else "", style="cyan"),
    }


def stream_key(sock_id: int, s: StreamHealth) -> str:
    return f"{sock_id}|{s.kind}|{s.source}|{s.destination}|{s.details.get('ssrc', '')}"


def pid_rows(stats: TsStats) -> list[tuple[str, list[Cell]]]:
    """The per-PID table of a transport stream (at most PID_ROWS, by PID)."""
    rows: list[tuple[str, list[Cell]]] = []
    for pid in sorted(stats.pids)[:PID_ROWS]:
        roles = [name for name, yes in (("PAT", pid == 0), ("PMT", pid in stats.pmt_pids),
                                        ("PCR", pid in stats.pcr_pids),
                                        ("null", pid == NULL_PID)) if yes]
        errors = stats.cc_errors_by_pid.get(pid, 0)
        rows.append((str(pid), [f"0x{pid:04x}",
                                "/".join(roles), human_count(stats.pids[pid]),
                                Text(str(errors), style="bold red" if errors else "")]))
    return rows


class HealthPane(Vertical):
    """Findings, the streams table and the selected stream's timelines."""

    DEFAULT_CSS = """
    HealthPane { height: 1fr; }
    HealthPane #findings-box { height: auto; max-height: 7; display: none; }
    HealthPane #findings-box.-shown { display: block; }
    HealthPane #findings { padding: 0 1; }
    HealthPane #health-note { color: $text-muted; padding: 0 1; }
    HealthPane #health-table { height: 1fr; min-height: 3; }
    HealthPane #stream-detail { height: auto; display: none; padding: 0 1; }
    HealthPane #stream-detail.-shown { display: block; }
    HealthPane #stream-title { text-style: bold; color: $accent; }
    HealthPane #stream-verdict.-host { color: $warning; }
    HealthPane #stream-verdict.-network { color: $error; }
    HealthPane #stream-verdict.-ok { color: $success; }
    HealthPane #stream-sparks { height: auto; }
    HealthPane .spark-box { width: 1fr; height: auto; padding-right: 2; }
    HealthPane Sparkline { height: 2; }
    HealthPane #loss-spark > .sparkline--max-color { color: $error; }
    HealthPane #loss-spark > .sparkline--min-color { color: $success 50%; }
    HealthPane #pid-table { height: auto; max-height: 8; display: none; }
    HealthPane #pid-table.-shown { display: block; }
    HealthPane .spark-label { color: $text-muted; }
    """

    def __init__(self, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._cols: tuple[tuple[str, int], ...] = ()
        self._pid_cols: tuple[tuple[str, int], ...] = ()
        self.streams: dict[str, tuple[int, StreamHealth]] = {}
        self.findings: list[tuple[int, Finding]] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="findings-box"):
            yield Static("", id="findings")
        yield Static(NO_STREAMS, id="health-note", markup=False)
        yield DataTable(id="health-table", cursor_type="row")
        with Vertical(id="stream-detail"):
            yield Static("", id="stream-title", markup=False)
            yield Static("", id="stream-verdict", markup=False)
            with Horizontal(id="stream-sparks"):
                with Vertical(classes="spark-box"):
                    yield Static("", id="loss-label", classes="spark-label", markup=False)
                    yield Sparkline([], id="loss-spark")
                with Vertical(classes="spark-box"):
                    yield Static("", id="jitter-label", classes="spark-label", markup=False)
                    yield Sparkline([], id="jitter-spark")
            yield DataTable(id="pid-table", cursor_type="row", show_cursor=False)

    # ---- refresh (slow timer) ----------------------------------------------------------------

    def refresh_health(self, capture: Capture, now: float) -> None:
        """Pull every socket's streams and findings and show them."""
        rows: list[tuple[str, dict[str, Cell]]] = []
        streams: dict[str, tuple[int, StreamHealth]] = {}
        findings: list[tuple[int, Finding]] = []
        notes: list[str] = []
        for entry in capture.entries():
            tracked = entry.streams
            if tracked is None:
                continue
            if tracked.error is not None:
                notes.append(f"#{entry.id}: stream tracking stopped ({tracked.error})")
            if tracked.untracked:
                notes.append(f"#{entry.id}: {tracked.untracked} datagrams of streams past the "
                             "tracking bounds were counted, not followed")
            for s in tracked.streams():
                key = stream_key(entry.id, s)
                streams[key] = (entry.id, s)
                rows.append((key, health_row(entry.id, s, now)))
            findings.extend((entry.id, f) for f in tracked.findings(now))
        self.streams = streams
        self.findings = findings
        self._show_findings(findings, notes)
        table = self.query_one("#health-table", DataTable)
        plan = choose_columns(HEALTH_COLS, table.size.width or self.app.size.width)
        if plan != self._cols:
            table.clear(columns=True)
            for key, width in plan:
                table.add_column(key, width=width, key=key)
            self._cols = plan
        keys = [k for k, _ in plan]
        sync_rows(table, [(key, [cells[k] for k in keys]) for key, cells in rows])
        self.query_one("#health-note", Static).display = not rows
        self.show_selected(capture, now)

    def selected_key(self) -> str | None:
        table = self.query_one("#health-table", DataTable)
        if not table.row_count:
            return None
        row = min(max(0, table.cursor_row), table.row_count - 1)
        return str(table.ordered_rows[row].key.value)

    def _show_findings(self, findings: list[tuple[int, Finding]], notes: list[str]) -> None:
        box = self.query_one("#findings-box", VerticalScroll)
        box.set_class(bool(findings or notes), "-shown")
        parts: list[tuple[str, str] | str] = []
        for sock_id, f in findings:
            mark = "⚠" if f.severity in ("warning", "error") else "ℹ"
            if parts:
                parts.append("\n")
            parts.append((f"{mark} #{sock_id} {safe_text(f.title, 200)}", "bold $warning"))
            parts.append(("\n  " + safe_text(f.detail, 600), "$text-muted"))
        for note in notes:
            if parts:
                parts.append("\n")
            parts.append((safe_text(note, 300), "$text-muted"))
        self.query_one("#findings", Static).update(Content.assemble(*parts))

    def show_selected(self, capture: Capture, now: float) -> None:
        """Show the stream under the table's cursor (its timelines, verdict, PIDs)."""
        detail = self.query_one("#stream-detail", Vertical)
        key = self.selected_key()
        found = self.streams.get(key) if key is not None else None
        detail.set_class(found is not None, "-shown")
        pids = self.query_one("#pid-table", DataTable)
        if found is None:
            pids.remove_class("-shown")
            return
        sock_id, s = found
        self.query_one("#stream-title", Static).update(
            Content(f"#{sock_id} " + safe_text(describe(s), 300)))
        kind, sentence = verdict(s)
        line = self.query_one("#stream-verdict", Static)
        for cls in ("-ok", "-host", "-network"):
            line.set_class(cls == f"-{kind}", cls)
        line.update(Content(safe_text(sentence, 300)))
        # The stream's own life, up to TIMELINE_SECONDS: no flat line for before it began.
        span = max(1, min(TIMELINE_SECONDS, int(now) - int(s.first_seen) + 1))
        losses, jitters = timeline(s, now, span)
        what = "CC errors" if s.kind == "mpegts" else "lost"
        seen = [v for v in losses if v is not None]
        self.query_one("#loss-label", Static).update(Content(
            f"{what}/s, last {span} s: peak {max(seen, default=0)}, total {sum(seen)}"))
        # A leading 0 pins the scale to zero (Sparkline scales from its minimum).
        loss_spark = self.query_one("#loss-spark", Sparkline)
        loss_spark.data = [0.0, *(float(v or 0) for v in losses)] if any(seen) else []
        jit = [v for v in jitters if v is not None]
        jitter_label = self.query_one("#jitter-label", Static)
        jitter_spark = self.query_one("#jitter-spark", Sparkline)
        if jit:
            jitter_label.update(Content(f"jitter ms, last {span} s: now "
                                        f"{jit[-1]:.2f}, peak {max(jit):.2f}"))
            jitter_spark.data = [0.0, *(v or 0.0 for v in jitters)]
        else:
            jitter_label.update(Content("jitter: not measured for this kind of stream"
                                        if s.kind not in ("rtp", "probe") else "jitter: none yet"))
            jitter_spark.data = []
        stats = None
        if s.kind == "mpegts" or s.details.get("carries_mpegts"):
            tracked = capture.sockets[sock_id].streams if sock_id in capture.sockets else None
            stats = tracked.ts_stats(s.source, s.destination) if tracked is not None else None
        pids.set_class(stats is not None, "-shown")
        if stats is not None:
            plan = choose_columns(PID_COLS, pids.size.width or self.app.size.width)
            if plan != self._pid_cols:
                pids.clear(columns=True)
                for k, width in plan:
                    pids.add_column(k, width=width, key=k)
                self._pid_cols = plan
            sync_rows(pids, pid_rows(stats))

"""Hosts view (7): who hears whom, between many hosts, live.

Hosts are added with a template (ssh, ip netns exec, kubectl exec, one's own) or as this machine;
the settings are `udpscope matrix`'s (group:port, count, rate, TTL, max loss). Start runs the
matrix coordinator (udpscope.agent) as a task on the app's loop; the grid fills in from its
snapshot on the slow tick, never per frame or per probe: the snapshot is compared by identity
(the coordinator rebuilds its cells only when a report came in), and only cells whose text
changed are redrawn. A host that fails shows its (sanitised) error while the others are measured,
and the verdict at the end says why a run is not ok. The run belongs to the app's HostsSession,
so it goes on when this view is left and is stopped when the app ends.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.events import DescendantFocus, Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Header, Input, Label, Static

from udpscope.textsafe import safe_text
from udpscope.tui.forms import FormError
from udpscope.tui.hostforms import HostRequest, MatrixFields, parse_matrix_settings
from udpscope.tui.hostgrid import (
    SYMBOL,
    Labels,
    fit_lines,
    host_lines,
    host_notes,
    label_plan,
    loss_text,
    pair_lines,
    verdict,
)
from udpscope.tui.hosts_session import HostEntry, HostsSession, RunRefused
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.footer import KeyFooter
from udpscope.tui.widgets.host_grid import CELL_WIDTH, LABEL_WIDTH, HostGrid
from udpscope.tui.widgets.tables import Cell, ColumnSpec, choose_columns, sync_rows
from udpscope.tui.workbench import app_of

if TYPE_CHECKING:
    from udpscope.agent.coordinator import HostView, MatrixSnapshot

SETTINGS = (("group", "group", 19), ("count", "count", 6), ("rate", "rate", 6), ("ttl", "TTL", 3),
            ("max_loss", "max loss", 4))  # (field, label, width): one line at 80 columns
NUMBER_COL = ColumnSpec("#", 3, 0)  # shown when the grid numbers its hosts (long names)
HOST_COLS = (ColumnSpec("host", 16, 0), ColumnSpec("state", 8, 0), ColumnSpec("address", 15, 2),
             ColumnSpec("mc in", 5, 1), ColumnSpec("mc out", 6, 4), ColumnSpec("uc in", 5, 3),
             ColumnSpec("uc out", 6, 5), ColumnSpec("via", 9, 6),
             ColumnSpec("notes", 0, 0, min_width=12))
PHASES = {"idle": "not started", "starting": "starting agents…", "sending": "sending probes…",
          "settling": "waiting for the last probes…", "reporting": "collecting reports…",
          "stopping": "stopping agents…", "done": "done"}
LEGEND_WIDE = ("row sends, column hears: multicast/unicast loss %   ✓ within max loss   ! over   "
               "✗ all lost   · not yet")
LEGEND_NARROW = "row→column, mcast/ucast loss %: ✓ ok  ! over  ✗ all lost  · not yet"
NO_HOSTS = ("No hosts yet: a adds one, by name and how its agent is reached (ssh, ip netns exec, "
            "kubectl exec, or this machine). Two or more make a grid; s starts a run.")
ONE_HOST = "One host: a adds another (the grid is between hosts)."
LIST_EVERY_S = 1.0  # the host list's loss figures follow a running run this often
IDLE_HINT = "s starts a run: every host joins the group, sends to it and to every other host"


def setting_input(screen: Screen[Any], key: str) -> Input:
    """The settings field for ``key`` (group, count, rate, ttl, max_loss)."""
    return screen.query_one(f"#set-{key.replace('_', '-')}", Input)


class DetailLines(Widget):
    """A fixed number of lines of text. A Static sizes to its text, so each update of it lays the
    whole screen out again and redraws every widget; the detail changes with every report while
    a run goes on, so it keeps its height and only repaints itself."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.content = Content("")

    def set(self, content: Content) -> None:
        """Show ``content`` (untrusted text must already be safe: no markup is parsed)."""
        if content.plain != self.content.plain or content.spans != self.content.spans:
            self.content = content
            self.refresh()

    def render(self) -> Content:
        return self.content


class HostsScreen(Screen[None]):
    """Hosts, settings, the live grid, the selected pair's streams and the verdict."""

    BINDINGS = [
        Binding("escape", "leave", "Back", id="view-back"),
        Binding("s", "start", "Start", id="hosts-start"),
        Binding("s", "stop", "Stop", id="hosts-stop"),
        Binding("a", "add_host", "Add host", id="hosts-add"),
        Binding("x", "remove_host", "Remove", id="hosts-remove"),
        Binding("g", "settings", "Settings", id="hosts-settings"),
        Binding("enter", "start_from_field", "Start", show=False, priority=True),
    ]
    AUTO_FOCUS = None  # the grid once there is one, else the host list (see _focus_default)
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    DEFAULT_CSS = """
    HostsScreen.-short Header { display: none; }
    HostsScreen .heading { text-style: bold; color: $accent; padding: 0 1; height: 1;
                           text-wrap: nowrap; text-overflow: ellipsis; }
    HostsScreen #settings { height: 1; padding: 0 1; }
    HostsScreen #settings Label { padding: 0 1 0 0; }
    HostsScreen #settings Input { background: $boost; margin-right: 1; }
    HostsScreen #settings Input.-invalid { background: $error 30%; }
    HostsScreen #host-list { height: auto; max-height: 9; }
    HostsScreen.-short #host-list { max-height: 5; }
    HostsScreen #hosts-hint { color: $text-muted; padding: 0 1; }
    HostsScreen #grid { height: 1fr; min-height: 4; }
    HostsScreen #detail { height: 6; padding: 0 1; background: $boost; }
    HostsScreen.-short #detail { height: 5; }
    HostsScreen #verdict { height: auto; padding: 0 1; text-style: bold; }
    """

    def __init__(self, session: HostsSession) -> None:
        super().__init__()
        self.session = session
        self._last: tuple[Any, ...] | None = None
        self._names: list[str] = []
        self._labels = label_plan([], CELL_WIDTH - 1, LABEL_WIDTH - 1, HOST_COLS[0].width)
        self._cols: tuple[tuple[str, int], ...] = ()
        self._shown_text: dict[str, tuple[str, tuple[Any, ...]]] = {}
        self._list_key: tuple[Any, ...] = ()
        self._list_at = 0.0
        self._detail_of = "cell"  # what the detail shows: the grid's cell or the list's host
        self._theme = ""
        self.refresh_count = 0  # how many times the view was brought up to date (for tests)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="hosts-title", classes="heading", markup=False)
        with Horizontal(id="settings"):
            fields = self.session.fields
            for key, label, width in SETTINGS:
                yield Label(label)
                box = Input(getattr(fields, key), id=f"set-{key.replace('_', '-')}", compact=True,
                            placeholder="e.g. 239.1.2.3:5000" if key == "group" else "")
                box.styles.width = width + 1  # the cursor's cell
                yield box
        yield FieldMessage(id="settings-error")
        yield DataTable(id="host-list", cursor_type="row", zebra_stripes=False)
        yield Static(NO_HOSTS, id="hosts-hint", markup=False)
        yield Static("", id="grid-legend", classes="heading", markup=False)
        yield HostGrid(id="grid")
        yield DetailLines(id="detail")
        yield Static("", id="verdict", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.session.on_done = self._run_over
        self.update_view(force=True)
        self._focus_default()

    def on_screen_resume(self) -> None:
        self.update_view(force=True)
        if self.focused is None:
            self._focus_default()

    def _focus_default(self) -> None:
        grid = self.query_one(HostGrid)
        self.set_focus(grid if len(self.session.hosts) > 1 else self.query_one("#host-list"))

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self.update_view, True)

    # ---- pulling from the run ----------------------------------------------------------------

    def refresh_data(self, slow: bool) -> None:
        """On the slow tick: bring the view up to date if the run's snapshot changed."""
        if slow:
            self.update_view()

    def _key(self, snap: MatrixSnapshot | None) -> tuple[Any, ...]:
        session = self.session
        names = tuple(h.name for h in session.hosts)
        if snap is None:
            return (names, None, None, None, None, session.crash, self.app.theme)
        return (names, snap.hosts, snap.cells, snap.phase, snap.ok, session.crash, self.app.theme)

    def _same(self, key: tuple[Any, ...]) -> bool:
        # The coordinator hands out the same hosts/cells tuples until a report changes them, so
        # "nothing new" is a few identity checks, not a comparison of 240 cells.
        last = self._last
        return last is not None and all(a is b or a == b for a, b in zip(key, last, strict=True))

    def update_view(self, force: bool = False) -> bool:
        """Redraw what changed since the last call; returns False when nothing had."""
        snap = self.session.snapshot()
        key = self._key(snap)
        if not force and self._same(key):
            return False
        self._last = key
        self.refresh_count += 1
        session = self.session
        names = [h.name for h in session.hosts]
        live = snap is not None and [h.name for h in snap.hosts] == names
        views = {h.name: h for h in snap.hosts} if live and snap is not None else {}
        max_loss = self._max_loss(snap)
        if names != self._names:
            self._names = names
            self._labels = label_plan(names, CELL_WIDTH - 1, LABEL_WIDTH - 1, HOST_COLS[0].width)
        labels = self._labels
        with self.app.batch_update():
            self._title(snap, live)
            self._host_list(views, labels, force)
            grid = self.query_one(HostGrid)
            grid.set_level_styles(self._level_styles())
            cells = {(c.sender, c.receiver): c for c in snap.cells} if live and snap is not None else {}
            failed = frozenset(n for n, v in views.items() if v.error is not None)
            grid.show(names, labels, cells, failed, max_loss)
            legend = LEGEND_WIDE if self.size.width >= len(LEGEND_WIDE) + 2 else LEGEND_NARROW
            self._put("#grid-legend", Content(legend))
            for part in (grid, self.query_one("#grid-legend")):
                part.display = len(names) > 1
            self._detail(snap if live else None)
            self._verdict(snap if live else None, max_loss)
        self.refresh_bindings()
        return True

    def _max_loss(self, snap: MatrixSnapshot | None) -> float:
        settings = self.session.settings
        return settings.max_loss if settings is not None else 0.0

    def _level_styles(self) -> dict[str, str]:
        colours = self.app.theme_variables
        return {"ok": colours.get("text-success", "green"),
                "over": f"bold {colours.get('text-warning', 'yellow')}",
                "lost": f"bold {colours.get('text-error', 'red')}",
                "none": "dim", "self": "dim"}

    def _title(self, snap: MatrixSnapshot | None, live: bool) -> None:
        session = self.session
        n = len(session.hosts)
        parts = [f"7 Hosts — {n} host{'s' if n != 1 else ''}"]
        if session.settings is not None and snap is not None:
            parts.append(f"{session.settings.endpoint}, {session.settings.count} probes at "
                         f"{session.settings.rate:g}/s")
            parts.append(PHASES.get(snap.phase, snap.phase) if live else "hosts changed since the run")
        else:
            parts.append("who hears whom")
        self._put("#hosts-title", Content(" · ".join(parts)))

    def _host_list(self, views: dict[str, HostView], labels: Labels, force: bool) -> None:
        table = self.query_one("#host-list", DataTable)
        specs = (NUMBER_COL, *HOST_COLS) if labels.numbered else HOST_COLS
        plan = choose_columns(specs, max(40, (self.size.width or 100) - 2))
        # While a run goes on, reports change the hosts' loss figures a little each time; the list
        # (a DataTable, which redraws all its cells for any change: ~10 ms for 16 hosts) follows
        # them once a second, and at once when a host's state, address or error changes.
        list_key = (labels, plan, tuple((v.state, v.error, v.address) for v in views.values()))
        now = time.monotonic()
        if (not force and self.session.running and list_key == self._list_key
                and now - self._list_at < LIST_EVERY_S):
            return
        self._list_key, self._list_at = list_key, now
        if plan != self._cols:
            self._cols = plan
            table.clear(columns=True)
            for key, width in plan:
                table.add_column(key, width=width, key=key)
        keys = [k for k, _ in plan]
        rows = []
        for n, entry in enumerate(self.session.hosts):
            row = self._host_row(entry, views.get(entry.name))
            row["#"], row["host"] = str(n + 1), labels.listed[n]
            rows.append((entry.name, [row[k] for k in keys]))
        sync_rows(table, rows)
        self._put("#hosts-hint", Content(NO_HOSTS if not rows else ONE_HOST))
        self.query_one("#hosts-hint", Static).display = len(rows) < 2

    def _host_row(self, entry: HostEntry, view: HostView | None) -> dict[str, Cell]:
        styles = self._level_styles()

        def loss(pct: float | None) -> Cell:
            max_loss = self._max_loss(None)
            if pct is None:
                return Text(SYMBOL["none"], style=styles["none"])
            level = "ok" if pct <= max_loss else ("lost" if pct >= 100 else "over")
            return Text(f"{SYMBOL[level]}{loss_text(pct)}", style=styles[level])

        row: dict[str, Cell] = {"via": safe_text(entry.via, 40),
                                "state": "", "address": "", "mc in": "", "mc out": "",
                                "uc in": "", "uc out": "",
                                "notes": safe_text(entry.template or "this machine", 200)}
        if view is None:
            return row
        failed = view.error is not None
        row["state"] = Text(view.state, style=styles["lost"] if failed else "")
        row["address"] = safe_text(view.address or "", 60)
        if view.loss is not None:
            row.update({"mc in": loss(view.loss.multicast_in_loss_pct),
                        "mc out": loss(view.loss.multicast_out_loss_pct),
                        "uc in": loss(view.loss.unicast_in_loss_pct),
                        "uc out": loss(view.loss.unicast_out_loss_pct)})
        notes = host_notes(view)
        row["notes"] = Text(notes, style=styles["lost"] if failed else "") if notes else ""
        return row

    def _detail(self, snap: MatrixSnapshot | None) -> None:
        detail = self.query_one(DetailLines)
        lines: list[str]
        if self._detail_of == "host":
            lines = self._host_detail(snap)
        else:
            picked = self.query_one(HostGrid).selected()
            if picked is None:
                lines = []
            elif picked[0] == picked[1]:
                lines = self._host_detail(snap, picked[0])
            else:
                cell = snap.cell(*picked) if snap is not None else None
                lines = pair_lines(self.session.pair(*picked) if cell is not None else None, cell)
        detail.set(Content(fit_lines(lines, self._text_width(), 5 if self._short() else 6)))
        detail.display = bool(lines)

    def _host_detail(self, snap: MatrixSnapshot | None, name: str | None = None) -> list[str]:
        if name is None:
            table = self.query_one("#host-list", DataTable)
            if not table.row_count:
                return []
            name = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        entry = next((h for h in self.session.hosts if h.name == name), None)
        if entry is None:
            return []
        via = entry.template or "this machine"
        view = next((h for h in snap.hosts if h.name == name), None) if snap is not None else None
        if view is None:
            return [f"{safe_text(name, 120)}: not started; via {safe_text(via, 300)}"]
        return host_lines(view, via)

    def _verdict(self, snap: MatrixSnapshot | None, max_loss: float) -> None:
        crash = self.session.crash
        if crash:
            self._put("#verdict", Content.styled(
                fit_lines(["✗ " + safe_text(crash, 400)], self._text_width(), 3), "$text-error"))
            return
        if snap is None:
            self._put("#verdict", Content.styled(IDLE_HINT if len(self.session.hosts) >= 2 else "",
                                                 "$text-muted"))
            return
        ok, words = verdict(snap, max_loss)
        words = fit_lines([words], self._text_width(), 2 if self._short() else 3)
        if ok is None:
            self._put("#verdict", Content.styled("running: s stops it (every agent is stopped, no "
                                                 "group membership is left behind)", "$text-muted"))
            return
        self._put("#verdict", Content.styled(words, "$text-success" if ok else "$text-error"))

    def _put(self, selector: str, content: Content) -> None:
        """Update a Static only when its content changed: an update lays the screen out again
        (the Statics here size to their text), which redraws every widget on it."""
        key = (content.plain, tuple(content.spans))
        if self._shown_text.get(selector) != key:
            self._shown_text[selector] = key
            self.query_one(selector, Static).update(content)

    def _short(self) -> bool:
        return self.has_class("-short")

    def _text_width(self) -> int:
        """Columns for the detail and the verdict (the screen less their padding)."""
        return (self.size.width or 80) - 2

    # ---- selection ---------------------------------------------------------------------------

    @on(HostGrid.CursorMoved)
    def _cell_moved(self, event: HostGrid.CursorMoved) -> None:
        self._detail_of = "cell"
        self._detail(self.session.snapshot() if self._run_matches() else None)

    @on(DataTable.RowHighlighted, "#host-list")
    def _host_moved(self, event: DataTable.RowHighlighted) -> None:
        if self.focused is event.data_table:
            self._detail_of = "host"
            self._detail(self.session.snapshot() if self._run_matches() else None)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        which = {"grid": "cell", "host-list": "host"}.get(event.widget.id or "")
        if which is not None and which != self._detail_of:
            self._detail_of = which
            self._detail(self.session.snapshot() if self._run_matches() else None)

    def _run_matches(self) -> bool:
        snap = self.session.snapshot()
        return snap is not None and [h.name for h in snap.hosts] == [h.name for h in self.session.hosts]

    # ---- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        running = self.session.running
        if action == "start":
            return not running
        if action == "stop":
            return running
        if action in ("add_host", "remove_host"):
            return not running
        return True

    def action_leave(self) -> None:
        if isinstance(self.focused, Input):
            self.set_focus(self.query_one("#host-list"))
            return
        self.app.switch_mode("main")

    def action_settings(self) -> None:
        """Move to the settings (the group field)."""
        self.set_focus(setting_input(self, "group"))

    def action_start_from_field(self) -> None:
        if not isinstance(self.focused, Input) or self.session.running:
            raise SkipAction()
        self.action_start()

    def settings_fields(self) -> MatrixFields:
        """The settings as typed now."""
        app_of(self).flush_typing()
        values = {key: setting_input(self, key).value for key, _label, _width in SETTINGS}
        return MatrixFields(**values)

    def action_start(self) -> None:
        """Check the settings and start a run over the listed hosts (errors under the fields)."""
        message = self.query_one("#settings-error", FieldMessage)
        fields = self.settings_fields()
        self.session.fields = fields
        inputs = {key: setting_input(self, key) for key, _label, _width in SETTINGS}
        for box in inputs.values():
            box.remove_class("-invalid")
        try:
            settings = parse_matrix_settings(fields)
        except FormError as exc:
            for key in exc.errors:
                inputs[key].add_class("-invalid")
            message.error("; ".join(exc.errors.values()))
            self.set_focus(inputs[next(iter(exc.errors))])
            return
        try:
            self.session.start(settings)
        except RunRefused as exc:
            message.error(str(exc))
            return
        message.clear()
        self.set_focus(self.query_one(HostGrid))
        self.update_view(force=True)

    def action_stop(self) -> None:
        self.session.stop()
        self.update_view(force=True)

    def action_add_host(self) -> None:
        from udpscope.tui.screens.host_dialog import AddHostDialog

        def done(request: HostRequest | None) -> None:
            if request is None:
                return
            try:
                self.session.add(HostEntry(request.name, request.template, request.argv))
            except RunRefused as exc:
                self.notify(safe_text(str(exc), 200), title="Hosts", severity="warning",
                            markup=False)
                return
            self.update_view(force=True)
            table = self.query_one("#host-list", DataTable)
            table.move_cursor(row=table.row_count - 1, animate=False)

        taken = [h.name for h in self.session.hosts]
        self.app.push_screen(AddHostDialog(taken, self.session.template), done)

    def action_remove_host(self) -> None:
        table = self.query_one("#host-list", DataTable)
        if not table.row_count:
            self.notify("No host to remove: a adds one.", title="Hosts", severity="warning")
            return
        name = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        try:
            self.session.remove(name)
        except RunRefused as exc:
            self.notify(safe_text(str(exc), 200), title="Hosts", severity="warning", markup=False)
            return
        self.update_view(force=True)

    def _run_over(self, final: MatrixSnapshot | None) -> None:
        """The run ended (its agents are stopped): say so when this view is not on screen."""
        if not self.is_attached:
            return
        if self.app.screen is self:
            self.update_view(force=True)
            return
        settings = self.session.settings
        if final is not None and settings is not None:
            ok, words = verdict(final, settings.max_loss)
            self.app.notify(words, title="Hosts (7)", severity="information" if ok else "error",
                            markup=False)

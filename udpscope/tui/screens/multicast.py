"""Multicast view: interfaces, queriers, our joins and when a switch would prune them, join
everywhere, "why no traffic?" with fixes, and what the kernel has joined.

Everything here is read from the kernel of the namespace the app runs in (udpscope.net), not
from what udpscope believes it did, so a join that went to the wrong interface shows up. The
querier observer listens on raw sockets and joins 224.0.0.22 / ff02::16 to hear reports, which
makes the host send reports for them: it runs only while this view is shown (or until `w` stops
it), never because the app was opened. The checks read firewall rules and routes with tools that
can take seconds, so they run in a thread and the view stays responsive. Interface names,
addresses and OS text are untrusted and sanitised; each finding wraps in its own column.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, DataTable, Header, Input, Static

from udpscope.addresses import AddressError
from udpscope.capture import Capture
from udpscope.textsafe import safe_text
from udpscope.tui.forms import parse_check_group
from udpscope.tui.mc_sources import MulticastSources, QuerierSource
from udpscope.tui.widgets.findings import FindingsList, finding_grid
from udpscope.tui.widgets.footer import KeyFooter
from udpscope.tui.widgets.querier_panel import QuerierPanel
from udpscope.tui.widgets.tables import Cell, ColumnSpec, choose_columns, sync_rows
from udpscope.tui.workbench import app_of

if TYPE_CHECKING:
    from udpscope.net.checks import Finding
    from udpscope.net.igmp import Family
    from udpscope.net.interfaces import Interface
    from udpscope.net.membership import KernelMembership
    from udpscope.net.querier import FamilyStatus, QuerierView
    from udpscope.tui.mc_everywhere import EverywhereSession

T = TypeVar("T")

NO_COLLISIONS = "none: no two groups joined on one interface share an Ethernet MAC"
# The last column of each table takes the rest of the width (cut with "…"), never more.
IFACE_COLS = (ColumnSpec("name", 10, 0), ColumnSpec("index", 5, 0), ColumnSpec("up", 4, 0),
              ColumnSpec("multicast", 9, 0), ColumnSpec("addresses", 0, 0, min_width=10))
GROUP_COLS = (ColumnSpec("", 1, 0), ColumnSpec("interface", 10, 0), ColumnSpec("group", 15, 0),
              ColumnSpec("users", 5, 0), ColumnSpec("sources", 0, 0, min_width=10))
COLLISION_COLS = (ColumnSpec("interface", 10, 0), ColumnSpec("MAC", 17, 0),
                  ColumnSpec("groups", 0, 0, min_width=10))
QUERIER_EVERY = 4      # slow ticks (4 Hz) between querier table refreshes: once a second
FAMILIES: tuple[Family, ...] = ("IPv4", "IPv6")


def collision_rows(joined: Iterable[tuple[str, str]]) -> list[tuple[str, list[Cell]]]:
    """The collisions table: one row per interface and shared MAC, from (interface, group)."""
    from udpscope.net.groups import collisions_by_interface

    return [
        (f"{iface}|{c.mac}", [safe_text(iface, 24), c.mac, safe_text(", ".join(c.groups), 200)])
        for iface, c in collisions_by_interface(joined)
    ]


class MulticastScreen(Screen[None]):
    """Interfaces, queriers, our joins, join everywhere, findings and kernel memberships."""

    BINDINGS = [
        Binding("escape", "app.switch_mode('main')", "Back", id="view-back"),
        Binding("r", "reload", "Refresh", id="multicast-refresh"),
        Binding("c", "copy_fix", "Copy fix", id="multicast-copy-fix"),
        Binding("j", "app.join_everywhere", "Join all", id="multicast-join-everywhere"),
        Binding("l", "app.leave_everywhere", "Leave all", show=False,
                id="multicast-leave-everywhere"),
        Binding("w", "toggle_watch", "Watch", show=False, id="multicast-watch"),
        Binding("enter", "check_from_field", "Check", show=False, priority=True),
    ]
    # The view scrolls from the start; one tab reaches the group field, whatever came before.
    AUTO_FOCUS = "#mc-body"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    DEFAULT_CSS = """
    MulticastScreen DataTable { height: auto; overflow: hidden hidden; }
    MulticastScreen #mc-body { scrollbar-size-vertical: 1; }
    MulticastScreen.-short Header { display: none; }
    MulticastScreen .heading { text-style: bold; color: $accent; padding: 1 1 0 1; }
    MulticastScreen VerticalScroll > Horizontal { height: auto; }
    MulticastScreen #check-group { width: 40; background: $boost; margin: 0 1; }
    MulticastScreen #group-notes { padding: 1 1 0 1; }
    MulticastScreen #findings { margin: 1 1 0 1; }
    MulticastScreen #checked-socket { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, capture: Capture, sources: MulticastSources | None = None) -> None:
        super().__init__()
        self.capture = capture
        self.sources = sources or MulticastSources()
        self.observer: QuerierSource | None = None
        self.watching = True          # the user's choice (w); the observer runs while shown
        self.watch_started = capture.clock()
        self.rp_before: int | None = None
        self._interfaces: list[Interface] = []
        self._kernel: list[KernelMembership] = []
        self._notes: Table | Text = Text("")
        self._slow = 0
        self._checks = 0              # the newest check's number (older results are dropped)
        self._last_group: str | None = None
        self._route_busy = False
        self._shown = False           # shown since it was last left for another view
        self._everywhere_shown: object | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="mc-body"):
            yield Static("6 Multicast — interfaces", classes="heading")
            # Read-only tables: not in the tab order, so one tab reaches the group field.
            yield DataTable(id="ifaces", cursor_type="none")
            yield QuerierPanel(id="querier-panel")
            yield Static("Why no traffic?", classes="heading")
            with Horizontal():
                yield Input(placeholder="group to check, e.g. 239.1.2.3", id="check-group", compact=True)
                yield Button("Check", id="check", compact=True)
            yield Static("", id="checked-socket", markup=False)
            yield Static("", id="group-notes", markup=False)
            yield FindingsList(id="findings")
            yield Static("Kernel memberships (★ = held by a udpscope socket)", classes="heading")
            yield Static("", id="membership-note", markup=False)
            yield DataTable(id="kernel-groups", cursor_type="none")
            yield Static("Group MAC collisions (the NIC takes every group on a joined MAC)",
                         classes="heading")
            yield Static(NO_COLLISIONS, id="collisions-note", markup=False)
            yield DataTable(id="mac-collisions", cursor_type="none")
        yield KeyFooter()

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.can_focus = False
        self.query_one("#group-notes").display = False
        self.query_one(FindingsList).display = False

    # ---- showing and leaving: the observer runs only while the view is shown --------------

    def on_screen_resume(self) -> None:
        # Each arrival starts the same way: the view focused, one tab from the group field
        # (back from a dialog over it, the focus stays where it was).
        if not self._shown:
            self._shown = True
            self.set_focus(self.query_one("#mc-body"))
        if self.watching:
            self.start_watch()
        self.action_reload()

    def on_screen_suspend(self) -> None:
        # A dialog, the help or the palette over this view keeps the watch (and its history);
        # leaving the view (another mode) stops it.
        self.call_after_refresh(self._stop_if_left)

    def _stop_if_left(self) -> None:
        if self not in self.app.screen_stack:
            self._shown = False
            self.stop_watch()

    def on_unmount(self) -> None:
        self.stop_watch()

    def start_watch(self) -> None:
        """Start the querier observer (a no-op when it runs)."""
        if self.observer is not None:
            return
        self.watch_started = self.capture.clock()
        self.rp_before = _quietly(self.sources.rp_drops, None)
        try:
            observer = self.sources.observer()
            observer.start()
        except Exception as exc:   # the observer reports privileges itself; this is a bug
            self.notify(f"querier watch failed: {safe_text(str(exc), 200)}", severity="error",
                        markup=False)
            return
        self.observer = observer

    def stop_watch(self) -> None:
        """Stop the observer and leave its report groups (a no-op when it is stopped)."""
        observer, self.observer = self.observer, None
        if observer is not None:
            _quietly(observer.close, None)

    def action_toggle_watch(self) -> None:
        self.watching = not self.watching
        if self.watching:
            self.start_watch()
        else:
            self.stop_watch()
        self.refresh_querier()

    # ---- refreshing ------------------------------------------------------------------------

    def refresh_data(self, slow: bool) -> None:
        """The app's timer: the querier tables once a second (cheap: the observer's state and
        /proc/net/igmp), and a route check for join everywhere once a sender is known."""
        if not slow:
            return
        self._slow += 1
        if self._slow % QUERIER_EVERY == 0:
            self.refresh_querier()

    def _width(self) -> int:
        return (self.size.width or 100) - 3  # the view's scrollbar

    def _fit_columns(self, table: DataTable[Any], specs: tuple[ColumnSpec, ...]) -> None:
        plan = choose_columns(specs, self._width())
        if [(str(c.key.value), c.width) for c in table.columns.values()] != list(plan):
            table.clear(columns=True)
            for key, width in plan:
                table.add_column(key, width=width, key=key)

    def on_resize(self) -> None:
        self.call_after_refresh(self.action_reload)

    def observed(self) -> tuple[list[QuerierView], dict[str, FamilyStatus]]:
        """The observer's views and per-family states (views of an idle observer when it is
        stopped: the kernel's IGMP versions still show)."""
        from udpscope.net.querier import FamilyStatus

        observer = self.observer
        if observer is None:
            from udpscope.net.querier import QuerierView

            empty: Mapping[str, int] = {}
            versions = _quietly(self.sources.igmp_versions, empty)
            idle = [QuerierView(i.name, i.index, f, "idle",
                                kernel_version=versions.get(i.name) if f == "IPv4" else None)
                    for i in self._interfaces if i.multicast and not i.loopback
                    for f in FAMILIES]
            return idle, {f: FamilyStatus(f, "idle", "the querier watch is off") for f in FAMILIES}
        views: list[QuerierView] = _quietly(observer.snapshot, [])
        return views, {f: observer.status(f) for f in FAMILIES}

    def refresh_querier(self) -> None:
        """Redraw the querier, joins and join-everywhere tables."""
        from udpscope.tui import mc_rows

        panel = self.query_one(QuerierPanel)
        width = self._width()
        views, statuses = self.observed()
        note = mc_rows.observer_note({f: s.state for f, s in statuses.items()},
                                     {f: s.reason for f, s in statuses.items()},
                                     max((v.watched_s for v in views), default=0.0))
        panel.show_queriers(note, mc_rows.querier_rows(views), width)
        by_key: dict[tuple[str, str], QuerierView] = {(v.interface, v.family): v for v in views}
        now = self.capture.clock()
        joins = mc_rows.own_joins(self.capture.entries(), self._interfaces, self._kernel)
        panel.show_joins(mc_rows.join_rows(joins, by_key, now), width)
        self._show_everywhere(panel, width)

    def _show_everywhere(self, panel: QuerierPanel, width: int) -> None:
        from udpscope.tui import mc_rows

        session = app_of(self).everywhere
        if session is None:
            panel.show_everywhere(None, [], "", width)
            return
        entry = self.capture.sockets.get(session.sock_id)
        joined = len(session.joined) + len(session.already)
        note = (f"socket #{session.sock_id} joined {safe_text(session.group, 48)}"
                + (f" from {safe_text(session.source, 48)}" if session.source else "")
                + f" on {joined} interface{'s' if joined != 1 else ''}; "
                f"{session.counter.total} datagrams counted. l leaves everywhere.")
        if entry is None or entry.state == "closed":
            note += " The socket is closed: nothing more arrives."
        elif entry.local() is None or entry.state not in ("bound", "connected"):
            note += f" Socket #{session.sock_id} is not bound to a port: nothing arrives."
        if not session.outcomes:
            note += " No interface is up and multicast-capable (loopback aside)."
        f = session.route_finding
        warning = f"⚠ a join on the default interface: {safe_text(f.detail, 600)}" if f else ""
        panel.show_everywhere(note, mc_rows.arrival_rows(session.outcomes, session.counter),
                              warning, width)
        if session is not self._everywhere_shown:   # a new join everywhere: bring it in view
            self._everywhere_shown = session
            box = panel.query_one("#everywhere")
            self.call_after_refresh(lambda: box.scroll_visible(animate=False))
        self._check_route(session)

    def _check_route(self, session: EverywhereSession) -> None:
        source = session.source_to_check(self.capture)
        if source is None or self._route_busy:
            return
        from udpscope.tui.mc_everywhere import check_route

        self._route_busy = True
        session.route_checked_for = source
        route = self.sources.route

        def done(found: Finding | None | BaseException) -> None:
            self._route_busy = False
            session.route_finding = None if isinstance(found, BaseException) else found
            if self.is_attached:
                self.refresh_querier()

        self._in_thread(lambda: _catching(lambda: check_route(session.group, source, route)),
                        done)

    def action_reload(self) -> None:
        """Re-read interfaces and kernel memberships, redraw, and re-run the last check."""
        self._reload_host()
        self.refresh_querier()
        if self._last_group is not None and self.query_one(FindingsList).display:
            self.run_checks(quiet=True)

    def _reload_host(self) -> None:
        from udpscope.net.membership import mark_own

        try:
            self._interfaces = list(self.sources.interfaces())
        except Exception as exc:
            self._interfaces = []
            self.notify(safe_text(str(exc), 200), severity="error", markup=False)
        self._fit_columns(self.query_one("#ifaces", DataTable), IFACE_COLS)
        self._fit_columns(self.query_one("#kernel-groups", DataTable), GROUP_COLS)
        self._fit_columns(self.query_one("#mac-collisions", DataTable), COLLISION_COLS)
        sync_rows(self.query_one("#ifaces", DataTable), [
            (str(i.index), [safe_text(i.name, 24), str(i.index),
                            Text("up", style="green") if i.up else Text("down", style="red"),
                            "yes" if i.multicast else ("loopback" if i.loopback else "no"),
                            safe_text(", ".join(i.addresses), 120)])
            for i in self._interfaces])
        own = self._own()
        note = self.query_one("#membership-note", Static)
        rows: list[tuple[str, list[Cell]]] = []
        self._kernel = []
        reason = _quietly(self.sources.memberships_unavailable, None)
        if reason:
            note.update(Content(f"kernel view unavailable: {safe_text(reason, 200)}"))
        else:
            note.update("")
            try:
                self._kernel = mark_own(self.sources.memberships(), own, self._interfaces)
            except Exception as exc:
                note.update(Content(f"cannot read memberships: {safe_text(str(exc), 200)}"))
            for n, m in enumerate(self._kernel):
                sources = ", ".join(f"{'+' if s.include else '-'}{s.source}" for s in m.sources)
                rows.append((f"{n}", [Text("★", style="bold yellow") if m.own else "",
                                      safe_text(m.interface, 24), safe_text(m.group, 48),
                                      str(m.users), safe_text(sources, 120)]))
        sync_rows(self.query_one("#kernel-groups", DataTable), rows)
        collisions = collision_rows((m.interface, m.group) for m in self._kernel)
        sync_rows(self.query_one("#mac-collisions", DataTable), collisions)
        self.query_one("#collisions-note", Static).display = not collisions
        group_input = self.query_one("#check-group", Input)
        if not group_input.value and own:
            group_input.value = own[0][0]

    def _own(self) -> list[tuple[str, str | None, str | None]]:
        own = []
        for entry in self.capture.entries():
            if entry.state == "closed":
                continue
            try:
                own.extend(entry.sock.get_memberships())
            except Exception:
                continue
        return own

    # ---- why no traffic? -------------------------------------------------------------------

    @on(Button.Pressed, "#check")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.run_checks()

    def action_check_from_field(self) -> None:
        if self.focused is None or self.focused.id != "check-group":
            raise SkipAction()
        self.run_checks()

    def run_checks(self, quiet: bool = False) -> None:
        """Run every check for the typed group and the selected socket: what the app knows is
        gathered now, the host is read in a thread, the findings shown when it is done.
        ``quiet``: keep the findings shown until the new ones are there (a refresh)."""
        from udpscope.tui import mc_checks

        app = app_of(self)
        app.flush_typing()
        findings = self.query_one(FindingsList)
        notes = self.query_one("#group-notes", Static)
        entry = app.selected_entry()
        live = entry is not None and entry.state != "closed"
        who = self.query_one("#checked-socket", Static)
        if entry is None or not live:
            who.update("checking the host only: no open socket selected (1 Sockets picks one)")
        else:
            local = entry.local()
            where = safe_text(f"{local[0]}:{local[1]}", 60) if local else entry.state
            who.update(Content(f"checking socket #{entry.id} {entry.type} {where}"))
        try:
            group = parse_check_group(self.query_one("#check-group", Input).value,
                                      entry.type if entry is not None and live else None)
        except AddressError as exc:
            self._last_group = None
            notes.display = False
            self._notes = Text("")
            findings.display = True
            findings.show_message(str(exc), error=True)
            return
        self._last_group = group
        self._notes = _group_notes(group)
        notes.update(self._notes)
        notes.display = True
        findings.display = True
        if not quiet:
            findings.show_message("checking… (firewall rules, routes, what arrived)")
        views, statuses = self.observed()
        by_key: dict[tuple[str, str], QuerierView] = {(v.interface, v.family): v for v in views}
        request = mc_checks.gather(
            self.capture, entry if live else None, group, interfaces=self._interfaces,
            statuses=statuses, views=by_key,
            started_at=self.watch_started, rp_before=self.rp_before)
        self._checks += 1
        number = self._checks
        sources = self.sources

        def done(result: list[Finding] | BaseException) -> None:
            if number != self._checks or not self.is_attached:
                return   # a newer check was started, or the view is gone
            if isinstance(result, BaseException):
                findings.show_message(f"check failed: {safe_text(str(result), 200)}", error=True)
                return
            findings.show(result)
            field = self.query_one("#check-group", Input)
            if not quiet and self.focused in (field, self.query_one("#check", Button)):
                # From the field to the answers: ↑/↓ pick a finding, c copies its fix.
                self.set_focus(findings)

        self._in_thread(lambda: _catching(lambda: mc_checks.run(request, sources)), done)

    def _in_thread(self, work: Callable[[], T], done: Callable[[T], None]) -> None:
        """Run blocking ``work`` in a new thread (in this thread's network namespace, which a
        pooled thread made earlier might not be in) and ``done(result)`` on the event loop."""
        app = self.app

        def body() -> None:
            result = work()
            with contextlib.suppress(RuntimeError):   # the app has ended meanwhile
                app.call_from_thread(done, result)

        threading.Thread(target=body, name="udpscope-mc-check", daemon=True).start()

    def findings_text(self) -> str:
        """The group notes and the last check's findings as plain lines, as wide as the view
        (for tests and copying)."""
        from rich.console import Console

        width = max(40, self.size.width - 2)
        console = Console(width=width, color_system=None, file=None)
        with console.capture() as capture:
            console.print(self._notes)
        return capture.get() + self.query_one(FindingsList).plain_text(width - 2)

    def action_copy_fix(self) -> None:
        """Copy the selected finding's fix command to the clipboard."""
        findings = self.query_one(FindingsList)
        fix = findings.selected_fix()
        if fix is None:
            chosen = findings.selected()
            self.notify("No fix to copy: " + ("this finding has none." if chosen is not None
                                             else "run a check first (group field, enter)."),
                        severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(fix)
        self.notify(f"Copied: {fix}", title="Fix", markup=False)


def _group_notes(group: str) -> Table | Text:
    """What the group's address itself says: its Ethernet MAC and its scope, in plain words."""
    from udpscope.net import groups

    if not groups.is_multicast(group):
        return Text("")
    rows = [(Text("group", style="bold"),
             Text(f"{safe_text(group, 64)}  (Ethernet {groups.multicast_mac(group)})"))]
    note = groups.scope_note(group)
    if note:
        rows.append((Text(""), Text(safe_text(note, 400))))
    return finding_grid(rows)


def _quietly(fn: Callable[[], T], default: T) -> T:
    try:
        return fn()
    except Exception:
        return default


def _catching(fn: Callable[[], T]) -> T | BaseException:
    try:
        return fn()
    except Exception as exc:   # shown in the view, not raised in a thread nobody reads
        return exc

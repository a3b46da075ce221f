"""Multicast view: interfaces, what the kernel has joined, and "why no traffic?" in plain words.

Everything here is read from the kernel of the namespace the app runs in (udpscope.net), not
from what udpscope believes it did, so a join that went to the wrong interface shows up. Our own
memberships are marked. Interface names and addresses are untrusted text and are sanitised.
The checks say which socket they look at, and each finding's text wraps in its own column.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
from udpscope.tui.widgets.footer import KeyFooter
from udpscope.tui.widgets.tables import Cell, ColumnSpec, choose_columns, sync_rows
from udpscope.tui.workbench import app_of

LEVEL_STYLE = {"error": "error", "warning": "warning", "info": "text-muted"}
NO_COLLISIONS = "none: no two groups joined on one interface share an Ethernet MAC"
# The last column of each table takes the rest of the width (cut with "…"), never more.
IFACE_COLS = (ColumnSpec("name", 10, 0), ColumnSpec("index", 5, 0), ColumnSpec("up", 4, 0),
              ColumnSpec("multicast", 9, 0), ColumnSpec("addresses", 0, 0, min_width=10))
GROUP_COLS = (ColumnSpec("", 1, 0), ColumnSpec("interface", 10, 0), ColumnSpec("group", 15, 0),
              ColumnSpec("users", 5, 0), ColumnSpec("sources", 0, 0, min_width=10))
COLLISION_COLS = (ColumnSpec("interface", 10, 0), ColumnSpec("MAC", 17, 0),
                  ColumnSpec("groups", 0, 0, min_width=10))


def collision_rows(joined: Iterable[tuple[str, str]]) -> list[tuple[str, list[Cell]]]:
    """The collisions table: one row per interface and shared MAC, from (interface, group)."""
    from udpscope.net.groups import collisions_by_interface

    return [
        (f"{iface}|{c.mac}", [safe_text(iface, 24), c.mac, safe_text(", ".join(c.groups), 200)])
        for iface, c in collisions_by_interface(joined)
    ]


class MulticastScreen(Screen[None]):
    """Interfaces, kernel memberships (ours marked) and the why-no-traffic checks."""

    BINDINGS = [
        Binding("escape", "app.switch_mode('main')", "Back", id="view-back"),
        Binding("r", "reload", "Refresh", id="multicast-refresh"),
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
    MulticastScreen #findings { padding: 1 1 0 1; }
    MulticastScreen #checked-socket { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, capture: Capture) -> None:
        super().__init__()
        self.capture = capture
        self._findings: Table | Text = Text("")

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="mc-body"):
            yield Static("6 Multicast — interfaces", classes="heading")
            # Read-only tables: not in the tab order, so one tab reaches the group field.
            yield DataTable(id="ifaces", cursor_type="none")
            yield Static("Kernel memberships (★ = held by a udpscope socket)", classes="heading")
            yield Static("", id="membership-note", markup=False)
            yield DataTable(id="kernel-groups", cursor_type="none")
            yield Static("Group MAC collisions (the NIC takes every group on a joined MAC)",
                         classes="heading")
            yield Static(NO_COLLISIONS, id="collisions-note", markup=False)
            yield DataTable(id="mac-collisions", cursor_type="none")
            yield Static("Why no traffic?", classes="heading")
            with Horizontal():
                yield Input(placeholder="group to check, e.g. 239.1.2.3", id="check-group", compact=True)
                yield Button("Check", id="check", compact=True)
            yield Static("", id="checked-socket", markup=False)
            yield Static("", id="findings", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.can_focus = False
        self.action_reload()

    def _fit_columns(self, table: DataTable[Any], specs: tuple[ColumnSpec, ...]) -> None:
        plan = choose_columns(specs, (self.size.width or 100) - 3)  # the view's scrollbar
        if [(str(c.key.value), c.width) for c in table.columns.values()] != list(plan):
            table.clear(columns=True)
            for key, width in plan:
                table.add_column(key, width=width, key=key)

    def on_resize(self) -> None:
        self.call_after_refresh(self.action_reload)

    def on_screen_resume(self) -> None:
        # Each arrival starts the same way: the view focused, one tab from the group field.
        self.set_focus(self.query_one("#mc-body"))
        self.action_reload()

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

    def action_reload(self) -> None:
        from udpscope.net import membership
        from udpscope.net.interfaces import list_interfaces

        try:
            interfaces = list_interfaces()
        except Exception as exc:
            interfaces = []
            self.notify(safe_text(str(exc), 200), severity="error", markup=False)
        self._fit_columns(self.query_one("#ifaces", DataTable), IFACE_COLS)
        self._fit_columns(self.query_one("#kernel-groups", DataTable), GROUP_COLS)
        self._fit_columns(self.query_one("#mac-collisions", DataTable), COLLISION_COLS)
        sync_rows(
            self.query_one("#ifaces", DataTable),
            [
                (
                    str(i.index),
                    [
                        safe_text(i.name, 24),
                        str(i.index),
                        Text("up", style="green") if i.up else Text("down", style="red"),
                        "yes" if i.multicast else ("loopback" if i.loopback else "no"),
                        safe_text(", ".join(i.addresses), 120),
                    ],
                )
                for i in interfaces
            ],
        )
        own = self._own()
        note = self.query_one("#membership-note", Static)
        rows = []
        kernel: list[membership.KernelMembership] = []
        reason = membership.unavailable_reason()
        if reason:
            note.update(Content(f"kernel view unavailable: {safe_text(reason, 200)}"))
        else:
            note.update("")
            try:
                kernel = membership.mark_own(membership.read_memberships(), own, interfaces)
            except Exception as exc:
                kernel = []
                note.update(Content(f"cannot read memberships: {safe_text(str(exc), 200)}"))
            for n, m in enumerate(kernel):
                sources = ", ".join(
                    f"{'+' if s.include else '-'}{s.source}" for s in m.sources
                )
                rows.append(
                    (
                        f"{n}",
                        [
                            Text("★", style="bold yellow") if m.own else "",
                            safe_text(m.interface, 24),
                            safe_text(m.group, 48),
                            str(m.users),
                            safe_text(sources, 120),
                        ],
                    )
                )
        sync_rows(self.query_one("#kernel-groups", DataTable), rows)
        collisions = collision_rows((m.interface, m.group) for m in kernel)
        sync_rows(self.query_one("#mac-collisions", DataTable), collisions)
        self.query_one("#collisions-note", Static).display = not collisions
        group_input = self.query_one("#check-group", Input)
        if not group_input.value and own:
            group_input.value = own[0][0]

    @on(Button.Pressed, "#check")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.run_checks()

    def action_check_from_field(self) -> None:
        if self.focused is None or self.focused.id != "check-group":
            raise SkipAction()
        self.run_checks()

    def run_checks(self) -> None:
        """Run "why no traffic?" for the typed group and the selected socket."""
        from udpscope.net.checks import ReceiveSetup, read_system, why_no_traffic

        app = app_of(self)
        app.flush_typing()
        out = self.query_one("#findings", Static)
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
            self._findings = Text(safe_text(str(exc), 200))
            out.update(Content.styled(safe_text(str(exc), 200), "$text-error"))
            return
        setup_kwargs: dict[str, Any] = {"group": group, "socket": False}
        if entry is not None and live:
            try:
                joins = entry.sock.get_memberships()
            except Exception:
                joins = []
            mine = [j for j in joins if j[0].partition("%")[0] == group]
            local = entry.local()
            setup_kwargs.update(
                joined=bool(mine),
                interface=_iface_name(mine[0][2]) if mine and mine[0][2] else None,
                source=mine[0][1] if mine else None,
                bound_address=local[0] if local else None,
                multicast_all=False if entry.isolated else None,
                socket_joins=len(joins),
                socket_family=entry.type,
                socket=True,
            )
        try:
            findings = why_no_traffic(ReceiveSetup(**setup_kwargs), read_system())
        except Exception as exc:
            self._findings = Text(f"check failed: {safe_text(str(exc), 200)}")
            out.update(Content.styled(f"check failed: {safe_text(str(exc), 200)}", "$text-error"))
            return
        self._findings = self._findings_table(group, findings)
        out.update(self._findings)

    def findings_text(self) -> str:
        """The last check's findings as plain lines, as wide as the view (for tests and copy)."""
        from rich.console import Console

        console = Console(width=max(40, self.size.width - 2), color_system=None, file=None)
        with console.capture() as capture:
            console.print(self._findings)
        return capture.get()

    def _findings_table(self, group: str, findings: list[Any]) -> Table:
        """Findings in two columns: the level, and the text, which wraps in its own column."""
        colours = self.app.theme_variables
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(width=8, no_wrap=True)
        table.add_column(ratio=1, overflow="fold")
        for name, text in _group_notes(group):
            table.add_row(Text(name, style="bold"), Text(text))
        if not findings:
            table.add_row(Text("OK", style=f"bold {colours.get('success', '')}".strip()),
                          Text("No problems found for this setup."))
        for f in findings:
            style = f"bold {colours.get(LEVEL_STYLE.get(f.level, ''), '')}".strip()
            table.add_row(Text(f.level.upper(), style=style),
                          Text.assemble((safe_text(f.title, 200), "bold"), "\n",
                                        safe_text(f.detail, 600)))
        return table


def _group_notes(group: str) -> list[tuple[str, str]]:
    """What the group's address itself says: its Ethernet MAC and its scope, in plain words."""
    from udpscope.net import groups

    if not groups.is_multicast(group):
        return []
    notes = [("group", f"{safe_text(group, 64)}  (Ethernet {groups.multicast_mac(group)})")]
    note = groups.scope_note(group)
    if note:
        notes.append(("", safe_text(note, 400)))
    return notes


def _iface_name(spec: str) -> str | None:
    """Turn a dgram interface argument ("10.0.0.1", "::%eth0") into an interface name."""
    _, _, scope = spec.partition("%")
    if scope:
        return scope
    try:
        from udpscope.net.interfaces import find_interface

        return find_interface(spec).name
    except Exception:
        return None

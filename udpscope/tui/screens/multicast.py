"""Multicast view: interfaces, what the kernel has joined, and "why no traffic?" in plain words.

Everything here is read from the kernel of the namespace the app runs in (udpscope.net), not
from what udpscope believes it did, so a join that went to the wrong interface shows up. Our own
memberships are marked. Interface names and addresses are untrusted text and are sanitised.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, DataTable, Header, Input, Static

from udpscope.textsafe import safe_text
from udpscope.tui.widgets.footer import KeyFooter
from udpscope.tui.widgets.tables import Cell, sync_rows

LEVEL_STYLE = {"error": "bold $error", "warning": "bold $warning", "info": "$text-muted"}
NO_COLLISIONS = "none: no two groups joined on one interface share an Ethernet MAC"


def collision_rows(joined: Iterable[tuple[str, str]]) -> list[tuple[str, list[Cell]]]:
    """The collisions table: one row per interface and shared MAC, from (interface, group)."""
    from udpscope.net.groups import collisions_by_interface

    return [
        (f"{iface}|{c.mac}", [safe_text(iface, 24), c.mac, safe_text(", ".join(c.groups), 200)])
        for iface, c in collisions_by_interface(joined)
    ]


class MulticastScreen(Screen):
    """Interfaces, kernel memberships (ours marked) and the why-no-traffic checks."""

    BINDINGS = [
        Binding("escape", "app.switch_mode('main')", "Back", id="view-back"),
        Binding("r", "reload", "Refresh", id="multicast-refresh"),
    ]

    DEFAULT_CSS = """
    MulticastScreen DataTable { height: auto; max-height: 12; }
    MulticastScreen .heading { text-style: bold; color: $accent; padding: 1 1 0 1; }
    MulticastScreen VerticalScroll > Horizontal { height: auto; }
    MulticastScreen #check-group { width: 40; background: $boost; margin: 0 1; }
    MulticastScreen #findings { padding: 1 1 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("6 Multicast — interfaces", classes="heading")
            yield DataTable(id="ifaces", cursor_type="row")
            yield Static("Kernel memberships (★ = held by a udpscope socket)", classes="heading")
            yield Static("", id="membership-note", markup=False)
            yield DataTable(id="kernel-groups", cursor_type="row")
            yield Static("Group MAC collisions (the NIC takes every group on a joined MAC)",
                         classes="heading")
            yield Static(NO_COLLISIONS, id="collisions-note", markup=False)
            yield DataTable(id="mac-collisions", cursor_type="row")
            yield Static("Why no traffic?", classes="heading")
            with Horizontal():
                yield Input(placeholder="group to check, e.g. 239.1.2.3", id="check-group", compact=True)
                yield Button("Check", id="check", compact=True)
            yield Static("", id="findings", markup=False)
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#ifaces", DataTable).add_columns("name", "index", "up", "multicast", "addresses")
        self.query_one("#kernel-groups", DataTable).add_columns("", "interface", "group", "users", "sources")
        self.query_one("#mac-collisions", DataTable).add_columns("interface", "MAC", "groups")
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def _own(self) -> list[tuple[str, str | None, str | None]]:
        own = []
        for entry in self.app.capture.entries():  # type: ignore[attr-defined]
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

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.run_checks()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.run_checks()

    def run_checks(self) -> None:
        from udpscope.net.checks import ReceiveSetup, read_system, why_no_traffic

        out = self.query_one("#findings", Static)
        group = self.query_one("#check-group", Input).value.strip()
        if not group:
            out.update(Content.styled("enter a group address to check", "$text-error"))
            return
        setup_kwargs: dict = {"group": group}
        entry = self.app.selected_entry()  # type: ignore[attr-defined]
        if entry is not None and entry.state != "closed":
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
            )
        try:
            findings = why_no_traffic(ReceiveSetup(**setup_kwargs), read_system())
        except Exception as exc:
            out.update(Content.styled(f"check failed: {safe_text(str(exc), 200)}", "$text-error"))
            return
        parts = _group_notes(group)
        if not findings:
            parts.append(Content.styled("No problems found for this setup.", "$text-success"))
            out.update(Content("\n").join(parts))
            return
        for f in findings:
            parts.append(
                Content.assemble(
                    (f"{f.level.upper():8}", LEVEL_STYLE.get(f.level, "")),
                    (safe_text(f.title, 200), "bold"),
                )
            )
            parts.append(Content("        " + safe_text(f.detail, 600)))
        out.update(Content("\n").join(parts))


def _group_notes(group: str) -> list[Content]:
    """What the group's address itself says: its Ethernet MAC and its scope, in plain words."""
    from udpscope.net import groups

    if not groups.is_multicast(group):
        return []
    notes = [Content.assemble(("group    ", "bold"), safe_text(group, 64),
                              f"  (Ethernet {groups.multicast_mac(group)})")]
    note = groups.scope_note(group)
    if note:
        notes.append(Content("         " + safe_text(note, 400)))
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

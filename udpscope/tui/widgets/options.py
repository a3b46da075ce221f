"""Options and memberships of the selected socket, each next to what the kernel reports back.

Setting an option and reading it back are different things (Linux doubles buffer sizes, a
setsockopt can be refused, a join can silently pick another interface), so every control shows
the value read with getsockopt after each change. Failures leave the socket as it was and are
explained under the control; OS error text goes through the sanitiser. A udp6 socket shows only
what applies to IPv6: no broadcast, and "hop limit" where IPv4 says TTL. The responder section
shows the socket's rules and counters (edited in the responder dialog, r). A socket that stands
for a capture file (`udpscope open`) has no options: the pane says so instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Static

from udpscope.addresses import AddressError
from udpscope.capture import SocketEntry
from udpscope.net.hints import errno_hint
from udpscope.textsafe import safe_text
from udpscope.tui.forms import parse_buffer_size, parse_membership, parse_ttl
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.select import Select
from udpscope.tui.widgets.tick import Tick
from udpscope.tui.workbench import app_of
from udpscope.units import human_bytes

# The button an Enter in a field presses.
ENTER_PRESSES = {"ttl": "set-ttl", "mcast-ttl": "set-mcast-ttl", "group": "join", "source": "join",
                 "recv-buf": "set-bufs", "send-buf": "set-bufs"}
LABELS = {"udp4": {"ttl": "TTL", "mcast-ttl": "mcast TTL"},
          "udp6": {"ttl": "hop limit", "mcast-ttl": "mcast hops"}}


def _read(fn: Callable[[], object], fmt: Callable[[int], str] = str) -> str:
    try:
        value = fn()
    except Exception as exc:
        code = getattr(exc, "code", None)
        return "no OS socket yet" if code == "EBADF" else f"? {code or type(exc).__name__}"
    if isinstance(value, bool):
        return "on" if value else "off"
    return fmt(value) if isinstance(value, int) else str(value)


class OptionsPane(VerticalScroll):
    """Per-socket options; acts on the app's selected socket."""

    BINDINGS = [Binding("enter", "enter_in_field", "Set", show=False, priority=True)]

    DEFAULT_CSS = """
    OptionsPane { padding: 0 1; scrollbar-size-vertical: 1; }
    OptionsPane > .row { height: auto; }
    OptionsPane Label { width: 11; }
    OptionsPane Input { background: $boost; }
    OptionsPane Tick { width: 5; }
    OptionsPane Button { margin-left: 1; width: auto; min-width: 5; }
    OptionsPane .kernel { width: 1fr; padding: 0 0 0 1; color: $text-muted; }
    OptionsPane Input.num { width: 6; }
    OptionsPane Input.size { width: 9; }
    OptionsPane Label.inline { width: auto; padding: 0 1 0 0; }
    OptionsPane Select { width: 1fr; }
    OptionsPane #group, OptionsPane #source { width: 1fr; }
    OptionsPane .section { text-style: bold; color: $accent; padding: 1 0 0 0; }
    OptionsPane #memberships { padding: 0 0 0 11; height: auto; }
    OptionsPane #opt-title { color: $text-muted; padding-bottom: 1; }
    OptionsPane #member-buttons { padding-left: 10; }
    OptionsPane #k-bufs { padding: 0 0 0 11; height: auto; }
    OptionsPane #responder-summary { padding: 0 0 0 11; height: auto; }
    OptionsPane #responder-buttons { padding-left: 10; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._loading = False
        self._shown_state: tuple[int, str] | None = None
        self._responder_text = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="opt-title", markup=False)
        yield _switch_row("broadcast", "broadcast")
        yield from _number_row("TTL", "1-255", "ttl")
        yield from _number_row("mcast TTL", "0-255", "mcast-ttl")
        yield _switch_row("mcast loop", "mcast-loop")
        yield _switch_row("isolate", "isolate")
        yield FieldMessage(id="switch-error")
        with Horizontal(classes="row"):
            yield Label("mcast if")
            yield Select([], prompt="(default)", id="mcast-iface", compact=True)
            yield Button("set", id="set-mcast-iface", compact=True)
        yield FieldMessage(id="iface-error")
        with Horizontal(classes="row"):
            yield Label("buffers")
            yield Label("recv", classes="inline")
            yield Input(placeholder="bytes", id="recv-buf", classes="size", compact=True)
            yield Label(" send", classes="inline")
            yield Input(placeholder="4MiB", id="send-buf", classes="size", compact=True)
            yield Button("set", id="set-bufs", compact=True)
        yield Static("", classes="kernel", id="k-bufs", markup=False)
        yield FieldMessage(id="bufs-error")
        yield Static("Memberships", classes="section")
        with Horizontal(classes="row"):
            yield Label("group")
            yield Input(placeholder="239.1.2.3 / ff15::1", id="group", compact=True)
        with Horizontal(classes="row"):
            yield Label("source")
            yield Input(placeholder="optional (SSM)", id="source", compact=True)
        with Horizontal(classes="row"):
            yield Label("on")
            yield Select([], prompt="(default interface)", id="member-iface", compact=True)
        with Horizontal(classes="row", id="member-buttons"):
            yield Button("Join", id="join", variant="primary", compact=True)
            yield Button("Leave", id="leave", compact=True)
        yield FieldMessage(id="member-error")
        yield Static("", id="memberships", markup=False)
        yield Static("Responder", classes="section")
        yield Static("", id="responder-summary", markup=False)
        with Horizontal(classes="row", id="responder-buttons"):
            yield Button("Rules… r", id="edit-rules", compact=True)

    def on_mount(self) -> None:
        self.refresh_interfaces()
        self.load()
        # The socket can change state under the pane (bound later, closed with x); a cheap
        # poll of one attribute keeps the title and the kernel column from going stale.
        self.set_interval(0.5, self._check_state)

    def _check_state(self) -> None:
        entry = app_of(self).selected_entry()
        now = (entry.id, entry.state) if entry is not None else None
        if now != self._shown_state and self.is_attached:
            self.load()
        elif entry is not None and entry.state not in ("closed", "file") and self.is_attached:
            self.show_responder(entry)  # the counters move while traffic is answered

    # ---- reading back ------------------------------------------------------------------------

    def refresh_interfaces(self) -> None:
        """Re-read the host's interfaces into both interface lists."""
        try:
            from udpscope.net.interfaces import list_interfaces

            names = [i.name for i in list_interfaces()]
        except Exception:
            names = []
        # Interface names are untrusted text: a Content prompt, so no markup is parsed.
        options = [(Content(safe_text(n, 32)), n) for n in names]
        for sid in ("#mcast-iface", "#member-iface"):
            select: Select[str] = self.query_one(sid, Select)
            value = select.value
            select.set_options(options)
            if value in names:
                select.value = value

    def _kernel_text(self, kid: str, text: str) -> None:
        self.query_one(kid, Static).update(Content(text))

    def load(self) -> None:
        """Show the selected socket's kernel-reported values (also after every change)."""
        entry = app_of(self).selected_entry()
        title = self.query_one("#opt-title", Static)
        self._shown_state = (entry.id, entry.state) if entry is not None else None
        if entry is None or entry.state in ("closed", "file"):
            # A closed socket has no options to read or set: say so once, not as errors per row.
            if entry is None:
                text = "no socket yet: press n to create one"
            elif entry.state == "file":
                text = (f"socket #{entry.id} is read-only: its datagrams come from "
                        f"{safe_text(entry.label or 'a capture file', 60)}; it has no options. "
                        "Press n for a real socket")
            else:
                text = f"socket #{entry.id} is closed: pick another in 1 Sockets, or press n"
            title.update(Content(text))
            self._responder_text = ""
            self.query_one("#responder-summary", Static).update("")
            for kid in ("#k-broadcast", "#k-ttl", "#k-mcast-ttl", "#k-mcast-loop", "#k-isolate", "#k-bufs"):
                self._kernel_text(kid, "")
            self.query_one("#memberships", Static).update("")
            self._set_disabled(True)
            return
        self._set_disabled(False)
        self._show_family(entry.type)
        title.update(Content(f"socket #{entry.id} {entry.type} ({entry.state})"))
        sock = entry.sock
        self._loading = True
        try:
            self._kernel_text("#k-broadcast", "kernel: " + _read(sock.get_broadcast))
            self._kernel_text("#k-ttl", "kernel: " + _read(sock.get_ttl))
            self._kernel_text("#k-mcast-ttl", "kernel: " + _read(sock.get_multicast_ttl))
            self._kernel_text("#k-mcast-loop", "kernel: " + _read(sock.get_multicast_loopback))
            self._kernel_text("#k-bufs", f"kernel: recv {_read(sock.get_recv_buffer_size, human_bytes)}"
                                         f" · send {_read(sock.get_send_buffer_size, human_bytes)}")
            for sw, getter in (("#broadcast", sock.get_broadcast), ("#mcast-loop", sock.get_multicast_loopback)):
                try:
                    value = bool(getter())
                except Exception:
                    continue
                self._set_switch(sw, value)
            self._set_switch("#isolate", entry.isolated)
            self._kernel_text("#k-isolate", "own groups only" if entry.isolated else "all host groups")
        finally:
            self._loading = False
        self.show_memberships(entry)
        self.show_responder(entry)

    def show_responder(self, entry: SocketEntry) -> None:
        """The socket's responder rules and counters (the rules are edited in their dialog)."""
        from udpscope.tui.screens.responder import counters_text

        session = app_of(self).workspace_session
        responder = session.responders.get(entry.id) if session is not None else None
        rules = responder.rule_texts if responder is not None else []
        lines = [f"{n}. {safe_text(rule, 120)}" for n, rule in enumerate(rules, 1)]
        lines.append(counters_text(responder))
        text = "\n".join(lines)
        summary = self.query_one("#responder-summary", Static)
        if text != self._responder_text:
            self._responder_text = text
            summary.update(Content(text))

    def _set_switch(self, selector: str, value: bool) -> None:
        switch = self.query_one(selector, Tick)
        if switch.value != value:
            with switch.prevent(Checkbox.Changed):
                switch.value = value

    def _show_family(self, family: str) -> None:
        """udp6: no broadcast row; TTL reads "hop limit"."""
        self.query_one("#broadcast-row").display = family != "udp6"
        labels = LABELS.get(family, LABELS["udp4"])
        for option, text in labels.items():
            self.query_one(f"#label-{option}", Label).update(text)

    def _set_disabled(self, disabled: bool) -> None:
        for widget in self.query("Input, Button, Tick, Select"):
            widget.disabled = disabled

    def show_memberships(self, entry: SocketEntry) -> None:
        """List this socket's joins (as the engine holds them)."""
        try:
            joined = entry.sock.get_memberships()
        except Exception:
            joined = []
        if not joined:
            text = "no groups joined"
        else:
            lines = []
            for group, source, iface in joined:
                line = safe_text(group, 64)
                if source:
                    line = f"{safe_text(source, 64)} → {line}"
                line += f" on {safe_text(iface, 64)}" if iface else " (default interface)"
                lines.append("• " + line)
            text = "\n".join(lines)
        self.query_one("#memberships", Static).update(Content(text))

    # ---- changing ----------------------------------------------------------------------------

    def _fail(self, target: str, entry: SocketEntry, exc: BaseException) -> None:
        msg = str(exc)
        hint = errno_hint(getattr(exc, "code", None) or "", getattr(exc, "syscall", None), words="tui")
        self.query_one(target, FieldMessage).error(msg + (f" — {hint}" if hint else ""))
        app_of(self).report_error(entry.id, exc, notify=False)

    @on(Checkbox.Changed)
    def _switched(self, event: Checkbox.Changed) -> None:
        event.stop()
        if self._loading:
            return
        entry = app_of(self).selected_entry()
        if entry is None:
            return
        msg = self.query_one("#switch-error", FieldMessage)
        msg.clear()
        sock = entry.sock
        try:
            if event.checkbox.id == "broadcast":
                sock.set_broadcast(event.value)
            elif event.checkbox.id == "mcast-loop":
                sock.set_multicast_loopback(event.value)
            elif event.checkbox.id == "isolate":
                sock.set_multicast_all(not event.value)
                entry.isolated = event.value
        except Exception as exc:
            self._fail("#switch-error", entry, exc)
            with event.checkbox.prevent(Checkbox.Changed):
                event.checkbox.value = not event.value
        self.load()

    def action_enter_in_field(self) -> None:
        # Enter in a field presses its button; on a button it presses it now (a Button's own
        # press is a message, which keys typed next would overtake).
        focused = self.screen.focused
        if focused is None or self not in focused.ancestors:
            raise SkipAction()
        if isinstance(focused, Button):
            self.press(focused.id or "")
            return
        if not isinstance(focused, Input):
            raise SkipAction()
        bid = ENTER_PRESSES.get(focused.id or "")
        if bid:
            self.press(bid)

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        self.press(event.button.id or "")

    def press(self, bid: str) -> None:
        """Do what button ``bid`` does (set-ttl, set-mcast-ttl, set-mcast-iface, set-bufs,
        join, leave), reading its fields now."""
        app = app_of(self)
        app.flush_typing()
        entry = app.selected_entry()
        if entry is None:
            return
        if bid == "edit-rules":
            from udpscope.tui.session_actions import open_responder

            open_responder(app, entry)
            return
        if bid in ("join", "leave"):
            self.membership(entry, join=bid == "join")
            return
        target = {"set-ttl": "#ttl-error", "set-mcast-ttl": "#mcast-ttl-error",
                  "set-bufs": "#bufs-error"}.get(bid, "#iface-error")
        opt = self.query_one(target, FieldMessage)
        opt.clear()
        sock = entry.sock
        try:
            if bid == "set-ttl":
                sock.set_ttl(parse_ttl(self.query_one("#ttl", Input).value, multicast=False))
            elif bid == "set-mcast-ttl":
                sock.set_multicast_ttl(parse_ttl(self.query_one("#mcast-ttl", Input).value, multicast=True))
            elif bid == "set-bufs":
                self._set_buffers(entry)
            elif bid == "set-mcast-iface":
                select = self.query_one("#mcast-iface", Select)
                if select.is_blank():
                    raise AddressError("interface", "choose one first")
                name = str(select.value)
                sock.set_multicast_interface(_iface_arg(name, entry.type))
                opt.ok(f"multicast interface set to {name}")
        except AddressError as exc:
            opt.error(str(exc))
        except Exception as exc:
            self._fail(target, entry, exc)
        self.load()

    def _set_buffers(self, entry: SocketEntry) -> None:
        recv_text = self.query_one("#recv-buf", Input).value
        send_text = self.query_one("#send-buf", Input).value
        if not (recv_text.strip() or send_text.strip()):
            raise AddressError("buffers", "type a size (bytes, or e.g. 4MiB) in recv or send")
        sizes = [parse_buffer_size(t, what) if t.strip() else None
                 for t, what in ((recv_text, "receive buffer"), (send_text, "send buffer"))]
        if sizes[0] is not None:
            entry.sock.set_recv_buffer_size(sizes[0])
        if sizes[1] is not None:
            entry.sock.set_send_buffer_size(sizes[1])
        self.query_one("#bufs-error", FieldMessage).ok(
            "set (Linux reserves twice the size asked for; the kernel's value is above)")

    def membership(self, entry: SocketEntry, join: bool) -> None:
        """Join or leave the group in the fields (source-specific if a source is given)."""
        msg = self.query_one("#member-error", FieldMessage)
        msg.clear()
        iface_select = self.query_one("#member-iface", Select)
        try:
            req = parse_membership(self.query_one("#group", Input).value,
                                   self.query_one("#source", Input).value, entry.type)
            iface_name = None if iface_select.is_blank() else str(iface_select.value)
            iface = None if iface_name is None else _iface_arg(iface_name, entry.type)
        except AddressError as exc:
            msg.error(str(exc))
            return
        sock = entry.sock
        try:
            if req.source:
                ssm = sock.add_source_specific_membership if join else sock.drop_source_specific_membership
                ssm(req.source, req.group, iface)
            else:
                asm = sock.add_membership if join else sock.drop_membership
                asm(req.group, iface)
        except Exception as exc:
            self._fail("#member-error", entry, exc)
        else:
            msg.ok(("joined " if join else "left ") + req.group)
            if join and iface_name is not None:
                from udpscope.workspace import JoinSpec

                app_of(self).note_join(entry, JoinSpec(req.group, iface_name, req.source))
        app_of(self).capture.note_joins(entry.id)  # the prune countdown starts at the join
        self.load()


def _kernel(option: str) -> Static:
    return Static("", classes="kernel", id=f"k-{option}", markup=False)


def _switch_row(label: str, option: str) -> Horizontal:
    """A checkbox with the kernel's read-back value beside it."""
    return Horizontal(Label(label), Tick("", id=option, compact=True), _kernel(option),
                      classes="row", id=f"{option}-row")


def _number_row(label: str, placeholder: str, option: str) -> Iterator[Widget]:
    """A number field with a set button, the kernel's value, and a message line under it."""
    yield Horizontal(
        Label(label, id=f"label-{option}"),
        Input(placeholder=placeholder, id=option, classes="num", compact=True),
        Button("set", id=f"set-{option}", compact=True),
        _kernel(option),
        classes="row",
    )
    yield FieldMessage(id=f"{option}-error")


def _iface_arg(name: str, family: str) -> str:
    from udpscope.net.interfaces import resolve_interface

    return resolve_interface(name, "udp6" if family == "udp6" else "udp4").dgram_arg

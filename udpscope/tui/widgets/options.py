"""Options and memberships of the selected socket, each next to what the kernel reports back.

Setting an option and reading it back are different things (Linux doubles buffer sizes, a
setsockopt can be refused, a join can silently pick another interface), so every control shows
the value read with getsockopt after each change. Failures leave the socket as it was and are
explained under the control; OS error text goes through the sanitiser.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from udpscope.addresses import AddressError, parse_int_range
from udpscope.capture import SocketEntry
from udpscope.net.hints import errno_hint
from udpscope.textsafe import safe_text
from udpscope.tui.widgets.fields import FieldMessage


def _read(fn: Any) -> str:
    try:
        value = fn()
    except Exception as exc:
        code = getattr(exc, "code", None)
        return "no OS socket yet" if code == "EBADF" else f"? {code or type(exc).__name__}"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


class OptionsPane(VerticalScroll):
    """Per-socket options; acts on the app's selected socket."""

    DEFAULT_CSS = """
    OptionsPane { padding: 0 1; scrollbar-size-vertical: 1; }
    OptionsPane > .row { height: auto; }
    OptionsPane Label { width: 11; }
    OptionsPane Input { background: $boost; }
    OptionsPane Checkbox { width: 7; }
    OptionsPane Button { margin-left: 1; width: auto; min-width: 5; }
    OptionsPane .kernel { width: 1fr; padding: 0 0 0 1; color: $text-muted; }
    OptionsPane Input.num { width: 6; }
    OptionsPane Select { width: 1fr; }
    OptionsPane #group, OptionsPane #source { width: 1fr; }
    OptionsPane .section { text-style: bold; color: $accent; padding: 1 0 0 0; }
    OptionsPane #memberships { padding: 0 0 0 11; height: auto; }
    OptionsPane #opt-title { color: $text-muted; padding-bottom: 1; }
    OptionsPane #member-buttons { padding-left: 10; }
    OptionsPane #k-bufs { padding: 0; }
    """

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self._loading = False
        self._shown_state: tuple[int, str] | None = None

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
            yield Static("", classes="kernel", id="k-bufs", markup=False)
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

    def on_mount(self) -> None:
        self.refresh_interfaces()
        self.load()
        # The socket can change state under the pane (bound later, closed with x); a cheap
        # poll of one attribute keeps the title and the kernel column from going stale.
        self.set_interval(0.5, self._check_state)

    def _check_state(self) -> None:
        entry = self.app.selected_entry()  # type: ignore[attr-defined]
        now = (entry.id, entry.state) if entry is not None else None
        if now != self._shown_state and self.is_attached:
            self.load()

    # ---- reading back ------------------------------------------------------------------------

    def refresh_interfaces(self) -> None:
        try:
            from udpscope.net.interfaces import list_interfaces

            names = [i.name for i in list_interfaces()]
        except Exception:
            names = []
        # Interface names are untrusted text: a Content prompt, so no markup is parsed.
        options = [(Content(safe_text(n, 32)), n) for n in names]
        for sid in ("#mcast-iface", "#member-iface"):
            select = self.query_one(sid, Select)
            value = select.value
            select.set_options(options)
            if value in names:
                select.value = value

    def load(self) -> None:
        """Show the selected socket's kernel-reported values (also after every change)."""
        entry = self.app.selected_entry()  # type: ignore[attr-defined]
        title = self.query_one("#opt-title", Static)
        self._shown_state = (entry.id, entry.state) if entry is not None else None
        if entry is None or entry.state == "closed":
            # A closed socket has no options to read or set: say so once, not as errors per row.
            title.update(
                "no socket yet: press n to create one"
                if entry is None
                else f"socket #{entry.id} is closed: pick another in 1 Sockets, or press n"
            )
            for kid in ("#k-broadcast", "#k-ttl", "#k-mcast-ttl", "#k-mcast-loop", "#k-isolate", "#k-bufs"):
                self.query_one(kid, Static).update("")
            self.query_one("#memberships", Static).update("")
            self.disabled_state(True)
            return
        self.disabled_state(False)
        title.update(Content(f"socket #{entry.id} {entry.type} ({entry.state})"))
        sock = entry.sock
        self._loading = True
        try:
            self.query_one("#k-broadcast", Static).update("kernel: " + _read(sock.get_broadcast))
            self.query_one("#k-ttl", Static).update("kernel: " + _read(sock.get_ttl))
            self.query_one("#k-mcast-ttl", Static).update(
                "kernel: " + _read(sock.get_multicast_ttl)
            )
            self.query_one("#k-mcast-loop", Static).update(
                "kernel: " + _read(sock.get_multicast_loopback)
            )
            self.query_one("#k-bufs", Static).update(
                f"kernel: recv {_read(sock.get_recv_buffer_size)} "
                f"send {_read(sock.get_send_buffer_size)}"
            )
            for sw, getter in (
                ("#broadcast", sock.get_broadcast),
                ("#mcast-loop", sock.get_multicast_loopback),
            ):
                try:
                    value = bool(getter())
                except Exception:
                    continue
                switch = self.query_one(sw, Checkbox)
                if switch.value != value:
                    with switch.prevent(Checkbox.Changed):
                        switch.value = value
            iso = self.query_one("#isolate", Checkbox)
            want = bool(getattr(entry, "isolated", True))
            if iso.value != want:
                with iso.prevent(Checkbox.Changed):
                    iso.value = want
            self.query_one("#k-isolate", Static).update(
                "own groups only" if want else "all host groups"
            )
        finally:
            self._loading = False
        self.show_memberships(entry)

    def show_memberships(self, entry: SocketEntry) -> None:
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

    def disabled_state(self, disabled: bool) -> None:
        for widget in self.query("Checkbox, Input, Button, Select"):
            widget.disabled = disabled

    # ---- changes -----------------------------------------------------------------------------

    def _fail(self, target: str, entry: SocketEntry, exc: BaseException) -> None:
        msg = str(exc)
        hint = errno_hint(getattr(exc, "code", None), getattr(exc, "syscall", None))
        self.query_one(target, FieldMessage).error(msg + (f" — {hint}" if hint else ""))
        self.app.report_error(entry.id, exc, notify=False)  # type: ignore[attr-defined]

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if self._loading:
            return
        entry = self.app.selected_entry()  # type: ignore[attr-defined]
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

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        target = {"ttl": "set-ttl", "mcast-ttl": "set-mcast-ttl", "group": "join", "source": "join"}
        bid = target.get(event.input.id or "")
        if bid:
            self._press(bid)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._press(event.button.id or "")

    def _press(self, bid: str) -> None:
        entry = self.app.selected_entry()  # type: ignore[attr-defined]
        if entry is None:
            return
        sock = entry.sock
        target = {"set-ttl": "#ttl-error", "set-mcast-ttl": "#mcast-ttl-error"}.get(
            bid, "#iface-error"
        )
        opt = self.query_one(target, FieldMessage)
        if bid in ("set-ttl", "set-mcast-ttl", "set-mcast-iface"):
            opt.clear()
            try:
                if bid == "set-ttl":
                    value = parse_int_range(self.query_one("#ttl", Input).value, 1, 255, "TTL")
                    sock.set_ttl(value)
                elif bid == "set-mcast-ttl":
                    value = parse_int_range(
                        self.query_one("#mcast-ttl", Input).value, 0, 255, "multicast TTL"
                    )
                    sock.set_multicast_ttl(value)
                else:
                    select = self.query_one("#mcast-iface", Select)
                    name = select.value
                    if select.is_blank():
                        raise AddressError("interface", "choose one first")
                    sock.set_multicast_interface(_iface_arg(str(name), entry.type))
                    opt.ok(f"multicast interface set to {name}")
            except (AddressError, ValueError, TypeError) as exc:
                if getattr(exc, "code", None):
                    self._fail(target, entry, exc)
                else:
                    opt.error(str(exc))
            except Exception as exc:
                self._fail(target, entry, exc)
            self.load()
        elif bid in ("join", "leave"):
            self.membership(entry, join=bid == "join")

    def membership(self, entry: SocketEntry, join: bool) -> None:
        msg = self.query_one("#member-error", FieldMessage)
        msg.clear()
        group = self.query_one("#group", Input).value.strip()
        source = self.query_one("#source", Input).value.strip()
        iface_select = self.query_one("#member-iface", Select)
        iface_value = None if iface_select.is_blank() else iface_select.value
        try:
            if not group:
                raise AddressError("group", "required (e.g. 239.1.2.3)")
            from udpscope.addresses import parse_endpoint_host

            parse_endpoint_host(group)
            if source:
                parse_endpoint_host(source)
            iface = None if iface_value is None else _iface_arg(str(iface_value), entry.type)
        except (AddressError, ValueError) as exc:
            msg.error(str(exc))
            return
        sock = entry.sock
        try:
            if source:
                fn = sock.add_source_specific_membership if join else sock.drop_source_specific_membership
                fn(source, group, iface)
            else:
                fn = sock.add_membership if join else sock.drop_membership
                fn(group, iface)
        except Exception as exc:
            self._fail("#member-error", entry, exc)
        else:
            msg.ok(("joined " if join else "left ") + group)
        self.load()


def _kernel(option: str) -> Static:
    return Static("", classes="kernel", id=f"k-{option}", markup=False)


def _switch_row(label: str, option: str) -> Horizontal:
    """A checkbox with the kernel's read-back value beside it."""
    return Horizontal(
        Label(label), Checkbox("", id=option, compact=True), _kernel(option), classes="row"
    )


def _number_row(label: str, placeholder: str, option: str) -> ComposeResult:
    """A number field with a set button, the kernel's value, and a message line under it."""
    yield Horizontal(
        Label(label),
        Input(placeholder=placeholder, id=option, classes="num", compact=True),
        Button("set", id=f"set-{option}", compact=True),
        _kernel(option),
        classes="row",
    )
    yield FieldMessage(id=f"{option}-error")


def _iface_arg(name: str, family: str) -> str:
    from udpscope.net.interfaces import resolve_interface

    return resolve_interface(name, family).dgram_arg

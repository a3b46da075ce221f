"""The udpscope Textual app: wiring between the capture layer, the screens and the keyboard.

The app owns one Capture (the only thing the engine talks to) and one timer. Screens never get
per-datagram calls: the timer pulls at ~20 Hz (the log) and ~4 Hz (tables, rates), which is what
keeps the UI responsive at tens of thousands of datagrams a second. Engine errors are caught at
this boundary and become a sanitised notification plus a log row — never a crash.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer

from udpscope import dgram
from udpscope.capture import DEFAULT_RING_BYTES, DEFAULT_RING_SIZE, Capture, SocketEntry
from udpscope.net.hints import errno_hint
from udpscope.records import Record
from udpscope.textsafe import safe_text
from udpscope.tui.screens.main import MainScreen
from udpscope.tui.themes import DEFAULT_THEME, load_themes
from udpscope.tui.widgets.compose import ComposePane
from udpscope.tui.widgets.message_log import MessageLog
from udpscope.tui.widgets.socket_list import SocketList

# Screens not shown at start (stats, multicast, detail, dialogs, help) are imported where they
# are first opened, to keep them off the start-up path.
if TYPE_CHECKING:
    from udpscope.tui.screens.dialogs import SocketRequest
    from udpscope.workspace import Workspace
    from udpscope.workspace.apply import WorkspaceSession

TICK_HZ = 20
SLOW_EVERY = 5  # tables and status at TICK_HZ / SLOW_EVERY
RATE_EVERY = 10  # capture.tick() (rates, kernel drops) at 2 Hz
INPUT_DRAIN_SECONDS = 0.0003  # reader drain per loop turn while input is handled
INPUT_DRAIN_HOLD = 0.3  # seconds after a key or click before the normal drain returns
HELP_SCREEN = "help"  # name of the installed help screen


def _stats_screen() -> Screen:
    from udpscope.tui.screens.stats import StatsScreen

    return StatsScreen()


def _multicast_screen() -> Screen:
    from udpscope.tui.screens.multicast import MulticastScreen

    return MulticastScreen()


class UdpscopeApp(App[int]):
    """Keyboard-first UDP and multicast workbench."""

    TITLE = "udpscope"
    CSS_PATH = "udpscope.tcss"
    MODES = {"main": MainScreen, "stats": _stats_screen, "multicast": _multicast_screen}
    DEFAULT_MODE = "main"

    BINDINGS = [
        Binding("1", "pane('sockets')", "Sockets", id="pane-sockets"),
        Binding("2", "pane('options')", "Options", id="pane-options"),
        Binding("3", "pane('compose')", "Composer", id="pane-compose"),
        Binding("4", "pane('log')", "Log", id="pane-log"),
        Binding("5", "switch_mode('stats')", "Stats", id="pane-stats"),
        Binding("6", "switch_mode('multicast')", "Multicast", id="pane-multicast"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("f1", "help", "Help", show=False, id="help-f1"),
    ]

    selected_socket: reactive[int | None] = reactive(None)

    def __init__(
        self,
        binds: Iterable[tuple[str | None, int]] = (),
        joins: Iterable[tuple[str, str | None]] = (),
        udp6: bool = False,
        theme: str | None = None,
        *,
        capture: Capture | None = None,
        clock: Callable[[], float] | None = None,
        tz: tzinfo | None = None,
        ring_size: int = DEFAULT_RING_SIZE,
        ring_bytes: int = DEFAULT_RING_BYTES,
        theme_dirs: list[Any] | None = None,
        workspace: Workspace | None = None,
        notice: str | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__()
        # ``capture`` may come preloaded (udpscope open FILE: a file's datagrams, no sockets);
        # ``workspace`` is opened at mount through the capture layer (see workspace.apply);
        # ``notice`` is shown once at mount (untrusted text: shown without markup).
        self.capture = capture or Capture(ring_size=ring_size, clock=clock or time.time,
                                          ring_bytes=ring_bytes)
        self.startup_workspace = workspace
        self.workspace_session: WorkspaceSession | None = None
        self.startup_notice = notice
        if title:
            self.sub_title = safe_text(title, 120)
        self.tz = tz
        self.startup_binds = list(binds)
        self.startup_joins = list(joins)
        self.udp6 = udp6
        self.requested_theme = theme
        self.theme_dirs = theme_dirs
        self._ticks = 0
        self._drain_timer: Timer | None = None
        self._errors_seen = 0
        self.theme_names: list[str] = []
        self._theme_notes: list[str] = []
        self._load_themes()

    # ---- start-up --------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        # While a key or click is being handled, let readers drain less per loop turn: under a
        # flood each of the few dozen turns a key press takes would otherwise wait ~2 ms for them.
        if isinstance(event, events.Key | events.MouseDown):
            dgram.set_drain_budget(INPUT_DRAIN_SECONDS)
            if self._drain_timer is not None:
                self._drain_timer.stop()
            self._drain_timer = self.set_timer(INPUT_DRAIN_HOLD, self._restore_drain)
        await super().on_event(event)

    def _restore_drain(self) -> None:
        self._drain_timer = None
        dgram.set_drain_budget(None)

    def on_mount(self) -> None:
        for note in self._theme_notes:
            self.notify(note, title="Themes", severity="warning", markup=False)
        if self.startup_notice:
            self.notify(safe_text(self.startup_notice, 400), title="File", markup=False)
        self._errors_seen = self.capture.error_count
        self.set_interval(1 / TICK_HZ, self._tick)
        self._startup_sockets()
        self._startup_workspace()
        if self.selected_socket is None and self.capture.sockets:
            self.selected_socket = next(iter(self.capture.sockets))

    def _startup_workspace(self) -> None:
        from udpscope.workspace.apply import WorkspaceSession

        self.workspace_session = WorkspaceSession(self.capture, self.report_error)
        if self.startup_workspace is not None:
            entries = self.workspace_session.open(self.startup_workspace)
            if entries and self.selected_socket is None:
                self.selected_socket = entries[0].id

    def _load_themes(self) -> None:
        # In the constructor, not on mount: the stylesheet is parsed once, with this theme's
        # variables. Setting the theme after mount re-parses and re-applies all CSS to every
        # widget before the first frame (~140 ms of a ~600 ms start). Notices wait for on_mount.
        loaded = load_themes(self.theme_dirs)
        for theme in loaded.themes:
            self.register_theme(theme)
            self.theme_names.append(theme.name)
        if loaded.errors:
            self._theme_notes.append(
                "Skipped bad theme file(s): " + "; ".join(safe_text(e, 200) for e in loaded.errors))
        wanted = self.requested_theme or DEFAULT_THEME
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            fallback = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
            self.theme = fallback
            if self.requested_theme:
                self._theme_notes.append(
                    f"Unknown theme {safe_text(self.requested_theme, 60)!s}; using {fallback}. "
                    f"Available: {', '.join(sorted(self.theme_names))}")
        self.stylesheet.set_variables(self.get_css_variables())

    def _startup_sockets(self) -> None:
        if not (self.startup_binds or self.startup_joins):
            return
        from udpscope.tui.screens.dialogs import SocketRequest

        entries = []
        for address, port in self.startup_binds:
            sock_type = "udp6" if self.udp6 or (address is not None and ":" in address) else "udp4"
            entry = self._create(SocketRequest(type=sock_type, address=address, port=port))
            if entry is not None:
                entries.append(entry)
        if self.startup_joins:
            for group, iface in self.startup_joins:
                family = "udp6" if ":" in group else "udp4"
                targets = [e for e in entries if e.type == family]
                if not targets:
                    entry = self._create(SocketRequest(type=family, port=0))
                    if entry is None:
                        continue
                    entries.append(entry)
                    targets = [entry]
                for entry in targets:
                    self._join_when_bound(entry, group, iface)
        if entries:
            self.selected_socket = entries[0].id

    def _join_when_bound(self, entry: Any, group: str, iface: str | None) -> None:
        def join() -> None:
            try:
                arg = None
                if iface:
                    from udpscope.net.interfaces import resolve_interface

                    arg = resolve_interface(iface, entry.type).dgram_arg
                entry.sock.add_membership(group, arg)
            except Exception as exc:
                self.report_error(entry.id, exc)

        if entry.state in ("bound", "connected"):
            join()
        else:
            entry.sock.once("listening", join)

    # ---- the tick ----------------------------------------------------------------------------

    def _tick(self) -> None:
        self._ticks += 1
        slow = self._ticks % SLOW_EVERY == 0
        if self._ticks % RATE_EVERY == 0:
            self.capture.tick()
        if slow:
            self._announce_errors()
        screen = self.screen
        refresh = getattr(screen, "refresh_data", None)
        if refresh is not None:
            try:
                refresh(slow)
            except Exception as exc:  # a refresh bug must not take the session down
                self.log.error(f"refresh failed: {exc!r}")

    def _announce_errors(self) -> None:
        new = self.capture.errors_since(self._errors_seen)
        missed = self.capture.error_count - self._errors_seen
        self._errors_seen = self.capture.error_count
        if not new:
            return
        last = new[-1]
        text = f"#{last.sock_id}: {safe_text(last.error or last.text or '', 300)}"
        hint = errno_hint(last.code, last.syscall)
        if hint:
            text += f"\n{safe_text(hint, 300)}"
        if missed > 1:
            text += f"\n(+{missed - 1} more errors in the log)"
        self.notify(text, title="Error", severity="error", markup=False)

    # ---- errors ------------------------------------------------------------------------------

    def report_error(self, sock_id: int | None, exc: BaseException, notify: bool = True) -> None:
        """Record an error from a call made on the user's behalf; announce it on the tick."""
        if sock_id is not None:
            self.capture.record_error(sock_id, exc)
            if not notify:
                self._errors_seen = self.capture.error_count
            return
        if notify:
            self.notify(safe_text(str(exc), 300), title="Error", severity="error", markup=False)

    # ---- sockets -----------------------------------------------------------------------------

    def selected_entry(self) -> SocketEntry | None:
        """The socket the panes act on (None: none selected, or it was forgotten)."""
        if self.selected_socket is None:
            return None
        return self.capture.sockets.get(self.selected_socket)

    def _create(self, req: SocketRequest) -> Any:
        options = dgram.SocketOptions(
            type=req.type,
            reuse_addr=req.reuse_addr,
            reuse_port=req.reuse_port,
            ipv6_only=req.ipv6_only,
            recv_buffer_size=req.recv_buffer_size,
            send_buffer_size=req.send_buffer_size,
            multicast_all=False if req.isolate else None,
            metadata=True,
        )
        try:
            entry = self.capture.create_socket(options)
        except Exception as exc:
            self.notify(safe_text(str(exc), 300), title="New socket", severity="error", markup=False)
            return None
        entry.isolated = req.isolate
        if req.bind:
            self._call(entry, entry.sock.bind, req.port, req.address)
        return entry

    def action_new_socket(self) -> None:
        from udpscope.tui.screens.dialogs import NewSocketDialog

        def done(req: SocketRequest | None) -> None:
            if req is None:
                return
            entry = self._create(req)
            if entry is not None:
                self.selected_socket = entry.id

        default = "udp6" if self.udp6 else "udp4"
        self.push_screen(NewSocketDialog(default), done)

    def _need_socket(self) -> Any:
        entry = self.selected_entry()
        if entry is None:
            self.notify("No socket selected: press n to create one.", severity="warning")
        return entry

    def _call(self, entry: Any, fn: Callable[..., Any], *args: Any) -> None:
        """Run an engine call for ``entry``; a failure is recorded and announced, never raised."""
        try:
            fn(*args)
        except Exception as exc:
            self.report_error(entry.id, exc)

    def _ask_endpoint(self, entry: Any, title: str, bind: bool, fn: Callable[..., Any]) -> None:
        from udpscope.tui.screens.dialogs import EndpointDialog, EndpointRequest

        def done(req: EndpointRequest | None) -> None:
            if req is not None:
                self._call(entry, fn, req.port, req.address)

        self.push_screen(EndpointDialog(title, bind=bind), done)

    def action_bind_socket(self) -> None:
        entry = self._need_socket()
        if entry is None:
            return
        if entry.state in ("binding", "bound", "connected"):
            local = entry.local()
            where = f" to {local[0]}:{local[1]}" if local else ""
            self.notify(
                f"Socket #{entry.id} is already bound{safe_text(where, 80)}: a socket binds once. "
                "Press n for a new one.",
                title="Bind",
                severity="warning",
                markup=False,
            )
            return
        self._ask_endpoint(entry, f"Bind socket #{entry.id}", True, entry.sock.bind)

    def action_connect_socket(self) -> None:
        entry = self._need_socket()
        if entry is not None:
            self._ask_endpoint(entry, f"Connect socket #{entry.id}", False, entry.sock.connect)

    def action_disconnect_socket(self) -> None:
        entry = self._need_socket()
        if entry is not None:
            self._call(entry, entry.sock.disconnect)

    def action_close_socket(self) -> None:
        entry = self._need_socket()
        if entry is not None:
            self._call(entry, self.capture.close, entry.id)

    def action_forget_socket(self) -> None:
        entry = self._need_socket()
        if entry is None:
            return
        self.capture.forget(entry.id)
        self.selected_socket = next(iter(self.capture.sockets), None)

    def watch_selected_socket(self, value: int | None) -> None:
        screen = self._main_screen()
        if screen is not None and screen.is_mounted:
            screen.selection_changed()

    # ---- panes / views -----------------------------------------------------------------------

    def _main_screen(self) -> MainScreen | None:
        # Each mode keeps its own stack; the main screen lives in the "main" one.
        for s in self._screen_stacks.get("main", []):
            if isinstance(s, MainScreen):
                return s
        return None

    def action_pane(self, pane: str) -> None:
        if self.current_mode != "main":
            self.switch_mode("main")
            self.call_after_refresh(partial(self._focus_pane, pane))
        else:
            self._focus_pane(pane)

    def _focus_pane(self, pane: str) -> None:
        screen = self._main_screen()
        if screen is not None:
            screen.focus_pane(pane)

    def show_detail(self, record: Record) -> None:
        from udpscope.tui.screens.detail import PacketDetail

        self.push_screen(PacketDetail(record, self.tz))

    def help_sections(self) -> list[tuple[str, list[Binding]]]:
        """The help screen's sections, read from the bindings so the help cannot drift."""
        from udpscope.tui.screens.detail import PacketDetail
        from udpscope.tui.screens.multicast import MulticastScreen
        from udpscope.tui.screens.stats import StatsScreen

        sections = [("Panes and views", [b for b in self.BINDINGS if isinstance(b, Binding)])]
        sections.append(("Sockets (main screen)", list(MainScreen.BINDINGS)))  # type: ignore[arg-type]
        sections.append(("Socket list (when focused)", list(SocketList.BINDINGS)))  # type: ignore[arg-type]
        sections.append(("Live log (when focused)", list(MessageLog.BINDINGS)))  # type: ignore[arg-type]
        sections.append(("Composer", list(ComposePane.BINDINGS)))  # type: ignore[arg-type]
        sections.append(("Stats view", list(StatsScreen.BINDINGS)))  # type: ignore[arg-type]
        sections.append(("Multicast view", list(MulticastScreen.BINDINGS)))  # type: ignore[arg-type]
        sections.append(("Detail view", list(PacketDetail.BINDINGS)))  # type: ignore[arg-type]
        return sections

    def action_help(self) -> None:
        from udpscope.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        # One help screen for the session, installed so that closing it keeps it mounted: a new
        # one per press composed and laid out its widgets and, when removed, made Textual lay the
        # screen under it out again. Reopening it now costs one repaint.
        if not self.is_screen_installed(HELP_SCREEN):
            self.install_screen(HelpScreen(self.help_sections()), HELP_SCREEN)
        self.push_screen(HELP_SCREEN)

    def action_log(self, what: str) -> None:
        screen = self._main_screen()
        if screen is None:
            return
        log = screen.query_one(MessageLog)
        if what == "clear":
            log.clear()
        elif what == "pause":
            log.paused = not log.paused
        elif what == "follow":
            log.action_follow()

    # ---- command palette ---------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("socket: new", "Create a socket (udp4/udp6, options, bind)", self.action_new_socket)
        yield SystemCommand("socket: bind", "Bind the selected socket", self.action_bind_socket)
        yield SystemCommand("socket: connect", "Connect the selected socket to a peer", self.action_connect_socket)
        yield SystemCommand("socket: disconnect", "Disconnect the selected socket", self.action_disconnect_socket)
        yield SystemCommand("socket: close", "Close the selected socket", self.action_close_socket)
        yield SystemCommand("socket: forget", "Close and remove the selected socket from the list", self.action_forget_socket)
        yield SystemCommand("log: clear", "Clear the live log", partial(self.action_log, "clear"))
        yield SystemCommand("log: pause", "Pause / resume the live log", partial(self.action_log, "pause"))
        yield SystemCommand("log: follow", "Jump to the newest row and follow", partial(self.action_log, "follow"))
        yield SystemCommand("view: stats", "Counters, rates and per-group statistics", partial(self.switch_mode, "stats"))
        yield SystemCommand("view: multicast", "Interfaces, kernel memberships, why no traffic?", partial(self.switch_mode, "multicast"))
        yield SystemCommand("view: main", "Sockets, composer and live log", partial(self.switch_mode, "main"))
        for name in sorted(self.available_themes):
            yield SystemCommand(f"theme: {name}", f"Switch to the {name} theme", partial(self._set_theme, name))

    def _set_theme(self, name: str) -> None:
        self.theme = name

    # ---- shutdown ----------------------------------------------------------------------------

    async def on_unmount(self) -> None:
        self.capture.close_all()


def run_app(
    binds: list[tuple[str | None, int]],
    joins: list[tuple[str, str | None]],
    udp6: bool,
    theme: str | None,
    ring_size: int = DEFAULT_RING_SIZE,
    ring_bytes: int = DEFAULT_RING_BYTES,
    *,
    capture: Capture | None = None,
    workspace: Workspace | None = None,
    notice: str | None = None,
    title: str | None = None,
) -> int:
    """Entry point used by the CLI; returns the process exit status."""
    app = UdpscopeApp(binds, joins, udp6, theme, ring_size=ring_size, ring_bytes=ring_bytes,
                      capture=capture, workspace=workspace, notice=notice, title=title)
    result = app.run()
    return int(result or 0)

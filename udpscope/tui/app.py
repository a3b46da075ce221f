"""The udpscope Textual app: wiring between the capture layer, the screens and the keyboard.

The app owns one Capture (the only thing the engine talks to) and one timer. Screens never get
per-datagram calls: the timer pulls at ~20 Hz (the log) and ~4 Hz (tables, rates), which is what
keeps the UI responsive at tens of thousands of datagrams a second. Engine errors are caught at
this boundary and become a sanitised notification plus a log row — never a crash. Keys are
handled in the order they were typed (see keys.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterable
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import ScreenStackError
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer

from udpscope import dgram
from udpscope.capture import DEFAULT_RING_BYTES, DEFAULT_RING_SIZE, Capture, SocketEntry
from udpscope.net.hints import errno_hint
from udpscope.records import Record
from udpscope.textsafe import safe_text
from udpscope.tui.first_frame import FirstFrameApp
from udpscope.tui.keys import OrderedKeysApp
from udpscope.tui.limits import (
    RESERVED_FDS,
    fd_room,
    fit_address_space,
    fit_ring_budget,
    preload_later_modules,
    settle_collector,
)
from udpscope.tui.screens.main import MainScreen
from udpscope.tui.startup import open_startup_sockets
from udpscope.tui.themes import install_themes, switch_theme
from udpscope.tui.workbench import DetailSource, TimerPane

# Screens not shown at start (stats, multicast, detail, dialogs, help) are imported where they
# are first opened, to keep them off the start-up path.
if TYPE_CHECKING:
    from textual.app import SystemCommand

    from udpscope.tui.forms import EndpointRequest, SocketRequest
    from udpscope.tui.hosts_session import HostsSession
    from udpscope.tui.mc_everywhere import EverywhereSession
    from udpscope.tui.mc_sources import MulticastSources
    from udpscope.workspace import JoinSpec, Workspace
    from udpscope.workspace.apply import WorkspaceSession

TICK_HZ = 20
SLOW_EVERY = 5  # tables and status at TICK_HZ / SLOW_EVERY
RATE_EVERY = 10  # capture.tick() (rates, kernel drops) at 2 Hz
INPUT_DRAIN_SECONDS = 0.0003  # reader drain per loop turn while input is handled
INPUT_DRAIN_HOLD = 0.3  # seconds after a key or click before the normal drain returns
HELP_SCREEN = "help"  # name of the installed help screen
PRELOAD_DELAY = 0.5  # seconds after mount: the first frames are written by then
MAIN_SCREEN = "main"


class UdpscopeApp(OrderedKeysApp[int], FirstFrameApp[int]):
    """Keyboard-first UDP and multicast workbench."""

    TITLE = "udpscope"
    CSS_PATH = "udpscope.tcss"
    MODES = {MAIN_SCREEN: MAIN_SCREEN}  # the installed main screen (see __init__)
    DEFAULT_MODE = MAIN_SCREEN

    BINDINGS = [
        Binding("1", "pane('sockets')", "Sockets", id="pane-sockets"),
        Binding("2", "pane('options')", "Options", id="pane-options"),
        Binding("3", "pane('compose')", "Composer", id="pane-compose"),
        Binding("4", "pane('log')", "Log", id="pane-log"),
        Binding("5", "switch_mode('stats')", "Stats", id="pane-stats"),
        Binding("6", "switch_mode('multicast')", "Multicast", id="pane-multicast"),
        Binding("7", "switch_mode('hosts')", "Hosts", id="pane-hosts"),
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
        theme_dirs: list[Path] | None = None,
        handle_signals: bool = False,
        own_process: bool = False,
        limits_note: str | None = None,
        workspace: Workspace | None = None,
        notice: str | None = None,
        title: str | None = None,
        multicast_sources: MulticastSources | None = None,
    ) -> None:
        super().__init__()
        # ``capture`` may come preloaded (udpscope open FILE: a file's datagrams, no sockets);
        # ``workspace`` is opened at mount through the capture layer (see workspace.apply);
        # ``notice`` is shown once at mount (untrusted text: shown without markup).
        self.capture = capture or Capture(ring_size=ring_size, clock=clock or time.time,
                                          ring_bytes=ring_bytes)
        self.startup_workspace = workspace
        self.workspace_session: WorkspaceSession | None = None
        self.workspace_path = workspace.path if workspace is not None else None
        # How each socket was asked to bind (port 0 stays "random" in a saved workspace), and
        # where each was last seen bound (a saved log keeps a closed socket's port).
        self.bind_requests: dict[int, tuple[str | None, int]] = {}
        self._locals: dict[int, tuple[str, int]] = {}
        self.recent_warnings: dict[str, float] = {}
        self.failed_log_path: str | None = None  # a save log that failed: offered again
        self.last_saved_log: tuple[str, int] | None = None
        self.saves_running = 0
        self.startup_notice = notice
        self.limits_note = limits_note
        if title:
            self.sub_title = safe_text(title, 120)
        self.tz = tz
        self.startup_binds = list(binds)
        self.startup_joins = list(joins)
        self.udp6 = udp6
        self.handle_signals = handle_signals
        # The app is the process (the CLI): it may tune the garbage collector for itself.
        self.own_process = own_process
        self.preload_thread: threading.Thread | None = None  # started once the screen is up
        # Where pane 6 reads the host from (None: the live host); tests pass a made-up one.
        self.multicast_sources = multicast_sources
        self.everywhere: EverywhereSession | None = None  # a running join everywhere
        self.exit_signal: int | None = None
        self._ticks = 0
        self._drain_timer: Timer | None = None
        self._errors_seen = 0
        self._findings_seen: set[tuple[int, str]] = set()
        self.main_screen = MainScreen(self.capture, tz)
        self.install_screen(self.main_screen, MAIN_SCREEN)
        self.add_mode("stats", self._stats_screen)
        self.add_mode("multicast", self._multicast_screen)
        self.add_mode("hosts", self._hosts_screen)
        self.hosts_session: HostsSession | None = None  # made when the Hosts view first opens
        # In the constructor, not on mount: the stylesheet is parsed once, with this theme's
        # variables (setting it after mount re-parses and re-applies all CSS before the first
        # frame). Notices about bad theme files wait for on_mount.
        self.theme_names, self._theme_notes = install_themes(self, theme, theme_dirs)

    def _stats_screen(self) -> Screen:
        from udpscope.tui.screens.stats import StatsScreen

        return StatsScreen(self.capture, self.tz)

    def _multicast_screen(self) -> Screen:
        from udpscope.tui.screens.multicast import MulticastScreen

        return MulticastScreen(self.capture, self.multicast_sources)

    def _hosts_screen(self) -> Screen:
        from udpscope.tui.screens.hosts import HostsScreen

        return HostsScreen(self.hosts())

    def hosts(self) -> HostsSession:
        """The Hosts view's session (hosts, settings, the run), made on first use."""
        if self.hosts_session is None:
            from udpscope.tui.hosts_session import HostsSession

            self.hosts_session = HostsSession()
        return self.hosts_session

    # ---- start-up and shutdown ---------------------------------------------------------------

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
        if self.limits_note:
            self.notify(self.limits_note, title="Limits", severity="warning", markup=False)
        self._errors_seen = self.capture.error_count
        self.set_interval(1 / TICK_HZ, self._tick)
        # Once the first frame is out: what later screens import, while files can still be
        # opened. (Right after the refresh it held up the writing of that very frame.) Stream
        # health (numpy, the decoders) starts once they are loaded, off the start-up path.
        self.set_timer(PRELOAD_DELAY, self._start_preload)
        if self.handle_signals:
            self._catch_signals()
        open_startup_sockets(self)
        self._startup_workspace()
        if self.selected_socket is None and self.capture.sockets:
            self.selected_socket = next(iter(self.capture.sockets))

    def _start_preload(self) -> None:
        self.preload_thread = preload_later_modules(self._preloaded)

    def _preloaded(self) -> None:
        """Called in the preload thread once it is done: start following streams."""
        # The app may be gone by then (a short session): nothing left to start.
        with contextlib.suppress(Exception):
            self.call_from_thread(self.capture.track_streams)
        if self.own_process:
            settle_collector()

    def _startup_workspace(self) -> None:
        if self.startup_workspace is None:
            return  # nothing to open: the workspace code stays off the start-up path
        entries = self.session.open(self.startup_workspace)
        if entries and self.selected_socket is None:
            self.selected_socket = entries[0].id

    @property
    def session(self) -> WorkspaceSession:
        """The session's responders, joins and saved payloads (made on first use: the
        workspace code is not imported until something needs it)."""
        if self.workspace_session is None:
            from udpscope.workspace.apply import WorkspaceSession

            self.workspace_session = WorkspaceSession(self.capture, self.report_error,
                                                      binds=self.bind_requests)
        return self.workspace_session

    def note_join(self, entry: SocketEntry, join: JoinSpec) -> None:
        """Remember a join made in the UI under the interface name the user chose (a saved
        workspace writes that name, not the address the engine was given)."""
        joins = self.session.joins.setdefault(entry.id, [])
        if join not in joins:
            joins.append(join)

    def known_locals(self) -> dict[int, tuple[str, int]]:
        """Every socket's local (address, port): now if it is open, else where it was last."""
        self._remember_locals()
        return dict(self._locals)

    def _remember_locals(self) -> None:
        for entry in self.capture.entries():
            if entry.state != "closed":
                local = entry.local()
                if local is not None:
                    self._locals[entry.id] = local

    def _catch_signals(self) -> None:
        """SIGTERM and SIGHUP end the app the normal way, so the terminal is restored."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: int) -> None:
        self.exit_signal = sig
        self.exit(128 + sig)

    async def on_unmount(self) -> None:
        self.capture.close_all()
        if self.hosts_session is not None:
            # Quit, SIGTERM, SIGHUP: every agent of a run is stopped, leaving no membership.
            await self.hosts_session.shutdown()

    # ---- the tick ----------------------------------------------------------------------------

    def _tick(self) -> None:
        self._ticks += 1
        slow = self._ticks % SLOW_EVERY == 0
        if self._ticks % RATE_EVERY == 0:
            self.capture.tick()
            self._announce_findings()
        if slow:
            self._announce_errors()
            self._remember_locals()
        try:
            screen = self.screen
        except ScreenStackError:  # shutting down: no screen left to refresh
            return
        if isinstance(screen, TimerPane):
            try:
                screen.refresh_data(slow)
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
        hint = errno_hint(last.code or "", last.syscall, words="tui")
        if hint:
            text += f"\n{safe_text(hint, 300)}"
        if missed > 1:
            text += f"\n(+{missed - 1} more errors in the log)"
        self.notify(text, title="Error", severity="error", markup=False)

    def _announce_findings(self) -> None:
        if any(entry.streams is not None for entry in self.capture.entries()):
            from udpscope.tui.streams_ui import announce_findings

            announce_findings(self, self._findings_seen)

    # ---- errors ------------------------------------------------------------------------------

    def report_error(self, sock_id: int | None, exc: BaseException, notify: bool = True) -> None:
        """Record an error from a call made on the user's behalf; announce it on the tick.

        Args:
            sock_id: The socket the call was for (None: not about a socket; shown at once).
            exc: The error.
            notify: False when the caller shows it next to a field already.
        """
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

    def create_socket(self, req: SocketRequest) -> SocketEntry | None:
        """Create (and bind, if asked) a socket; a failure is notified and None returned."""
        room = fd_room()
        if room is not None and room[1] - room[0] <= RESERVED_FDS:
            used, limit = room
            self.notify(f"Too many open files: {used} of the limit of {limit} are in use, and "
                        f"udpscope keeps {RESERVED_FDS} for itself. Close a socket (x) or raise "
                        "the limit (ulimit -n).", title="New socket", severity="error")
            return None
        options = dgram.SocketOptions(
            type="udp6" if req.type == "udp6" else "udp4",
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
            self.bind_requests[entry.id] = (req.address, req.port)
            self.call_engine(entry, entry.sock.bind, req.port, req.address)
        return entry

    def action_new_socket(self) -> None:
        from udpscope.tui.screens.dialogs import NewSocketDialog

        def done(req: SocketRequest | None) -> None:
            if req is None:
                return
            entry = self.create_socket(req)
            if entry is not None:
                self.selected_socket = entry.id

        default = "udp6" if self.udp6 else "udp4"
        self.push_screen(NewSocketDialog(default), done)

    def _need_socket(self, what: str | None = None) -> SocketEntry | None:
        """The selected socket; None (with one warning) if there is none, or if ``what`` (e.g.
        "bind") is asked of a read-only socket that stands for a capture file."""
        entry = self.selected_entry()
        if entry is None:
            self.notify("No socket selected: press n to create one.", severity="warning")
            return None
        if what is not None and entry.state == "file":
            from udpscope.tui.session_actions import refuse_read_only

            refuse_read_only(self, entry, what)
            return None
        return entry

    def call_engine(self, entry: SocketEntry, fn: Callable[..., object], *args: object) -> bool:
        """Run an engine call for ``entry``; a failure is recorded and announced, never raised.

        Returns:
            True if the call returned without raising.
        """
        try:
            fn(*args)
        except Exception as exc:
            self.report_error(entry.id, exc)
            return False
        return True

    def _ask_endpoint(self, entry: SocketEntry, title: str, bind: bool, fn: Callable[..., object]) -> None:
        from udpscope.tui.screens.dialogs import EndpointDialog

        def done(req: EndpointRequest | None) -> None:
            if req is not None:
                if bind:
                    self.bind_requests[entry.id] = (req.address, req.port)
                self.call_engine(entry, fn, req.port, req.address)

        self.push_screen(EndpointDialog(title, bind=bind, sock_type=entry.type), done)

    def action_bind_socket(self) -> None:
        entry = self._need_socket("bind")
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
        entry = self._need_socket("connect")
        if entry is not None:
            self._ask_endpoint(entry, f"Connect socket #{entry.id}", False, entry.sock.connect)

    def action_disconnect_socket(self) -> None:
        entry = self._need_socket("disconnect")
        if entry is None:
            return
        peer = entry.peer()
        if self.call_engine(entry, entry.sock.disconnect):
            from udpscope.addresses import format_endpoint

            self.capture.note_event(entry.id, "disconnect",
                                    format_endpoint(*peer) if peer else "")

    def action_close_socket(self) -> None:
        entry = self._need_socket("be closed (it has no OS socket; del removes it from the list)")
        if entry is not None:
            self.call_engine(entry, self.capture.close, entry.id)

    def action_forget_socket(self) -> None:
        entry = self._need_socket()
        if entry is None:
            return
        if self.workspace_session is not None and entry.id in self.workspace_session.responders:
            self.workspace_session.set_rules(entry, [])  # detach: no answers from a forgotten one
        self.capture.forget(entry.id)
        self.selected_socket = next(iter(self.capture.sockets), None)

    def action_stream_options(self) -> None:
        """Ask for the selected socket's sequence field and A/B arbitration, then apply them."""
        entry = self._need_socket()
        if entry is not None:
            from udpscope.tui.streams_ui import ask_stream_options

            ask_stream_options(self, entry)
    def action_join_everywhere(self) -> None:
        """Ask for a group (and source), then join it on every multicast-capable interface with
        the selected socket and show where its traffic arrives (pane 6)."""
        from udpscope.tui.screens import everywhere

        everywhere.ask(self)

    def action_leave_everywhere(self) -> None:
        """Leave the group joined everywhere and stop counting its arrivals."""
        from udpscope.tui.screens import everywhere

        everywhere.leave(self)

    def watch_selected_socket(self, value: int | None) -> None:
        if self.main_screen.is_mounted:
            self.main_screen.selection_changed()

    # ---- panes / views -----------------------------------------------------------------------

    def action_pane(self, pane: str) -> None:
        """Show a pane of the main screen and move the focus there (now, not after a refresh)."""
        if self.current_mode != MAIN_SCREEN:
            self.switch_mode(MAIN_SCREEN)
        self.main_screen.focus_pane(pane)

    def show_detail(self, record: Record, source: DetailSource | None = None) -> None:
        """Open the detail view on ``record``; ``source`` gives its neighbours (prev / next)."""
        from udpscope.tui.screens.detail import PacketDetail

        self.push_screen(PacketDetail(record, source, self.tz,
                                      self.main_screen.message_log.decoder))

    def help_sections(self) -> list[tuple[str, list[Binding]]]:
        """The help screen's sections, read from the bindings so the help cannot drift."""
        from udpscope.tui.screens.help import binding_sections

        return binding_sections(self)

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

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette: udpscope's commands and themes, and the useful built-ins."""
        from udpscope.tui.commands import palette_commands

        return palette_commands(self, screen)

    def set_theme_safely(self, name: str) -> None:
        """Switch theme if it applies cleanly; otherwise say why and keep the current one."""
        switch_theme(self, name)

    def action_log(self, what: str) -> None:
        log = self.main_screen.message_log
        if what == "clear":
            log.clear()
        elif what == "pause":
            log.paused = not log.paused
        elif what == "follow":
            log.action_follow()


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
    fit_address_space()  # before Textual starts its threads
    ring_bytes, limits_note = fit_ring_budget(ring_bytes)
    app = UdpscopeApp(binds, joins, udp6, theme, ring_size=ring_size, ring_bytes=ring_bytes,
                      capture=capture, workspace=workspace, notice=notice, title=title,
                      handle_signals=True, own_process=True, limits_note=limits_note)
    result = app.run()
    return int(result or 0)

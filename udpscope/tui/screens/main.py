"""The work screen: sockets on top, composer/options beside (or instead of) the live log.

Only what changes slowly is made of ordinary widgets; the log is the Line-API view. The screen
does nothing per datagram: `refresh_data` is called by the app's timer and pulls.

The layout follows the terminal: from 110 columns the side pane (options / composer) sits left
of the log; below that the log takes the whole width and the side pane is shown instead of it
while one of its keys (2, 3) is in use — 4 or Esc brings the log back. Below 30 rows the title
bar goes and the socket list gets shorter.
"""

from __future__ import annotations

import asyncio
import time
from datetime import tzinfo
from typing import TYPE_CHECKING

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Click, Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Input, Static, TabbedContent, TabPane

from udpscope.capture import Capture
from udpscope.logfilter import FilterError, parse_filter
from udpscope.textsafe import safe_text
from udpscope.tui.logcolumns import fit_parts
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.footer import KeyFooter
from udpscope.tui.widgets.message_log import MessageLog
from udpscope.tui.widgets.socket_list import SocketList
from udpscope.tui.workbench import app_of

if TYPE_CHECKING:
    from textual.widget import AwaitMount, Widget

    from udpscope.tui.widgets.compose import ComposePane
    from udpscope.tui.widgets.options import OptionsPane

NARROW = 110  # below this many columns the side pane and the log take turns
TALL = 30  # from this many rows: the title bar and a taller socket list
COMPOSER_DELAY = 0.15  # seconds after mount before the composer is built
LAYOUT_WAIT = 1.0  # seconds to wait, at most, for a pane just shown to be laid out
LAYOUT_POLL = 0.004  # seconds between looks while it is not


class StatusLine(Static):
    """The log's status line; a click on it jumps back to the newest row (the "N new" marker)."""

    class Clicked(Message):
        """The status line was clicked."""

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(self.Clicked())


class MainScreen(Screen[None]):
    """Sockets, composer/options and the live log."""

    # The log has the focus from the start: named here, Textual focuses it once (focusing it in
    # on_mount moved the focus a second time, from the socket list, restyling both).
    AUTO_FOCUS = "#log"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (TALL, "-tall")]

    BINDINGS = [
        Binding("n", "app.new_socket", "New", id="socket-new"),
        Binding("b", "app.bind_socket", "Bind", show=False, id="socket-bind"),
        Binding("c", "app.connect_socket", "Connect", show=False, id="socket-connect"),
        Binding("d", "app.disconnect_socket", "Disconnect", show=False, id="socket-disconnect"),
        Binding("x", "app.close_socket", "Close", id="socket-close"),
        Binding("r", "responder", "Responder", show=False, id="socket-respond"),
        Binding("w", "save_log", "Save log", show=False, id="log-save"),
        Binding("slash", "focus_filter", "Filter", show=False, id="log-filter"),
        Binding("escape", "leave_field", "Leave field", id="leave-field"),
        # Enter acts at once, before the next key is read: in the filter it goes back to the
        # log, in the log it opens the detail (a message would let the next keys overtake it).
        Binding("enter", "enter", "Open / apply", show=False, priority=True),
    ]

    def __init__(self, capture: Capture, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.capture = capture
        self.tz = tz
        self._status = ""
        self._options: OptionsPane | None = None
        self._composer: ComposePane | None = None
        self._composer_mounted: AwaitMount | None = None
        self.message_log = MessageLog(capture, tz=tz, id="log")

    def compose(self) -> ComposeResult:
        # The size classes Textual sets from the breakpoints on the first resize, set here from
        # the size already known: set after the screen was styled, they restyled all of it again.
        width, height = self.app.size
        self.add_class(*self._get_breakpoint_classes(width, self.HORIZONTAL_BREAKPOINTS),
                       *self._get_breakpoint_classes(height, self.VERTICAL_BREAKPOINTS))
        yield Header()
        sockets = SocketList(self.capture, id="sockets")
        sockets.border_title = "1 Sockets"
        yield sockets
        with Horizontal(id="work"):
            with TabbedContent(id="side", initial="compose-tab"):
                # Both panes are built after the first frame (the composer right after it, the
                # options when first shown): together they were half the work before anything
                # could be drawn.
                yield TabPane("2 Options", id="options-tab")
                yield TabPane("3 Composer", id="compose-tab")
            with Vertical(id="log-pane") as pane:
                pane.border_title = "4 Live log"
                yield Input(placeholder="/ filter: #1 dir:rx peer:127.0.0.1 proto:mdns text:hello",
                            id="filter", compact=True)
                yield FieldMessage(id="filter-error")
                yield Static("", id="log-header", markup=False)
                yield self.message_log
                yield StatusLine("", id="log-status", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        source = app_of(self).sub_title
        if source:  # what the sockets stand for (a capture file): seen below 30 rows, too
            self.query_one(SocketList).border_title = Content(f"1 Sockets · {source}")
        self.selection_changed()
        log = self.message_log
        # The status line follows the log's state in the same call that changes it, so the frame
        # that shows the change shows the status too.
        for name in ("paused", "following", "new_count"):
            self.watch(log, name, self.update_status, init=False)
        self.watch(log, "columns", self._update_header)
        self.watch(self.query_one("#filter", Input), "value", self._filter_changed, init=False)
        self.update_status()
        # Not in the refresh that draws the first frame, nor right after it: the main thread
        # busy mounting it held up the terminal writer, and the first frame appeared 0.1 s
        # later. Keys that want the composer before then build it at once (focus_pane).
        self.set_timer(COMPOSER_DELAY, self._build_composer)

    # ---- files and responders (the work is in session_actions.py) -----------------------------

    def action_save_log(self) -> None:
        """Save the log (all rows, or what the filter shows) as pcapng."""
        from udpscope.tui.session_actions import open_save_log

        open_save_log(app_of(self))

    def action_responder(self) -> None:
        """Edit the selected socket's responder rules."""
        from udpscope.tui.session_actions import open_responder

        app = app_of(self)
        entry = app.selected_entry()
        if entry is None:
            app.notify("No socket selected: press n to create one.", severity="warning")
            return
        open_responder(app, entry)

    def open_payloads(self) -> None:
        """Show the composer and its saved payloads (once the composer is there)."""
        self.focus_pane("compose")
        composer = self._composer
        if composer is not None and composer.is_mounted:
            composer.action_payloads()
        else:
            app_of(self).hold_keys_until(self._build_composer(), self._open_payloads_later)

    def _open_payloads_later(self) -> None:
        if self._composer is not None:
            self._composer.action_payloads()

    def _build_composer(self) -> AwaitMount:
        """Mount the composer (once); returns what to await for it to be there."""
        if self._composer_mounted is None:
            from udpscope.tui.widgets.compose import ComposePane

            self._composer = ComposePane(id="compose")
            self._composer_mounted = self.query_one("#compose-tab", TabPane).mount(self._composer)
        return self._composer_mounted

    # ---- the tick ------------------------------------------------------------------------------

    def refresh_data(self, slow: bool) -> None:
        """Pull new rows; on the slow tick also the tables, the composer result and the status."""
        self.message_log.pull()
        if slow:
            self.query_one(SocketList).refresh_rows()
            if self._composer is not None and self._composer.is_mounted:
                self._composer.update_result()
            self.update_status()

    def _update_header(self) -> None:
        header = self.query_one("#log-header", Static)
        header.update(Content(self.message_log.columns.header()), layout=False)

    def status_text(self, width: int) -> str:
        """The status line for ``width`` columns: whole parts, the least useful dropped first."""
        log = self.message_log
        count = len(log.rows)
        parts: list[tuple[str, int]] = []
        if log.predicate is not None and not count:
            parts.append((f"no rows match {safe_text(log.filter_text, 40)}", 0))
        elif not count and not log.paused:
            hint = ("no datagrams yet: n creates a socket" if not self.capture.sockets
                    else "no datagrams yet: 3 composes one, or send to a bound socket")
            parts.append((hint, 0))
        else:
            parts.append((f"{count} row" if count == 1 else f"{count} rows", 2))
        if log.paused:
            parts.append(("⏸ paused (space resumes)", 0))
        if log.following:
            parts.append(("following", 3))
        elif log.new_count:
            held = " (view held)" if log.held else ""
            parts.append((f"▼ {log.new_count} new{held}", 0))
            parts.append(("End or f: jump back", 4))
        else:
            parts.append(("not following (f)", 3))
        drops = sum(entry.kernel_drops for entry in self.capture.sockets.values())
        if drops:  # refreshed on the capture tick; a flood must not look like a quiet network
            parts.append((f"kernel dropped {drops}", 1))
        if self.capture.evictions:
            parts.append((f"ring evicted {self.capture.evictions}", 1))
        parts.append(("⏎ detail  f follow  space pause  / filter", 5))
        return fit_parts(parts, width)

    def update_status(self) -> None:
        status = self.query_one("#log-status", Static)
        text = self.status_text(status.size.width or 80)
        if text != self._status:  # redraw only on change: this runs on every slow tick
            self._status = text
            # One line of fixed size: a new text never changes the layout, so do not ask for one.
            status.update(Content(text), layout=False)

    def on_resize(self, event: Resize) -> None:
        # The status line fits its parts to its width, known after this layout.
        self.call_after_refresh(self.update_status)

    @on(StatusLine.Clicked)
    def _status_clicked(self) -> None:
        # The "N new" marker lives in the status line: clicking it jumps back and follows.
        self.message_log.action_follow()

    @on(MessageLog.RecordSelected)
    def _open_detail(self, event: MessageLog.RecordSelected) -> None:
        app_of(self).show_detail(event.record, self.message_log)

    @on(SocketList.RowHighlighted, "#sockets")
    def _socket_highlighted(self, event: SocketList.RowHighlighted) -> None:
        # Only the user's own moves select a socket: highlights also arrive (late) from the
        # table's own updates and from programmatic cursor moves.
        table = self.query_one(SocketList)
        if table.has_focus and event.cursor_row == table.cursor_row:
            sid = table.selected_id()
            if sid is not None:
                app_of(self).selected_socket = sid

    @on(SocketList.RowSelected, "#sockets")
    def _socket_selected(self) -> None:
        sid = self.query_one(SocketList).selected_id()
        if sid is not None:
            app_of(self).selected_socket = sid

    def _filter_changed(self, value: str) -> None:
        # A watcher, not an Input.Changed handler: it runs in the turn of the key that edited
        # the filter, so the next key (Enter, say) sees the rows of the new filter.
        msg = self.query_one("#filter-error", FieldMessage)
        try:
            predicate = parse_filter(value, self.message_log.decoder)
        except FilterError as exc:
            msg.error(str(exc))
            return
        msg.clear()
        self.message_log.set_filter(predicate, value.strip())

    def action_enter(self) -> None:
        focused = self.focused
        if focused is self.message_log:
            record = self.message_log.open_target()
            if record is not None:
                app_of(self).show_detail(record, self.message_log)
        elif focused is not None and focused.id == "filter":
            app_of(self).flush_typing()
            self.set_focus(self.message_log)
        else:
            raise SkipAction()

    # ---- panes ---------------------------------------------------------------------------------

    def _show_side(self, shown: bool) -> bool:
        """Show or hide the side pane; True if that changed what is laid out."""
        changed = self.has_class("-side-shown") != shown
        self.set_class(shown, "-side-shown")
        return changed

    def _show_tab(self, tab: str) -> bool:
        """Show the side pane on ``tab``; True if that changed what is laid out."""
        tabs = self.query_one("#side", TabbedContent)
        changed = self._show_side(True) or tabs.active != tab
        tabs.active = tab
        return changed

    def _laid_out(self, shown: Widget) -> asyncio.Future[None]:
        """Done once ``shown`` has a place in the screen's layout (or after LAYOUT_WAIT seconds).

        One refresh is not enough: the screen can refresh before the class change that shows a
        pane has reached its layout (the widget posts that on its own idle), and Tab would then
        still order the fields by where they were. So: check after a refresh, and if it is not
        there yet, again a moment later, after the next refresh.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        give_up = time.monotonic() + LAYOUT_WAIT

        def check() -> None:
            if done.done():
                return
            if shown.region or not shown.is_attached or time.monotonic() > give_up:
                done.set_result(None)
            else:
                self.set_timer(LAYOUT_POLL, lambda: self.call_after_refresh(check))

        self.call_after_refresh(check)
        return done

    def focus_pane(self, pane: str) -> None:
        """Show ``pane`` ("sockets", "options", "compose", "log") and focus it, synchronously.

        Keys read after a pane key that shows something new wait until it is laid out: Tab
        moves the focus by the widgets' laid-out positions, stale for a pane just shown (a
        burst typed right after "3" once tabbed past the payload field).
        """
        app = app_of(self)
        if pane == "sockets":
            self.set_focus(self.query_one(SocketList))
        elif pane == "options":
            relayout = self._show_tab("options-tab")
            options = self._show_options(focus=True)
            if relayout:
                app.hold_keys_until(self._laid_out(options))
        elif pane == "compose":
            relayout = self._show_tab("compose-tab")
            if self._composer is not None and self._composer.is_mounted:
                self.set_focus(self.query_one("#dest-host", Input))
                if relayout:
                    app.hold_keys_until(self._laid_out(self._composer))
            else:  # keys typed after "3" wait for the composer, mounted and laid out
                async def built() -> None:
                    await self._build_composer()
                    if self._composer is not None:
                        await self._laid_out(self._composer)

                app.hold_keys_until(built(), lambda: self.set_focus(self.query_one("#dest-host", Input)))
        elif pane == "log":
            if self._show_side(False):
                app.hold_keys_until(self._laid_out(self.message_log))
            self.set_focus(self.message_log)

    def _show_options(self, focus: bool) -> OptionsPane:
        """The options pane, built (and loading) on first use; with ``focus``, focused."""
        options = self._options
        if options is None:
            from udpscope.tui.widgets.options import OptionsPane

            options = self._options = OptionsPane(id="options")
            mounted = self.query_one("#options-tab", TabPane).mount(options)  # loads on mount
            if focus:
                # Keys typed after "2" are for the options: they wait until it exists.
                app_of(self).hold_keys_until(mounted, lambda: self.set_focus(options))
        else:
            if focus and options.is_mounted:
                options.refresh_interfaces()
                options.load()
            if focus:
                self.set_focus(options)
        return options

    @on(TabbedContent.TabActivated, "#side")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "options-tab":  # shown by a click or the tab keys, not only by 2
            self._show_options(focus=False)

    def action_focus_filter(self) -> None:
        self._show_side(False)
        self.set_focus(self.query_one("#filter", Input))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_field":
            return isinstance(self.focused, Input)
        return True

    def action_leave_field(self) -> None:
        if not isinstance(self.focused, Input):
            raise SkipAction()
        self._show_side(False)
        self.set_focus(self.message_log)

    def selection_changed(self) -> None:
        """The app's selected socket changed: options and the socket list follow."""
        if self._options is not None and self._options.is_mounted:  # else it loads on mount
            self._options.load()
        sid = app_of(self).selected_socket
        if sid is not None:
            sockets = self.query_one(SocketList)
            sockets.refresh_rows()  # a socket made a moment ago must be listed before the tick
            sockets.select_id(sid)
        if self._composer is not None and self._composer.is_mounted:
            self._composer.update_from()

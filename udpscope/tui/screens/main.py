"""The work screen: sockets on top, composer/options on the left, the live log on the right.

Only what changes slowly is made of ordinary widgets; the log is the Line-API view. The screen
does nothing per datagram: `refresh_data` is called by the app's timer and pulls.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Header, Input, Static, TabbedContent, TabPane

from udpscope.tui.widgets.compose import ComposePane
from udpscope.tui.widgets.fields import FieldMessage
from udpscope.tui.widgets.footer import KeyFooter
from udpscope.tui.widgets.message_log import HEADER as LOG_HEADER
from udpscope.tui.widgets.message_log import FilterError, MessageLog, parse_filter
from udpscope.tui.widgets.options import OptionsPane
from udpscope.tui.widgets.socket_list import SocketList


class MainScreen(Screen):
    """Sockets, composer/options and the live log."""

    BINDINGS = [
        Binding("n", "app.new_socket", "New", id="socket-new"),
        Binding("b", "app.bind_socket", "Bind", show=False, id="socket-bind"),
        Binding("c", "app.connect_socket", "Connect", show=False, id="socket-connect"),
        Binding("d", "app.disconnect_socket", "Disconnect", show=False, id="socket-disconnect"),
        Binding("x", "app.close_socket", "Close", id="socket-close"),
        Binding("slash", "focus_filter", "Filter", show=False, id="log-filter"),
        Binding("escape", "leave_field", "Leave the field (to the log)", show=False),
    ]

    def compose(self) -> ComposeResult:
        capture = self.app.capture  # type: ignore[attr-defined]
        yield Header()
        sockets = SocketList(capture, id="sockets")
        sockets.border_title = "1 Sockets"
        yield sockets
        with Horizontal(id="work"):
            with TabbedContent(id="side", initial="compose-tab"):
                # The options pane is built when its tab is first shown (see _show_options):
                # it is hidden at start and the costliest pane to build (~70 ms of start-up).
                yield TabPane("2 Options", id="options-tab")
                with TabPane("3 Composer", id="compose-tab"):
                    yield ComposePane(id="compose")
            with Vertical(id="log-pane") as pane:
                pane.border_title = "4 Live log"
                yield Input(
                    placeholder="/ filter: #1 dir:rx peer:127.0.0.1 hex:6869 text:hello",
                    id="filter",
                )
                yield FieldMessage(id="filter-error")
                yield Static(LOG_HEADER, id="log-header", markup=False)
                yield MessageLog(capture, tz=self.app.tz, id="log")  # type: ignore[attr-defined]
                yield Static("", id="log-status", markup=False)
        yield KeyFooter(compact=True)

    _status = ""
    _options: OptionsPane | None = None

    def on_mount(self) -> None:
        self.selection_changed()
        self.update_status()
        log = self.query_one(MessageLog)
        # The status line follows the log's state in the same call that changes it, so the frame
        # that shows the change shows the status too. A message from the log let Textual draw a
        # frame first and the status only in the next one, one to two screen-timer periods
        # (17-33 ms) later: space (pause) took ~45 ms to show.
        for name in ("paused", "following", "new_count"):
            self.watch(log, name, self.update_status, init=False)
        log.focus()

    # ---- the tick ------------------------------------------------------------------------------

    def refresh_data(self, slow: bool) -> None:
        log = self.query_one(MessageLog)
        log.pull()
        if slow:
            self.query_one(SocketList).refresh_rows()
            self.query_one(ComposePane).update_result()
            self.update_status()

    def update_status(self) -> None:
        log = self.query_one(MessageLog)
        count = len(log.rows)
        if not count and not log.paused:
            capture = self.app.capture  # type: ignore[attr-defined]
            hint = ("no datagrams yet: n creates a socket" if not capture.sockets
                    else "no datagrams yet: 3 composes one, or send to a bound socket")
            parts = [hint]
        else:
            parts = [f"{count} row" if count == 1 else f"{count} rows"]
        if log.paused:
            parts.append("⏸ paused (space to resume)")
        if log.following:
            parts.append("following")
        elif log.new_count:
            held = " (view held)" if log.rows.full else ""
            parts.append(f"▼ {log.new_count} new{held} — End or f to jump back")
        else:
            parts.append("not following (f)")
        capture = self.app.capture  # type: ignore[attr-defined]
        drops = sum(entry.kernel_drops for entry in capture.sockets.values())
        if drops:  # refreshed on the capture tick; a flood must not look like a quiet network
            parts.append(f"kernel dropped {drops}")
        if capture.evictions:
            parts.append(f"ring evicted {capture.evictions}")
        parts.append("⏎ detail  f follow  space pause  / filter")
        text = "  ·  ".join(parts)
        if text != self._status:  # redraw only on change: this runs on every slow tick
            self._status = text
            # One line of fixed size: a new text never changes the layout, so do not ask for one.
            self.query_one("#log-status", Static).update(Content(text), layout=False)

    def on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        # The "N new" marker lives in the status line: clicking it jumps back and follows.
        if getattr(event.widget, "id", None) == "log-status":
            self.query_one(MessageLog).action_follow()

    def on_message_log_record_selected(self, event: MessageLog.RecordSelected) -> None:
        self.app.show_detail(event.record)  # type: ignore[attr-defined]

    def on_data_table_row_highlighted(self, event: SocketList.RowHighlighted) -> None:
        # Only the user's own moves select a socket: highlights also arrive (late) from the
        # table's own updates and from programmatic cursor moves, and must not override the
        # selection the app just made.
        table = event.data_table
        if table.id == "sockets" and table.has_focus and event.cursor_row == table.cursor_row:
            sid = event.data_table.selected_id()  # type: ignore[attr-defined]
            if sid is not None:
                self.app.selected_socket = sid  # type: ignore[attr-defined]

    def on_data_table_row_selected(self, event: SocketList.RowSelected) -> None:
        if event.data_table.id == "sockets":
            sid = event.data_table.selected_id()  # type: ignore[attr-defined]
            if sid is not None:
                self.app.selected_socket = sid  # type: ignore[attr-defined]

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        event.stop()
        msg = self.query_one("#filter-error", FieldMessage)
        try:
            predicate = parse_filter(event.value)
        except FilterError as exc:
            msg.error(str(exc))
            return
        msg.clear()
        self.query_one(MessageLog).set_filter(predicate)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            self.query_one(MessageLog).focus()

    # ---- panes ---------------------------------------------------------------------------------

    def focus_pane(self, pane: str) -> None:
        tabs = self.query_one("#side", TabbedContent)
        if pane == "sockets":
            self.query_one(SocketList).focus()
        elif pane == "options":
            tabs.active = "options-tab"
            self.call_next(self._show_options, True)
        elif pane == "compose":
            tabs.active = "compose-tab"
            self.call_after_refresh(self.query_one("#dest-host", Input).focus)
        elif pane == "log":
            self.query_one(MessageLog).focus()

    async def _show_options(self, focus: bool) -> None:
        options = self._options
        if options is None:
            options = self._options = OptionsPane(id="options")
            await self.query_one("#options-tab", TabPane).mount(options)  # loads itself on mount
        elif focus and options.is_mounted:
            options.refresh_interfaces()
            options.load()
        if focus:
            self.call_after_refresh(options.focus)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "options-tab":  # shown by a click or the tab keys, not only by 2
            self.call_next(self._show_options, False)

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_field(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one(MessageLog).focus()

    def selection_changed(self) -> None:
        if self._options is not None and self._options.is_mounted:  # else it loads on mount
            self._options.load()
        sid = self.app.selected_socket  # type: ignore[attr-defined]
        if sid is not None:
            sockets = self.query_one(SocketList)
            sockets.refresh_rows()  # a socket made a moment ago must be listed before the tick
            sockets.select_id(sid)

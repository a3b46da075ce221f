"""Every key in one place, generated from the bindings so it cannot drift from them.

Keys are named one way throughout (Textual's footer names: `^s`, `^p`, `esc`, `enter`, `tab`),
and each description wraps inside its own column at any width, so a narrow terminal shows two
clean columns instead of text running back to the left edge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from udpscope.tui.app import UdpscopeApp

# Longer words for the help than fit in the footer, by binding id; the keys themselves still come
# from the bindings, so a rebound key shows up here as it is.
DESCRIPTIONS = {
    "pane-sockets": "Sockets pane: pick the socket the other panes act on",
    "pane-options": "Options of the selected socket: TTL, broadcast, loopback, buffers, groups",
    "pane-compose": "Composer: destination, payload, send",
    "pane-log": "Live log: every datagram in and out, every socket event",
    "pane-stats": "Stats view: counters, rates, stream health (RTP, MPEG-TS, loss, jitter), "
                  "per-group streams, probe loss",
    "pane-hosts": "Hosts view: agents on many hosts, who hears whom (multicast and unicast), live",
    "help": "this help",
    "socket-new": "new socket (udp4/udp6, options, bind now)",
    "socket-bind": "bind the selected socket (address, port)",
    "socket-connect": "connect the selected socket to a peer",
    "socket-disconnect": "disconnect the selected socket",
    "socket-close": "close the selected socket",
    "socket-forget": "remove the selected socket from the list (closes it)",
    "log-filter": "filter the log (syntax below)",
    "leave-field": "leave a text field (back to the log; then the pane keys work)",
    "log-detail": "open the selected row: every field, the decoded fields beside the hex dump, "
                  "the text",
    "log-follow": "follow: jump to the newest row and stay there",
    "log-pause": "pause / resume the log (datagrams are still counted)",
    "log-clear": "clear the log",
    "log-end": "last row, and follow",
    "socket-respond": "responder of the selected socket: rules that answer its datagrams",
    "log-save": "save the log (all rows, or what the filter shows) as pcapng for Wireshark",
    "compose-send": "send (enter in a composer field does too)",
    "compose-payloads": "saved payloads: fill the composer, send, save the current one, delete",
    "view-back": "back to the main screen",
    "pane-multicast": "Multicast view: interfaces, queriers, our joins, why no traffic?",
    "multicast-refresh": "re-read interfaces and kernel memberships, run the last check again",
    "multicast-copy-fix": "copy the selected finding's fix command to the clipboard",
    "multicast-join-everywhere": "join a group on every interface with the selected socket "
                                 "and count where its traffic arrives",
    "multicast-leave-everywhere": "leave the group joined everywhere",
    "multicast-watch": "stop / start listening for queriers (while listening, udpscope joins "
                       "224.0.0.22 and ff02::16, so the host sends reports for them)",
    "hosts-start": "start a run (enter in a settings field does too): every host joins the "
                   "group and sends to it and to every other host",
    "hosts-stop": "stop the run: every agent is stopped, no membership is left behind",
    "hosts-add": "add a host: a name, and ssh / ip netns exec / kubectl exec / a template, or "
                 "this machine",
    "hosts-remove": "remove the selected host from the list",
    "hosts-settings": "to the settings: group:port, count, rate, TTL, max loss (esc leaves them)",
    "detail-close": "close the detail",
    "detail-prev": "previous row of the log",
    "detail-next": "next row of the log",
    "detail-copy": "copy the payload as text (escapes visible) to the clipboard",
    "detail-copy-hex": "copy the payload as hex to the clipboard",
    "detail-save": "save the payload's bytes to a new file",
    "streams-options": "sequence field (OFFSET:WIDTH[:be|le]) and A/B arbitration for the "
                       "selected socket",
    "streams-health": "stream health: loss, jitter, TS errors, kernel drops, timelines",
    "streams-groups": "per (group, source) streams with probe loss and delay",
}

EXTRA = [
    ("tab / shift+tab", "move between fields and panes"),
    ("esc", "leave a field / close a dialog or view"),
    ("enter", "in a field: send (composer), set or join (options), create (dialogs)"),
    ("^p", "command palette (socket: …, log: …, streams: …, group: …, payload: …, workspace: save, "
           "view: …, theme: …, screenshot)"),
    ("↑ / ↓ in a detail", "move through the decoded fields; their bytes light up in the dump"),
    ("^q", "quit"),
]
FILTER = "#N  dir:rx|tx|ev  peer:TEXT  hex:6869  text:WORD  proto:mdns,rtp  (all must match)"
KEY_WIDTH = 16


def binding_sections(app: UdpscopeApp) -> list[tuple[str, list[Binding]]]:
    """The help's sections, from each screen's and widget's bindings."""
    from udpscope.tui.screens.detail import PacketDetail
    from udpscope.tui.screens.hosts import HostsScreen
    from udpscope.tui.screens.main import MainScreen
    from udpscope.tui.screens.multicast import MulticastScreen
    from udpscope.tui.screens.stats import StatsScreen
    from udpscope.tui.widgets.compose import ComposePane
    from udpscope.tui.widgets.message_log import MessageLog
    from udpscope.tui.widgets.socket_list import SocketList

    def shown(bindings: list[BindingType]) -> list[Binding]:
        # Enter-in-a-field bindings are explained once, under "Everywhere".
        return [b for b in bindings
                if isinstance(b, Binding) and (b.key != "enter" or b.id == "log-detail")]

    return [
        ("Panes and views", shown(list(app.BINDINGS))),
        ("Sockets (main screen)", shown(list(MainScreen.BINDINGS))),
        ("Socket list (when focused)", shown(list(SocketList.BINDINGS))),
        ("Live log (when focused)", shown(list(MessageLog.BINDINGS))),
        ("Composer", shown(list(ComposePane.BINDINGS))),
        ("Stats view", shown(list(StatsScreen.BINDINGS))),
        ("Multicast view", shown(list(MulticastScreen.BINDINGS))),
        ("Hosts view (arrows pick a cell: its streams show below)", shown(list(HostsScreen.BINDINGS))),
        ("Detail view", shown(list(PacketDetail.BINDINGS))),
    ]


class HelpScreen(ModalScreen[None]):
    """The key list. The app builds one per session and reuses it (see `UdpscopeApp.action_help`).

    Opaque on purpose: a see-through modal makes Textual render the whole main screen under it
    and tint every segment, on opening and on every repaint while it is open; under a flood that
    was most of the cost of pressing `?`, taken from the datagram reader on the same loop.
    """

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help-close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background; }  /* opaque: see above */
    HelpScreen > VerticalScroll {
        width: 96; max-width: 100%; height: 90%; border: round $primary; background: $panel;
        padding: 0 1; border-title-color: $accent; border-subtitle-color: $text-muted;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.sections = sections

    def _key(self, b: Binding) -> str:
        try:
            return self.app.get_key_display(b)
        except Exception:
            return b.key_display or b.key

    def _table(self) -> Group:
        """Each section: its title on a line of its own, then a two-column grid whose second
        column wraps within itself."""
        accent = self.app.theme_variables.get("accent", "")
        heading = f"bold {accent}".strip()
        parts: list[Text | Table] = []

        def section(title: str, rows: list[tuple[str, str]]) -> None:
            if parts:
                parts.append(Text(""))
            parts.append(Text(title, style=heading))
            table = Table.grid(padding=(0, 1), expand=True)
            table.add_column(width=KEY_WIDTH, no_wrap=True, overflow="ellipsis")
            table.add_column(ratio=1, overflow="fold")
            for key, text in rows:
                table.add_row(Text(key, style="bold"), Text(text))
            parts.append(table)

        for title, bindings in self.sections:
            # One line per action: "?" and "f1" both open help, say so on one line.
            keys: dict[str, list[str]] = {}
            desc: dict[str, str] = {}
            for b in bindings:
                keys.setdefault(b.action, []).append(self._key(b))
                if b.action not in desc or (b.id and b.id in DESCRIPTIONS):
                    desc[b.action] = DESCRIPTIONS.get(b.id or "", "") or b.description or b.action
            section(title, [(" / ".join(names), desc[action]) for action, names in keys.items()])
        section("Everywhere", EXTRA)
        section("Filter syntax", [("/", FILTER)])
        return Group(*parts)

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = "Keys"
            box.border_subtitle = "↑/↓ scroll · esc close"
            yield Static(self._table(), id="help-text")

    def on_screen_resume(self) -> None:
        # The app keeps one help screen: each opening starts at the top, as a new one would.
        self.query_one(VerticalScroll).scroll_home(animate=False, immediate=True)

    def action_close(self) -> None:
        self.dismiss(None)

    def plain_text(self) -> str:
        """The help as plain lines (what tests and a screen reader see)."""
        from rich.console import Console

        console = Console(width=max(40, self.size.width or 96), record=True, file=None, color_system=None)
        with console.capture() as capture:
            console.print(self._table())
        return capture.get()

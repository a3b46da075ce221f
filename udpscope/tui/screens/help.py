"""Every key in one place, generated from the bindings so it cannot drift from them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

# Longer words for the help than fit in the footer, by binding id; the keys themselves still come
# from the bindings, so a rebound key shows up here as it is.
DESCRIPTIONS = {
    "pane-sockets": "Sockets pane: pick the socket the other panes act on",
    "pane-options": "Options of the selected socket: TTL, broadcast, loopback, groups",
    "pane-compose": "Composer: destination, payload, send",
    "pane-log": "Live log: every datagram in and out, every socket event",
    "pane-stats": "Stats view: counters, rates, per-group streams, probe loss",
    "pane-multicast": "Multicast view: interfaces, kernel groups, why no traffic?",
    "help": "this help",
    "socket-new": "new socket (udp4/udp6, options, bind now)",
    "socket-bind": "bind the selected socket (address, port)",
    "socket-connect": "connect the selected socket to a peer",
    "socket-disconnect": "disconnect the selected socket",
    "socket-close": "close the selected socket",
    "socket-forget": "remove the selected socket from the list (closes it)",
    "log-filter": "filter the log (syntax below)",
    "log-detail": "open the selected row: every field, text, hex dump",
    "log-follow": "follow: jump to the newest row and stay there",
    "log-pause": "pause / resume the log (datagrams are still counted)",
    "log-clear": "clear the log",
    "log-end": "last row, and follow",
    "compose-send": "send (Enter in a composer field does too)",
    "view-back": "back to the main screen",
    "multicast-refresh": "re-read interfaces and kernel memberships",
    "detail-close": "close the detail",
}

EXTRA = [
    ("Tab / Shift+Tab", "move between fields and panes"),
    ("Escape", "leave a field (then the pane keys work) / close a dialog"),
    ("Enter (in a field)", "submit: send in the composer, set/join in options"),
    ("ctrl+p", "command palette (socket: …, log: …, theme: …, view: …)"),
    ("ctrl+q", "quit"),
    ("Filter syntax", "#N  dir:rx|tx|ev  peer:TEXT  hex:6869  text:WORD  (all must match)"),
]


class HelpScreen(ModalScreen):
    """The key list. The app builds one per session and reuses it (see `UdpscopeApp.action_help`).

    Opaque on purpose: a see-through modal makes Textual render the whole main screen under it
    and tint every segment, on opening and on every repaint while it is open; under a flood that
    was most of the cost of pressing `?`, taken from the datagram reader on the same loop.
    """

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help-close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background; }  /* opaque: see above */
    HelpScreen > VerticalScroll {
        width: 90; max-width: 100%; height: 90%; border: round $primary; background: $panel;
        padding: 0 1; border-title-color: $accent; border-subtitle-color: $text-muted;
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

    def compose(self) -> ComposeResult:
        parts: list[Content] = []
        for title, bindings in self.sections:
            parts.append(Content.styled(title, "bold $accent"))
            # One line per action: "?" and "f1" both open help, say so on one line.
            keys: dict[str, list[str]] = {}
            desc: dict[str, str] = {}
            for b in bindings:
                keys.setdefault(b.action, []).append(self._key(b))
                if b.action not in desc or (b.id and b.id in DESCRIPTIONS):
                    desc[b.action] = DESCRIPTIONS.get(b.id or "", "") or b.description or b.action
            for action, names in keys.items():
                parts.append(Content.assemble((f"  {' / '.join(names):<16}", "bold"), desc[action]))
            parts.append(Content(""))
        parts.append(Content.styled("Everywhere", "bold $accent"))
        for key, text in EXTRA:
            parts.append(Content.assemble((f"  {key:<16}", "bold"), text))
        with VerticalScroll() as box:
            box.border_title = "Keys"
            box.border_subtitle = "↑/↓ scroll · Esc close"
            yield Static(Content("\n").join(parts), id="help-text")

    def on_screen_resume(self) -> None:
        # The app keeps one help screen: each opening starts at the top, as a new one would.
        self.query_one(VerticalScroll).scroll_home(animate=False, immediate=True)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)

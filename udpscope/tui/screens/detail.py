"""One record in full: every remote-info field, a hex dump and the sanitised text.

The payload is the peer's; the hex dump prints only 0x20-0x7E in its ASCII column and the text
view goes through the sanitiser, so nothing here can reach the terminal raw or be read as markup.
From here the user steps to the previous / next row of the log (which follows, so closing the
view leaves the selection there), copies the payload — as hex, or as its sanitised text, never
raw bytes — to the clipboard with OSC 52 (Textual's copy_to_clipboard; the terminal must allow
it), or saves the raw bytes to a new file.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Static

from udpscope.addresses import format_endpoint
from udpscope.hexdump import hexdump_lines
from udpscope.records import Record
from udpscope.textsafe import safe_text
from udpscope.tui.safe import safe_content
from udpscope.tui.workbench import DetailSource

HEX_LIMIT = 64 * 1024
TEXT_LIMIT = 4096


def detail_fields(record: Record, tz: tzinfo | None) -> list[tuple[str, str]]:
    """The record's fields as (name, shown value) pairs, untrusted values sanitised."""
    when = datetime.fromtimestamp(record.time, tz).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [
        ("seq", str(record.seq)),
        ("time", when),
        ("socket", f"#{record.sock_id}"),
        ("direction", {"rx": "received", "tx": "sent", "event": "event"}.get(record.kind, record.kind)),
    ]
    if record.kind == "event":
        rows.append(("event", record.event or ""))
        if record.code:
            rows.append(("code", record.code))
        rows.append(("message", safe_text(record.text or "", 500)))
        return rows
    peer = safe_text(format_endpoint(record.address, record.port), 120)
    rows.append(("from" if record.kind == "rx" else "to", peer))
    if record.family:
        rows.append(("family", record.family))
    rows.append(("size", f"{record.size} bytes"))
    if record.destination is not None:
        rows.append(("destination", safe_text(record.destination, 120)))
    if record.interface is not None:
        rows.append(("interface", safe_text(record.interface, 64)))
    if record.ttl is not None:
        rows.append(("ttl / hop limit", str(record.ttl)))
    if record.timestamp is not None:
        kt = datetime.fromtimestamp(record.timestamp, tz).strftime("%H:%M:%S.%f")
        rows.append(("kernel timestamp", kt))
    if record.error:
        rows.append(("error", safe_text(record.error, 500)))
    return rows


def hex_text(payload: bytes) -> str:
    """The payload as spaced hex bytes (what "copy hex" puts on the clipboard)."""
    return payload.hex(" ")


class PacketDetail(ModalScreen[None]):
    """Full view of one record; Escape/q closes, ←/→ step, c/x copy, s saves."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="detail-close"),
        Binding("q", "close", "Close", show=False),
        Binding("left,p", "step(-1)", "Prev", id="detail-prev"),
        Binding("right,n", "step(1)", "Next", id="detail-next"),
        Binding("c", "copy('text')", "Copy text", id="detail-copy"),
        Binding("x", "copy('hex')", "Copy hex", id="detail-copy-hex"),
        Binding("s", "save", "Save", id="detail-save"),
    ]

    DEFAULT_CSS = """
    PacketDetail { align: center middle; }
    PacketDetail > VerticalScroll {
        width: 90%; height: 90%; border: round $primary; background: $panel; padding: 0 1;
        border-title-color: $accent; border-subtitle-color: $text-muted;
    }
    PacketDetail .heading { text-style: bold; color: $accent; padding-top: 1; }
    PacketDetail #hex { color: $foreground; }
    """

    def __init__(self, record: Record, source: DetailSource | None = None, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.record = record
        self.source = source
        self.tz = tz

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-body"):
            yield Static(id="fields")
            yield Static("Text", classes="heading payload")
            yield Static(id="text", classes="payload")
            yield Static("Hex", classes="heading payload")
            yield Static(id="hex", classes="payload")

    def on_mount(self) -> None:
        self.show(self.record)

    def show(self, record: Record) -> None:
        """Show ``record`` (the view's widgets are reused: stepping lays nothing out anew)."""
        self.record = record
        body = self.query_one("#detail-body", VerticalScroll)
        kind = {"rx": "Received datagram", "tx": "Sent datagram", "event": "Event"}.get(record.kind, "")
        body.border_title = f"{kind} #{record.seq}"
        keys = "esc close · ←/→ prev/next" + ("" if record.kind == "event" else " · c/x copy text/hex · s save")
        body.border_subtitle = keys
        fields = detail_fields(record, self.tz)
        width = max(len(k) for k, _ in fields)
        self.query_one("#fields", Static).update(Content("\n").join(
            Content.assemble((k.ljust(width) + "  ", "bold"), v) for k, v in fields))
        is_event = record.kind == "event"
        for widget in self.query(".payload"):
            widget.display = not is_event
        if not is_event:
            self.query_one("#text", Static).update(safe_content(record.payload, TEXT_LIMIT))
            # 16 bytes a line when it fits (79 columns), else 8: a dump line must never wrap.
            inner = int(self.app.size.width * 0.9) - 4
            lines = hexdump_lines(record.payload[:HEX_LIMIT], 16 if inner >= 79 else 8)
            if len(record.payload) > HEX_LIMIT:
                lines.append(f"…(+{len(record.payload) - HEX_LIMIT} bytes)")
            self.query_one("#hex", Static).update(Content("\n".join(lines) if lines else "(empty)"))
        body.scroll_home(animate=False)

    def on_resize(self, event: Resize) -> None:
        self.show(self.record)

    def action_step(self, delta: int) -> None:
        if self.source is None:
            return
        record = self.source.step(self.record, delta)
        if record is None:
            self.notify("no older row" if delta < 0 else "no newer row", timeout=1.5)
            return
        self.show(record)

    def action_copy(self, how: str) -> None:
        payload = self.record.payload
        if self.record.kind == "event":
            return
        text = hex_text(payload) if how == "hex" else safe_text(payload)
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {len(payload)} bytes as {'hex' if how == 'hex' else 'text'} "
                    "(OSC 52: the terminal must allow clipboard access)", timeout=3)

    def action_save(self) -> None:
        if self.record.kind == "event":
            return
        from udpscope.tui.screens.save import SavePayloadDialog

        self.app.push_screen(SavePayloadDialog(self.record))

    def action_close(self) -> None:
        self.dismiss(None)

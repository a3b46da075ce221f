"""One record in full: every remote-info field, a hex dump and the sanitised text.

The payload is the peer's; the hex dump prints only 0x20-0x7E in its ASCII column and the text
view goes through the sanitiser, so nothing here can reach the terminal raw or be read as markup.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from udpscope.addresses import format_endpoint
from udpscope.hexdump import hexdump_lines
from udpscope.records import Record
from udpscope.textsafe import safe_text
from udpscope.tui.safe import safe_content

HEX_LIMIT = 64 * 1024


def _fields(record: Record, tz: tzinfo | None) -> list[tuple[str, str]]:
    when = datetime.fromtimestamp(record.time, tz).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [
        ("seq", str(record.seq)),
        ("time", when),
        ("socket", f"#{record.sock_id}"),
        ("direction", {"rx": "received", "tx": "sent", "event": "event"}[record.kind]),
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


class PacketDetail(ModalScreen):
    """Full view of one record; Escape/q closes."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="detail-close"),
        Binding("q", "dismiss", "Close", show=False),
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

    def __init__(self, record: Record, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.record = record
        self.tz = tz

    def compose(self) -> ComposeResult:
        r = self.record
        with VerticalScroll(id="detail-body") as body:
            kind = {"rx": "Received datagram", "tx": "Sent datagram", "event": "Event"}[r.kind]
            body.border_title = f"{kind} #{r.seq}"
            body.border_subtitle = "Esc: close"
            width = max(len(k) for k, _ in _fields(r, self.tz))
            fields = Content("\n").join(
                Content.assemble((k.ljust(width) + "  ", "bold"), v) for k, v in _fields(r, self.tz)
            )
            yield Static(fields, id="fields")
            if r.kind != "event":
                yield Static("Text", classes="heading")
                yield Static(safe_content(r.payload, 4096), id="text")
                yield Static("Hex", classes="heading")
                data = r.payload[:HEX_LIMIT]
                lines = hexdump_lines(data)
                if len(r.payload) > HEX_LIMIT:
                    lines.append(f"…(+{len(r.payload) - HEX_LIMIT} bytes)")
                yield Static(Content("\n".join(lines) if lines else "(empty)"), id="hex")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)

"""One record in full: every remote-info field, the decoded field tree beside a hex dump, the text.

The payload is the peer's; the hex dump prints only 0x20-0x7E in its ASCII column, the tree's
labels and the text view go through the sanitiser, so nothing here can reach the terminal raw or
be read as markup. Moving through the tree lights up the field's bytes in the dump (a click on a
byte selects its field); a partial decode says where it stopped. From 120 columns the tree sits
beside the dump; below, the two are stacked, each scrolling on its own, and the view opens
scrolled to them. From here the user steps to the previous / next row of the log (which
follows, so closing the view leaves the selection there), copies the payload — as hex, or as
its sanitised text, never raw bytes — to the clipboard with OSC 52 (Textual's
copy_to_clipboard; the terminal must allow it), or saves the raw bytes to a new file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Static, Tree

from udpscope.addresses import format_endpoint
from udpscope.hexdump import line_width
from udpscope.records import Record
from udpscope.textsafe import safe_text
from udpscope.tui.logcolumns import fit
from udpscope.tui.safe import safe_content
from udpscope.tui.widgets.field_tree import FieldTree, HexView
from udpscope.tui.workbench import DetailSource

if TYPE_CHECKING:
    from udpscope.decode import Decoded, Field
    from udpscope.logdecode import RecordDecoder

HEX_LIMIT = 64 * 1024
TEXT_LIMIT = 4096
SIDE_BY_SIDE = 116  # inner columns from which the tree sits beside a 16-byte dump
TREE_MIN = 36  # columns the tree keeps beside the dump
HIGHLIGHT = "bold reverse"


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


@dataclass(frozen=True)
class DetailLayout:
    """Where the decoded tree and the dump go for a terminal size (plain arithmetic)."""

    full: bool  # the view takes the whole screen (small terminals)
    inner_width: int
    inner_height: int
    side_by_side: bool
    bytes_per_line: int
    tree_width: int


def detail_layout(width: int, height: int) -> DetailLayout:
    """The detail's layout in a `width` x `height` terminal.

    Below 100 columns or 30 rows the view takes the whole screen (the dump and the tree need
    every cell); a dump line never wraps (16 bytes a line when it fits, else 8).
    """
    full = width < 100 or height < 30
    outer_w = width if full else int(width * 0.9)
    outer_h = height if full else int(height * 0.9)
    inner_w = outer_w - 4 - 1   # border, padding, the body's scrollbar
    inner_h = outer_h - 2
    side = inner_w >= SIDE_BY_SIDE
    per_line = 16 if inner_w >= line_width(16) + 1 + (TREE_MIN if side else 0) else 8
    tree_w = inner_w - line_width(per_line) - 2 if side else inner_w
    return DetailLayout(full, inner_w, inner_h, side, per_line, max(12, tree_w))


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
        scrollbar-size-vertical: 1;
    }
    PacketDetail.-full > VerticalScroll { width: 100%; height: 100%; }
    PacketDetail .heading { text-style: bold; color: $accent; padding-top: 1; }
    PacketDetail #decoded-heading.-partial { color: $warning; }
    PacketDetail #decoded-row { layout: horizontal; height: auto; }
    PacketDetail #decoded-row.-stacked { layout: vertical; }
    PacketDetail #tree { width: 1fr; height: 10; }
    PacketDetail #decoded-row.-stacked #tree { width: 100%; }
    PacketDetail #hex-box {
        width: auto; height: 10; scrollbar-size-vertical: 1; overflow-x: hidden;
    }
    PacketDetail #decoded-row.-stacked #hex-box { width: 100%; }
    PacketDetail #decoded-row.-no-tree #tree { display: none; }
    """

    def __init__(self, record: Record, source: DetailSource | None = None,
                 tz: tzinfo | None = None, decoder: RecordDecoder | None = None) -> None:
        super().__init__()
        self.record = record
        self.source = source
        self.tz = tz
        self._decoder = decoder
        self.decoded: Decoded | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-body"):
            yield Static(id="fields")
            yield Static("", id="decoded-heading", classes="heading payload", markup=False)
            with Container(id="decoded-row", classes="payload"):
                yield FieldTree(id="tree")
                with VerticalScroll(id="hex-box"):
                    yield HexView(id="hex")
            yield Static("Text", classes="heading payload")
            yield Static(id="text", classes="payload")

    def on_mount(self) -> None:
        self.show(self.record)

    @property
    def decoder(self) -> RecordDecoder:
        if self._decoder is None:
            from udpscope.logdecode import RecordDecoder

            self._decoder = RecordDecoder()
        return self._decoder

    def show(self, record: Record) -> None:
        """Show ``record`` (the view's widgets are reused: stepping lays nothing out anew)."""
        self.record = record
        layout = detail_layout(self.app.size.width, self.app.size.height)
        self.set_class(layout.full, "-full")
        body = self.query_one("#detail-body", VerticalScroll)
        kind = {"rx": "Received datagram", "tx": "Sent datagram", "event": "Event"}.get(record.kind, "")
        is_event = record.kind == "event"
        decoded = None if is_event or record.error else self.decoder.decode(record)
        self.decoded = decoded
        proto = decoded.proto if decoded is not None and decoded.proto != "data" else None
        body.border_title = f"{kind} #{record.seq}" + (f" · {proto}" if proto else "")
        keys = "esc close · ←/→ prev/next"
        if proto:
            keys += " · ↑/↓ fields · tab scroll"
        if not is_event:
            keys += " · c/x copy text/hex · s save"
        body.border_subtitle = keys
        fields = detail_fields(record, self.tz)
        width = max(len(k) for k, _ in fields)
        self.query_one("#fields", Static).update(Content("\n").join(
            Content.assemble((k.ljust(width) + "  ", "bold"), v) for k, v in fields))
        for widget in self.query(".payload"):
            widget.display = not is_event
        if is_event:
            body.scroll_home(animate=False)
            return
        self.query_one("#text", Static).update(safe_content(record.payload, TEXT_LIMIT))
        self._show_decoded(record, decoded if proto else None, layout, len(fields))

    def _show_decoded(self, record: Record, decoded: Decoded | None, layout: DetailLayout,
                      fields: int) -> None:
        heading = self.query_one("#decoded-heading", Static)
        row = self.query_one("#decoded-row", Container)
        tree = self.query_one(FieldTree)
        box = self.query_one("#hex-box", VerticalScroll)
        hexview = self.query_one(HexView)
        hexview.show_payload(record.payload, layout.bytes_per_line, HEX_LIMIT)
        dump_lines = hexview.line_count
        row.set_class(not layout.side_by_side, "-stacked")
        box.styles.width = line_width(layout.bytes_per_line) + 2 if layout.side_by_side else None
        row.set_class(decoded is None, "-no-tree")
        heading.set_class(decoded is not None and decoded.partial, "-partial")
        body = self.query_one("#detail-body", VerticalScroll)
        if decoded is None:
            heading.update(Content("Hex"))
            box.styles.height = min(dump_lines, max(4, layout.inner_height - fields - 3))
            tree.clear()
            body.scroll_home(animate=False)
            return
        what = "Decoded (partial)" if decoded.partial else "Decoded"
        title = f"{what} · {decoded.proto}: {safe_text(decoded.summary, 300)}"
        heading.update(Content(fit(title, layout.inner_width).rstrip()))
        tree.show_decoded(decoded, layout.tree_width)
        nodes = sum(1 for _ in decoded.walk()) + int(decoded.partial)
        if layout.side_by_side:
            # Beside each other, as tall as the screen leaves below the fields.
            room = max(6, layout.inner_height - fields - 2)
            tree.styles.height = room
            box.styles.height = min(room, dump_lines)
        else:
            # Stacked: the tree above the dump, both on one screen once scrolled to them.
            room = max(6, layout.inner_height - 2)
            tree_rows = max(2, min(nodes, (room + 1) // 2))
            tree.styles.height = tree_rows
            box.styles.height = max(2, min(dump_lines, room - tree_rows))
        self.set_focus(tree)
        if layout.side_by_side:
            body.scroll_home(animate=False)
        else:
            self.call_after_refresh(body.scroll_to_widget, heading, top=True, animate=False)
        first = decoded.fields[0] if decoded.fields else None
        if first is not None:
            self._highlight(first)

    def _highlight(self, f: Field | None) -> None:
        hexview = self.query_one(HexView)
        if f is None:
            hexview.set_highlight(0, 0, HIGHLIGHT)
            return
        line = hexview.set_highlight(f.start, f.end, HIGHLIGHT)
        if line is None:
            return
        box = self.query_one("#hex-box", VerticalScroll)
        if not box.scroll_y <= line < box.scroll_y + max(1, box.size.height):
            box.scroll_to(y=line, animate=False, immediate=True)

    @on(Tree.NodeHighlighted, "#tree")
    def _field_highlighted(self, event: Tree.NodeHighlighted[Field | None]) -> None:
        self._highlight(event.node.data)

    @on(HexView.ByteClicked)
    def _byte_clicked(self, event: HexView.ByteClicked) -> None:
        if self.decoded is None:
            return
        path = self.decoded.fields_at(event.offset)
        if path:
            tree = self.query_one(FieldTree)
            tree.select_field(path[-1])
            self.set_focus(tree)

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

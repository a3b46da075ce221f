"""A decoded datagram as a tree of fields, and a hex dump that lights up the selected field's bytes.

Both show text that came off the wire (names a decoder read, values, the problem of a partial
decode): every label goes through the sanitiser and is cut to the width with "…", and the tree
never parses markup (Textual's Tree would read a `str` label as markup). The hex dump's text is
`hexdump_lines`' (printable ASCII only); the highlight is a style over the spans `byte_spans`
computes, so moving through the tree costs a restyle, not a new dump. A click on a byte in the
dump selects the innermost field covering it (`Decoded.fields_at`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.content import Content
from textual.events import Click
from textual.message import Message
from textual.widgets import Static, Tree

from udpscope.hexdump import byte_at, byte_spans, hexdump_lines, line_width
from udpscope.textsafe import safe_text
from udpscope.tui.logcolumns import fit

if TYPE_CHECKING:
    from textual.widgets._tree import TreeNode

    from udpscope.decode import Decoded, Field

__all__ = ["FieldTree", "HexView", "MAX_NODES"]

MAX_NODES = 2000  # a tree beyond this says how many fields it left out
GUIDE = 4  # cells of tree guide per level


class FieldTree(Tree["Field | None"]):
    """The fields of a `Decoded`, all expanded; its cursor's field is `selected_field`."""

    DEFAULT_CSS = """
    FieldTree { background: $panel; padding: 0; scrollbar-size-vertical: 1; }
    FieldTree:focus { background-tint: $foreground 4%; }
    """

    def __init__(self, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__("fields", id=id)
        self.show_root = False
        self.guide_depth = GUIDE
        self.decoded: Decoded | None = None

    def process_label(self, label: str | Text) -> Text:  # never markup, unlike Tree's
        return label if isinstance(label, Text) else Text(label, no_wrap=True)

    def show_decoded(self, decoded: Decoded, width: int) -> None:
        """Show `decoded`'s fields, labels cut to `width` cells (guides included)."""
        self.decoded = decoded
        self.clear()
        nodes = 0
        stack: list[tuple[TreeNode[Field | None], tuple[Field, ...], int]] = [
            (self.root, decoded.fields, 0)]
        left_out = 0
        while stack:
            parent, fields, depth = stack.pop()
            for f in fields:
                if nodes >= MAX_NODES:
                    left_out += 1
                    continue
                nodes += 1
                label = field_label(f, width - GUIDE * (depth + 1))
                if f.children:
                    node = parent.add(label, f, expand=True)
                    stack.append((node, f.children, depth + 1))
                else:
                    parent.add_leaf(label, f)
        if left_out:
            self.root.add_leaf(Text(f"… {left_out} more fields not shown", style="italic"), None)
        if decoded.partial:
            problem = safe_text(decoded.problem or "malformed", 300)
            self.root.add_leaf(Text(fit(f"⚠ partial decode: {problem}", width - GUIDE).rstrip(),
                                    style="bold yellow"), None)
        self.cursor_line = 0

    @property
    def selected_field(self) -> Field | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def select_field(self, target: Field) -> bool:
        """Move the cursor to `target`'s node (expanding its parents); False if not shown."""
        def find(node: TreeNode[Field | None]) -> TreeNode[Field | None] | None:
            for child in node.children:
                if child.data is target:
                    return child
                found = find(child)
                if found is not None:
                    return found
            return None

        node = find(self.root)
        if node is None:
            return False
        self.move_cursor(node)
        return True


def field_label(f: Field, width: int) -> Text:
    """`name: value` (sanitised; cut with "…" to `width` cells); a note without bytes dimmer."""
    name = safe_text(f.name, 80)
    value = safe_text(f.value, 400)
    room = max(4, width)
    text = fit(f"{name}: {value}" if value else name, room).rstrip()
    label = Text(text, no_wrap=True)
    label.stylize("bold", 0, min(len(text), len(name)))
    if f.end == f.start:
        label.stylize("dim")
    return label


class HexView(Static):
    """`hexdump_lines` of a payload, with one byte range highlighted."""

    DEFAULT_CSS = """
    HexView { width: auto; height: auto; color: $foreground; }
    """

    class ByteClicked(Message):
        """A byte of the dump was clicked (its offset in the payload)."""

        def __init__(self, offset: int) -> None:
            super().__init__()
            self.offset = offset

    def __init__(self, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__("", id=id, markup=False)
        self.data = b""
        self.total = 0
        self.bytes_per_line = 16
        self.highlight: tuple[int, int] | None = None
        self._text = ""
        self._line_len = line_width(16)
        self.line_count = 0
        self.shown = Content("")  # what is drawn now (the dump, with the highlight's spans)

    def show_payload(self, payload: bytes, bytes_per_line: int, limit: int) -> None:
        """Dump `payload` (its first `limit` bytes, then how many were left out)."""
        self.data = payload[:limit]
        self.total = len(payload)
        self.bytes_per_line = bytes_per_line
        self._line_len = line_width(bytes_per_line)
        lines = hexdump_lines(self.data, bytes_per_line)
        if len(payload) > limit:
            lines.append(f"…(+{len(payload) - limit} bytes)")
        self._text = "\n".join(lines) if lines else "(empty)"
        self.line_count = max(1, len(lines))
        self.highlight = None
        self._draw(Content(self._text))

    def _draw(self, content: Content) -> None:
        self.shown = content
        self.update(content)

    def set_highlight(self, start: int, end: int, style: str) -> int | None:
        """Highlight bytes [start, end) (clamped to what is dumped) in `style`; returns the
        first line they are on (None when nothing is highlighted)."""
        end = min(end, len(self.data))
        if end <= start:
            self.highlight = None
            self._draw(Content(self._text))
            return None
        self.highlight = (start, end)
        content = Content(self._text)
        step = self._line_len + 1   # every line but the last is full, then "\n"
        for line, a, b in byte_spans(start, end, self.bytes_per_line):
            content = content.stylize(style, line * step + a, line * step + b)
        self._draw(content)
        return start // self.bytes_per_line

    def on_click(self, event: Click) -> None:
        offset = byte_at(event.y, event.x, self.bytes_per_line)
        if offset is not None and offset < len(self.data):
            event.stop()
            self.post_message(self.ByteClicked(offset))

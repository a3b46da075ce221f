"""The live log: a Line-API view over the capture ring that formats only the rows on screen.

Feeding a Textual widget one call per datagram freezes the UI at a few thousand datagrams a
second (measured: DataTable/RichLog ~20 s per 100k rows). Here the app's timer calls `pull()`,
which shares the capture ring's new chunks (O(new batches), nothing built per datagram) with the
view's own bounded `Ring`, or with a filter copies the matching records; `render_line` builds and
formats just the visible rows (log_rows.py, through the sanitiser) and caches the result per
(record, width). Columns follow the width (logcolumns.py): the payload preview is never starved
and every cut ends in "…".

Following: new rows keep the view at the bottom until the user scrolls up or moves the cursor
up; then "N new" counts the rows that arrived since, until they jump back (End / f). Re-reading
the ring for a new filter adds no "new" rows. Once the log is full, rows are held rather than
added while not following: under a flood the whole ring turns over in a fraction of a second,
and adding would evict the very rows being read. Pausing stops pulling; records that arrive
meanwhile stay in the capture ring (until evicted) and appear on resume.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from datetime import tzinfo

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.cache import LRUCache
from textual.events import Click, Resize
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive, var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from udpscope.capture import Capture
from udpscope.logdecode import RecordDecoder
from udpscope.logfilter import LogFilter
from udpscope.records import Record
from udpscope.ring import Ring, RxChunk
from udpscope.textsafe import safe_text
from udpscope.tui.logcolumns import LogColumns, fit, plan_columns
from udpscope.tui.widgets.log_rows import RowFormatter

Predicate = Callable[[Record], bool]  # a LogFilter, or any test of one record

__all__ = ["MessageLog", "Predicate"]

# Under a flood every pull replaces every visible row, so each pull is a full redraw of the log;
# redrawing it more often than this shows nothing readable and takes the CPU from the receiver.
# Pulls that bring less than a screenful (ordinary traffic) are never held back.
FLOOD_FPS = 8


class MessageLog(ScrollView, can_focus=True):
    """Scrollable, filterable view of capture records, rendered line by line."""

    COMPONENT_CLASSES = {
        "message-log--time",
        "message-log--rx",
        "message-log--tx",
        "message-log--event",
        "message-log--error",
        "message-log--escape",
        "message-log--meta",
        "message-log--cursor",
        "message-log--hint",
        "message-log--proto",
        "message-log--malformed",
    }

    DEFAULT_CSS = """
    MessageLog {
        background: $surface;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    MessageLog > .message-log--time { color: $text-muted; }
    MessageLog > .message-log--rx { color: $success; }
    MessageLog > .message-log--tx { color: $primary; }
    MessageLog > .message-log--event { color: $secondary; }
    MessageLog > .message-log--error { color: $error; text-style: bold; }
    MessageLog > .message-log--escape { color: $warning; text-style: bold; }
    MessageLog > .message-log--meta { color: $accent; }
    MessageLog > .message-log--hint { color: $text-muted; text-style: italic; }
    MessageLog > .message-log--proto { color: $accent; }
    MessageLog > .message-log--malformed { color: $warning; }
    /* The selected row: drawn over every segment's own colours (see _format), so it shows in
       every theme; dimmer while the log does not have the focus. */
    MessageLog > .message-log--cursor {
        background: $block-cursor-blurred-background;
        text-style: bold;
    }
    MessageLog:focus > .message-log--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    """

    BINDINGS = [
        # Kept out of the footer (which must show the pane keys even at 80 columns); the log's
        # status line and the help screen name them.
        Binding("enter", "open", "Detail", show=False, id="log-detail"),
        Binding("f", "follow", "Follow", show=False, id="log-follow"),
        Binding("space", "pause", "Pause", show=False, id="log-pause"),
        Binding("ctrl+l", "clear", "Clear", show=False, id="log-clear"),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "top", "First row", show=False),
        Binding("end", "bottom", "Last row and follow", show=False, id="log-end"),
    ]

    # State the rows are not drawn from (the status line shows it): changing it repaints
    # nothing here, so a pause under a flood redraws one status line, not every row.
    following: var[bool] = var(True)
    paused: var[bool] = var(False)
    new_count: var[int] = var(0)
    filter_text: reactive[str] = reactive("")
    columns: reactive[LogColumns] = reactive(LogColumns, always_update=False)

    class RecordSelected(Message):
        """A row was chosen (Enter or click): show its detail."""

        def __init__(self, record: Record) -> None:
            super().__init__()
            self.record = record

    def __init__(
        self,
        capture: Capture,
        tz: tzinfo | None = None,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.capture = capture
        self.tz = tz
        self.rows = Ring(capture.ring_size, capture.ring_bytes)  # bounded as the capture ring
        self.last_seq = 0
        self.cleared_at = 0  # the capture's seq when the log was last cleared ("save log: all")
        self.cursor: int | None = None
        self.predicate: Predicate | None = None
        self.held = False  # rows wait in the capture ring while the user reads a full log
        self._cache: LRUCache[tuple[int, int, bool], Strip] = LRUCache(2048)
        self._auto_scroll = False
        self._styles: dict[str, Style] = {}
        # Decodes rows (memoised per record) for the formatter, the detail and proto: filters.
        self.decoder = RecordDecoder(self._local_port, protos_kept=capture.ring_size)
        self.rows_formatter = RowFormatter(self._style, tz, self.decoder)
        self._frame_base: Style | None = None
        self._frame_width = 0
        self._last_big_pull = -1e9
        self._style_key: tuple[Style, ...] | None = None
        self._counted_seq = 0  # while held: records up to here are already in new_count
        self._styles_dirty = True

    # ---- data ------------------------------------------------------------------------------

    def _local_port(self, sock_id: int) -> int | None:
        entry = self.capture.sockets.get(sock_id)
        local = entry.local() if entry is not None else None
        return local[1] if local is not None else None

    def set_filter(self, predicate: Predicate | None, text: str = "") -> None:
        """Apply a filter to the whole ring (O(ring) once, not per tick).

        Re-reading the ring shows the newest rows that match, following; none of them counts
        as "new" (they did not arrive, they were re-read).
        """
        self.predicate = predicate
        self.rows.clear()
        self.cursor = None
        self.last_seq = max(0, self.capture.seq - len(self.capture.ring))
        self._cache.clear()
        self.following = True
        self.held = False
        self.pull(force=True)
        self._scroll_to_end()
        self.filter_text = text if predicate is not None else ""

    def pull(self, force: bool = False) -> int:
        """Copy new records from the capture ring; returns how many rows were added."""
        if self.paused and not force:
            return 0
        pending = self.capture.seq - self.last_seq
        if pending <= 0:
            return 0
        if pending >= self.size.height:
            now = time.monotonic()
            if not force and now - self._last_big_pull < 1 / FLOOD_FPS:
                return 0
            self._last_big_pull = now
        if not self.following and not force and self.rows.full:
            # The user is reading further up and the log is full: adding rows would evict the
            # very rows on screen (under a flood the whole ring turns over in a fraction of a
            # second). Hold the view and count what is waiting; End / f catches up.
            self.held = True
            self.new_count += self._count_waiting()
            return 0
        before = len(self.rows)
        if self.predicate is None:
            # Unfiltered: share the capture's chunks; no record is built for rows not on screen.
            added = self.rows.extend_from(self.capture.ring, self.last_seq)
        else:
            added = self._pull_filtered(self.predicate, self.rows)
        self.last_seq = self._counted_seq = self.capture.seq
        self.held = False
        if not added:
            return 0
        overflow = before + added - len(self.rows)
        self._grow(len(self.rows))
        if overflow > 0 and self.cursor is not None:
            self.cursor -= overflow
            if self.cursor < 0:
                self.cursor = None
        if self.following:
            self._scroll_to_end()
        else:
            if overflow > 0:
                self._auto_scroll = True
                try:
                    self.scroll_to(y=max(0, self.scroll_y - overflow), animate=False, immediate=True, force=True)
                finally:
                    self._auto_scroll = False
            self.new_count += added
        self.refresh()
        return added

    def _count_waiting(self) -> int:
        """Rows that arrived (and match the filter) since they were last counted."""
        start = max(self.last_seq, self._counted_seq)
        self._counted_seq = self.capture.seq
        if self.predicate is None:
            return self.capture.seq - start
        counter = Ring(self.capture.ring_size)
        saved, self.last_seq = self.last_seq, start
        try:
            return self._pull_filtered(self.predicate, counter)
        finally:
            self.last_seq = saved

    def _pull_filtered(self, predicate: Predicate, rows: Ring) -> int:
        """Add the new records that pass; whole chunks are judged at once (see logfilter.py)."""
        if not isinstance(predicate, LogFilter):
            new = [r for r in self.capture.records_since(self.last_seq) if predicate(r)]
            rows.extend(new)
            return len(new)
        added = 0
        for chunk in self.capture.ring.chunks_after(self.last_seq):
            if type(chunk) is RxChunk:
                picked = predicate.select(chunk)
                if isinstance(picked, RxChunk):
                    rows.add_chunk(picked)
                    added += picked.n
                else:
                    rows.extend(picked)
                    added += len(picked)
            elif predicate(chunk):
                rows.append(chunk)
                added += 1
        return added

    def clear(self) -> None:
        """Empty the view (the capture ring and the counters stay)."""
        self.rows.clear()
        self.cursor = None
        self.last_seq = self._counted_seq = self.cleared_at = self.capture.seq
        self.new_count = 0
        self.held = False
        self._cache.clear()
        self.virtual_size = Size(self.size.width, 0)
        self.following = True
        self.refresh()

    @property
    def selected(self) -> Record | None:
        """The record under the cursor, if any."""
        if self.cursor is None or not (0 <= self.cursor < len(self.rows)):
            return None
        return self.rows[self.cursor]

    def index_of(self, record: Record) -> int | None:
        """Where ``record`` is among the rows now (rows are in sequence order), or None."""
        rows = self.rows
        n = len(rows)
        i = bisect.bisect_left(range(n), record.seq, key=rows.seq_at)
        return i if i < n and rows.seq_at(i) == record.seq else None

    def select(self, index: int) -> Record:
        """Select row ``index``, in view, and stop following (as picking a row by key does)."""
        self._move_cursor(index)
        self.following = False
        return self.rows[index]

    def step(self, record: Record, delta: int) -> Record | None:
        """The row ``delta`` rows from ``record``, selected (the detail view's prev / next)."""
        index = self.index_of(record)
        if index is None:
            return None
        target = index + delta
        if not 0 <= target < len(self.rows):
            return None
        return self.select(target)

    # ---- scrolling / follow ----------------------------------------------------------------

    def _scroll_to_end(self) -> None:
        self._auto_scroll = True
        try:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        finally:
            self._auto_scroll = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._auto_scroll:
            return
        if new_value < old_value and new_value < self.max_scroll_y:
            self.following = False
        elif new_value >= self.max_scroll_y and not self.following:
            self.following = True

    def watch_following(self, value: bool) -> None:
        if value:
            self.new_count = 0

    def watch_paused(self, value: bool) -> None:
        if not value:
            self.pull()

    def on_resize(self, event: Resize) -> None:
        self._cache.clear()
        self._plan()
        self.virtual_size = Size(self.size.width, len(self.rows))
        if self.following:
            self.call_after_refresh(self._scroll_to_end)

    def _plan(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        formatter = self.rows_formatter
        self.columns = plan_columns(width, sock_width=formatter.sock_width, meta=formatter.meta_seen)

    def watch_columns(self) -> None:
        self._cache.clear()
        self.refresh()

    # ---- actions ---------------------------------------------------------------------------

    def action_follow(self) -> None:
        self.following = True
        self._scroll_to_end()

    def action_bottom(self) -> None:
        if self.rows:
            self._move_cursor(len(self.rows) - 1)
        self.action_follow()

    def action_top(self) -> None:
        if self.rows:
            self._move_cursor(0)

    def action_pause(self) -> None:
        self.paused = not self.paused

    def action_clear(self) -> None:
        self.clear()

    def action_cursor(self, delta: int) -> None:
        if not self.rows:
            return
        if self.cursor is None:
            start = int(self.scroll_y) + self.scrollable_content_region.height - 1
            target = min(start, len(self.rows) - 1) if delta < 0 else int(self.scroll_y)
        else:
            target = self.cursor + delta
        index = max(0, min(len(self.rows) - 1, target))
        self._move_cursor(index)
        if delta < 0 or index < len(self.rows) - 1:
            self.following = False  # a row picked under a flood must not scroll away

    def action_page(self, direction: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        self.action_cursor(direction * height)

    def open_target(self) -> Record | None:
        """The row Enter opens: the selected one, else the newest (then selected)."""
        record = self.selected
        if record is None and self.rows:  # nothing selected (following): the newest row
            self._move_cursor(len(self.rows) - 1)
            record = self.rows[-1]
        return record

    def action_open(self) -> None:
        record = self.open_target()
        if record is not None:
            self.post_message(self.RecordSelected(record))

    def _move_cursor(self, index: int) -> None:
        old = self.cursor
        self.cursor = index
        height = self.scrollable_content_region.height
        top = int(self.scroll_y)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True, force=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True, force=True)
        elif old is not None and top <= old < top + height:
            # Nothing scrolled: only the row left and the row reached change. Under a flood a
            # whole-log repaint per key press took most of the time to its frame.
            width = self.scrollable_content_region.width
            self.refresh(Region(0, old - top, width, 1), Region(0, index - top, width, 1))
            return
        self.refresh()

    def on_click(self, event: Click) -> None:
        index = int(self.scroll_y) + event.y
        if 0 <= index < len(self.rows):
            self._move_cursor(index)
            self.post_message(self.RecordSelected(self.rows[index]))

    # ---- rendering -------------------------------------------------------------------------

    def _grow(self, height: int) -> None:
        """Set the row count. Assigning `virtual_size` lays out the whole screen; while the
        scrollbar stays shown (its gutter is stable) only the scrollbar needs to know."""
        size = Size(self.size.width, height)
        if size == self.virtual_size:
            return
        view = self.scrollable_content_region.height
        if self.virtual_size.height > view and height > view and size.width == self.virtual_size.width:
            self.set_reactive(MessageLog.virtual_size, size)
            self._scroll_update(size)
            self.refresh()
        else:
            self.virtual_size = size

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles_dirty = True

    def _check_styles(self) -> None:
        """Drop cached rows only if a style they use really changed (a focus change changes
        the cursor's only; clearing on every style update redrew all rows)."""
        self._styles_dirty = False
        key = (self.rich_style, *(self.get_component_rich_style(name)
                                  for name in sorted(self.COMPONENT_CLASSES)))
        if key != self._style_key:
            self._style_key = key
            self._styles.clear()
            self.rows_formatter.styles_changed()
            self._cache.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(f"message-log--{name}")
        return style

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._styles_dirty:
            self._check_styles()
        # Resolve the widget's base style and width once per frame, not once per row.
        self._frame_base = self.rich_style
        self._frame_width = self.scrollable_content_region.width or self.size.width
        try:
            return super().render_lines(crop)
        finally:
            self._frame_base = None

    def render_line(self, y: int) -> Strip:
        base = self._frame_base
        if base is None:
            if self._styles_dirty:
                self._check_styles()
            base = self.rich_style
            width = self.scrollable_content_region.width or self.size.width
        else:
            width = self._frame_width
        index = int(self.scroll_y) + y
        if index >= len(self.rows):
            if index == 0 and self.predicate is not None:
                hint = fit(f"no rows match {safe_text(self.filter_text, 60)} (edit the filter: /)",
                           width)
                return Strip([Segment(hint, base + self._style("hint"))]).apply_offsets(0, index)
            return Strip.blank(width, base)
        selected = index == self.cursor
        key = (self.rows.seq_at(index), width, selected)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._format(self.rows[index], width, base, selected)
            self._cache[key] = strip
        return strip.apply_offsets(0, index)

    def format_time(self, t: float, width: int = 12) -> str:
        """A row's time as the time column shows it (12: with milliseconds, 8: without)."""
        return self.rows_formatter.format_time(t, width)

    def _format(self, r: Record, width: int, base: Style, selected: bool = False) -> Strip:
        strip, reshape = self.rows_formatter.format(r, self.columns, width, base, selected)
        if reshape:  # a wider socket number, or the first multicast row: plan the columns again
            self.call_later(self._plan)
        return strip

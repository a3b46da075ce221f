"""Formatting one record as one row of the live log, in the columns the width allows.

Kept apart from the widget (scrolling, following, pulling): this is the per-row work, done only
for rows on screen and cached by the widget. Widths come from the column plan (logcolumns.py),
so a row is assembled without measuring it; untrusted text goes through the sanitiser and every
cut ends in "…". The selected row's style is applied over each segment's own colours.

A datagram the decoders recognise shows its protocol in the protocol column and its one-line
summary as the preview (a partial decode's summary ends in "[malformed: …]", styled apart);
anything else ("data") shows its payload, as before. The decode is the `RecordDecoder`'s,
memoised per record, made here -- that is, only for rows on screen.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, tzinfo

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from udpscope.addresses import format_endpoint, is_multicast
from udpscope.logdecode import RecordDecoder
from udpscope.records import Record
from udpscope.textsafe import safe_text
from udpscope.tui.logcolumns import ELLIPSIS, LogColumns, fit
from udpscope.tui.safe import safe_rich_segments

__all__ = ["RowFormatter"]

DIRECTION = {"rx": "rx", "tx": "tx"}


@functools.lru_cache(maxsize=1024)
def _worth_showing(destination: str) -> bool:
    """Group/interface/TTL only for multicast and broadcast (unicast: see the detail).

    For ordinary unicast they repeat the socket's own address on every row.
    """
    return is_multicast(destination) or (destination.endswith(".255") and ":" not in destination)


def _cells(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def _fit_segments(segments: list[Segment], width: int, style: Style) -> list[Segment]:
    """``segments`` in exactly ``width`` cells: padded, or cut with "…" in ``style``."""
    if width <= 0:
        return []
    total = sum(_cells(seg.text) for seg in segments)
    if total <= width:
        return [*segments, Segment(" " * (width - total), style)] if total < width else segments
    out: list[Segment] = []
    used = 0
    room_for_text = width - 1
    for seg in segments:
        n = _cells(seg.text)
        if used + n <= room_for_text:
            out.append(seg)
            used += n
            continue
        room = room_for_text - used
        if room > 0:
            text = seg.text[:room] if seg.text.isascii() else set_cell_size(seg.text, room)
            out.append(Segment(text, seg.style))
        break
    out.append(Segment(ELLIPSIS, style))
    return out


class RowFormatter:
    """Records to strips, with the widget's component styles (looked up by name)."""

    def __init__(self, style: Callable[[str], Style], tz: tzinfo | None = None,
                 decoder: RecordDecoder | None = None) -> None:
        self.style = style
        self.tz = tz
        self.decoder = decoder or RecordDecoder()
        self.sock_width = 3  # cells of the socket column, grown as ids grow
        self.meta_seen = False  # a multicast/broadcast row has been shown: offer its columns
        self._mixed: dict[tuple[Style, str], Style] = {}

    def styles_changed(self) -> None:
        """The widget's styles changed (a theme): mixed styles are made again."""
        self._mixed.clear()

    def format_time(self, t: float, width: int = 12) -> str:
        """``t`` as the time column shows it (12 cells: with milliseconds, 8: without)."""
        text = datetime.fromtimestamp(t, self.tz).strftime("%H:%M:%S.%f")
        return text[:-3] if width >= 12 else text[:8]

    def _note_row_shape(self, record: Record, meta: bool) -> bool:
        """Columns depend on what has been seen: a wider socket number, multicast metadata.
        Returns True when that changed (the columns should be planned again)."""
        width = len(f"#{record.sock_id}")
        if width > self.sock_width or (meta and not self.meta_seen):
            self.sock_width = max(self.sock_width, width)
            self.meta_seen = self.meta_seen or meta
            return True
        return False

    def _mix(self, base: Style, name: str) -> Style:
        """``base`` + a component style, computed once per pair (rows repeat a handful)."""
        key = (base, name)
        style = self._mixed.get(key)
        if style is None:
            style = self._mixed[key] = base + self.style(name)
        return style

    def format(self, r: Record, c: LogColumns, width: int, base: Style,
               selected: bool = False) -> tuple[Strip, bool]:
        """The row for ``r`` in ``width`` cells laid out as ``c``, over the base style.

        Returns:
            (the strip, whether the columns should be planned again after this row).
        """
        # Column widths are known from the plan: the row is assembled without measuring it.
        segs: list[Segment] = []
        used = c.sock + 1
        if c.time:
            segs.append(Segment(self.format_time(r.time, c.time).ljust(c.time) + " ", self._mix(base, "time")))
            used += c.time + 1
        segs.append(Segment(fit(f"#{r.sock_id}", c.sock) + " ", base))
        meta = r.kind != "event" and r.destination is not None and _worth_showing(r.destination)
        reshape = self._note_row_shape(r, meta)
        used += c.dir + 1
        if r.kind == "event":
            err = r.event == "error"
            style = self._mix(base, "error" if err else "event")
            segs.append(Segment(("!!" if err else "ev") + " ", style))
            rest = max(0, width - used)  # columns planned for a wider log than this one
            body = [Segment(f"{r.event} ", style)]
            if r.text:
                body += safe_rich_segments(r.text, rest * 4 + 16, style, style + self.style("escape"))
            segs += _fit_segments(body, rest, style)
        else:
            failed = r.error is not None
            dstyle = self._mix(base, "error" if failed else r.kind)
            segs.append(Segment(DIRECTION.get(r.kind, r.kind) + " ", dstyle))
            peer = safe_text(format_endpoint(r.address, r.port), 64)
            segs.append(Segment(fit(peer, c.peer) + " ", base))
            used += c.peer + 1
            if c.size:
                segs.append(Segment(fit(str(r.size), c.size, right=True) + " ", base))
                used += c.size + 1
            if c.meta:
                mstyle = self._mix(base, "meta")
                shown = meta and r.destination is not None
                segs.append(Segment(fit(safe_text(r.destination or "", 48) if shown else "", c.group) + " ", mstyle))
                segs.append(Segment(fit(safe_text(r.interface or "", 24) if shown else "", c.iface) + " ", mstyle))
                ttl = str(r.ttl) if shown and r.ttl is not None else ""
                segs.append(Segment(fit(ttl, c.ttl, right=True) + " ", mstyle))
                used += c.group + c.iface + c.ttl + 3
            decoded = None if failed else self.decoder.decode(r)
            proto = decoded.proto if decoded is not None and decoded.proto != "data" else ""
            if c.proto:
                segs.append(Segment(fit(proto, c.proto) + " ", self._mix(base, "proto")))
                used += c.proto + 1
            left = max(0, width - used)
            if failed or decoded is None or not proto:
                preview = self._preview(r, left, base, dstyle, failed)
            else:
                preview = self._summary(decoded.summary, decoded.partial, left, base)
            segs += _fit_segments(preview, left, base)
        if selected:
            # Over each segment's own colours (apply_style would put it under them, unseen).
            segs = list(Segment.apply_style(segs, post_style=self.style("cursor")))
        # Runs of one style as one segment: every later step (filters, offsets) is per segment.
        return Strip(Segment.simplify(segs), width), reshape

    def _preview(self, r: Record, width: int, base: Style, dstyle: Style, failed: bool) -> list[Segment]:
        limit = width * 4 + 16  # bytes: enough to fill the cells, whatever the encoding
        if failed:
            return [Segment("✗ ", dstyle),
                    *safe_rich_segments(r.error or "", limit, dstyle, dstyle + self.style("escape"))]
        return safe_rich_segments(r.payload, limit, base, base + self.style("escape"))

    def _summary(self, summary: str, partial: bool, width: int, base: Style) -> list[Segment]:
        """A decoded summary (raw text from the datagram: sanitised); a partial decode's in
        the malformed style."""
        style = self._mix(base, "malformed") if partial else base
        return safe_rich_segments(summary, width * 4 + 16, style, style + self.style("escape"))

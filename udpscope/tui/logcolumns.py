"""Which columns of the live log fit a given width, and text cut to a width with a visible "…".

At 80 columns the log used to show time, socket, direction and a 22-column peer, and no payload
at all; multicast rows spent what was left on metadata. Columns now have priorities: the payload
preview keeps at least PREVIEW_MIN columns, the multicast metadata (group, interface, TTL) has
narrow columns of its own that go first, then the time loses its milliseconds, the peer narrows
(long ones end in "…"), the size goes, then the time, and last the protocol (a narrow column
that says what the preview's summary is about) -- except that while multicast metadata is
offered, the protocol column gives way to it first. Plain functions of the width, no Textual: the
log widget and its header use the same plan, and tests check it directly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rich.cells import cell_len

ELLIPSIS = "…"
PREVIEW_MIN = 20  # the payload is why the log is read: never fewer columns than this
PEER_FULL = 21  # 255.255.255.255:65535
PEER_NARROW = 15  # 127.0.0.1:50067
GROUP_W = 15
IFACE_W = 6
TTL_W = 3
PROTO_W = 6  # mpegts, syslog


@dataclass(frozen=True)
class LogColumns:
    """Widths of each column (0 = not shown), in display cells; one space between columns."""

    time: int = 12
    sock: int = 3
    dir: int = 2
    peer: int = PEER_FULL
    size: int = 5
    group: int = 0
    iface: int = 0
    ttl: int = 0
    proto: int = 0
    preview: int = PREVIEW_MIN

    @property
    def meta(self) -> bool:
        return self.group > 0

    def header(self) -> str:
        """The header line, aligned with the rows."""
        cells = [("time", self.time, False), ("#", self.sock, False), ("", self.dir, False),
                 ("peer", self.peer, False), ("size", self.size, True), ("group", self.group, False),
                 ("iface", self.iface, False), ("ttl", self.ttl, True),
                 ("proto", self.proto, False)]
        out = "".join(fit(name, width, right=right) + " " for name, width, right in cells if width)
        return out + "preview"


def _fixed(c: LogColumns) -> int:
    widths = (c.time, c.sock, c.dir, c.peer, c.size, c.group, c.iface, c.ttl, c.proto)
    return sum(w + 1 for w in widths if w)


def plan_columns(width: int, *, sock_width: int = 3, meta: bool = False) -> LogColumns:
    """The richest set of columns that leaves the preview at least PREVIEW_MIN cells.

    Args:
        width: Cells available for a row.
        sock_width: Cells of the socket column ("#1" .. "#123").
        meta: Whether multicast metadata has been seen (its columns are then offered first).
    """
    steps = []
    p = PROTO_W
    if meta:
        # Multicast seen: its group, interface and TTL outrank the protocol column (the preview
        # still carries the decoded summary).
        steps.append(LogColumns(sock=sock_width, group=GROUP_W, iface=IFACE_W, ttl=TTL_W, proto=p))
        steps.append(LogColumns(sock=sock_width, group=GROUP_W, iface=IFACE_W, ttl=TTL_W))
    steps += [
        LogColumns(sock=sock_width, proto=p),
        LogColumns(time=8, sock=sock_width, proto=p),
        LogColumns(time=8, sock=sock_width, peer=PEER_NARROW, proto=p),
        LogColumns(time=8, sock=sock_width, peer=PEER_NARROW, size=0, proto=p),
        LogColumns(time=0, sock=sock_width, peer=PEER_NARROW, size=0, proto=p),
        LogColumns(time=0, sock=sock_width, peer=PEER_NARROW, size=0),
    ]
    for plan in steps:
        left = width - _fixed(plan)
        if left >= PREVIEW_MIN:
            return _with_preview(plan, left)
    plan = steps[-1]
    return _with_preview(plan, max(1, width - _fixed(plan)))


def _with_preview(plan: LogColumns, preview: int) -> LogColumns:
    return dataclasses.replace(plan, preview=preview)


def fit(text: str, width: int, *, right: bool = False) -> str:
    """``text`` in exactly ``width`` cells: padded, or cut with a final "…" when too long."""
    if width <= 0:
        return ""
    n = len(text) if text.isascii() else cell_len(text)
    if n <= width:
        pad = " " * (width - n)
        return pad + text if right else text + pad
    out = []
    used = 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS + " " * (width - 1 - used)


def fit_parts(parts: list[tuple[str, int]], width: int, sep: str = "  ·  ") -> str:
    """Join whole ``(text, priority)`` parts that fit ``width`` (lower priority is kept longer).

    Parts keep their order; a part that does not fit is left out whole. If even the most
    important part alone is too wide, it is cut with "…".
    """
    chosen: set[int] = set()
    used = 0
    for index in sorted(range(len(parts)), key=lambda i: (parts[i][1], i)):
        need = cell_len(parts[index][0]) + (cell_len(sep) if chosen else 0)
        if used + need <= width:
            chosen.add(index)
            used += need
        elif not chosen:
            return fit(parts[index][0], width).rstrip()
    return sep.join(text for i, (text, _) in enumerate(parts) if i in chosen)

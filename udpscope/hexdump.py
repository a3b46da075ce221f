"""Classic ``offset  hex  |ascii|`` dump of untrusted bytes.

Why a module of its own: the TUI detail pane and ``udpscope listen --format hex`` must show the
same thing, and the ASCII column must never let a control byte through -- anything outside
0x20-0x7E is shown as ``.``, so the output is terminal-safe by construction.
"""

from __future__ import annotations

__all__ = ["byte_at", "byte_spans", "hexdump_lines", "line_width"]

# bytes.translate table: printable ASCII stays, everything else becomes "."
_ASCII_COLUMN = bytes(b if 0x20 <= b <= 0x7E else 0x2E for b in range(256))


def hexdump_lines(data: bytes | bytearray | memoryview, width: int = 16) -> list[str]:
    """Lines like ``00000000  68 65 6c 6c 6f 0a              |hello.|`` (``hexdump -C`` style).

    ``width`` bytes per line; when it is a multiple of 8 above 8, an extra space separates
    each group of 8 bytes. The last line is padded so the ASCII column lines up. Empty data
    gives no lines.
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, not {width}")
    data = bytes(data)
    grouped = width > 8 and width % 8 == 0
    hex_width = _hex_width(width)
    lines = []
    for off in range(0, len(data), width):
        chunk = data[off : off + width]
        if grouped:
            hx = "  ".join(chunk[i : i + 8].hex(" ") for i in range(0, len(chunk), 8))
        else:
            hx = chunk.hex(" ")
        ascii_col = chunk.translate(_ASCII_COLUMN).decode("ascii")
        lines.append(f"{off:08x}  {hx:<{hex_width}}  |{ascii_col}|")
    return lines


# ---- where a byte is drawn (a view highlights a field's bytes, or finds the byte clicked) ----

_OFFSET = 10  # "00000000  "


def _grouped(width: int) -> bool:
    return width > 8 and width % 8 == 0


def _hex_width(width: int) -> int:
    return 3 * width - 1 + (width // 8 - 1 if _grouped(width) else 0)


def _hex_col(k: int, width: int) -> int:
    """Column of the first hex digit of the `k`-th byte of a line."""
    return _OFFSET + 3 * k + (k // 8 if _grouped(width) else 0)


def line_width(width: int) -> int:
    """Cells of a full line of `width` bytes (offset, hex, ASCII column with its bars)."""
    return _OFFSET + _hex_width(width) + 3 + width + 1


def byte_spans(start: int, end: int, width: int = 16) -> list[tuple[int, int, int]]:
    """Where bytes [start, end) are drawn by `hexdump_lines(data, width)`: (line, first
    column, column after) in the hex part and in the ASCII column, per line they touch."""
    if width < 1:
        raise ValueError(f"width must be >= 1, not {width}")
    out: list[tuple[int, int, int]] = []
    if end <= start or start < 0:
        return out
    ascii_at = _OFFSET + _hex_width(width) + 3
    for line in range(start // width, (end - 1) // width + 1):
        first = max(start, line * width) - line * width
        last = min(end, (line + 1) * width) - 1 - line * width
        out.append((line, _hex_col(first, width), _hex_col(last, width) + 2))
        out.append((line, ascii_at + first, ascii_at + last + 1))
    return out


def byte_at(line: int, column: int, width: int = 16) -> int | None:
    """The offset of the byte drawn at (`line`, `column`) (hex digits or ASCII character),
    or None for the offset, the gaps and the bars. Past the data's end is the caller's check."""
    if line < 0:
        return None
    ascii_at = _OFFSET + _hex_width(width) + 3
    if ascii_at <= column < ascii_at + width:
        return line * width + column - ascii_at
    for k in range(width):
        at = _hex_col(k, width)
        if at <= column < at + 2:
            return line * width + k
    return None

"""Classic ``offset  hex  |ascii|`` dump of untrusted bytes.

Why a module of its own: the TUI detail pane and ``udpscope listen --format hex`` must show the
same thing, and the ASCII column must never let a control byte through -- anything outside
0x20-0x7E is shown as ``.``, so the output is terminal-safe by construction.
"""

from __future__ import annotations

__all__ = ["hexdump_lines"]

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
    hex_width = 3 * width - 1 + (width // 8 - 1 if grouped else 0)
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

"""Turning untrusted text into something a widget can show without being steered by it.

Every payload byte, hostname, interface name and OS error message passes through
udpscope.textsafe first; the result is handed to widgets as a Content object (never a markup
string), with the visible escapes styled apart from the literal text so `\\n` the escape and
`\\n` typed by a peer are told apart by colour as well as by the backslash escaping.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.content import Content

from udpscope.textsafe import safe_segments

ESCAPE_STYLE = "bold $warning"

__all__ = ["ESCAPE_STYLE", "safe_content", "safe_rich_segments"]


def safe_content(
    data: bytes | str | None, limit: int | None = None, style: str = "", escape_style: str = ESCAPE_STYLE
) -> Content:
    """A Content for untrusted data: sanitised, escapes styled, no markup parsed."""
    if data is None:
        return Content("")
    parts: list[tuple[str, str] | str] = []
    for text, is_escape in safe_segments(data, limit):
        if is_escape:
            parts.append((text, f"{style} {escape_style}".strip()))
        elif style:
            parts.append((text, style))
        else:
            parts.append(text)
    return Content.assemble(*parts)


def safe_rich_segments(
    data: bytes | str, limit: int | None, style: Style, escape_style: Style
) -> list[Segment]:
    """Rich segments for Line-API rendering (the live log)."""
    return [
        Segment(text, escape_style if is_escape else style)
        for text, is_escape in safe_segments(data, limit)
        if text
    ]

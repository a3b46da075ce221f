"""The one sanitiser for untrusted text (payloads, hostnames, interface names, OS error text).

Why this exists: Textual/Rich pass ESC, C1 controls, NUL and DEL straight to the terminal, so a
datagram could retitle the window (OSC 0), write the clipboard (OSC 52), make the terminal type
into the app (CSI 6n), reorder what is shown (bidi overrides) or hide text (zero-width, format
characters). Every view -- TUI and CLI -- runs untrusted text through this module first.

The rules, chosen so that the output is *terminal-safe*, *unambiguous* and *bounded*:

* A character survives literally only if ``str.isprintable()`` is true for it and it is not a
  backslash. Everything else becomes a visible escape. That is exactly Unicode categories
  Cc (C0, DEL, C1), Cf (format: bidi overrides/isolates, zero-width, BOM, soft hyphen, tags),
  Cs (surrogates), Co (private use: the glyph is whatever the font has, often nothing),
  Cn (unassigned in Python's Unicode database: terminals disagree about their width),
  Zl/Zp (line/paragraph separators) and Zs other than U+0020 (NBSP and friends look like a
  space but are not one).
* Escapes: ``\\\\`` for a backslash, ``\\n`` ``\\r`` ``\\t`` ``\\e`` (ESC) by name, other
  code points below U+0080 as ``\\x00``..``\\x7f``, code points from U+0080 as ``\\u0085`` /
  ``\\u202e`` / ``\\U000e0001``. For ``bytes`` input, bytes that are not valid UTF-8 are
  shown as ``\\x80``..``\\xff`` -- distinct from a decoded U+0080, which is ``\\u0080`` -- so
  what is shown reads back to the exact bytes (:func:`unescape`). Hex digits are lowercase.
* Newlines are escaped, so one payload is always one row.
* ``limit`` cuts the input (bytes for ``bytes``, code points for ``str``) and appends a visible
  ``…(+N bytes)`` (``…(+N chars)`` for ``str``) marker. A UTF-8 sequence is never split: the
  cut moves back to the start of a character it would break.

``unescape`` is the exact inverse of ``safe_text`` when no limit cut the text (the marker is
ordinary printable text and cannot be told apart from a payload that contains it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

__all__ = ["is_terminal_safe", "safe_segments", "safe_text", "unescape"]

# Control characters, DEL, C1, backslash and surrogates are found by one cheap regex; anything
# else non-printable (format chars, private use, unassigned, odd spaces) is rare and found by
# str.isprintable() on the literal runs in between -- no 0x110000-entry table to build.
_CHEAP = re.compile("[\x00-\x1f\x7f-\x9f\\\\\ud800-\udfff]+")

_NON_ASCII = re.compile("[^\x00-\x7f]+")

_NAMED = {0x5C: "\\\\", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x1B: "\\e"}
_ASCII_ESC = [_NAMED.get(cp, f"\\x{cp:02x}") for cp in range(0x80)]


def _escape_char(ch: str, from_bytes: bool) -> str:
    cp = ord(ch)
    if cp < 0x80:
        return _ASCII_ESC[cp]
    if from_bytes and 0xDC80 <= cp <= 0xDCFF:
        # surrogateescape: an undecodable byte, not a code point
        return f"\\x{cp - 0xDC00:02x}"
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


class _EscapeTable(dict[int, str]):
    """A str.translate table for the characters _CHEAP matches, per input kind, filled on first
    use of each (building all ~2,100 entries up front was 5 ms of every start)."""

    def __init__(self, from_bytes: bool) -> None:
        super().__init__()
        self.from_bytes = from_bytes

    def __missing__(self, cp: int) -> str:
        escaped = self[cp] = _escape_char(chr(cp), self.from_bytes)
        return escaped


_TABLE_BYTES = _EscapeTable(from_bytes=True)
_TABLE_STR = _EscapeTable(from_bytes=False)


def _escape_run(run: str, from_bytes: bool) -> str:
    return run.translate(_TABLE_BYTES if from_bytes else _TABLE_STR)


def _escape_run_slow(run: str) -> str:
    # only for characters outside _CHEAP, so never an undecodable byte
    return "".join([ch if ch.isprintable() else _escape_char(ch, False) for ch in run])


def _cut_bytes(data: bytes, limit: int) -> int:
    """Index at which to cut ``data`` so that no valid UTF-8 sequence is split."""
    cut = limit
    j = cut
    while j > 0 and cut - j < 3 and (data[j] & 0xC0) == 0x80:
        j -= 1
    if j < cut and data[j] >= 0xC0:
        lead = data[j]
        n = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        if j + n > cut:
            try:
                data[j : j + n].decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                cut = j
    return cut


def _prepare(data: bytes | bytearray | memoryview | str, limit: int | None) -> tuple[str, bool, str | None]:
    """Decode/cut the input: (text, from_bytes, marker or None)."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, not {limit}")
    if isinstance(data, str):
        marker = None
        if limit is not None and len(data) > limit:
            marker = f"…(+{len(data) - limit} chars)"
            data = data[:limit]
        return data, False, marker
    if not isinstance(data, bytes):
        data = bytes(data)
    marker = None
    if limit is not None and len(data) > limit:
        cut = _cut_bytes(data, limit)
        marker = f"…(+{len(data) - cut} bytes)"
        data = data[:cut]
    return data.decode("utf-8", "surrogateescape"), True, marker


def _iter_segments(s: str, from_bytes: bool) -> Iterator[tuple[str, bool]]:
    """Yield (text, is_escape) runs; adjacent runs of one kind may still be separate."""
    pos = 0
    for m in _CHEAP.finditer(s):
        if m.start() > pos:
            yield from _literal_segments(s[pos : m.start()], from_bytes)
        yield _escape_run(m.group(), from_bytes), True
        pos = m.end()
    if pos < len(s):
        yield from _literal_segments(s[pos:], from_bytes)


def _literal_segments(run: str, from_bytes: bool) -> Iterator[tuple[str, bool]]:
    if run.isprintable():
        yield run, False
        return
    buf: list[str] = []
    esc = False
    for ch in run:
        bad = not ch.isprintable()
        if bad != esc and buf:
            yield "".join(buf), esc
            buf = []
        esc = bad
        buf.append(_escape_char(ch, from_bytes) if bad else ch)
    if buf:
        yield "".join(buf), esc


def safe_segments(
    data: bytes | bytearray | memoryview | str, limit: int | None = None
) -> list[tuple[str, bool]]:
    """Split untrusted ``data`` into ``(text, is_escape)`` runs for styled display.

    Every ``text`` is terminal-safe. Escape runs (and the cut marker) have ``is_escape=True``
    so a view can style them differently; adjacent runs of the same kind are merged.
    """
    s, from_bytes, marker = _prepare(data, limit)
    out: list[tuple[str, bool]] = []
    for text, esc in _iter_segments(s, from_bytes):
        pieces = [(text, esc)]
        if not esc and (not out or out[-1][1]) and unicodedata.category(text[0])[0] == "M":
            # a leading combining mark would draw onto whatever precedes it: escape it
            pieces = [(_escape_char(text[0], False), True)] + ([(text[1:], False)] if text[1:] else [])
        for piece, kind in pieces:
            if out and out[-1][1] == kind:
                out[-1] = (out[-1][0] + piece, kind)
            else:
                out.append((piece, kind))
    if marker is not None:
        if out and out[-1][1]:
            out[-1] = (out[-1][0] + marker, True)
        else:
            out.append((marker, True))
    return out


# A combining mark (category M*) is printable but draws onto the cell before it: at the start of
# the text that is whatever the view put there, after an escape it is the escape's last letter
# (`\\e` + U+0301 would read as `\\é`). Only those two places are checked.
_MARK_SPOT = re.compile(
    r"(?:^|(?<=\\[\\nrte])|(?<=\\x[0-9a-f]{2})|(?<=\\u[0-9a-f]{4})|(?<=\\U[0-9a-f]{8}))[^\x00-\x7f]"
)


def _escape_mark(m: re.Match[str]) -> str:
    ch = m.group()
    return _escape_char(ch, False) if unicodedata.category(ch)[0] == "M" else ch


def _fix_rare_run(m: re.Match[str]) -> str:
    run = m.group()
    return run if run.isprintable() else _escape_run_slow(run)


def safe_text(data: bytes | bytearray | memoryview | str, limit: int | None = None) -> str:
    """Untrusted ``data`` as one terminal-safe line (see the module docstring for the rules)."""
    s, from_bytes, marker = _prepare(data, limit)
    if not (s.isprintable() and "\\" not in s):
        table = _TABLE_BYTES if from_bytes else _TABLE_STR
        s = _CHEAP.sub(lambda m: m.group().translate(table), s)
        if not s.isprintable():
            # What is left is rare (format, private-use, unassigned, odd spaces) and never
            # ASCII, a surrogate or C1: look only at the non-ASCII runs.
            s = _NON_ASCII.sub(_fix_rare_run, s)
    if not s.isascii():
        s = _MARK_SPOT.sub(_escape_mark, s)
    return s if marker is None else s + marker


def is_terminal_safe(s: str) -> bool:
    """True if ``s`` holds nothing but characters that :func:`safe_text` lets through literally.

    (A backslash is safe for a terminal; whether it is an escape is a matter of reading.)
    """
    return s.isprintable()


_UNESC = re.compile(
    r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([\\nrte]))|\\"
)
_NAMED_BACK = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t", "e": "\x1b"}


def unescape(s: str, *, as_str: bool = False) -> bytes | str:
    """Read back what :func:`safe_text` showed: the original bytes (or ``str`` with ``as_str``).

    ``unescape(safe_text(b)) == b`` for any bytes ``b`` and
    ``unescape(safe_text(t), as_str=True) == t`` for any str ``t`` (no ``limit``).
    Raises ValueError on a malformed escape, or on an escape that cannot occur in the
    requested kind (a raw byte ``\\x80`` in a str, a surrogate in bytes).
    """
    out = bytearray()
    parts: list[str] = []
    pos = 0
    for m in _UNESC.finditer(s):
        lit = s[pos : m.start()]
        pos = m.end()
        hx, u4, u8, named = m.groups()
        if hx is None and u4 is None and u8 is None and named is None:
            raise ValueError(f"bad escape at position {m.start()}")
        if named is not None:
            piece = _NAMED_BACK[named]
        elif hx is not None:
            cp = int(hx, 16)
            if cp >= 0x80:
                if as_str:
                    raise ValueError(f"raw byte escape \\x{hx} in text at position {m.start()}")
                if lit:
                    out += lit.encode("utf-8")
                out.append(cp)
                continue
            piece = chr(cp)
        else:
            cp = int(u4 or u8, 16)
            if cp > 0x10FFFF:
                raise ValueError(f"code point out of range at position {m.start()}")
            piece = chr(cp)
        if as_str:
            parts.append(lit)
            parts.append(piece)
        else:
            try:
                out += (lit + piece).encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"surrogate code point in bytes near position {m.start()}") from None
    tail = s[pos:]
    if as_str:
        parts.append(tail)
        return "".join(parts)
    try:
        out += tail.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("surrogate code point in bytes") from None
    return bytes(out)

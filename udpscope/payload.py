"""Turning what a person typed (text, hex, base64, a file name) into datagram bytes.

Why a module: the TUI composer and ``udpscope send`` must accept the same notations and reject
bad input with the same specific message ("hex: odd number of digits (7)") instead of a
traceback or a silently different payload. Every failure is a :class:`PayloadError`; nothing
else escapes, whatever the input.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from typing import Literal

from udpscope.textsafe import safe_text

__all__ = [
    "MAX_UDP4",
    "MAX_UDP6",
    "PayloadError",
    "check_payload_size",
    "parse_payload",
    "read_payload_file",
]

MAX_UDP4 = 65507  # 65535 - 20 (IPv4 header) - 8 (UDP header)
MAX_UDP6 = 65527  # 65535 - 8 (UDP header); the IPv6 header is not counted in its payload length

PayloadKind = Literal["text", "hex", "base64", "file"]
KINDS: tuple[str, ...] = ("text", "hex", "base64", "file")

_WHITESPACE = frozenset(" \t\r\n\f\v")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_B64_STD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_B64_URL_EXTRA = frozenset("-_")


class PayloadError(ValueError):
    """Input that cannot become a datagram. ``str(err)`` is ``"<kind>: <detail>"``."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def _show(text: str, limit: int = 40) -> str:
    return safe_text(text, limit=limit)


def capacity(max_size: int) -> str:
    """``"the 65507 a UDP/IPv4 datagram can carry"``: the limit in words, for messages."""
    return _capacity(max_size)


def _capacity(max_size: int) -> str:
    if max_size == MAX_UDP4:
        return f"the {MAX_UDP4} a UDP/IPv4 datagram can carry"
    if max_size == MAX_UDP6:
        return f"the {MAX_UDP6} a UDP/IPv6 datagram can carry"
    return f"the limit of {max_size}"


def check_payload_size(data: bytes, max_size: int, kind: str = "payload") -> bytes:
    """Return ``data`` if it fits in ``max_size`` bytes, else raise :class:`PayloadError`."""
    if len(data) > max_size:
        raise PayloadError(kind, f"{len(data)} bytes is more than {_capacity(max_size)}")
    return data


def _parse_text(text: str) -> bytes:
    # surrogateescape: a lone U+DC80..U+DCFF is how Python carries an undecodable byte of a
    # command-line argument, so it goes out as that original byte.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as e:
        bad = text[e.start]
        raise PayloadError(
            "text", f"character '{_show(bad)}' at position {e.start + 1} cannot be encoded as UTF-8"
        ) from None


def _parse_hex(text: str) -> bytes:
    digits: list[str] = []
    for i, ch in enumerate(text):
        if ch in _HEX_DIGITS:
            digits.append(ch)
        elif ch not in _WHITESPACE:
            raise PayloadError("hex", f"bad character '{_show(ch)}' at position {i + 1}")
    if len(digits) % 2:
        raise PayloadError("hex", f"odd number of digits ({len(digits)})")
    return bytes.fromhex("".join(digits))


def _parse_base64(text: str) -> bytes:
    chars: list[str] = []
    padding = 0
    std = url = False
    for i, ch in enumerate(text):
        if ch in _WHITESPACE:
            continue
        if ch == "=":
            padding += 1
            continue
        if padding:
            raise PayloadError("base64", f"'=' padding before the end (position {i + 1})")
        if ch in _B64_STD:
            std = std or ch in "+/"
        elif ch in _B64_URL_EXTRA:
            url = True
        else:
            raise PayloadError("base64", f"bad character '{_show(ch)}' at position {i + 1}")
        chars.append(ch)
    if std and url:
        raise PayloadError("base64", "mixes '+/' (standard) with '-_' (URL-safe) alphabets")
    n = len(chars)
    if n % 4 == 1:
        raise PayloadError("base64", f"{n} digits is not a valid length (a digit too many or missing)")
    if padding > 2 or (padding and (n + padding) % 4):
        raise PayloadError("base64", f"wrong '=' padding ({padding}) for {n} characters")
    body = "".join(chars)
    if url:
        body = body.translate(str.maketrans("-_", "+/"))
    body += "=" * (-n % 4)
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as e:  # pragma: no cover - checked above
        raise PayloadError("base64", str(e)) from None


def read_payload_file(path: str | os.PathLike[str], max_size: int = MAX_UDP6) -> bytes:
    """The whole file as one datagram payload; at most ``max_size`` bytes are read."""
    try:
        shown = _show(os.fspath(path), 200)
    except TypeError:
        raise PayloadError("file", "the path must be text") from None
    if not shown:
        raise PayloadError("file", "no path given")
    try:
        # Non-blocking open: a FIFO without a writer must not hang here (it is refused below).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise PayloadError("file", f"not found: {shown}") from None
    except IsADirectoryError:
        raise PayloadError("file", f"is a directory: {shown}") from None
    except PermissionError:
        raise PayloadError("file", f"permission denied: {shown}") from None
    except OSError as e:
        raise PayloadError("file", f"cannot open {shown}: {_show(e.strerror or str(e), 200)}") from None
    except ValueError as e:  # embedded NUL, unencodable name
        raise PayloadError("file", f"cannot open {shown}: {_show(str(e), 200)}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise PayloadError("file", f"is a directory: {shown}")
        if not stat.S_ISREG(st.st_mode):
            raise PayloadError("file", f"not a regular file (a FIFO, socket or device): "
                               f"{shown}; only regular files are read (send --stdin "
                               "reads a pipe)")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(max_size + 1)
        except OSError as e:
            raise PayloadError("file", f"cannot read {shown}: {_show(e.strerror or str(e), 200)}") from None
    if len(data) > max_size:
        if stat.S_ISREG(st.st_mode):
            raise PayloadError("file", f"{st.st_size} bytes is more than {_capacity(max_size)}")
        raise PayloadError("file", f"larger than {_capacity(max_size)}")
    return data


def parse_payload(text: str, kind: PayloadKind | str, *, max_size: int = MAX_UDP6) -> bytes:
    """Bytes for ``text`` read as ``kind``: "text" (UTF-8), "hex", "base64" or "file" (a path).

    Whitespace is ignored in hex and base64; base64 may be standard or URL-safe, padding
    optional. Raises :class:`PayloadError` (and nothing else) for bad input or a payload
    larger than ``max_size``.
    """
    if not isinstance(text, str):
        raise PayloadError(str(kind), f"expected text, got {type(text).__name__}")
    if kind == "text":
        data = _parse_text(text)
    elif kind == "hex":
        data = _parse_hex(text)
    elif kind == "base64":
        data = _parse_base64(text)
    elif kind == "file":
        return read_payload_file(text, max_size)
    else:
        raise PayloadError("payload", f"unknown kind '{_show(str(kind))}' (one of {', '.join(KINDS)})")
    return check_payload_size(data, max_size, kind)

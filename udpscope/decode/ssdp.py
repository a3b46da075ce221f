"""SSDP (UPnP discovery): HTTP-shaped text over UDP, port 1900.

Three shapes matter when discovery "finds nothing": the M-SEARCH a control point multicasts, the
unicast HTTP responses devices send back to it, and the NOTIFY announcements devices multicast.
HTTP over UDP is a start line and header lines; parsed by hand because an HTTP library expects
a stream and would not keep byte ranges.
"""

from __future__ import annotations

from .model import DecodeError, Tree

__all__ = ["decode_ssdp", "headers", "looks_like_ssdp"]

_STARTS = (b"M-SEARCH * HTTP/1.", b"NOTIFY * HTTP/1.", b"HTTP/1.1 ", b"HTTP/1.0 ")
MAX_HEADERS = 64


def looks_like_ssdp(data: bytes) -> bool:
    return data.startswith(_STARTS)


def _lines(data: bytes) -> list[tuple[int, int, bytes]]:
    """(start, end, line) of each line, CRLF or LF ended, up to the blank line."""
    out = []
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl
        line = data[pos:end].rstrip(b"\r")
        if not line:
            break
        out.append((pos, pos + len(line), line))
        if nl < 0:
            break
        pos = nl + 1
    return out


def headers(data: bytes) -> dict[str, str]:
    """Header names (upper case) to values, for callers that only want to look something up."""
    found: dict[str, str] = {}
    for _s, _e, line in _lines(data)[1:MAX_HEADERS + 1]:
        name, sep, value = line.partition(b":")
        if sep:
            found.setdefault(name.strip().upper().decode("latin-1"),
                             value.strip().decode("utf-8", "surrogateescape"))
    return found


def decode_ssdp(data: bytes, tree: Tree) -> None:
    lines = _lines(data)
    if not lines:
        raise DecodeError("empty message")
    s0, e0, first = lines[0]
    start_line = first.decode("utf-8", "surrogateescape")
    tree.add("Start line", start_line, s0, e0)
    parts = first.split(b" ", 2)
    if first.startswith(b"HTTP/"):
        status = parts[1].decode("latin-1") if len(parts) > 1 else "?"
        kind = f"response {status}"
    else:
        kind = parts[0].decode("latin-1")
    tree.summary = kind
    found: dict[str, str] = {}
    bad = None
    with tree.node("Headers", len(lines) - 1, s0 if len(lines) == 1 else lines[1][0],
                   end=lines[-1][1]):
        for s, e, line in lines[1:MAX_HEADERS + 1]:
            name, sep, value = line.partition(b":")
            text = value.strip().decode("utf-8", "surrogateescape")
            if not sep:
                tree.add("Not a header", line.decode("utf-8", "surrogateescape"), s, e)
                bad = bad or f"line at offset {s} has no ':'"
                continue
            key = name.strip().decode("utf-8", "surrogateescape")
            tree.add(key, text, s, e)
            found.setdefault(key.upper(), text)
    if len(lines) > MAX_HEADERS + 1:
        tree.add("More headers", len(lines) - MAX_HEADERS - 1, lines[MAX_HEADERS + 1][0], len(data))
    if kind == "M-SEARCH":
        bits = [f"ST {found.get('ST', '?')}"]
        if "MX" in found:
            bits.append(f"MX {found['MX']}")
    elif kind == "NOTIFY":
        bits = [found.get("NTS", "?"), found.get("NT", "?")]
        if "LOCATION" in found:
            bits.append(found["LOCATION"])
    else:
        bits = [f"ST {found['ST']}"] if "ST" in found else []
        if "LOCATION" in found:
            bits.append(found["LOCATION"])
    tree.summary = " ".join([kind, *bits])
    if not first.startswith(_STARTS):
        raise DecodeError("the first line is not an SSDP request or response")
    if bad:
        raise DecodeError(bad)

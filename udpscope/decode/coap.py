"""CoAP (RFC 7252), port 5683: the REST of constrained devices, often over multicast
(`/.well-known/core` discovery on 224.0.1.187 / ff0x::fd).

Four fixed bytes, a token, delta-encoded options and an optional payload after 0xFF. Parsed by
hand: the option encoding is the only subtle part and is fully specified.
"""

from __future__ import annotations

from .model import DecodeError, Reader, Tree

__all__ = ["decode_coap", "looks_like_coap"]

TYPES = ["CON", "NON", "ACK", "RST"]
METHODS = {1: "GET", 2: "POST", 3: "PUT", 4: "DELETE", 5: "FETCH", 6: "PATCH", 7: "iPATCH"}
OPTIONS = {1: "If-Match", 3: "Uri-Host", 4: "ETag", 5: "If-None-Match", 6: "Observe",
           7: "Uri-Port", 8: "Location-Path", 11: "Uri-Path", 12: "Content-Format",
           14: "Max-Age", 15: "Uri-Query", 17: "Accept", 20: "Location-Query", 23: "Block2",
           27: "Block1", 28: "Size2", 35: "Proxy-Uri", 39: "Proxy-Scheme", 60: "Size1"}
_STRING_OPTIONS = {3, 8, 11, 15, 20, 35, 39}
MAX_OPTIONS = 64


def _code_text(code: int) -> str:
    cls, detail = code >> 5, code & 0x1F
    if cls == 0:
        return METHODS.get(detail, "EMPTY" if detail == 0 else f"0.{detail:02d}")
    return f"{cls}.{detail:02d}"


def looks_like_coap(data: bytes) -> bool:
    """Version 1, a token of at most 8 bytes, a defined code class, and options that parse."""
    if len(data) < 4 or data[0] >> 6 != 1 or data[0] & 0x0F > 8:
        return False
    cls, detail = data[1] >> 5, data[1] & 0x1F
    if cls not in (0, 2, 4, 5) or (cls == 0 and detail > 7):
        return False
    if data[1] == 0 and len(data) != 4:  # an empty message is exactly the header
        return False
    tree = Tree("coap")
    try:
        decode_coap(data, tree)
    except DecodeError:
        return False
    return True


def _extended(r: Reader, nibble: int, what: str) -> int:
    if nibble == 13:
        return 13 + r.u8(what)
    if nibble == 14:
        return 269 + r.u16(what)
    if nibble == 15:
        raise DecodeError(f"reserved {what} nibble 15 at offset {r.pos - 1}")
    return nibble


def decode_coap(data: bytes, tree: Tree) -> None:
    r = Reader(data)
    b0 = r.u8("CoAP header")
    version, mtype, tkl = b0 >> 6, (b0 >> 4) & 3, b0 & 0x0F
    tree.add("Version", version, 0, 1)
    tree.add("Type", TYPES[mtype], 0, 1)
    tree.add("Token length", tkl, 0, 1)
    code = r.u8("code")
    tree.add("Code", f"{code >> 5}.{code & 0x1F:02d} ({_code_text(code)})", 1, 2)
    mid = r.u16("message id")
    tree.add("Message id", mid, 2, 4)
    tree.summary = f"{TYPES[mtype]} {_code_text(code)} mid {mid}"
    if version != 1:
        raise DecodeError(f"CoAP version {version}, expected 1")
    if tkl > 8:
        raise DecodeError(f"token length {tkl} (at most 8)")
    token = r.take(tkl, "token")
    if tkl:
        tree.add("Token", token.hex(), 4, 4 + tkl)
    number = 0
    path: list[str] = []
    query: list[str] = []
    count = 0
    while r.remaining():
        at = r.pos
        head = r.u8("option header")
        if head == 0xFF:
            if not r.remaining():
                raise DecodeError("payload marker with no payload")
            tree.add("Payload", f"{r.remaining()} bytes", r.pos, len(data))
            break
        number += _extended(r, head >> 4, "option delta")
        length = _extended(r, head & 0x0F, "option length")
        value = r.take(length, f"option {number} value")
        name = OPTIONS.get(number, f"Option {number}")
        if number in _STRING_OPTIONS:
            text = value.decode("utf-8", "surrogateescape")
            if number == 11:
                path.append(text)
            elif number == 15:
                query.append(text)
        elif number in (4, 1):
            text = value.hex()
        else:
            text = str(int.from_bytes(value, "big"))
        if count < MAX_OPTIONS:
            tree.add(name, text, at, r.pos)
        count += 1
    if path or query:
        tree.summary += " /" + "/".join(path) + ("?" + "&".join(query) if query else "")

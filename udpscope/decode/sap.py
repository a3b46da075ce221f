"""SAP announcements (RFC 2974, port 9875) and the SDP they carry (RFC 8866).

IPTV head-ends and AES67/Dante audio gear announce their multicast sessions this way: the SDP
names the group, port and payload format that an RTP/MPEG-TS stream will use, which is exactly
what someone debugging "no picture" wants to read. Fixed header by hand; SDP is lines of `x=`.
A compressed payload is inflated with a size cap (no inflation bomb); an encrypted one is shown
as bytes.
"""

from __future__ import annotations

import ipaddress
import zlib

from .model import DecodeError, Reader, Tree

__all__ = ["decode_sap", "decode_sdp_lines", "looks_like_sap"]

MAX_SDP = 65536
MAX_LINES = 200
_SDP_NAMES = {
    "v": "Version", "o": "Origin", "s": "Session name", "i": "Information", "u": "URI",
    "e": "Email", "p": "Phone", "c": "Connection", "b": "Bandwidth", "t": "Time",
    "r": "Repeat", "z": "Time zones", "k": "Key", "a": "Attribute", "m": "Media",
}


def looks_like_sap(data: bytes) -> bool:
    if len(data) < 8 or data[0] >> 5 != 1 or data[0] & 0x02:  # version 1, not encrypted
        return False
    at = 8 + (12 if data[0] & 0x10 else 0) + data[1] * 4
    rest = data[at:at + 32]
    return rest.startswith((b"application/sdp\x00", b"v=0"))


def decode_sdp_lines(data: bytes, base: int, tree: Tree) -> dict[str, str]:
    """Add one field per SDP line (offsets from `base`); return the first value of each type
    plus the first media line as ``m``."""
    first: dict[str, str] = {}
    pos = 0
    count = 0
    while pos < len(data) and count < MAX_LINES:
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl
        line = data[pos:end].rstrip(b"\r")
        end = pos + len(line)
        if line:
            key, eq, value = line.partition(b"=")
            k = key.decode("latin-1")
            text = value.decode("utf-8", "surrogateescape")
            if not eq or len(key) != 1:
                tree.add("Not an SDP line", line.decode("utf-8", "surrogateescape"),
                         base + pos, base + end)
            else:
                tree.add(_SDP_NAMES.get(k, k), text, base + pos, base + end)
                first.setdefault(k, text)
            count += 1
        if nl < 0:
            break
        pos = nl + 1
    return first


def decode_sap(data: bytes, tree: Tree) -> None:
    r = Reader(data)
    flags = r.u8("SAP flags")
    version = flags >> 5
    ipv6 = bool(flags & 0x10)
    deletion = bool(flags & 0x04)
    encrypted = bool(flags & 0x02)
    compressed = bool(flags & 0x01)
    kind = "delete" if deletion else "announce"
    tree.summary = f"SAP {kind}"
    with tree.node("Flags", f"0x{flags:02x}", 0, end=1):
        tree.add("Version", version, 0, 1)
        tree.add("Address type", "IPv6" if ipv6 else "IPv4", 0, 1)
        tree.add("Message type", kind, 0, 1)
        tree.add("Encrypted", "yes" if encrypted else "no", 0, 1)
        tree.add("Compressed", "yes" if compressed else "no", 0, 1)
    if version != 1:
        raise DecodeError(f"SAP version {version}, expected 1")
    auth_len = r.u8("authentication length")
    tree.add("Authentication length", f"{auth_len} words", 1, 2)
    tree.add("Message ID hash", f"0x{r.u16('message id hash'):04x}", 2, 4)
    raw = r.take(16 if ipv6 else 4, "originating source")
    source = str(ipaddress.ip_address(raw))
    tree.add("Originating source", source, 4, r.pos)
    if auth_len:
        at = r.pos
        tree.add("Authentication data", r.take(auth_len * 4, "authentication data").hex(), at,
                 r.pos)
    at = r.pos
    payload_type = "application/sdp"
    rest = data[at:]
    if not rest.startswith(b"v=0"):
        nul = rest.find(b"\x00")
        if nul < 0 and not encrypted:
            raise DecodeError("no payload type and no SDP")
        if nul >= 0:
            payload_type = rest[:nul].decode("utf-8", "surrogateescape")
            tree.add("Payload type", payload_type, at, at + nul + 1)
            at += nul + 1
    body = data[at:]
    if encrypted:
        tree.add("Encrypted payload", f"{len(body)} bytes", at, len(data))
        tree.summary = f"SAP {kind} (encrypted) from {source}"
        return
    if compressed:
        try:
            inflater = zlib.decompressobj()
            body = inflater.decompress(body, MAX_SDP)
        except zlib.error as e:
            raise DecodeError(f"compressed payload does not inflate: {e}") from None
        tree.add("Compressed payload", f"{len(data) - at} bytes -> {len(body)}", at, len(data))
    if payload_type != "application/sdp":
        tree.add("Payload", f"{len(body)} bytes", at, len(data))
        tree.summary = f"SAP {kind} {payload_type} from {source}"
        return
    # When inflated, SDP lines have no offsets in the datagram: point them all at the payload.
    with tree.node("SDP", f"{len(body)} bytes", at, end=len(data)):
        if compressed:
            sub = Tree("sdp")
            first = decode_sdp_lines(body, 0, sub)
            for f in sub.result().fields:
                tree.add(f.name, f.value, at, len(data))
        else:
            first = decode_sdp_lines(body, at, tree)
    bits = [f"SAP {kind}"]
    if "s" in first:
        bits.append(f'"{first["s"]}"')
    if "c" in first:
        bits.append(first["c"].rsplit(" ", 1)[-1])
    if "m" in first:
        bits.append(f"m={first['m']}")
    tree.summary = " ".join(bits)
    if "v" not in first:
        raise DecodeError("SDP without a v= line")

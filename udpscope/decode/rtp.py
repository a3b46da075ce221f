"""RTP (RFC 3550): the header every media stream and IPTV feed rides on.

RTP has no port of its own, so it is found by its header (version 2, a payload type that is not
RTCP's, CSRC list, extension and padding that fit the datagram) -- the same test Wireshark's
RTP heuristic makes. An RTP payload of whole 188-byte TS packets (PT 33, or a dynamic type
carrying TS) is decoded as MPEG-TS inside it.
"""

from __future__ import annotations

from .model import DecodeError, Reader, Tree
from .mpegts import PACKET, looks_like_ts, ts_fields, ts_summary

__all__ = ["PAYLOAD_TYPES", "decode_rtp", "header_length", "looks_like_rtp"]

# RFC 3551 static payload types (name, clock rate). Dynamic types (96-127) have no name.
PAYLOAD_TYPES: dict[int, tuple[str, int]] = {
    0: ("PCMU", 8000), 3: ("GSM", 8000), 4: ("G723", 8000), 5: ("DVI4", 8000),
    6: ("DVI4", 16000), 7: ("LPC", 8000), 8: ("PCMA", 8000), 9: ("G722", 8000),
    10: ("L16", 44100), 11: ("L16", 44100), 12: ("QCELP", 8000), 13: ("CN", 8000),
    14: ("MPA", 90000), 15: ("G728", 8000), 16: ("DVI4", 11025), 17: ("DVI4", 22050),
    18: ("G729", 8000), 25: ("CelB", 90000), 26: ("JPEG", 90000), 28: ("nv", 90000),
    31: ("H261", 90000), 32: ("MPV", 90000), 33: ("MP2T", 90000), 34: ("H263", 90000),
}


def header_length(data: bytes | memoryview) -> int | None:
    """Bytes of RTP header (fixed + CSRCs + extension) if `data` is plausibly RTP, else None.

    Padding must fit too. This is the content heuristic: cheap, allocation-free.
    """
    n = len(data)
    if n < 12:
        return None
    b0 = data[0]
    if b0 >> 6 != 2 or 72 <= (data[1] & 0x7F) <= 76:
        return None
    size = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        if size + 4 > n:
            return None
        size += 4 + 4 * ((data[size + 2] << 8) | data[size + 3])
    if size > n:
        return None
    if b0 & 0x20:
        pad = data[n - 1]
        if pad == 0 or size + pad > n:
            return None
    return size


def looks_like_rtp(data: bytes) -> bool:
    return header_length(data) is not None


def decode_rtp(data: bytes, tree: Tree) -> None:
    r = Reader(data)
    b0 = r.u8("RTP flags")
    b1 = r.u8("RTP marker/payload type")
    version = b0 >> 6
    padding = bool(b0 & 0x20)
    extension = bool(b0 & 0x10)
    csrc_count = b0 & 0x0F
    marker = bool(b1 & 0x80)
    pt = b1 & 0x7F
    with tree.node("Flags", f"0x{b0:02x}", 0, end=1):
        tree.add("Version", version, 0, 1)
        tree.add("Padding", "yes" if padding else "no", 0, 1)
        tree.add("Extension", "yes" if extension else "no", 0, 1)
        tree.add("CSRC count", csrc_count, 0, 1)
    tree.add("Marker", "yes" if marker else "no", 1, 2)
    name = PAYLOAD_TYPES.get(pt, ("dynamic" if pt >= 96 else "unassigned", 0))[0]
    tree.add("Payload type", f"{pt} ({name})", 1, 2)
    if version != 2:
        raise DecodeError(f"RTP version {version}, expected 2")
    seq = r.u16("sequence number")
    tree.add("Sequence number", seq, 2, 4)
    ts = r.u32("timestamp")
    tree.add("Timestamp", ts, 4, 8)
    ssrc = r.u32("SSRC")
    tree.add("SSRC", f"0x{ssrc:08x}", 8, 12)
    tree.summary = f"PT {pt} {name} seq {seq} ts {ts} ssrc 0x{ssrc:08x}" + (" M" if marker else "")
    for i in range(csrc_count):
        at = r.pos
        tree.add(f"CSRC {i + 1}", f"0x{r.u32('CSRC'):08x}", at, at + 4)
    if extension:
        at = r.pos
        profile = r.u16("extension profile")
        words = r.u16("extension length")
        with tree.node("Header extension", f"profile 0x{profile:04x}, {words} words", at,
                       reader=r):
            tree.add("Profile", f"0x{profile:04x}", at, at + 2)
            tree.add("Length", f"{words} words", at + 2, at + 4)
            body = r.pos
            tree.add("Data", r.take(4 * words, "extension data").hex(), body, r.pos)
    end = len(data)
    if padding:
        pad = data[-1]
        if pad == 0 or r.pos + pad > end:
            raise DecodeError(f"padding of {pad} bytes does not fit")
        end -= pad
    payload = data[r.pos:end]
    tree.add("Payload", f"{len(payload)} bytes", r.pos, end)
    if padding:
        tree.add("Padding bytes", f"{len(data) - end} bytes", end, len(data))
    if payload and (pt == 33 or looks_like_ts(payload)):
        tree.summary += f" MPEG-TS: {ts_summary(payload)}"
        if len(payload) >= PACKET:
            with tree.node("MPEG-TS", f"{len(payload) // PACKET} packets", r.pos, end=end):
                ts_fields(payload, r.pos, tree)

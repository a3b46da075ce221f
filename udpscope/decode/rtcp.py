"""RTCP (RFC 3550 section 6): the reports beside an RTP stream, in compound datagrams.

A receiver report's fraction lost, cumulative loss and jitter are the far end's own view of the
stream's health -- worth reading next to udpscope's. Fixed layouts, by hand; packet types beyond
SR/RR/SDES/BYE/APP are shown as their header and length.
"""

from __future__ import annotations

from .model import DecodeError, Reader, Tree

__all__ = ["decode_rtcp", "looks_like_rtcp"]

_TYPES = {200: "SR", 201: "RR", 202: "SDES", 203: "BYE", 204: "APP", 205: "RTPFB",
          206: "PSFB", 207: "XR"}
_SDES = {1: "CNAME", 2: "NAME", 3: "EMAIL", 4: "PHONE", 5: "LOC", 6: "TOOL", 7: "NOTE",
         8: "PRIV"}
MAX_PACKETS = 32


def looks_like_rtcp(data: bytes) -> bool:
    """Version 2, a known packet type, and lengths that add up to exactly the datagram."""
    pos = 0
    n = len(data)
    if n < 8:
        return False
    while pos < n:
        if pos + 4 > n or data[pos] >> 6 != 2 or not 200 <= data[pos + 1] <= 207:
            return False
        pos += 4 * (((data[pos + 2] << 8) | data[pos + 3]) + 1)
    return pos == n


def _report_blocks(r: Reader, count: int, tree: Tree) -> None:
    for i in range(count):
        at = r.pos
        with tree.node(f"Report block {i + 1}", "", at, reader=r) as scope:
            ssrc = r.u32("report SSRC")
            tree.add("SSRC", f"0x{ssrc:08x}", at, at + 4)
            fraction = r.u8("fraction lost")
            tree.add("Fraction lost", f"{fraction}/256", at + 4, at + 5)
            cumulative = int.from_bytes(r.take(3, "cumulative lost"), "big", signed=True)
            tree.add("Cumulative lost", cumulative, at + 5, at + 8)
            tree.add("Extended highest sequence", r.u32("highest sequence"), at + 8, at + 12)
            jitter = r.u32("jitter")
            tree.add("Interarrival jitter", jitter, at + 12, at + 16)
            tree.add("Last SR", f"0x{r.u32('last SR'):08x}", at + 16, at + 20)
            tree.add("Delay since last SR", f"{r.u32('DLSR') / 65536:.6f} s", at + 20, at + 24)
            scope.value = f"ssrc 0x{ssrc:08x} lost {cumulative} jitter {jitter}"


def _one(r: Reader, tree: Tree, index: int) -> str:
    at = r.pos
    b0 = r.u8("RTCP flags")
    pt = r.u8("RTCP packet type")
    words = r.u16("RTCP length")
    end = at + 4 * (words + 1)
    count = b0 & 0x1F
    name = _TYPES.get(pt, f"type {pt}")
    text = name
    with tree.node(f"RTCP {name}", f"{4 * (words + 1)} bytes", at, end=min(end, len(r.data))):
        tree.add("Version", b0 >> 6, at, at + 1)
        tree.add("Padding", "yes" if b0 & 0x20 else "no", at, at + 1)
        tree.add("Count", count, at, at + 1)
        tree.add("Packet type", f"{pt} ({name})", at + 1, at + 2)
        tree.add("Length", f"{words} words", at + 2, at + 4)
        if b0 >> 6 != 2:
            raise DecodeError(f"RTCP packet {index + 1}: version {b0 >> 6}, expected 2")
        if end > len(r.data):
            raise DecodeError(f"RTCP packet {index + 1}: {end - at} bytes announced, "
                              f"{len(r.data) - at} left")
        body = Reader(r.data, r.pos, end)
        if pt in (200, 201):
            p = body.pos
            ssrc = body.u32("sender SSRC")
            tree.add("Sender SSRC", f"0x{ssrc:08x}", p, p + 4)
            text = f"{name} ssrc 0x{ssrc:08x}"
            if pt == 200:
                p = body.pos
                ntp = body.u64("NTP timestamp")
                tree.add("NTP timestamp", f"{(ntp >> 32) - 2208988800 + (ntp & 0xFFFFFFFF) / 2**32:.6f}",
                         p, p + 8)
                tree.add("RTP timestamp", body.u32("RTP timestamp"), p + 8, p + 12)
                packets = body.u32("packet count")
                tree.add("Packet count", packets, p + 12, p + 16)
                tree.add("Octet count", body.u32("octet count"), p + 16, p + 20)
                text += f" sent {packets}"
            _report_blocks(body, count, tree)
        elif pt == 202:
            for c in range(count):
                p = body.pos
                with tree.node(f"Chunk {c + 1}", "", p, reader=body) as scope:
                    ssrc = body.u32("SDES SSRC")
                    tree.add("SSRC", f"0x{ssrc:08x}", p, p + 4)
                    while True:
                        q = body.pos
                        kind = body.u8("SDES item type")
                        if kind == 0:
                            body.take((4 - (body.pos - at) % 4) % 4, "SDES padding")
                            break
                        length = body.u8("SDES item length")
                        value = body.take(length, "SDES item").decode("utf-8", "surrogateescape")
                        label = _SDES.get(kind, f"item {kind}")
                        tree.add(label, value, q, body.pos)
                        if kind == 1 and c == 0:
                            text = f"SDES CNAME {value}"
                            scope.value = value
        elif pt == 203:
            ssrcs = []
            for _ in range(count):
                p = body.pos
                ssrc = body.u32("BYE SSRC")
                ssrcs.append(f"0x{ssrc:08x}")
                tree.add("SSRC", f"0x{ssrc:08x}", p, p + 4)
            text = "BYE " + " ".join(ssrcs)
            if body.remaining():
                p = body.pos
                reason = body.take(body.u8("reason length"), "BYE reason")
                tree.add("Reason", reason.decode("utf-8", "surrogateescape"), p, body.pos)
        elif pt == 204:
            p = body.pos
            tree.add("SSRC", f"0x{body.u32('APP SSRC'):08x}", p, p + 4)
            app = body.take(4, "APP name").decode("latin-1")
            tree.add("Name", app, p + 4, p + 8)
            text = f"APP {app}"
        if body.pos < end:
            tree.add("Data", f"{end - body.pos} bytes", body.pos, end)
    r.pos = end
    return text


def decode_rtcp(data: bytes, tree: Tree) -> None:
    r = Reader(data)
    r.need(8, "RTCP header")
    parts: list[str] = []
    try:
        while r.remaining() and len(parts) < MAX_PACKETS:
            parts.append(_one(r, tree, len(parts)))
    finally:
        tree.summary = ", ".join(parts) if parts else "RTCP"
    if r.remaining():
        tree.add("More RTCP packets", f"{r.remaining()} bytes", r.pos, len(data))

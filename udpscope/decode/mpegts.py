"""MPEG transport stream packets (ISO/IEC 13818-1): raw over UDP, or inside RTP (PT 33).

IPTV is 188-byte TS packets, seven to a datagram. The header (PID, continuity counter,
adaptation field with the discontinuity flag and the PCR) is what stream-health questions are
about, and the PAT/PMT say which PIDs are which programme's video and audio. Fixed layouts,
read by hand.
"""

from __future__ import annotations

from .model import DecodeError, Reader, Tree, Truncated

__all__ = ["PACKET", "STREAM_TYPES", "decode_mpegts", "looks_like_ts", "ts_fields", "ts_summary"]

PACKET = 188
SYNC = 0x47
MAX_DETAILED = 64  # TS packets given a subtree each (a 64 KiB datagram holds 348)
STREAM_TYPES = {
    0x01: "MPEG-1 video", 0x02: "MPEG-2 video", 0x03: "MPEG-1 audio", 0x04: "MPEG-2 audio",
    0x05: "private sections", 0x06: "PES private data", 0x0F: "AAC audio", 0x11: "LATM AAC audio",
    0x15: "metadata", 0x1B: "H.264 video", 0x24: "HEVC video", 0x81: "AC-3 audio",
    0x86: "SCTE-35", 0x87: "E-AC-3 audio",
}
_AFC = {0: "reserved", 1: "payload only", 2: "adaptation field only", 3: "adaptation + payload"}


def looks_like_ts(data: bytes | memoryview) -> bool:
    n = len(data)
    return n >= PACKET and n % PACKET == 0 and all(data[i] == SYNC for i in range(0, n, PACKET))


def _pid_name(pid: int) -> str:
    return {0: "PAT", 1: "CAT", 0x11: "SDT", 0x12: "EIT", 0x14: "TDT", 0x1FFF: "null"}.get(pid, "")


def _psi(data: bytes, start: int, end: int, tree: Tree, base: int) -> str | None:
    """Decode a PAT or PMT section that starts in this packet; its name for the summary.
    Offsets in `data` are shifted by `base` in the fields."""
    r = Reader(data, start, end)
    pointer = r.u8("pointer field")
    r.take(pointer, "pointer filler")
    at = r.pos
    table_id = r.u8("table id")
    length = r.u16("section length") & 0x0FFF
    if table_id not in (0x00, 0x02):
        tree.add("Section", f"table id 0x{table_id:02x}, {length} bytes", base + at,
                 base + min(end, at + 3 + length))
        return None
    name = "PAT" if table_id == 0 else "PMT"
    body_end = min(end, at + 3 + length - 4)  # the CRC-32 is the section's last 4 bytes
    with tree.node(name, f"{length} bytes", base + at, end=base + min(end, at + 3 + length)):
        tree.add("Table id", f"0x{table_id:02x}", base + at, base + at + 1)
        tree.add("Section length", length, base + at + 1, base + at + 3)
        ident = r.u16("table id extension")
        tree.add("Transport stream id" if table_id == 0 else "Program number", ident,
                 base + at + 3, base + at + 5)
        version = (r.u8("version") >> 1) & 0x1F
        tree.add("Version", version, base + at + 5, base + at + 6)
        r.take(2, "section numbers")
        if table_id == 0:
            while r.pos + 4 <= body_end:
                p = r.pos
                program = r.u16("program number")
                pid = r.u16("program map PID") & 0x1FFF
                label = "network PID" if program == 0 else f"program {program}: PMT PID"
                tree.add(label, f"0x{pid:04x}", base + p, base + p + 4)
        else:
            p = r.pos
            pcr_pid = r.u16("PCR PID") & 0x1FFF
            tree.add("PCR PID", f"0x{pcr_pid:04x}", base + p, base + p + 2)
            info = r.u16("program info length") & 0x0FFF
            r.take(info, "program descriptors")
            while r.pos + 5 <= body_end:
                p = r.pos
                stype = r.u8("stream type")
                pid = r.u16("elementary PID") & 0x1FFF
                es_info = r.u16("ES info length") & 0x0FFF
                r.take(es_info, "ES descriptors")
                kind = STREAM_TYPES.get(stype, f"type 0x{stype:02x}")
                tree.add(f"PID 0x{pid:04x}", kind, base + p, base + r.pos)
    return name


def ts_fields(data: bytes, base: int, tree: Tree, max_detailed: int = MAX_DETAILED) -> None:
    """One subtree per TS packet of `data` (offsets shifted by `base`). Raises DecodeError at
    the first packet without its sync byte or a short tail."""
    count = len(data) // PACKET
    for i in range(count):
        at = i * PACKET
        if data[at] != SYNC:
            raise DecodeError(f"TS packet {i + 1}: sync byte 0x{data[at]:02x}, expected 0x47")
        if i >= max_detailed:
            tree.add("More TS packets", count - i, base + at, base + len(data))
            break
        _packet(data, at, base, tree, i)
    if len(data) % PACKET:
        tail = count * PACKET
        tree.add("Trailing bytes", len(data) - tail, base + tail, base + len(data))
        raise DecodeError(f"{len(data) - tail} bytes after the last whole TS packet")


def _packet(data: bytes, at: int, base: int, tree: Tree, index: int) -> None:
    b1, b2, b3 = data[at + 1], data[at + 2], data[at + 3]
    pid = ((b1 & 0x1F) << 8) | b2
    pusi = bool(b1 & 0x40)
    afc = (b3 >> 4) & 3
    cc = b3 & 0x0F
    name = _pid_name(pid)
    o = base + at
    with tree.node(f"TS packet {index + 1}", f"PID 0x{pid:04x}{' ' + name if name else ''} "
                   f"CC {cc}", o, end=o + PACKET):
        tree.add("Sync byte", "0x47", o, o + 1)
        tree.add("Transport error", "yes" if b1 & 0x80 else "no", o + 1, o + 2)
        tree.add("Payload unit start", "yes" if pusi else "no", o + 1, o + 2)
        tree.add("PID", f"0x{pid:04x}{' (' + name + ')' if name else ''}", o + 1, o + 3)
        tree.add("Scrambling", (b3 >> 6) & 3, o + 3, o + 4)
        tree.add("Adaptation field control", _AFC[afc], o + 3, o + 4)
        tree.add("Continuity counter", cc, o + 3, o + 4)
        payload = at + 4
        if afc & 2:
            length = data[at + 4]
            end = min(at + 5 + length, at + PACKET)
            with tree.node("Adaptation field", f"{length} bytes", o + 4, end=base + end):
                if length:
                    flags = data[at + 5]
                    tree.add("Discontinuity", "yes" if flags & 0x80 else "no", o + 5, o + 6)
                    tree.add("Random access", "yes" if flags & 0x40 else "no", o + 5, o + 6)
                    if flags & 0x10 and length >= 7:
                        raw = int.from_bytes(data[at + 6:at + 12], "big")
                        pcr = (raw >> 15) * 300 + (raw & 0x1FF)
                        tree.add("PCR", f"{pcr} ({pcr / 27e6:.6f} s)", o + 6, o + 12)
            if length > 183:
                raise DecodeError(f"TS packet {index + 1}: adaptation field of {length} bytes")
            payload = at + 5 + length
        if afc & 1 and payload < at + PACKET:
            tree.add("Payload", f"{at + PACKET - payload} bytes", base + payload, o + PACKET)
            if pusi and pid != 0x1FFF:
                first = data[payload:at + PACKET]
                if pid == 0 or (len(first) > 1 and first[1 + first[0]:2 + first[0]] == b"\x02"):
                    try:
                        _psi(data, payload, at + PACKET, tree, base)
                    except Truncated:  # a section may go on in the next packet: not an error
                        tree.add("Section", "continues in a later packet", base + payload,
                                 o + PACKET)


def ts_summary(data: bytes) -> str:
    """"N TS packets, PIDs 0x0000 (PAT) 0x0100 …" for the whole packets in `data`."""
    count = len(data) // PACKET
    pids: list[int] = []
    for i in range(min(count, 1024)):
        at = i * PACKET
        pid = ((data[at + 1] & 0x1F) << 8) | data[at + 2]
        if pid not in pids:
            pids.append(pid)
    shown = []
    for pid in pids[:6]:
        name = _pid_name(pid)
        shown.append(f"0x{pid:04x}" + (f" ({name})" if name else ""))
    more = f" +{len(pids) - 6} more" if len(pids) > 6 else ""
    word = "packet" if count == 1 else "packets"
    return f"{count} TS {word}, PID{'s' if len(pids) != 1 else ''} {' '.join(shown)}{more}"


def decode_mpegts(data: bytes, tree: Tree) -> None:
    if len(data) < PACKET:
        raise DecodeError(f"truncated TS packet: {len(data)} of 188 bytes")
    tree.summary = ts_summary(data)
    ts_fields(data, 0, tree)

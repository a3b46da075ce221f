"""PTP version 2 (IEEE 1588-2008) over UDP, ports 319 (event) and 320 (general).

Broadcast and AES67 networks live on PTP multicast; "which grandmaster, which domain, is Sync
arriving" is read from the 34-byte common header and the first fields of each message body.
Fixed layout, by hand.
"""

from __future__ import annotations

from .model import DecodeError, Reader, Tree

__all__ = ["decode_ptp", "looks_like_ptp"]

HEADER = 34
MESSAGES = {0x0: "Sync", 0x1: "Delay_Req", 0x2: "Pdelay_Req", 0x3: "Pdelay_Resp",
            0x8: "Follow_Up", 0x9: "Delay_Resp", 0xA: "Pdelay_Resp_Follow_Up", 0xB: "Announce",
            0xC: "Signaling", 0xD: "Management"}
_FLAGS = [(0x0100, "alternateMaster"), (0x0200, "twoStep"), (0x0400, "unicast"),
          (0x0001, "leap61"), (0x0002, "leap59"), (0x0004, "currentUtcOffsetValid"),
          (0x0008, "ptpTimescale"), (0x0010, "timeTraceable"), (0x0020, "frequencyTraceable")]


def looks_like_ptp(data: bytes) -> bool:
    if len(data) < HEADER or data[1] & 0x0F != 2 or data[0] & 0x0F not in MESSAGES:
        return False
    length = (data[2] << 8) | data[3]
    return HEADER <= length <= len(data)


def _clock_id(raw: bytes) -> str:
    return "-".join(f"{b:02x}" for b in raw)


def _timestamp(r: Reader, tree: Tree, name: str) -> float:
    at = r.pos
    seconds = r.uint(6, name)
    nanos = r.u32(name)
    tree.add(name, f"{seconds}.{nanos:09d}", at, at + 10)
    return seconds + nanos / 1e9


def decode_ptp(data: bytes, tree: Tree) -> None:
    r = Reader(data)
    b0 = r.u8("messageType")
    b1 = r.u8("versionPTP")
    kind = b0 & 0x0F
    version = b1 & 0x0F
    name = MESSAGES.get(kind, f"type {kind}")
    tree.summary = f"PTPv{version} {name}"
    tree.add("Transport specific", b0 >> 4, 0, 1)
    tree.add("Message type", f"{kind} ({name})", 0, 1)
    tree.add("Version", version, 1, 2)
    if version != 2:
        raise DecodeError(f"PTP version {version}, only version 2 is decoded")
    length = r.u16("messageLength")
    tree.add("Message length", length, 2, 4)
    domain = r.u8("domainNumber")
    tree.add("Domain", domain, 4, 5)
    r.u8("reserved")
    flags = r.u16("flagField")
    set_flags = [label for bit, label in _FLAGS if flags & bit]
    tree.add("Flags", f"0x{flags:04x} {' '.join(set_flags)}".rstrip(), 6, 8)
    correction = int.from_bytes(r.take(8, "correctionField"), "big", signed=True)
    tree.add("Correction", f"{correction / 65536:.3f} ns", 8, 16)
    r.take(4, "reserved")
    clock = _clock_id(r.take(8, "clockIdentity"))
    port = r.u16("portNumber")
    tree.add("Source port identity", f"{clock} port {port}", 20, 30)
    seq = r.u16("sequenceId")
    tree.add("Sequence id", seq, 30, 32)
    tree.add("Control", r.u8("controlField"), 32, 33)
    interval = int.from_bytes(r.take(1, "logMessageInterval"), "big", signed=True)
    tree.add("Log message interval", interval, 33, 34)
    tree.summary = f"PTPv2 {name} seq {seq} domain {domain} from {clock}"
    if length > len(data):
        raise DecodeError(f"message length {length} but only {len(data)} bytes")
    body = Reader(data, HEADER, max(HEADER, length))
    if kind in (0x0, 0x1, 0x8, 0x2):
        label = "Precise origin timestamp" if kind == 0x8 else "Origin timestamp"
        _timestamp(body, tree, label)
    elif kind in (0x9, 0x3, 0xA):
        label = "Receive timestamp" if kind == 0x9 else (
            "Request receipt timestamp" if kind == 0x3 else "Response origin timestamp")
        _timestamp(body, tree, label)
        at = body.pos
        who = _clock_id(body.take(8, "requesting clockIdentity"))
        tree.add("Requesting port identity", f"{who} port {body.u16('requesting port')}", at,
                 at + 10)
    elif kind == 0xB:
        _timestamp(body, tree, "Origin timestamp")
        at = body.pos
        tree.add("Current UTC offset", body.u16("currentUtcOffset"), at, at + 2)
        body.u8("reserved")
        p1 = body.u8("grandmasterPriority1")
        tree.add("Grandmaster priority 1", p1, at + 3, at + 4)
        cls = body.u8("clockClass")
        accuracy = body.u8("clockAccuracy")
        variance = body.u16("offsetScaledLogVariance")
        tree.add("Grandmaster clock quality",
                 f"class {cls}, accuracy 0x{accuracy:02x}, variance 0x{variance:04x}", at + 4,
                 at + 8)
        tree.add("Grandmaster priority 2", body.u8("grandmasterPriority2"), at + 8, at + 9)
        gm = _clock_id(body.take(8, "grandmasterIdentity"))
        tree.add("Grandmaster identity", gm, at + 9, at + 17)
        tree.add("Steps removed", body.u16("stepsRemoved"), at + 17, at + 19)
        tree.add("Time source", f"0x{body.u8('timeSource'):02x}", at + 19, at + 20)
        tree.summary += f" grandmaster {gm} class {cls}"
    if body.pos < length:
        tree.add("Message data", f"{length - body.pos} bytes", body.pos, length)

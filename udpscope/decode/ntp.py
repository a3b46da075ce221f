"""NTP (RFC 5905), port 123: who serves time, at which stratum, from which reference.

The 48-byte header is fixed; extension fields and a MAC after it are shown as bytes. Control
(mode 6) and private (mode 7) messages get their first bytes only.
"""

from __future__ import annotations

import ipaddress

from .model import DecodeError, Reader, Tree

__all__ = ["decode_ntp", "looks_like_ntp"]

HEADER = 48
MODES = {0: "reserved", 1: "symmetric active", 2: "symmetric passive", 3: "client",
         4: "server", 5: "broadcast", 6: "control", 7: "private"}
_NTP_EPOCH = 2208988800  # seconds from 1900 to 1970


def looks_like_ntp(data: bytes) -> bool:
    if len(data) < HEADER or len(data) % 4:
        return False
    version = (data[0] >> 3) & 7
    mode = data[0] & 7
    return 1 <= version <= 4 and 1 <= mode <= 5 and data[1] <= 16


def _stamp(raw: int) -> str:
    if raw == 0:
        return "0"
    seconds = (raw >> 32) - _NTP_EPOCH + (raw & 0xFFFFFFFF) / 2**32
    return f"{seconds:.6f}"


def decode_ntp(data: bytes, tree: Tree) -> None:
    r = Reader(data)
    b0 = r.u8("flags")
    leap, version, mode = b0 >> 6, (b0 >> 3) & 7, b0 & 7
    tree.add("Leap indicator", leap, 0, 1)
    tree.add("Version", version, 0, 1)
    tree.add("Mode", f"{mode} ({MODES[mode]})", 0, 1)
    tree.summary = f"NTPv{version} {MODES[mode]}"
    if mode in (6, 7):
        r.need(11 if mode == 6 else 3, "control header")
        tree.add("Control data", f"{len(data) - 1} bytes", 1, len(data))
        return
    stratum = r.u8("stratum")
    tree.add("Stratum", stratum, 1, 2)
    tree.add("Poll", f"2^{int.from_bytes(r.take(1, 'poll'), 'big', signed=True)} s", 2, 3)
    tree.add("Precision",
             f"2^{int.from_bytes(r.take(1, 'precision'), 'big', signed=True)} s", 3, 4)
    tree.add("Root delay", f"{r.u32('root delay') / 65536:.6f} s", 4, 8)
    tree.add("Root dispersion", f"{r.u32('root dispersion') / 65536:.6f} s", 8, 12)
    ref = r.take(4, "reference id")
    if stratum <= 1:
        ref_text = ref.rstrip(b"\x00").decode("ascii", "replace") or "-"
    else:
        ref_text = str(ipaddress.IPv4Address(ref))
    tree.add("Reference id", ref_text, 12, 16)
    names = ("Reference timestamp", "Origin timestamp", "Receive timestamp", "Transmit timestamp")
    for i, name in enumerate(names):
        tree.add(name, _stamp(r.u64(name)), 16 + 8 * i, 24 + 8 * i)
    tree.summary = f"NTPv{version} {MODES[mode]} stratum {stratum}" + (
        f" ref {ref_text}" if stratum else "")
    if r.remaining():
        tree.add("Extensions / MAC", f"{r.remaining()} bytes", HEADER, len(data))
    if version not in (1, 2, 3, 4):
        raise DecodeError(f"NTP version {version}")

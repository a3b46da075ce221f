"""A tiny pcap writer (raw IPv4/UDP, LINKTYPE_RAW) and a tshark runner, for cross-checks.

Tests write the datagrams they built to a pcap and ask tshark how Wireshark's dissectors read
the same bytes, so udpscope's decoders are checked against an independent implementation.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.files.pcapgen import checksum

LINKTYPE_RAW = 101


def ipv4_udp(payload: bytes, src: str, sport: int, dst: str, dport: int, ttl: int = 64) -> bytes:
    s = bytes(int(x) for x in src.split("."))
    d = bytes(int(x) for x in dst.split("."))
    udp_len = 8 + len(payload)
    pseudo = s + d + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0x4000, ttl, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + udp


def write_pcap(path: Path, packets: Sequence[tuple[bytes, str, int, str, int]]) -> None:
    """`packets`: (payload, src, sport, dst, dport) each; timestamps one millisecond apart."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW)]
    for i, (payload, src, sport, dst, dport) in enumerate(packets):
        frame = ipv4_udp(payload, src, sport, dst, dport)
        out.append(struct.pack("<IIII", 1_700_000_000, i * 1000, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


def tshark_available() -> bool:
    return shutil.which("tshark") is not None


def tshark_json(path: Path, *extra: str) -> list[dict[str, Any]]:
    """tshark's JSON decode of every frame ("layers" of each), with `extra` options."""
    proc = subprocess.run(["tshark", "-r", str(path), "-T", "json", "--no-duplicate-keys", "-n",
                           *extra],
                          capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return [frame["_source"]["layers"] for frame in json.loads(proc.stdout or b"[]")]


def find(tree: Any, key: str) -> list[Any]:
    """Every value under `key` anywhere in tshark's nested JSON, in document order."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == key:
                    found.append(v)
                walk(v)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(tree)
    return found

"""udpscope's own probe datagrams (udpscope.probe): stream id, sequence number, send time."""

from __future__ import annotations

import time

from udpscope import probe as probes

from .model import DecodeError, Tree

__all__ = ["decode_probe", "looks_like_probe"]


def looks_like_probe(data: bytes) -> bool:
    return data.startswith(probes.MAGIC)


def decode_probe(data: bytes, tree: Tree) -> None:
    if not data.startswith(probes.MAGIC):
        raise DecodeError("no probe magic")
    tree.add("Magic", probes.MAGIC.decode(), 0, len(probes.MAGIC))
    found = probes.decode_probe(data)
    if found is None:
        if len(data) < probes.HEADER_SIZE:
            raise DecodeError(f"truncated probe header: {len(data)} of {probes.HEADER_SIZE} bytes")
        raise DecodeError(f"probe version {data[len(probes.MAGIC)]}, expected {probes.VERSION}")
    sent = found.send_time
    clock = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sent)) + f".{int(sent % 1 * 1e6):06d}"
    tree.add("Version", probes.VERSION, 14, 15)
    tree.add("Stream", found.stream, 15, 19)
    tree.add("Sequence", found.seq, 19, 27)
    tree.add("Send time", f"{clock} UTC", 27, 35)
    if len(data) > probes.HEADER_SIZE:
        tree.add("Padding", f"{len(data) - probes.HEADER_SIZE} bytes", probes.HEADER_SIZE, len(data))
    tree.summary = f"probe stream {found.stream} seq {found.seq} ({found.size} bytes)"

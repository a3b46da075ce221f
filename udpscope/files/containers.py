"""pcap and pcapng containers read frame by frame, honestly about damage.

tcpdump writes pcap (microsecond or nanosecond, either byte order), Wireshark and tshark write
pcapng (sections, several interfaces each with its own link type and timestamp resolution,
enhanced/simple/obsolete packet blocks). Both are read here as a stream of `Frame`s, so a file
larger than memory can be replayed. A file cut short (a capture killed mid-write, a partial copy)
yields every complete frame and then sets `truncated`; a file that is not a capture at all raises
`CaptureFormatError` before yielding anything.

Hand-written (not dpkt's or python-pcapng's readers) because dpkt's pcapng reader keeps only the
first interface (names and per-interface link types are lost) and neither reports a cut file;
see the README's dependency notes.
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

__all__ = ["CaptureFormatError", "Frame", "FrameReader", "open_capture_file"]

MAX_FRAME = 16 * 1024 * 1024  # larger records mean a damaged file, not a jumbo frame
_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_SHB = b"\x0a\x0d\x0d\x0a"


class CaptureFormatError(ValueError):
    """The file is not a pcap/pcapng capture (or cannot be opened as one); ``str`` says why."""


class Frame(NamedTuple):
    """One captured frame: when, how it is framed, where it was seen, and its bytes."""

    time: float
    linktype: int
    data: bytes
    interface: str | None = None
    outbound: bool = False  # pcapng epb_flags direction "outbound"
    comment: str | None = None
    original_length: int = 0  # on the wire; more than len(data) when the snap length cut it


class _Interface(NamedTuple):
    linktype: int
    name: str | None
    resolution: float
    offset: int


def open_capture_file(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading without blocking on FIFOs or devices.

    Raises CaptureFormatError with a short reason (not found, a directory, not a regular file,
    permission denied, ...).
    """
    shown = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise CaptureFormatError(f"not found: {shown}") from None
    except PermissionError:
        raise CaptureFormatError(f"permission denied: {shown}") from None
    except (OSError, ValueError) as e:
        raise CaptureFormatError(f"cannot open {shown}: {getattr(e, 'strerror', None) or e}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise CaptureFormatError(f"is a directory: {shown}")
        if not stat.S_ISREG(mode):
            raise CaptureFormatError(f"not a regular file (a FIFO, socket or device): {shown}")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


class FrameReader:
    """Iterate the frames of a pcap or pcapng stream; see the module docstring.

    After iteration: ``truncated`` (the file ended inside a record), ``damaged`` (a record that
    makes no sense; reading stopped there), ``frames`` (yielded), ``kind`` ("pcap"/"pcapng").
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._f = stream
        self.truncated = False
        self.damaged: str | None = None
        self.frames = 0
        head = stream.read(4)
        if head in _PCAP_MAGICS:
            self.kind = "pcap"
        elif head == _SHB:
            self.kind = "pcapng"
        else:
            if not head:
                raise CaptureFormatError("empty file, not a pcap or pcapng capture")
            raise CaptureFormatError(
                f"not a pcap or pcapng capture (starts with {head.hex(' ')})")
        self._head = head

    def __iter__(self) -> Iterator[Frame]:
        if self.kind == "pcap":
            yield from self._pcap()
        else:
            yield from self._pcapng()

    def _read(self, n: int) -> bytes | None:
        data = self._f.read(n)
        if len(data) < n:
            if data:
                self.truncated = True
            return None
        return data

    # ---- pcap --------------------------------------------------------------------------------

    def _pcap(self) -> Iterator[Frame]:
        order, unit = _PCAP_MAGICS[self._head]
        rest = self._read(20)
        if rest is None:
            self.truncated = True
            return
        _major, _minor, _zone, _sig, _snap, linktype = struct.unpack(order + "HHiIII", rest)
        linktype &= 0xFFFF  # the upper bits carry FCS information
        record = struct.Struct(order + "IIII")
        while True:
            head = self._read(16)
            if head is None:
                return
            sec, frac, caplen, length = record.unpack(head)
            if caplen > MAX_FRAME:
                self.damaged = f"a record of {caplen} bytes after {self.frames} frames"
                return
            data = self._read(caplen)
            if data is None:
                self.truncated = True
                return
            self.frames += 1
            yield Frame(sec + frac * unit, linktype, data, None, False, None, length)

    # ---- pcapng ------------------------------------------------------------------------------

    def _pcapng(self) -> Iterator[Frame]:
        order = "<"
        interfaces: list[_Interface] = []
        kind_bytes: bytes | None = self._head
        while True:
            if kind_bytes is None:
                head = self._read(8)
                if head is None:
                    return
                kind_raw, length_raw = head[:4], head[4:]
            else:
                rest = self._read(4)
                if rest is None:
                    self.truncated = True
                    return
                kind_raw, length_raw = kind_bytes, rest
                kind_bytes = None
            if kind_raw == _SHB:
                bom = self._read(4)
                if bom is None:
                    self.truncated = True
                    return
                order = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">" if bom == b"\x1a\x2b\x3c\x4d" else ""
                if not order:
                    self.damaged = f"a section header with a bad byte-order mark after {self.frames} frames"
                    return
                length = struct.unpack(order + "I", length_raw)[0]
                if length < 28 or length % 4 or length > MAX_FRAME:
                    self.damaged = f"a section header of {length} bytes"
                    return
                if self._read(length - 12) is None:
                    self.truncated = True
                    return
                interfaces = []
                continue
            kind, length = struct.unpack(order + "II", kind_raw + length_raw)
            if length < 12 or length % 4 or length > MAX_FRAME:
                self.damaged = f"a block of {length} bytes after {self.frames} frames"
                return
            body = self._read(length - 8)
            if body is None:
                self.truncated = True
                return
            body = body[:-4]
            frame = self._pcapng_block(order, kind, body, interfaces)
            if frame is not None:
                self.frames += 1
                yield frame
            elif self.damaged:
                return

    def _pcapng_block(self, order: str, kind: int, body: bytes,
                      interfaces: list[_Interface]) -> Frame | None:
        if kind == 1:  # interface description
            if len(body) < 8:
                self.damaged = "a short interface block"
                return None
            linktype, _res, _snap = struct.unpack(order + "HHI", body[:8])
            name, resolution, offset = None, 1e-6, 0
            for code, value in _options(order, body[8:]):
                if code == 2:
                    name = value.decode("utf-8", "replace").rstrip("\0")
                elif code == 9 and value:
                    exp = value[0]
                    resolution = 2.0 ** -(exp & 0x7F) if exp & 0x80 else 10.0 ** -exp
                elif code == 14 and len(value) == 8:
                    offset = struct.unpack(order + "q", value)[0]
            interfaces.append(_Interface(linktype, name, resolution, offset))
            return None
        if kind == 6 and len(body) >= 20:  # enhanced packet
            ifid, high, low, caplen, length = struct.unpack(order + "IIIII", body[:20])
            return self._packet(order, interfaces, ifid, high, low, caplen, length, body, 20)
        if kind == 3 and len(body) >= 4 and interfaces:  # simple packet: interface 0, no time
            length = struct.unpack(order + "I", body[:4])[0]
            data = body[4:4 + min(length, len(body) - 4)]
            iface = interfaces[0]
            return Frame(0.0, iface.linktype, data, iface.name, False, None, length)
        if kind == 2 and len(body) >= 20:  # obsolete packet block
            ifid, _drops, high, low, caplen, length = struct.unpack(order + "HHIIII", body[:20])
            return self._packet(order, interfaces, ifid, high, low, caplen, length, body, 20)
        return None  # statistics, name resolution, custom blocks: not frames

    def _packet(self, order: str, interfaces: list[_Interface], ifid: int, high: int, low: int,
                caplen: int, length: int, body: bytes, at: int) -> Frame | None:
        if ifid >= len(interfaces):
            self.damaged = f"a packet on undeclared interface {ifid} after {self.frames} frames"
            return None
        if at + caplen > len(body):
            self.damaged = f"a packet block shorter than its {caplen} bytes"
            return None
        iface = interfaces[ifid]
        data = body[at:at + caplen]
        outbound = False
        comment = None
        for code, value in _options(order, body[at + caplen + (-caplen % 4):]):
            if code == 2 and len(value) == 4:
                outbound = struct.unpack(order + "I", value)[0] & 3 == 2
            elif code == 1 and comment is None:
                comment = value.decode("utf-8", "replace")
        stamp = ((high << 32) | low) * iface.resolution + iface.offset
        return Frame(stamp, iface.linktype, data, iface.name, outbound, comment, length)


def _options(order: str, data: bytes) -> Iterator[tuple[int, bytes]]:
    at = 0
    header = struct.Struct(order + "HH")
    while at + 4 <= len(data):
        code, size = header.unpack_from(data, at)
        if code == 0:
            return
        value = data[at + 4:at + 4 + size]
        if len(value) < size:
            return
        yield code, value
        at += 4 + size + (-size % 4)

"""Control messages (cmsg): the option numbers Python 3.11 does not export, with Linux's values,
and the decoding of the ancillary data the kernel hands over with each datagram (destination,
ingress interface, TTL / hop limit, receive time, drop counter).

Guarded per platform: on anything but Linux the metadata options are simply not enabled.
Decoding needs no socket: interface indexes are turned into names by the `names` callable the
caller passes (the receiver's live cache, or a batch's snapshot).
"""

from __future__ import annotations

import operator
import socket
import struct
import sys
from collections.abc import Callable
from typing import Any

IS_LINUX = sys.platform.startswith("linux")


def _const(name: str, linux_value: int) -> int | None:
    value = getattr(socket, name, None)
    if value is not None:
        return value
    return linux_value if IS_LINUX else None


IP_PKTINFO = _const("IP_PKTINFO", 8)
IP_RECVTTL = _const("IP_RECVTTL", 12)
IP_TTL = _const("IP_TTL", 2)
IP_MULTICAST_ALL = _const("IP_MULTICAST_ALL", 49)
IP_ADD_SOURCE_MEMBERSHIP = _const("IP_ADD_SOURCE_MEMBERSHIP", 39)
IP_DROP_SOURCE_MEMBERSHIP = _const("IP_DROP_SOURCE_MEMBERSHIP", 40)
IPV6_RECVPKTINFO = _const("IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = _const("IPV6_PKTINFO", 50)
IPV6_RECVHOPLIMIT = _const("IPV6_RECVHOPLIMIT", 51)
IPV6_HOPLIMIT = _const("IPV6_HOPLIMIT", 52)
IPV6_MULTICAST_ALL = _const("IPV6_MULTICAST_ALL", 29)
MCAST_JOIN_SOURCE_GROUP = _const("MCAST_JOIN_SOURCE_GROUP", 46)
MCAST_LEAVE_SOURCE_GROUP = _const("MCAST_LEAVE_SOURCE_GROUP", 47)
SO_TIMESTAMPNS = _const("SO_TIMESTAMPNS", 35)
SO_RXQ_OVFL = _const("SO_RXQ_OVFL", 40)
SO_MEMINFO = _const("SO_MEMINFO", 55)
SK_MEMINFO_DROPS = 8
SK_MEMINFO_VARS = 9

_TIMESPEC = struct.Struct("@qq")
_WORDS = struct.Struct("@qq")  # two native 64-bit words (a cmsg header: length; level, type)
_NANO = (1e-9).__mul__
_INT = struct.Struct("@i")
_U32 = struct.Struct("@I")


Metadata = tuple[str | None, str | None, int | None, float | None, int | None]
"""(destination, interface, ttl, timestamp, drops) of one datagram; None where not reported."""


Names = Callable[[int], str]
"""Interface index -> name."""


def parse_ancillary(ancdata: list[tuple[int, int, bytes]], names: Names) -> Metadata:
    """Pull destination, ingress interface, TTL/hop limit, timestamp and drop count out of cmsgs.

    The generic walk: `ControlDecoder` gives the same result faster for layouts it has learned.
    """
    destination = interface = ttl = timestamp = drops = None
    for level, kind, data in ancdata:
        if level == socket.IPPROTO_IP:
            if kind == IP_PKTINFO and len(data) >= 12:
                # struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }
                interface = names(_INT.unpack_from(data, 0)[0])
                destination = socket.inet_ntop(socket.AF_INET, data[8:12])
            elif kind == IP_TTL and len(data) >= 4:
                ttl = _INT.unpack_from(data, 0)[0]
        elif level == socket.IPPROTO_IPV6:
            if kind == IPV6_PKTINFO and len(data) >= 20:
                # struct in6_pktinfo { in6_addr ipi6_addr; unsigned ipi6_ifindex; }
                address = socket.inet_ntop(socket.AF_INET6, data[:16])
                if address.startswith("::ffff:") and "." in address:
                    address = address[7:]
                destination = address
                interface = names(_U32.unpack_from(data, 16)[0])
            elif kind == IPV6_HOPLIMIT and len(data) >= 4:
                ttl = _INT.unpack_from(data, 0)[0]
        elif level == socket.SOL_SOCKET:
            if kind == SO_TIMESTAMPNS and len(data) >= 16:
                sec, nsec = _TIMESPEC.unpack_from(data, 0)
                timestamp = sec + nsec / 1e9
            elif kind == SO_RXQ_OVFL and len(data) >= 4:
                drops = _U32.unpack_from(data, 0)[0]
    return destination, interface, ttl, timestamp, drops


# ---------------------------------------------------------------------- fast control decoding
_CMSG_HEADER = struct.Struct("@Qii")


# (level, type, data size) of the cmsgs we decode -> Struct format of the aligned data, meaning.
_DATA_FORMATS: dict[tuple[int, int | None, int], tuple[str, str]] = {
    (socket.SOL_SOCKET, SO_TIMESTAMPNS, 16): ("qq", "timestamp"),
    (socket.SOL_SOCKET, SO_RXQ_OVFL, 4): ("I4x", "drops"),
    (socket.IPPROTO_IP, IP_PKTINFO, 12): ("i4x4s4x", "pktinfo4"),
    (socket.IPPROTO_IP, IP_TTL, 4): ("i4x", "ttl"),
    (socket.IPPROTO_IPV6, IPV6_PKTINFO, 20): ("16sI4x", "pktinfo6"),
    (socket.IPPROTO_IPV6, IPV6_HOPLIMIT, 4): ("i4x", "ttl"),
}


def _data_format(level: int, kind: int, size: int) -> tuple[str, str | None]:
    """Struct format of one cmsg's (aligned) data and what it holds (None: skipped)."""
    return _DATA_FORMATS.get((level, kind, size)) or (f"{(size + 7) & ~7}x", None)


_NOTHING = struct.Struct("")


class _Layout:
    """One learned cmsg layout: a Struct over the whole buffer and where each value lands."""

    __slots__ = ("compiled", "check", "expected", "timestamp", "address", "v6", "ifindex",
                 "ttl", "drops", "address_at", "ifindex_at", "ttl_at", "timestamp_at",
                 "timestamp_header")

    def __init__(self) -> None:
        self.compiled = _NOTHING
        self.check: Callable[[tuple[Any, ...]], Any] | None = None
        self.expected: Any = None
        self.timestamp = self.address = self.ifindex = self.ttl = self.drops = -1
        self.address_at = -1  # byte offset of the raw destination address in the buffer
        self.ifindex_at = -1  # byte offset of the ingress interface index (a native int)
        self.ttl_at = -1  # byte offset of the TTL / hop limit (a native int)
        self.timestamp_at = -1  # byte offset of the receive time (a native timespec)
        self.timestamp_header = b""  # the raw cmsg header in front of it (len, level, type)
        self.v6 = False


_UNLEARNED = _Layout()  # the decoder's "not seen yet" (None: seen, and not decodable)


class ControlDecoder:
    """Decodes a socket's control buffers with one compiled Struct per cmsg layout.

    A socket's set of cmsgs is fixed by its options, and the kernel writes them in a fixed order,
    so the same few layouts repeat for every datagram. Each is learned once by walking it; after
    that a datagram costs one `unpack_from`, one check of the (level, type) pairs, and cache hits.
    """

    __slots__ = ("_layouts", "_addresses")

    def __init__(self) -> None:
        self._layouts: dict[int, _Layout | None] = {}
        self._addresses: dict[bytes, str] = {}

    def _learn(self, view: memoryview, offset: int, length: int) -> _Layout | None:
        fmt = ["@"]
        check_at: list[int] = []
        expected: list[int] = []
        layout = _Layout()
        slot = 0
        start = offset
        end = offset + length
        while offset + 16 <= end:
            cmsg_len, level, kind = _CMSG_HEADER.unpack_from(view, offset)
            if cmsg_len < 16 or offset + cmsg_len > end:
                return None
            data_fmt, meaning = _data_format(level, kind, cmsg_len - 16)
            fmt.append("Qii" + data_fmt)
            check_at += [slot + 1, slot + 2]
            expected += [level, kind]
            slot += 3
            if meaning == "timestamp":
                layout.timestamp = slot
                layout.timestamp_at = offset - start + 16
                layout.timestamp_header = view[offset:offset + 16].tobytes()
            elif meaning == "drops":
                layout.drops = slot
            elif meaning == "ttl":
                layout.ttl = slot
                layout.ttl_at = offset - start + 16
            elif meaning == "pktinfo4" and layout.address < 0:
                layout.ifindex, layout.address = slot, slot + 1
                layout.ifindex_at = offset - start + 16  # in_pktinfo.ipi_ifindex
                layout.address_at = offset - start + 16 + 8  # in_pktinfo.ipi_addr
            elif meaning == "pktinfo6":
                layout.address, layout.ifindex, layout.v6 = slot, slot + 1, True
                layout.address_at = offset - start + 16  # in6_pktinfo.ipi6_addr
                layout.ifindex_at = offset - start + 16 + 16  # in6_pktinfo.ipi6_ifindex
            slot += len(struct.unpack("@" + data_fmt, bytes(struct.calcsize("@" + data_fmt))))
            offset += (cmsg_len + 7) & ~7
        compiled = struct.Struct("".join(fmt))
        if compiled.size > length:
            return None
        layout.compiled = compiled
        layout.check = operator.itemgetter(*check_at) if len(check_at) > 1 else None
        layout.expected = tuple(expected)
        return layout

    def decode(self, view: memoryview, offset: int, length: int, names: Names) -> Metadata:
        """(destination, interface, ttl, timestamp, drops) of one control buffer; `names`
        turns the interface index into a name."""
        if length <= 0:
            return None, None, None, None, None
        layout = self._layouts.get(length, _UNLEARNED)
        if layout is _UNLEARNED:
            if len(self._layouts) > 64:
                self._layouts.clear()
            layout = self._layouts[length] = self._learn(view, offset, length)
        if layout is not None and layout.check is not None:
            values = layout.compiled.unpack_from(view, offset)
            if layout.check(values) == layout.expected:
                destination = interface = ttl = timestamp = drops = None
                at = layout.address
                if at >= 0:
                    raw = values[at]
                    destination = self._addresses.get(raw)
                    if destination is None:
                        destination = self._address(raw, layout.v6)
                    interface = names(values[layout.ifindex])
                at = layout.timestamp
                if at >= 0:
                    timestamp = values[at] + values[at + 1] * 1e-9
                if layout.ttl >= 0:
                    ttl = values[layout.ttl]
                if layout.drops >= 0:
                    drops = values[layout.drops]
                return destination, interface, ttl, timestamp, drops
        return parse_ancillary(split_cmsgs(view, offset, length), names)

    def address_at(self, length: int) -> tuple[int, bool] | None:
        """(byte offset, is IPv6) of the destination address in a learned layout of `length`."""
        layout = self._layouts.get(length)
        if layout and layout.address_at >= 0:
            return layout.address_at, layout.v6
        return None

    def ttl_at(self, length: int) -> int:
        """Byte offset of the TTL's low byte in a learned layout of `length` (-1: none)."""
        layout = self._layouts.get(length)
        if not layout or layout.ttl_at < 0:
            return -1
        return layout.ttl_at + (0 if sys.byteorder == "little" else 3)

    def format_address(self, raw: bytes, v6: bool) -> str:
        return self._addresses.get(raw) or self._address(raw, v6)

    def decode_bytes(self, control: bytes, names: Names) -> Metadata:
        """`decode` of one datagram's control buffer kept as bytes."""
        return self.decode(memoryview(control), 0, len(control), names)

    def destination_set(self, controls: tuple[bytes, ...], names: Names) -> set[str | None]:
        """The distinct destination addresses of many control buffers.

        When they all share one learned layout (the usual case: same socket, same options) the
        raw addresses are sliced out at their fixed offset and only the distinct ones formatted;
        otherwise each buffer is decoded.
        """
        if not controls:
            return set()
        lengths = set(map(len, controls))
        layout = self._layouts.get(next(iter(lengths))) if len(lengths) == 1 else None
        if layout and layout.address_at >= 0:
            at = layout.address_at
            raws = set(map(operator.itemgetter(slice(at, at + (16 if layout.v6 else 4))), controls))
            return {self._addresses.get(raw) or self._address(raw, layout.v6) for raw in raws}
        return {self.decode_bytes(control, names)[0] for control in controls}

    def timestamps(self, controls: tuple[bytes, ...], names: Names) -> tuple[float | None, ...]:
        """The kernel receive time of every control buffer (None where a buffer has none).

        When they all share one learned layout with a timestamp (the usual case) and each
        holds that timestamp's cmsg header at its fixed place, seconds and nanoseconds are read
        as two strided columns of the joined buffers, not one decode per buffer; otherwise each
        buffer is decoded. The values are exactly `decode`'s (seconds + nanoseconds * 1e-9).
        """
        if not controls:
            return ()
        length = len(controls[0])
        layout = self._layouts.get(length)
        if (layout and layout.timestamp_at >= 0 and length % 8 == 0
                and len(set(map(len, controls))) == 1):
            # The joined buffers as native 64-bit words: the timespec and the two words of its
            # cmsg header (length; level and type) are columns with a stride of one buffer.
            words = memoryview(b"".join(controls)).cast("q")
            step = length // 8
            at = layout.timestamp_at // 8
            cmsg_len, level_kind = _WORDS.unpack(layout.timestamp_header)
            if (set(words[at - 2::step].tolist()) == {cmsg_len}
                    and set(words[at - 1::step].tolist()) == {level_kind}):
                nsec = map(_NANO, words[at + 1::step].tolist())
                return tuple(map(operator.add, words[at::step].tolist(), nsec))
        return tuple([self.decode_bytes(control, names)[3] for control in controls])

    def interface_indexes(self, controls: tuple[bytes, ...]) -> set[int]:
        """The distinct ingress interface indexes of many control buffers (so their names can
        be resolved while the socket is open); read at a fixed offset like `destination_set`."""
        if not controls:
            return set()
        lengths = set(map(len, controls))
        layout = self._layouts.get(next(iter(lengths))) if len(lengths) == 1 else None
        if layout and layout.ifindex_at >= 0:
            at = layout.ifindex_at
            raws = set(map(operator.itemgetter(slice(at, at + 4)), controls))
            return {int.from_bytes(raw, sys.byteorder) for raw in raws}
        seen: set[int] = set()

        def record(index: int) -> str:
            seen.add(index)
            return ""

        for control in controls:
            self.decode_bytes(control, record)
        return seen

    def _address(self, raw: bytes, v6: bool) -> str:
        if len(self._addresses) > 4096:
            self._addresses.clear()
        if v6:
            address = socket.inet_ntop(socket.AF_INET6, raw)
            if address.startswith("::ffff:") and "." in address:
                address = address[7:]
        else:
            address = socket.inet_ntop(socket.AF_INET, raw)
        self._addresses[raw] = address
        return address


def split_cmsgs(view: memoryview, offset: int, length: int) -> list[tuple[int, int, bytes]]:
    """Split a raw control buffer into (level, type, data) like `socket.recvmsg` does."""
    result = []
    end = offset + length
    while offset + 16 <= end:
        cmsg_len, level, kind = _CMSG_HEADER.unpack_from(view, offset)
        if cmsg_len < 16 or offset + cmsg_len > end:
            break
        result.append((level, kind, view[offset + 16 : offset + cmsg_len].tobytes()))
        offset += (cmsg_len + 7) & ~7
    return result

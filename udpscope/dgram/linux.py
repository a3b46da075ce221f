"""Socket option numbers Python 3.11 does not export, with Linux's values, and cmsg parsing.

Guarded per platform: on anything but Linux the metadata options are simply not enabled.
"""

from __future__ import annotations

import socket
import struct
import sys
from collections.abc import Callable

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

SIOCGIFNAME = 0x8910
_IFREQ = struct.Struct("@16si20x")


def interface_name(index: int, fd: int = -1) -> str:
    """Name of interface `index` as the socket's own network namespace sees it.

    `if_indextoname` answers for the calling thread's namespace; `SIOCGIFNAME` on the socket's
    descriptor answers for the socket's, which is the one the index came from.
    """
    if fd >= 0 and IS_LINUX:
        import fcntl

        try:
            raw = fcntl.ioctl(fd, SIOCGIFNAME, _IFREQ.pack(b"", index))
            return raw[:16].split(b"\0", 1)[0].decode(errors="replace")
        except OSError:
            pass
    try:
        return socket.if_indextoname(index)
    except OSError:
        return str(index)


class InterfaceNames:
    """A per-socket index→name cache, forgotten at every drained batch so renames show at once.

    Under a flood a batch holds hundreds of datagrams, so this costs one ioctl per interface per
    batch; at low rates the ioctl per datagram does not matter.
    """

    __slots__ = ("_fd", "_names")

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._names: dict[int, str] = {}

    def refresh(self) -> None:
        if self._names:
            self._names.clear()

    def __call__(self, index: int) -> str:
        name = self._names.get(index)
        if name is None:
            name = self._names[index] = interface_name(index, self._fd)
        return name


_TIMESPEC = struct.Struct("@qq")
_INT = struct.Struct("@i")
_U32 = struct.Struct("@I")


class Ancillary:
    """Parsed ancillary data of one datagram."""

    __slots__ = ("destination", "interface", "ttl", "timestamp", "drops")

    def __init__(self) -> None:
        self.destination: str | None = None
        self.interface: str | None = None
        self.ttl: int | None = None
        self.timestamp: float | None = None
        self.drops: int | None = None


def parse_ancillary(
    ancdata: list[tuple[int, int, bytes]], names: Callable[[int], str] = interface_name
) -> Ancillary:
    """Pull destination, ingress interface, TTL/hop limit, timestamp and drop count out of cmsgs."""
    info = Ancillary()
    for level, kind, data in ancdata:
        if level == socket.IPPROTO_IP:
            if kind == IP_PKTINFO and len(data) >= 12:
                # struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }
                info.interface = names(_INT.unpack_from(data, 0)[0])
                info.destination = socket.inet_ntop(socket.AF_INET, data[8:12])
            elif kind == IP_TTL and len(data) >= 4:
                info.ttl = _INT.unpack_from(data, 0)[0]
        elif level == socket.IPPROTO_IPV6:
            if kind == IPV6_PKTINFO and len(data) >= 20:
                # struct in6_pktinfo { in6_addr ipi6_addr; unsigned ipi6_ifindex; }
                address = socket.inet_ntop(socket.AF_INET6, data[:16])
                if address.startswith("::ffff:") and "." in address:
                    address = address[7:]
                info.destination = address
                info.interface = names(_U32.unpack_from(data, 16)[0])
            elif kind == IPV6_HOPLIMIT and len(data) >= 4:
                info.ttl = _INT.unpack_from(data, 0)[0]
        elif level == socket.SOL_SOCKET:
            if kind == SO_TIMESTAMPNS and len(data) >= 16:
                sec, nsec = _TIMESPEC.unpack_from(data, 0)
                info.timestamp = sec + nsec / 1e9
            elif kind == SO_RXQ_OVFL and len(data) >= 4:
                info.drops = _U32.unpack_from(data, 0)[0]
    return info

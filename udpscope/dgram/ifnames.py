"""Interface index <-> name, as the socket's own network namespace sees them.

`if_nametoindex` / `if_indextoname` answer for the calling thread's namespace. A socket keeps the
namespace it was created in, and a program (or a test) may create it in one namespace and use it
from another; the `SIOCGIFNAME` / `SIOCGIFINDEX` ioctls on the socket's descriptor answer for the
socket's namespace, the one its addresses and scope ids belong to.
"""

from __future__ import annotations

import socket
import struct
import sys

IS_LINUX = sys.platform.startswith("linux")
SIOCGIFNAME = 0x8910
SIOCGIFINDEX = 0x8933
_IFREQ = struct.Struct("@16si20x")  # struct ifreq: name, then ifr_ifindex in the union


def interface_name(index: int, fd: int = -1) -> str:
    """Name of interface `index`; its decimal index when no interface has it."""
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


def interface_index(name: str, fd: int = -1) -> int:
    """Index of interface `name` (a decimal string is taken as an index); 0 when unknown."""
    if name.isdigit():
        return int(name)
    encoded = name.encode(errors="replace")
    if not encoded or len(encoded) >= 16 or b"\0" in encoded:
        return 0
    if fd >= 0 and IS_LINUX:
        import fcntl

        try:
            raw = fcntl.ioctl(fd, SIOCGIFINDEX, _IFREQ.pack(encoded, 0))
            return int(_IFREQ.unpack(raw)[1])
        except OSError:
            pass
    try:
        return socket.if_nametoindex(name)
    except OSError:
        return 0


class InterfaceNames:
    """A per-socket index->name cache, forgotten at every drained batch so renames show at once.

    Under a flood a batch holds hundreds of datagrams, so this costs one ioctl per interface per
    batch; at low rates the ioctl per datagram does not matter.
    """

    __slots__ = ("_fd", "_names")

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._names: dict[int, str] = {}

    def refresh(self) -> None:
        self._names = {}

    def snapshot(self) -> dict[int, str]:
        """A copy of the names resolved since the last refresh (for a batch to keep)."""
        return dict(self._names)

    def __call__(self, index: int) -> str:
        name = self._names.get(index)
        if name is None:
            name = self._names[index] = interface_name(index, self._fd)
        return name

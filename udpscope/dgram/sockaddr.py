"""IP literals and the address tuples Python's socket calls take, IPv6 scope ids included.

An IP literal is used as it is, without a lookup (Node's rule); everything else goes through
the resolver (lookup.py). Python's `bind`, `connect` and `sendto` take `(host, port, flowinfo,
scope_id)` for IPv6 and do not apply a `%zone` written in the host string (glibc's parser even
refuses `::1%lo`, and the scope it does parse is overwritten by the tuple's). Node (libuv) reads
the zone itself; so does this module: the zone is split off and resolved in the socket's own
namespace (ifnames.py). A numeric zone is an interface index, as in RFC 4007 and glibc.
See docs/dgram.md, "IPv6 scope ids".
"""

from __future__ import annotations

import errno
import functools
import socket
from typing import Any

from .ifnames import interface_index, interface_name

SockAddr = tuple[str, int] | tuple[str, int, int, int]


def family_of(address: str) -> int | None:
    """AF_INET or AF_INET6 for a bare IP literal (no zone), else None."""
    try:
        socket.inet_pton(socket.AF_INET, address)
        return socket.AF_INET
    except OSError:
        pass
    try:
        socket.inet_pton(socket.AF_INET6, address)
        return socket.AF_INET6
    except OSError:
        return None


@functools.lru_cache(maxsize=4096)
def is_literal(address: str) -> bool:
    """True for an IPv4 literal or an IPv6 literal with an optional `%zone` (used as they are,
    whatever the socket's family: the kernel refuses a mismatch, as in Node)."""
    bare, sep, zone = address.partition("%")
    if sep:
        return bool(zone) and family_of(bare) == socket.AF_INET6
    return family_of(address) is not None


def normal(address: str) -> str:
    """Canonical spelling of an IP literal (`FF15:0::1` -> `ff15::1`); other text unchanged."""
    family = family_of(address)
    if family is None:
        return address
    return socket.inet_ntop(family, socket.inet_pton(family, address))


def to_sockaddr(family: int, address: str, port: int, fd: int = -1) -> SockAddr:
    """The tuple for bind/connect/sendto; an IPv6 `%zone` becomes the scope id. An unknown
    interface name is ENODEV, the kernel's answer for a scope id with no interface (Node would
    go on unscoped, i.e. out of whichever link the route picks)."""
    bare, sep, zone = address.partition("%")
    if not sep or family != socket.AF_INET6:
        return (address, port)
    scope = interface_index(zone, fd)
    if not scope:
        raise OSError(errno.ENODEV, f"no interface {zone!r}")
    return (bare, port, 0, scope)


def from_sockaddr(raw: Any, fd: int = -1) -> tuple[str, int]:
    """(address, port) of what getsockname/getpeername return, a scope id as `%name`."""
    address: str = raw[0]
    if len(raw) >= 4 and raw[3]:
        address = f"{address}%{interface_name(raw[3], fd)}"
    return address, raw[1]

"""IP literals and the address tuples Python's socket calls take.

An IP literal is used as it is, without a lookup (Node's rule); everything else goes through
the resolver (lookup.py).
"""

from __future__ import annotations

import functools
import socket
from typing import Any

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
    """True for an IP literal of either family (used as it is, whatever the socket's family:
    the kernel refuses a mismatch, as in Node)."""
    return family_of(address.partition("%")[0]) is not None


def normal(address: str) -> str:
    """Canonical spelling of an IP literal (`FF15:0::1` -> `ff15::1`); other text unchanged."""
    family = family_of(address)
    if family is None:
        return address
    return socket.inet_ntop(family, socket.inet_pton(family, address))


def to_sockaddr(family: int, address: str, port: int, fd: int = -1) -> SockAddr:
    """The tuple for bind/connect/sendto."""
    return (address, port)


def from_sockaddr(raw: Any, fd: int = -1) -> tuple[str, int]:
    """(address, port) of what getsockname/getpeername return."""
    return raw[0], raw[1]

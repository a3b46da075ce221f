"""`sendmmsg` / `recvmmsg` through ctypes, for the peers that must keep up without a compiler.

Why ctypes and not the engine's own module: the peers measure the engine, so they must not share
its code paths (a regression there would slow both sides and hide itself). Linux only; callers
fall back to one system call per datagram elsewhere.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

MSG_WAITFORONE = 0x10000


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class Msghdr(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_void_p),
        ("namelen", ctypes.c_uint32),
        ("iov", ctypes.POINTER(Iovec)),
        ("iovlen", ctypes.c_size_t),
        ("control", ctypes.c_void_p),
        ("controllen", ctypes.c_size_t),
        ("flags", ctypes.c_int),
    ]


class Mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", Msghdr), ("len", ctypes.c_uint)]


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def function(name: str) -> Any:
    """The libc function `name` with the (fd, msgs, vlen, flags, ...) signature, or None."""
    if _LIBC is None:
        return None
    fn = getattr(_LIBC, name, None)
    if fn is None:
        return None
    if name == "recvmmsg":
        fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                       ctypes.c_void_p]
    else:
        fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


class Batch:
    """`count` message headers, each with one iovec over its own slot of `slot` bytes.

    With `shared` the slots all point at one buffer (a sender repeating one payload).
    """

    def __init__(self, count: int, slot: int, shared: bytes | None = None) -> None:
        self.count = count
        self.msgs = (Mmsghdr * count)()
        self.iovs = (Iovec * count)()
        if shared is not None:
            self.buffer = ctypes.create_string_buffer(shared, len(shared))
            bases = [ctypes.addressof(self.buffer)] * count
        else:
            self.buffer = ctypes.create_string_buffer(slot * count)
            start = ctypes.addressof(self.buffer)
            bases = [start + i * slot for i in range(count)]
        for i in range(count):
            self.iovs[i].base = bases[i]
            self.iovs[i].len = slot
            self.msgs[i].hdr.iov = ctypes.pointer(self.iovs[i])
            self.msgs[i].hdr.iovlen = 1
        self.address = ctypes.addressof(self.msgs)

    def lengths(self, n: int) -> int:
        """Sum of msg_len over the first n headers (bytes received)."""
        msgs = self.msgs
        return sum(msgs[i].len for i in range(n))

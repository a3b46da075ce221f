"""The kernel socket behind one dgram `Socket`: opened on first need (bind, first send, first
membership), with the creation options applied, and closed once.

Everything here is a system call on the descriptor; the rules about when each may happen live in
core.py, and errors become Node-shaped `DgramError`s here or in the shell.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import struct
from typing import Any

from . import cmsg, mmsg
from .errors import from_oserror, system_error
from .sockaddr import SockAddr, from_sockaddr, to_sockaddr
from .types import SocketOptions


class Handle:
    """One non-blocking UDP socket of the family the options name."""

    __slots__ = ("options", "family", "sock")

    def __init__(self, options: SocketOptions) -> None:
        self.options = options
        self.family = socket.AF_INET if options.type == "udp4" else socket.AF_INET6
        self.sock: socket.socket | None = None

    def fileno(self) -> int:
        """The descriptor, or -1 before the socket exists (and after close)."""
        return self.sock.fileno() if self.sock is not None else -1

    def open(self) -> socket.socket:
        """The OS socket, created now if it does not exist yet (raises OSError)."""
        if self.sock is not None:
            return self.sock
        options = self.options
        sock = socket.socket(self.family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            if options.reuse_addr:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if options.reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if self.family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(options.ipv6_only))
            if options.multicast_all is not None:
                apply_multicast_all(sock, self.family, options.ipv6_only, options.multicast_all)
            if options.metadata:
                _enable_metadata(sock, self.family)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        return sock

    def require(self, syscall: str) -> socket.socket:
        """The socket, or EBADF (as Node says for option calls before the first bind)."""
        if self.sock is None:
            raise system_error(errno.EBADF, syscall)
        return self.sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    # ------------------------------------------------------------------ addresses
    def sockaddr(self, address: str, port: int) -> SockAddr:
        """The tuple Python's socket calls take for `address`:`port` (raises OSError)."""
        return to_sockaddr(self.family, address, port, self.fileno())

    def bind(self, address: str, port: int) -> socket.socket:
        """Bind (opening the socket first), then apply the buffer sizes; raises OSError."""
        sock = self.open()
        sock.bind(self.sockaddr(address, port))
        options = self.options
        if options.recv_buffer_size:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, options.recv_buffer_size)
        if options.send_buffer_size:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, options.send_buffer_size)
        return sock

    def connect(self, address: str, port: int) -> None:
        self.require("connect").connect(self.sockaddr(address, port))

    def disconnect(self) -> None:
        """connect() with AF_UNSPEC dissolves a UDP association; Python has no spelling for it."""
        import ctypes

        unspec = (ctypes.c_ubyte * 16)()  # sa_family = AF_UNSPEC (0)
        fd = self.require("disconnect").fileno()
        if mmsg.libc().connect(fd, ctypes.byref(unspec), ctypes.sizeof(unspec)) != 0:
            raise system_error(ctypes.get_errno(), "disconnect")

    def local_address(self) -> tuple[str, int]:
        """getsockname as (address, port); raises DgramError (EBADF before the socket exists)."""
        sock = self.require("getsockname")
        try:
            return from_sockaddr(sock.getsockname(), sock.fileno())
        except OSError as exc:
            raise from_oserror(exc, "getsockname") from None

    def peer_address(self) -> tuple[str, int]:
        sock = self.require("getpeername")
        try:
            return from_sockaddr(sock.getpeername(), sock.fileno())
        except OSError as exc:
            raise from_oserror(exc, "getpeername") from None

    def describe(self, target: SockAddr) -> tuple[str, int]:
        """(address, port) of a send's destination, for its error message."""
        return from_sockaddr(target, self.fileno())

    # ------------------------------------------------------------------ options
    def setsockopt(self, syscall: str, level: int, option: int, value: int | bytes) -> None:
        sock = self.require(syscall)
        try:
            sock.setsockopt(level, option, value)
        except OSError as exc:
            raise from_oserror(exc, syscall) from None

    def getsockopt(self, syscall: str, level: int, option: int) -> int:
        sock = self.require(syscall)
        try:
            return sock.getsockopt(level, option)
        except OSError as exc:
            raise from_oserror(exc, syscall) from None

    def set_multicast_all(self, flag: bool) -> None:
        sock = self.require("setMulticastAll")
        try:
            apply_multicast_all(sock, self.family, self.options.ipv6_only, flag)
        except OSError as exc:
            raise from_oserror(exc, "setMulticastAll") from None

    def kernel_drops(self) -> int | None:
        """The kernel's drop counter for this socket (SO_MEMINFO), or None where unavailable."""
        if self.sock is None or cmsg.SO_MEMINFO is None:
            return None
        try:
            raw = self.sock.getsockopt(
                socket.SOL_SOCKET, cmsg.SO_MEMINFO, 4 * cmsg.SK_MEMINFO_VARS
            )
            drops: int = struct.unpack_from("@9I", raw)[cmsg.SK_MEMINFO_DROPS]
            return drops
        except (OSError, struct.error):
            return None


def apply_multicast_all(sock: socket.socket, family: int, ipv6_only: bool, flag: bool) -> None:
    """IP_MULTICAST_ALL (and its IPv6 twin): False = receive only the groups joined here."""
    if family == socket.AF_INET6:
        if cmsg.IPV6_MULTICAST_ALL is None:
            raise OSError(errno.ENOPROTOOPT, "IPV6_MULTICAST_ALL is not available here")
        sock.setsockopt(socket.IPPROTO_IPV6, cmsg.IPV6_MULTICAST_ALL, int(flag))
        # A dual-stack socket also receives IPv4 groups: isolate those too.
        if not ipv6_only and cmsg.IP_MULTICAST_ALL is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IP, cmsg.IP_MULTICAST_ALL, int(flag))
    else:
        if cmsg.IP_MULTICAST_ALL is None:
            raise OSError(errno.ENOPROTOOPT, "IP_MULTICAST_ALL is not available here")
        sock.setsockopt(socket.IPPROTO_IP, cmsg.IP_MULTICAST_ALL, int(flag))


def _enable_metadata(sock: socket.socket, family: int) -> None:
    """Ask for destination, interface, TTL, timestamp and drop count with every datagram."""
    wanted: list[tuple[int, Any]] = [
        (socket.SOL_SOCKET, cmsg.SO_TIMESTAMPNS),
        (socket.SOL_SOCKET, cmsg.SO_RXQ_OVFL),
        (socket.IPPROTO_IP, cmsg.IP_PKTINFO),
        (socket.IPPROTO_IP, cmsg.IP_RECVTTL),
    ]
    if family == socket.AF_INET6:
        wanted += [
            (socket.IPPROTO_IPV6, cmsg.IPV6_RECVPKTINFO),
            (socket.IPPROTO_IPV6, cmsg.IPV6_RECVHOPLIMIT),
        ]
    for level, option in wanted:
        if option is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(level, option, 1)

"""Socket options of the public `Socket`: TTLs, broadcast, multicast sending, buffer sizes, the
multicast isolation switch and the kernel's drop counter.

A mixin of `Socket` (see socket.py), so the methods sit on the socket as in Node, while their
checks and system calls live here: argument type first, then closed, then range (EINVAL), then
EBADF when the OS socket does not exist yet (before the first bind, send or membership). Every
setter flushes the send outbox first, so datagrams already sent leave with the options they were
sent under. See docs/dgram.md, "Options".
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from typing import Any

from . import cmsg
from .core import SocketCore
from .errors import invalid_arg_type, system_error
from .handle import Handle
from .ifnames import interface_index
from .receiver import Receiver
from .sockaddr import family_of
from .validate import check_buffer_size, check_int


class OptionMethods:
    """Option getters and setters; needs the socket's core, handle and outbox flush."""

    _core: SocketCore
    _handle: Handle
    _receiver: Receiver | None
    _flush: Callable[[], None]  # hands the send outbox to the kernel

    def _setopt(self, syscall: str, level: int, option: int, value: int | bytes) -> None:
        self._core.check_running()
        self._handle.require(syscall)
        self._flush()
        self._handle.setsockopt(syscall, level, option, value)

    def _getopt(self, syscall: str, level: int, option: int) -> int:
        self._core.check_running()
        return self._handle.getsockopt(syscall, level, option)

    def _v6(self) -> bool:
        return self._handle.family == socket.AF_INET6

    # ------------------------------------------------------------------ broadcast
    def set_broadcast(self, flag: Any) -> None:
        """Allow (or forbid) sending to broadcast addresses (SO_BROADCAST).

        Args:
            flag: truthy to allow. A broadcast send without it fails with EACCES.

        Raises:
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close; EBADF before the socket exists.
        """
        self._setopt("setBroadcast", socket.SOL_SOCKET, socket.SO_BROADCAST, int(bool(flag)))

    def get_broadcast(self) -> bool:
        """Whether broadcast sends are allowed (raises as `set_broadcast`)."""
        return bool(self._getopt("getBroadcast", socket.SOL_SOCKET, socket.SO_BROADCAST))

    # ------------------------------------------------------------------ hop limits
    def _set_hops(self, ttl: Any, lowest: int, syscall: str, v6_option: int,
                  v4_option: int) -> int:
        value = check_int(ttl, "ttl")
        self._core.check_running()
        if not lowest <= value <= 255:
            raise system_error(errno.EINVAL, syscall)
        if self._v6():
            self._setopt(syscall, socket.IPPROTO_IPV6, v6_option, value)
        else:
            self._setopt(syscall, socket.IPPROTO_IP, v4_option, value)
        return value

    def set_ttl(self, ttl: Any) -> int:
        """Set the unicast TTL (IPv4) or hop limit (IPv6) of outgoing datagrams.

        Args:
            ttl: an int from 1 to 255.

        Returns:
            `ttl`.

        Raises:
            DgramTypeError: ERR_INVALID_ARG_TYPE when `ttl` is not an int.
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close; EINVAL out of range;
                EBADF before the socket exists.
        """
        return self._set_hops(ttl, 1, "setTTL", socket.IPV6_UNICAST_HOPS, socket.IP_TTL)

    def get_ttl(self) -> int:
        """The unicast TTL / hop limit (raises as `set_broadcast`)."""
        if self._v6():
            return self._getopt("getTTL", socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS)
        return self._getopt("getTTL", socket.IPPROTO_IP, socket.IP_TTL)

    def set_multicast_ttl(self, ttl: Any) -> int:
        """Set the TTL / hop limit of outgoing multicast datagrams.

        Args:
            ttl: an int from 0 to 255 (0 still reaches sockets on this host when loopback is on).

        Returns:
            `ttl`.

        Raises:
            As `set_ttl`.
        """
        return self._set_hops(
            ttl, 0, "setMulticastTTL", socket.IPV6_MULTICAST_HOPS, socket.IP_MULTICAST_TTL
        )

    def get_multicast_ttl(self) -> int:
        """The multicast TTL / hop limit (raises as `set_broadcast`)."""
        if self._v6():
            return self._getopt("getMulticastTTL", socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS)
        return self._getopt("getMulticastTTL", socket.IPPROTO_IP, socket.IP_MULTICAST_TTL)

    # ------------------------------------------------------------------ multicast sending
    def set_multicast_loopback(self, flag: Any) -> Any:
        """Whether this host's own sockets receive the multicast datagrams sent here.

        Args:
            flag: truthy to loop multicast back (the kernel's default).

        Returns:
            `flag`, unchanged (as Node).

        Raises:
            As `set_broadcast`.
        """
        value = int(bool(flag))
        if self._v6():
            self._setopt("setMulticastLoopback", socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP,
                      value)
        else:
            self._setopt("setMulticastLoopback", socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, value)
        return flag

    def get_multicast_loopback(self) -> bool:
        """Whether multicast is looped back (raises as `set_broadcast`)."""
        if self._v6():
            return bool(self._getopt("getMulticastLoopback", socket.IPPROTO_IPV6,
                                  socket.IPV6_MULTICAST_LOOP))
        return bool(self._getopt("getMulticastLoopback", socket.IPPROTO_IP,
                              socket.IP_MULTICAST_LOOP))

    def set_multicast_interface(self, interface: Any) -> None:
        """Choose the interface outgoing multicast leaves from.

        Args:
            interface: an IPv4 address sets the IPv4 interface (on udp4, and on a dual-stack
                udp6 socket for its IPv4 multicast); on udp6 `::%name`, `::%index`, `%name`
                or a bare name sets the IPv6 one.

        Raises:
            DgramTypeError: ERR_INVALID_ARG_TYPE when `interface` is not a str.
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close; EINVAL for text that is no
                address (or interface); ENODEV for an unknown `%name`; ENOPROTOOPT for an IPv6
                address on udp4 (as in Node); EBADF before the socket exists.
        """
        if not isinstance(interface, str):
            raise invalid_arg_type("interfaceAddress", "of type str", interface)
        self._core.check_running()
        syscall = "setMulticastInterface"
        # libuv's order: an IPv4 address, else an IPv6 one, whatever the socket's family; the
        # kernel of an IPv4 socket then refuses the IPv6 option (ENOPROTOOPT).
        if family_of(interface) == socket.AF_INET:
            packed = socket.inet_aton(interface)
            self._setopt(syscall, socket.IPPROTO_IP, socket.IP_MULTICAST_IF, packed)
        elif self._v6() or family_of(interface.partition("%")[0]) == socket.AF_INET6:
            index = ipv6_interface_index(interface, syscall, self._handle.fileno())
            self._setopt(syscall, socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
        else:
            raise system_error(errno.EINVAL, syscall)

    def set_multicast_all(self, flag: bool) -> bool:
        """The isolation switch (IP_MULTICAST_ALL, Linux): False = receive only the groups this
        socket joined itself, not every group joined on the host for its port.

        Returns:
            `bool(flag)`.

        Raises:
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close; EBADF before the socket
                exists; ENOPROTOOPT where the kernel lacks the option.
        """
        self._core.check_running()
        self._handle.set_multicast_all(bool(flag))
        return bool(flag)

    def get_multicast_all(self) -> bool:
        """The isolation switch's state (raises as `set_multicast_all`)."""
        if self._v6():
            option, level = cmsg.IPV6_MULTICAST_ALL, socket.IPPROTO_IPV6
        else:
            option, level = cmsg.IP_MULTICAST_ALL, socket.IPPROTO_IP
        if option is None:
            raise system_error(errno.ENOPROTOOPT, "getMulticastAll")
        return bool(self._getopt("getMulticastAll", level, option))

    # ------------------------------------------------------------------ buffers
    def get_recv_buffer_size(self) -> int:
        """SO_RCVBUF in bytes (Linux reports double what was set; raises as `set_broadcast`)."""
        return self._getopt("getRecvBufferSize", socket.SOL_SOCKET, socket.SO_RCVBUF)

    def set_recv_buffer_size(self, size: int) -> None:
        """Set SO_RCVBUF (capped by net.core.rmem_max).

        Raises:
            DgramTypeError: ERR_SOCKET_BAD_BUFFER_SIZE unless `size` is a positive int.
            DgramError: as `set_broadcast`.
        """
        value = check_buffer_size(size)
        self._setopt("setRecvBufferSize", socket.SOL_SOCKET, socket.SO_RCVBUF, value)

    def get_send_buffer_size(self) -> int:
        """SO_SNDBUF in bytes (Linux reports double what was set; raises as `set_broadcast`)."""
        return self._getopt("getSendBufferSize", socket.SOL_SOCKET, socket.SO_SNDBUF)

    def set_send_buffer_size(self, size: int) -> None:
        """Set SO_SNDBUF (capped by net.core.wmem_max; raises as `set_recv_buffer_size`)."""
        value = check_buffer_size(size)
        self._setopt("setSendBufferSize", socket.SOL_SOCKET, socket.SO_SNDBUF, value)

    def get_kernel_drops(self) -> int:
        """Datagrams the kernel dropped for this socket (its receive buffer was full), since it
        was created (udpscope's extra; 0 before the OS socket exists)."""
        drops = self._handle.kernel_drops()
        if drops is None:
            return self._receiver.drops if self._receiver is not None else 0
        return drops


def pack_ipv4(address: str, syscall: str) -> bytes:
    """An IPv4 literal as 4 bytes, EINVAL otherwise."""
    try:
        return socket.inet_pton(socket.AF_INET, address)
    except OSError:
        raise system_error(errno.EINVAL, syscall) from None


def ipv6_interface_index(interface: str | None, syscall: str, fd: int = -1) -> int:
    """`::%eth0`, `fe80::1%2`, `%eth0` or a bare name -> the interface index, resolved in the
    socket's namespace (`fd`); EINVAL for an address part that does not parse or an unknown
    bare name, ENODEV for an unknown `%name`."""
    if interface is None:
        return 0
    bare, sep, scope = interface.partition("%")
    if sep:
        if bare and family_of(bare) != socket.AF_INET6:
            raise system_error(errno.EINVAL, syscall)
        if scope.isdigit():
            return int(scope)
        index = interface_index(scope, fd)
        if not index:
            raise system_error(errno.ENODEV, syscall)
        return index
    if family_of(bare) == socket.AF_INET6:
        return 0
    index = interface_index(bare, fd)
    if not index:
        raise system_error(errno.EINVAL, syscall)
    return index

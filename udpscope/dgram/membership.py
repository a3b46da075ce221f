"""Multicast group membership of the public `Socket`: joining and leaving any-source and
source-specific groups, and the record of what this socket has joined.

A mixin of `Socket` (see socket.py). A membership call creates the OS socket if it does not exist
yet (as in Node: a group may be joined before bind). The kernel's request structures are packed
here: `ip_mreq` / `ip_mreq_source` for IPv4, `ipv6_mreq` / `group_source_req` for IPv6.
See docs/dgram.md, "Multicast".
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Iterator
from typing import Any

from . import cmsg
from .core import SocketCore
from .errors import from_oserror, system_error
from .handle import Handle
from .sockaddr import family_of, normal
from .sockopts import ipv6_interface_index, pack_ipv4
from .validate import check_membership

Membership = tuple[str, str | None, str | None]
"""(group, source or None, interface or None), addresses in canonical spelling."""


class MembershipBook:
    """The groups a socket has joined, under canonical keys so a drop spelled differently
    (`FF15:0::1` for `ff15::1`) still finds its join."""

    __slots__ = ("_joined",)

    def __init__(self) -> None:
        self._joined: dict[Membership, None] = {}

    def record(self, join: bool, group: str, source: str | None, interface: str | None) -> None:
        key = (normal(group), normal(source) if source else None, interface or None)
        if join:
            self._joined[key] = None
            return
        if key in self._joined:
            del self._joined[key]
            return
        # The kernel dropped it: forget the entry for that group and source on any interface.
        for candidate in self._joined:
            if candidate[:2] == key[:2]:
                del self._joined[candidate]
                return

    def clear(self) -> None:
        self._joined.clear()

    def __iter__(self) -> Iterator[Membership]:
        return iter(list(self._joined))


class MembershipMethods:
    """add/drop (source-specific) membership; needs the socket's core, handle and book."""

    _core: SocketCore
    _handle: Handle
    _memberships: MembershipBook

    def _open(self, syscall: str) -> socket.socket:
        try:
            return self._handle.open()
        except OSError as exc:
            raise from_oserror(exc, syscall) from None

    def _any_source(self, join: bool, group: str, interface: str | None) -> None:
        syscall = "addMembership" if join else "dropMembership"
        sock = self._open(syscall)
        family = family_of(group)
        try:
            if family == socket.AF_INET:
                iface = pack_ipv4(interface, syscall) if interface else bytes(4)
                option = socket.IP_ADD_MEMBERSHIP if join else socket.IP_DROP_MEMBERSHIP
                sock.setsockopt(socket.IPPROTO_IP, option, socket.inet_aton(group) + iface)
            elif family == socket.AF_INET6:
                index = ipv6_interface_index(interface, syscall, sock.fileno()) if interface else 0
                option = socket.IPV6_JOIN_GROUP if join else socket.IPV6_LEAVE_GROUP
                packed = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", index)
                sock.setsockopt(socket.IPPROTO_IPV6, option, packed)
            else:
                raise system_error(errno.EINVAL, syscall)
        except OSError as exc:
            raise from_oserror(exc, syscall) from None
        self._memberships.record(join, group, None, interface)

    def _source_specific(self, join: bool, source: str, group: str, interface: str | None) -> None:
        syscall = "addSourceSpecificMembership" if join else "dropSourceSpecificMembership"
        sock = self._open(syscall)
        family = family_of(group)
        if family is None or family_of(source) != family:
            raise system_error(errno.EINVAL, syscall)
        try:
            if family == socket.AF_INET:
                iface = pack_ipv4(interface, syscall) if interface else bytes(4)
                option = cmsg.IP_ADD_SOURCE_MEMBERSHIP if join else cmsg.IP_DROP_SOURCE_MEMBERSHIP
                if option is None:
                    raise system_error(errno.ENOPROTOOPT, syscall)
                packed = socket.inet_aton(group) + iface + socket.inet_aton(source)
                sock.setsockopt(socket.IPPROTO_IP, option, packed)
            else:
                index = ipv6_interface_index(interface, syscall, sock.fileno()) if interface else 0
                option = cmsg.MCAST_JOIN_SOURCE_GROUP if join else cmsg.MCAST_LEAVE_SOURCE_GROUP
                if option is None:
                    raise system_error(errno.ENOPROTOOPT, syscall)
                packed = (struct.pack("@I4x", index) + _sockaddr_storage_in6(group)
                          + _sockaddr_storage_in6(source))
                sock.setsockopt(socket.IPPROTO_IPV6, option, packed)
        except OSError as exc:
            raise from_oserror(exc, syscall) from None
        self._memberships.record(join, group, source, interface)

    def add_membership(self, group: Any = None, interface: Any = None) -> None:
        """Join multicast `group` (IGMP/MLD report) on one interface or the kernel's choice.

        Args:
            group: the group address (IPv4 or IPv6, whatever the socket's family on a
                dual-stack udp6 socket).
            interface: udp4: the interface's IPv4 address; udp6: `::%name`, `%name` or a name.
                None lets the kernel pick by its routes.

        Raises:
            DgramTypeError: ERR_MISSING_ARGS without a group; ERR_INVALID_ARG_TYPE for non-str.
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close; EINVAL for a group that is not
                multicast or does not parse; EADDRINUSE when already joined there; ENODEV for an
                unknown interface.
        """
        check_membership(group, interface)
        self._core.check_running()
        self._any_source(True, group, interface)

    def drop_membership(self, group: Any = None, interface: Any = None) -> None:
        """Leave a group joined with `add_membership` (same arguments).

        Raises:
            As `add_membership`, and EADDRNOTAVAIL when the group was not joined there.
        """
        check_membership(group, interface)
        self._core.check_running()
        self._any_source(False, group, interface)

    def add_source_specific_membership(
        self, source: Any, group: Any, interface: Any = None
    ) -> None:
        """Join `group` for datagrams from `source` only (SSM, IGMPv3/MLDv2).

        Args:
            source: the sender's address, of the group's family.
            group: a source-specific group (232.0.0.0/8, ff3x::/32).
            interface: as in `add_membership`.

        Raises:
            DgramTypeError: ERR_INVALID_ARG_TYPE when source or group is not a str.
            DgramError: as `add_membership`; EINVAL when source and group differ in family.
        """
        check_membership(group, interface, source, ssm=True)
        self._core.check_running()
        self._source_specific(True, source, group, interface)

    def drop_source_specific_membership(
        self, source: Any, group: Any, interface: Any = None
    ) -> None:
        """Leave a source-specific group (same arguments and errors as joining it)."""
        check_membership(group, interface, source, ssm=True)
        self._core.check_running()
        self._source_specific(False, source, group, interface)

    def get_memberships(self) -> list[Membership]:
        """The (group, source, interface) memberships joined here and not dropped, in join order
        (udpscope's extra; empty after close)."""
        return list(self._memberships)


def _sockaddr_storage_in6(address: str) -> bytes:
    """A `struct sockaddr_in6` padded to `struct __kernel_sockaddr_storage` (128 bytes)."""
    sin6 = struct.pack("@H", socket.AF_INET6) + struct.pack("!HI", 0, 0)
    sin6 += socket.inet_pton(socket.AF_INET6, address) + struct.pack("@I", 0)
    return sin6.ljust(128, b"\0")

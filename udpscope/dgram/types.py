"""Value types of the engine: socket options and the address records Node hands out
(docs/dgram.md, "Names" and "Extras beyond Node")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from .errors import DgramTypeError, invalid_arg_type


class AddressInfo(NamedTuple):
    """What `address()` and `remote_address()` return (Node's `{address, family, port}`)."""

    address: str
    family: str
    port: int


class RemoteInfo(NamedTuple):
    """Where a datagram came from: Node's four fields, then udpscope's ancillary metadata.

    The extra fields are None unless the socket was created with `metadata=True`:
    `destination` is the address the datagram was sent to (a group, a unicast or broadcast
    address), `interface` the name of the interface it arrived on, `ttl` its TTL / hop limit
    and `timestamp` the kernel's receive time (seconds since the epoch).
    """

    address: str
    family: str
    port: int
    size: int
    destination: str | None = None
    interface: str | None = None
    ttl: int | None = None
    timestamp: float | None = None


@dataclass(slots=True)
class SocketOptions:
    """Node's `createSocket` options, snake_cased, plus udpscope's extras.

    Extras: `multicast_all` (None keeps the kernel's default; False isolates the socket so it
    only receives groups it joined itself — see nodejs/node#19954) and `metadata` (collect the
    per-datagram destination, interface, TTL and kernel timestamp on `RemoteInfo`).
    """

    type: str
    reuse_addr: bool = False
    reuse_port: bool = False
    ipv6_only: bool = False
    recv_buffer_size: int | None = None
    send_buffer_size: int | None = None
    lookup: Callable[..., Any] | None = None
    multicast_all: bool | None = None
    metadata: bool = False

    @classmethod
    def from_any(cls, value: object) -> SocketOptions:
        """The options `create_socket` was given: a type string, a SocketOptions or a dict of
        its fields, validated (raises DgramTypeError with Node's codes)."""
        if isinstance(value, SocketOptions):
            options = value
        elif isinstance(value, str):
            options = cls(type=value)
        elif isinstance(value, dict):
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise DgramTypeError(
                    "ERR_INVALID_ARG_TYPE", f"Unknown socket option(s): {', '.join(unknown)}"
                )
            if "type" not in value:
                raise DgramTypeError(
                    "ERR_SOCKET_BAD_TYPE", "Bad socket type specified. Valid types are: udp4, udp6"
                )
            options = cls(**value)
        else:
            raise DgramTypeError(
                "ERR_SOCKET_BAD_TYPE", "Bad socket type specified. Valid types are: udp4, udp6"
            )
        options.validate()
        return options

    def validate(self) -> None:
        """Raise ERR_SOCKET_BAD_TYPE, ERR_INVALID_ARG_TYPE or ERR_SOCKET_BAD_BUFFER_SIZE for a
        field Node would refuse."""
        if self.type not in ("udp4", "udp6"):
            raise DgramTypeError(
                "ERR_SOCKET_BAD_TYPE", "Bad socket type specified. Valid types are: udp4, udp6"
            )
        for name in ("reuse_addr", "reuse_port", "ipv6_only", "metadata"):
            if not isinstance(getattr(self, name), bool):
                raise invalid_arg_type(f"options.{name}", "of type bool", getattr(self, name))
        if self.multicast_all is not None and not isinstance(self.multicast_all, bool):
            raise invalid_arg_type("options.multicast_all", "of type bool or None", self.multicast_all)
        for name in ("recv_buffer_size", "send_buffer_size"):
            size = getattr(self, name)
            if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size <= 0):
                raise DgramTypeError(
                    "ERR_SOCKET_BAD_BUFFER_SIZE", "Buffer size must be a positive integer"
                )
        if self.lookup is not None and not callable(self.lookup):
            raise invalid_arg_type("options.lookup", "a callable", self.lookup)

"""Argument checks of the dgram API: Node's error codes, raised synchronously, before any state
changes. Pure functions (no socket, no loop), so the core and every shell share one rule book.

Node checks arguments before it looks at the socket's state; callers keep that order by running
these checks first (see docs/dgram.md, "Errors").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import DgramRangeError, DgramTypeError, bad_port, invalid_arg_type

Callback = Callable[..., Any]
Payload = bytes | memoryview


def check_port(port: object, *, allow_zero: bool) -> int:
    """Node's validatePort: an int (or a string of digits) in 0/1..65535, else ERR_SOCKET_BAD_PORT."""
    if isinstance(port, str) and port.strip().isdigit():
        value: object = int(port)
    else:
        value = port
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_port(port, allow_zero=allow_zero)
    if value < (0 if allow_zero else 1) or value > 65535:
        raise bad_port(port, allow_zero=allow_zero)
    return value


def check_address(address: object) -> str | None:
    """An optional address must be a str (ERR_INVALID_ARG_TYPE otherwise)."""
    if address is not None and not isinstance(address, str):
        raise invalid_arg_type("address", "of type str", address)
    return address


def check_peer(port: object, address: object) -> int:
    """A destination as connect() and send() check it: port 1..65535, then the address type."""
    value = check_port(port, allow_zero=False)
    check_address(address)
    return value


def check_callback(callback: object, name: str = "callback") -> Callback | None:
    """None, or a callable (ERR_INVALID_ARG_TYPE otherwise)."""
    if callback is None:
        return None
    if not callable(callback):
        raise invalid_arg_type(name, "a callable", callback)
    return callback


def check_int(value: object, name: str) -> int:
    """An int that is not a bool (Node accepts 1.5 for a TTL; we do not: see docs/dgram.md)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid_arg_type(name, "of type int", value)
    return value


def check_buffer_size(size: object) -> int:
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise DgramTypeError("ERR_SOCKET_BAD_BUFFER_SIZE", "Buffer size must be a positive integer")
    return size


def check_membership(
    group: object, interface: object, source: object = None, *, ssm: bool = False
) -> None:
    """Membership arguments: a group (and for source-specific calls a source) and an optional
    interface, all str; a missing group is ERR_MISSING_ARGS as in Node."""
    if ssm:
        if not isinstance(source, str):
            raise invalid_arg_type("sourceAddress", "of type str", source)
        if not isinstance(group, str):
            raise invalid_arg_type("groupAddress", "of type str", group)
    else:
        if group is None or group == "":
            raise DgramTypeError(
                "ERR_MISSING_ARGS", 'The "multicastAddress" argument must be specified'
            )
        if not isinstance(group, str):
            raise invalid_arg_type("multicastAddress", "of type str", group)
    if interface is not None and not isinstance(interface, str):
        raise invalid_arg_type("interfaceAddress", "of type str", interface)


def _text(value: str) -> bytes:
    """UTF-8, with surrogates treated as Node treats a JS string's: a high-low pair is the
    character it stands for, and each lone one becomes U+FFFD."""
    try:
        return value.encode()
    except UnicodeEncodeError:
        utf16 = value.encode("utf-16-le", "surrogatepass")
        return utf16.decode("utf-16-le", "replace").encode()


def to_bytes(msg: object, offset: object, length: object) -> Payload:
    """The datagram `send` was asked for: bytes-likes and str (UTF-8), or a list of them joined
    into one datagram (copied now, so later changes to the caller's objects do not leak in);
    `offset`/`length` cut a single buffer as Node's `send(msg, offset, length, ...)` does."""
    if isinstance(msg, bytes):
        data: Payload = msg
    elif isinstance(msg, str):
        data = _text(msg)
    elif isinstance(msg, bytearray | memoryview):
        data = bytes(msg)
    elif isinstance(msg, list | tuple):
        parts = []
        for item in msg:
            if isinstance(item, str):
                parts.append(_text(item))
            elif isinstance(item, bytes | bytearray | memoryview):
                parts.append(bytes(item))
            else:
                raise invalid_arg_type(
                    "buffer list arguments", "of type str or a bytes-like object", item
                )
        if offset is not None or length is not None:
            raise invalid_arg_type("offset", "None when msg is a list", offset)
        return b"".join(parts)
    else:
        raise invalid_arg_type("msg", "of type str, a bytes-like object or a list of them", msg)
    if offset is None and length is None:
        return data
    size = len(data)
    start = 0 if offset is None else check_int(offset, "offset")
    if length is not None:
        check_int(length, "length")
    if start < 0 or start > size:
        raise DgramRangeError("ERR_BUFFER_OUT_OF_BOUNDS", '"offset" is outside of buffer bounds')
    count = size - start if length is None else check_int(length, "length")
    if count < 0 or start + count > size:
        raise DgramRangeError("ERR_BUFFER_OUT_OF_BOUNDS", '"length" is outside of buffer bounds')
    return data[start : start + count]

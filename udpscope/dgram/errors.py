"""Errors of the dgram engine, shaped like Node's so code and messages carry over.

Node distinguishes system errors (`bind EADDRINUSE 127.0.0.1:41234`) from argument errors
(`ERR_SOCKET_BAD_PORT`, thrown as TypeError/RangeError). Python callers expect `TypeError` /
`ValueError` for bad arguments, so argument errors are also instances of those.

The codes and when each is raised: docs/dgram.md, "Errors".
"""

from __future__ import annotations

import errno as _errno
import socket

__all__ = [
    "DgramError",
    "DgramTypeError",
    "DgramRangeError",
    "system_error",
    "lookup_error",
    "bad_port",
    "invalid_arg_type",
    "not_running",
    "describe",
]


class DgramError(Exception):
    """Any error of the engine; `.code` is Node's code string."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        errno: int | None = None,
        syscall: str | None = None,
        address: str | None = None,
        port: int | None = None,
        hostname: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.errno = errno
        self.syscall = syscall
        self.address = address
        self.port = port
        self.hostname = hostname

    def __str__(self) -> str:
        return self.args[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.args[0]!r})"


class DgramTypeError(DgramError, TypeError):
    """Node throws these as TypeError."""


class DgramRangeError(DgramError, ValueError):
    """Node throws these as RangeError."""


def _code_of(err: int) -> str:
    return _errno.errorcode.get(err, f"E{err}")


def system_error(
    err: int, syscall: str, address: str | None = None, port: int | None = None
) -> DgramError:
    """A kernel error, formatted as Node's `ExceptionWithHostPort`."""
    code = _code_of(err)
    message = f"{syscall} {code}"
    if port:
        message += f" {address}:{port}"
    elif address:
        message += f" {address}"
    return DgramError(code, message, errno=err, syscall=syscall, address=address, port=port)


def from_oserror(
    exc: OSError, syscall: str, address: str | None = None, port: int | None = None
) -> DgramError:
    """Map an OSError (including socket.gaierror for bad literals) to a Node-style error."""
    if isinstance(exc, socket.gaierror) or exc.errno is None or exc.errno < 0:
        return system_error(_errno.EINVAL, syscall, address, port)
    return system_error(exc.errno, syscall, address, port)


_GAI_CODES = {
    getattr(socket, "EAI_NONAME", -2): "ENOTFOUND",
    getattr(socket, "EAI_NODATA", -5): "ENOTFOUND",
    getattr(socket, "EAI_AGAIN", -3): "EAI_AGAIN",
    getattr(socket, "EAI_FAIL", -4): "EAI_FAIL",
    getattr(socket, "EAI_FAMILY", -6): "EAI_FAMILY",
    getattr(socket, "EAI_SERVICE", -8): "EAI_SERVICE",
    getattr(socket, "EAI_MEMORY", -10): "EAI_MEMORY",
}


def lookup_error(exc: BaseException, hostname: str) -> DgramError:
    """A name resolution failure, as Node's `getaddrinfo ENOTFOUND host`."""
    if isinstance(exc, DgramError):
        return exc
    if isinstance(exc, socket.gaierror):
        code = _GAI_CODES.get(exc.errno, "ENOTFOUND")
        err = None
    elif isinstance(exc, OSError) and exc.errno:
        code = _code_of(exc.errno)
        err = exc.errno
    else:
        code = "ENOTFOUND"
        err = None
    return DgramError(
        code, f"getaddrinfo {code} {hostname}", errno=err, syscall="getaddrinfo", hostname=hostname
    )


def describe(value: object) -> str:
    """Node's 'Received ...' suffix for argument errors."""
    if value is None:
        return "Received None"
    if isinstance(value, bool | int | float):
        return f"Received type {type(value).__name__} ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 25 else value[:25] + "..."
        return f"Received type str ({shown!r})"
    return f"Received an instance of {type(value).__name__}"


def invalid_arg_type(name: str, expected: str, value: object) -> DgramTypeError:
    return DgramTypeError(
        "ERR_INVALID_ARG_TYPE",
        f'The "{name}" argument must be {expected}. {describe(value)}',
    )


def bad_port(value: object, *, allow_zero: bool) -> DgramRangeError:
    bound = ">= 0" if allow_zero else "> 0"
    return DgramRangeError(
        "ERR_SOCKET_BAD_PORT", f"Port should be {bound} and < 65536. {describe(value)}"
    )


def not_running() -> DgramError:
    return DgramError("ERR_SOCKET_DGRAM_NOT_RUNNING", "Not running")

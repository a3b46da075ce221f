"""Host name resolution for bind, connect and send: the socket's `lookup` option or the system
resolver, always asynchronous (the answer arrives on a later loop turn, as in Node).

A custom lookup is called like Node's `lookup(hostname, family, callback)` and may instead
return the address, or an awaitable of it; a lookup that raises is a lookup failure.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from .errors import DgramError, lookup_error

Done = Callable[[DgramError | None, str | None], None]


def resolve(
    loop: asyncio.AbstractEventLoop, hostname: str, family: int,
    custom: Callable[..., Any] | None, done: Done,
) -> None:
    """Resolve `hostname` for `family` (AF_INET/AF_INET6); `done(error, ip)` follows once."""
    if custom is not None:
        _custom(loop, hostname, 4 if family == socket.AF_INET else 6, custom, done)
        return

    async def system() -> None:
        try:
            infos = await loop.getaddrinfo(hostname, None, family=family, type=socket.SOCK_DGRAM)
            if not infos:
                raise socket.gaierror(socket.EAI_NONAME, "no address")
            sockaddr = infos[0][4]
            address = str(sockaddr[0])
            if len(sockaddr) >= 4 and sockaddr[3]:
                address = f"{address}%{sockaddr[3]}"  # a link-local answer keeps its scope
        except Exception as exc:
            done(lookup_error(exc, hostname), None)
        else:
            done(None, address)

    loop.create_task(system())


def _custom(
    loop: asyncio.AbstractEventLoop, hostname: str, family_number: int,
    custom: Callable[..., Any], done: Done,
) -> None:
    fired = False

    def callback(err: Any = None, address: Any = None, family: Any = None) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        if err is not None:
            error = err if isinstance(err, DgramError) else lookup_error(err, hostname)
            loop.call_soon(done, error, None)
        elif not isinstance(address, str):
            loop.call_soon(done, lookup_error(OSError("bad lookup result"), hostname), None)
        else:
            loop.call_soon(done, None, address)

    try:
        result = custom(hostname, family_number, callback)
    except Exception as exc:  # a user lookup that throws is a lookup failure
        callback(exc)
        return
    if isinstance(result, str):
        callback(None, result, family_number)
    elif asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
        awaited = result

        async def await_result() -> None:
            try:
                value = await awaited
            except Exception as exc:
                callback(exc)
            else:
                callback(None, value, family_number)

        loop.create_task(await_result())

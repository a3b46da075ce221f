"""Helpers for engine multicast tests: sockets made inside a namespace, bounded receives.

The engine creates its OS socket lazily (at bind or the first membership call), so binding
happens inside `inside(ns)`: the socket then belongs to that namespace for good. Receives are
awaited with a deadline; "did not receive" is proved with a later datagram on the same path
(a sentinel), never with a sleep.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.netns import inside
from udpscope import dgram

TIMEOUT = 5.0


async def open_socket(ns: str, type_: str = "udp4", *, port: int = 0,
                      address: str | None = None, **options: Any) -> dgram.Socket:
    """A bound engine socket living in namespace `ns` (metadata on unless told otherwise)."""
    options.setdefault("metadata", True)
    with inside(ns):
        sock = dgram.create_socket(dgram.SocketOptions(type_, **options))
        try:
            await asyncio.wait_for(sock.bind_async(port, address), TIMEOUT)
        except BaseException:
            sock.close()
            raise
    return sock


async def next_message(it: dgram.MessageIterator, ns: str | None = None,
                       timeout: float = TIMEOUT) -> tuple[bytes, dgram.RemoteInfo]:
    """The next datagram, or TimeoutError. With `ns`, the loop thread waits inside it (so an
    ingress interface index is named in the socket's own namespace)."""
    if ns is None:
        return await asyncio.wait_for(anext(it), timeout)
    with inside(ns):
        return await asyncio.wait_for(anext(it), timeout)


async def send(sock: dgram.Socket, data: bytes, port: int, address: str) -> int:
    return await asyncio.wait_for(sock.send_async(data, port, address), TIMEOUT)


def close_all(*socks: dgram.Socket) -> None:
    for s in socks:
        if s.state != "closed":
            s.close()

"""Helpers for engine multicast tests: sockets made inside a namespace, bounded receives.

The engine creates its OS socket lazily (at bind or the first membership call), so binding
happens inside `inside(ns)`: the socket then belongs to that namespace for good. Receives are
awaited with a deadline; "did not receive" is proved with a later datagram on the same path
(a sentinel), never with a sleep.
"""

from __future__ import annotations

from typing import Any

from tests.netns import VethPair, inside
from tests.waiting import wait_for
from udpscope import dgram

TIMEOUT = 5.0


async def open_socket(ns: str, type_: str = "udp4", *, port: int = 0,
                      address: str | None = None, **options: Any) -> dgram.Socket:
    """A bound engine socket living in namespace `ns` (metadata on unless told otherwise)."""
    options.setdefault("metadata", True)
    with inside(ns):
        sock = dgram.create_socket(dgram.SocketOptions(type_, **options))
        try:
            await wait_for(sock.bind_async(port, address), TIMEOUT, what="the bind")
        except BaseException:
            sock.close()
            raise
    return sock


async def joined_pair(pair: VethPair, group: str, family: str = "udp4", *,
                      rx_iface: str | None = None,
                      tx_iface: str | None = None) -> tuple[dgram.Socket, dgram.Socket]:
    """(rx, tx): rx in namespace b joined to `group` on b's veth, tx in namespace a sending its
    multicast out of a's veth. Interfaces default to the end's IPv4 address or "::%veth0"."""
    v4 = family == "udp4"
    rx = await open_socket(pair.b.ns, family, address=None if v4 else "::")
    tx = None
    try:
        tx = await open_socket(pair.a.ns, family, address=None if v4 else pair.a.v6)
        with inside(pair.b.ns):
            rx.add_membership(group, rx_iface or (pair.b.v4 if v4 else "::%veth0"))
        with inside(pair.a.ns):
            tx.set_multicast_interface(tx_iface or (pair.a.v4 if v4 else "::%veth0"))
    except BaseException:
        close_all(rx, *([tx] if tx is not None else []))
        raise
    return rx, tx


async def next_message(it: dgram.MessageIterator, ns: str | None = None,
                       timeout: float = TIMEOUT) -> tuple[bytes, dgram.RemoteInfo]:
    """The next datagram (the test fails after `timeout`). With `ns`, the loop thread waits inside it (so an
    ingress interface index is named in the socket's own namespace)."""
    if ns is None:
        return await wait_for(anext(it), timeout, what="the next datagram")
    with inside(ns):
        return await wait_for(anext(it), timeout, what="the next datagram")


async def send(sock: dgram.Socket, data: bytes, port: int, address: str) -> int:
    return await wait_for(sock.send_async(data, port, address), TIMEOUT, what="the send")


def close_all(*socks: dgram.Socket) -> None:
    for s in socks:
        if s.state != "closed":
            s.close()

"""Constants and socket helpers shared by the engine contract tests (imported, not fixtures)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import pytest

from tests.waiting import wait_for

LOOPBACK = {"udp4": "127.0.0.1", "udp6": "::1"}
ANY = {"udp4": "0.0.0.0", "udp6": "::"}
FAMILY = {"udp4": "IPv4", "udp6": "IPv6"}
AF = {"udp4": socket.AF_INET, "udp6": socket.AF_INET6}


def _ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


HAS_IPV6 = _ipv6_available()

KINDS = [
    "udp4",
    pytest.param("udp6", marks=pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback")),
]


class SocketFactory:
    """Creates engine sockets for a test and closes whatever is left open afterwards."""

    def __init__(self) -> None:
        from udpscope import dgram

        self.dgram = dgram
        self.created: list[Any] = []

    def __call__(self, type_or_options: Any = "udp4", on_message: Any = None, **options: Any):
        if options:
            kind = type_or_options if isinstance(type_or_options, str) else None
            spec: Any = self.dgram.SocketOptions(type=kind, **options)
        else:
            spec = type_or_options
        sock = self.dgram.create_socket(spec, on_message)
        self.created.append(sock)
        return sock

    async def bound(self, kind: str = "udp4", address: str | None = "", **options: Any):
        """A socket bound to the loopback address of `kind` (or `address`) on a random port.

        Waits for `listening` through a one-shot listener so no permanent listener is added.
        """
        sock = self(kind, **options)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_error(err: BaseException) -> None:
            if not done.done():
                done.set_exception(err)

        def on_listening() -> None:
            if not done.done():
                done.set_result(None)

        sock.once("error", on_error)
        sock.bind(0, LOOPBACK[kind] if address == "" else address, on_listening)
        await wait_for(done, 5, what="listening or an error")
        sock.off("error", on_error)
        return sock

    async def close_all(self) -> None:
        waits = []
        for sock in self.created:
            if getattr(sock, "state", None) == "closed":
                continue
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            try:
                sock.close(lambda d=done: d.done() or d.set_result(None))
            except Exception:
                continue
            waits.append(done)
        if waits:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*waits), 2)


def free_port(kind: str) -> int:
    """A loopback port with nothing bound to it right now (for ICMP port-unreachable tests)."""
    with socket.socket(AF[kind], socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK[kind], 0))
        return probe.getsockname()[1]


def raw_socket(kind: str) -> socket.socket:
    """A plain blocking stdlib UDP socket bound to loopback: a peer outside the engine."""
    sock = socket.socket(AF[kind], socket.SOCK_DGRAM)
    sock.bind((LOOPBACK[kind], 0))
    return sock

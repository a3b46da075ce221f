"""A capture file fed to the capture layer as if its datagrams had just arrived.

`udpscope open FILE` shows a file in the ordinary app: log, detail, decoding and stats all read
the capture layer, so the file goes in through the capture layer's own door. A `FileSocket`
stands where an engine socket would (one per address family in the file): `Capture.watch` sees
an emitter that emits `batch` events, each datagram becomes a received record stamped with its
recorded time (the capture's clock is pinned to it while loading), and datagrams the file marks
as sent become sent records through `Capture.send`. Nothing touches the network: every socket
operation on a `FileSocket` fails with a read-only error the app reports like any other.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, cast

from udpscope import dgram
from udpscope.capture import Capture, SocketEntry
from udpscope.files.capture_file import CapturedDatagram

__all__ = ["FileSocket", "PinnedClock", "ReadOnlyError", "feed_capture"]


class ReadOnlyError(dgram.DgramError):
    """A socket operation on a capture file."""

    def __init__(self, operation: str) -> None:
        super().__init__("ERR_READ_ONLY", f"{operation}: a capture file is read-only (no socket)",
                         syscall=operation)


class PinnedClock:
    """A clock that reads a pinned time while a file is loaded, and the real time after."""

    def __init__(self, real: Callable[[], float] = time.time) -> None:
        self.real = real
        self.pinned: float | None = None

    def __call__(self) -> float:
        return self.pinned if self.pinned is not None else self.real()


MAX_FILE_SOCKETS = 64  # one per (family, local port) in the file; the rest share port 0


class FileSocket(dgram.EventEmitter):
    """Stands in for an engine socket in the capture layer; see the module docstring.

    It "is bound" to the wildcard address and the local port of the datagrams it holds (their
    destination port, or source port for sent ones), so a saved log rebuilds the same ports.
    """

    def __init__(self, family: str, name: str, port: int = 0) -> None:
        super().__init__()
        self.type = family
        self.name = name
        self.port = port
        self.state = "file"

    def address(self) -> dgram.AddressInfo:
        if self.type == "udp6":
            return dgram.AddressInfo("::", "IPv6", self.port)
        return dgram.AddressInfo("0.0.0.0", "IPv4", self.port)

    def get_kernel_drops(self) -> int:
        return 0

    def get_memberships(self) -> list[tuple[str, str | None, str | None]]:
        return []

    def send(self, data: bytes, port: Any = None, address: Any = None,
             callback: Callable[[BaseException | None, int | None], None] | None = None) -> None:
        """Record-only: a sent datagram of the file is "sent" at once, to nowhere."""
        if callback is not None:
            callback(None, len(data))

    def close(self, callback: Callable[[], None] | None = None) -> FileSocket:
        if self.state != "closed":
            self.state = "closed"
            self.emit("close")
        if callback is not None:
            callback()
        return self

    def __getattr__(self, name: str) -> Any:
        # bind, connect, set_ttl, add_membership...: every other operation refuses, cleanly.
        if name.startswith("_"):
            raise AttributeError(name)

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise ReadOnlyError(name)

        return refuse


def feed_capture(capture: Capture, clock: PinnedClock, datagrams: Iterable[CapturedDatagram],
                 label: str) -> list[SocketEntry]:
    """Put ``datagrams`` into ``capture`` as received (or, when marked, sent) records.

    ``clock`` must be the capture's clock: it is pinned to each datagram's time while it is
    recorded and released at the end. Returns the entries made: one per (family, local port),
    at most MAX_FILE_SOCKETS (then one more per family, port 0, takes the rest).
    """
    entries: dict[tuple[str, int], SocketEntry] = {}
    try:
        for d in datagrams:
            key = (d.family, d.sport if d.outbound else d.dport)
            entry = entries.get(key)
            if entry is None:
                if len(entries) >= MAX_FILE_SOCKETS:
                    key = (d.family, 0)
                entry = entries.get(key)
            if entry is None:
                family = "udp6" if d.family == "IPv6" else "udp4"
                # Stands where an engine socket would (see FileSocket): the capture layer and
                # the app use it through the Socket interface, which it answers or refuses.
                stand_in = cast(dgram.Socket, FileSocket(family, label, key[1]))
                entry = capture.watch(stand_in, label)
                entries[key] = entry
            clock.pinned = d.time
            if d.outbound:
                capture.send(entry.id, d.payload, d.dport, d.destination)
                continue
            info = dgram.RemoteInfo(d.source, d.family, d.sport, len(d.payload), d.destination,
                                    d.interface, d.ttl, d.time)
            entry.sock.emit("batch", dgram.Batch((d.payload,), (info,)))
    finally:
        clock.pinned = None
    return list(entries.values())

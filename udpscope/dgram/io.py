"""The receive path: drain the socket on readiness, many datagrams per wake-up.

This is the hot path of the whole application. It avoids per-datagram attribute lookups, builds
`RemoteInfo` with `tuple.__new__` (no `__init__` call) and stops dispatching the moment the socket
is closed, so no `message` follows `close()` even within one drained batch.
"""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING

from .errors import from_oserror
from .linux import InterfaceNames, parse_ancillary
from .types import RemoteInfo

if TYPE_CHECKING:
    from .socket import Socket

BATCH = 256
MAX_DATAGRAM = 65536
ANCILLARY_SPACE = 256

_new = tuple.__new__


class Receiver:
    """Reads for one socket; chooses the plain or the metadata path once, at start."""

    def __init__(self, owner: Socket, sock: socket.socket) -> None:
        self._owner = owner
        self._sock = sock
        self._fd = sock.fileno()
        self._active = False
        self.drops = 0
        self._family = owner._family_name
        self._metadata = owner._options.metadata
        self._names = InterfaceNames(self._fd)

    def start(self) -> None:
        loop = self._owner._get_loop()
        callback = self._read_metadata if self._metadata else self._read_plain
        loop.add_reader(self._fd, callback)
        self._active = True

    def stop(self) -> None:
        if self._active:
            self._active = False
            loop = self._owner._loop
            if loop is not None and not loop.is_closed():
                loop.remove_reader(self._fd)

    def listeners_changed(self) -> None:
        """Listener tuples are read per datagram from the emitter; nothing is cached here."""

    def _error(self, exc: OSError) -> None:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR):
            return
        owner = self._owner
        if owner._closed:
            return
        owner.emit("error", from_oserror(exc, "recvmsg"))

    def _read_plain(self) -> None:
        owner = self._owner
        events = owner._events
        recvfrom = self._sock.recvfrom
        family = self._family
        for _ in range(BATCH):
            try:
                data, peer = recvfrom(MAX_DATAGRAM)
            except BlockingIOError:
                return
            except OSError as exc:
                self._error(exc)
                return
            listeners = events.get("message")
            if listeners:
                rinfo = _new(
                    RemoteInfo, (peer[0], family, peer[1], len(data), None, None, None, None)
                )
                for listener in listeners:
                    listener(data, rinfo)
                if owner._closed:
                    return

    def _read_metadata(self) -> None:
        owner = self._owner
        events = owner._events
        recvmsg = self._sock.recvmsg
        family = self._family
        names = self._names
        names.refresh()
        for _ in range(BATCH):
            try:
                data, ancdata, _flags, peer = recvmsg(MAX_DATAGRAM, ANCILLARY_SPACE)
            except BlockingIOError:
                return
            except OSError as exc:
                self._error(exc)
                return
            meta = parse_ancillary(ancdata, names)
            if meta.drops is not None:
                self.drops = meta.drops
            listeners = events.get("message")
            if listeners:
                rinfo = _new(
                    RemoteInfo,
                    (peer[0], family, peer[1], len(data), meta.destination, meta.interface,
                     meta.ttl, meta.timestamp),
                )
                for listener in listeners:
                    listener(data, rinfo)
                if owner._closed:
                    return

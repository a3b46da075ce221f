"""The send path: an outbox flushed once per loop turn, in as few system calls as possible.

`send()` only appends to the outbox; one flush per loop turn hands everything to the kernel. A run
of datagrams of one size to one destination (a flood, `--count N`, probes) goes out as a single
`sendmsg` with UDP generic segmentation offload (`UDP_SEGMENT`): the kernel cuts the buffer into
the same datagrams that separate sends would have made, for a fraction of the cost. Anything else
goes out one `sendto` at a time. A full send buffer (EAGAIN) never loses a datagram: the rest waits
in the backlog, in order, until the socket is writable.

Whatever can change how a datagram leaves (an option setter, connect, disconnect, close) flushes
the outbox first, so datagrams keep the order and the options of the calls that made them.

The rules it keeps: docs/dgram.md, "Sending".
"""

from __future__ import annotations

import asyncio
import errno
import socket
import struct
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

from .core import SocketCore

SOL_UDP = 17
UDP_SEGMENT = 103
GSO_SEGMENTS = 64  # UDP_MAX_SEGMENTS on every kernel that has UDP_SEGMENT
GSO_BYTES = 65507  # total payload of one GSO send, like one IPv4 datagram
_GSO_OFF = {errno.EIO, errno.ENOPROTOOPT, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM}
_SEGMENT = struct.Struct("=H")

Callback = Callable[..., Any]
# An outbox entry: (payload, target or None when connected, callback or None).
Entry = tuple[Any, Any, Callback | None]
# What the socket does with a failed send: (the OSError, its target or None, its callback).
OnError = Callable[[OSError, Any, Callback | None], None]

_SENT, _AGAIN, _FALLBACK = 0, 1, 2


class Sender:
    """Outbox, backlog and writer for one socket.

    What it needs from its socket is passed in: the OS socket, the loop, the core (whose
    `closed` stops the writer) and `on_error`, which turns a failed send into the callback's
    or the socket's `error`.
    """

    def __init__(
        self, sock: socket.socket, loop: asyncio.AbstractEventLoop, core: SocketCore,
        on_error: OnError,
    ) -> None:
        self._sock = sock
        self._loop = loop
        self._core = core
        self._failed = on_error
        self.outbox: list[Entry] = []
        self.scheduled = False
        self._backlog: deque[Entry] = deque()
        self._backlog_bytes = 0
        self._writing = False
        self._gso = sys.platform.startswith("linux")
        self._gso_max_size = GSO_BYTES

    # ---------------------------------------------------------------- queueing
    def queue(self, data: Any, target: Any, callback: Callback | None) -> None:
        self.outbox.append((data, target, callback))
        if not self.scheduled:
            self.scheduled = True
            self._loop.call_soon(self.flush)

    def queued_count(self) -> int:
        self.flush()
        return len(self._backlog)

    def queued_bytes(self) -> int:
        self.flush()
        return self._backlog_bytes

    def drop(self) -> None:
        """Forget everything unsent (the socket is closing)."""
        self.outbox = []
        self._backlog.clear()
        self._backlog_bytes = 0
        self._stop_writing()

    # ---------------------------------------------------------------- flushing
    def flush(self) -> None:
        self.scheduled = False
        entries = self.outbox
        if not entries:
            return
        self.outbox = []
        if self._backlog:
            self._defer(entries, 0)
        else:
            self._send_all(entries)

    def _send_all(self, entries: list[Entry]) -> None:
        count = len(entries)
        sock = self._sock
        i = 0
        while i < count:
            data, target, callback = entries[i]
            end = i + 1
            if self._gso and count - i > 1:
                size = len(data)
                if 0 < size <= self._gso_max_size:
                    limit = min(count, i + min(GSO_SEGMENTS, GSO_BYTES // size))
                    while end < limit:
                        other = entries[end]
                        if len(other[0]) != size or (
                            other[1] is not target and other[1] != target
                        ):
                            break
                        end += 1
                if end - i > 1:
                    status = self._send_segmented(entries, i, end, size, target)
                    if status == _SENT:
                        i = end
                        continue
                    if status == _AGAIN:
                        self._defer(entries, i)
                        return
            try:
                sent = sock.sendto(data, target) if target is not None else sock.send(data)
            except (BlockingIOError, InterruptedError):
                self._defer(entries, i)
                return
            except OSError as exc:
                self._failed(exc, target, callback)
            else:
                if callback is not None:
                    self._loop.call_soon(callback, None, sent)
            i += 1

    def _send_segmented(
        self, entries: list[Entry], start: int, end: int, size: int, target: Any
    ) -> int:
        """One sendmsg with UDP_SEGMENT for entries[start:end] (same size, same target)."""
        buffers = [entry[0] for entry in entries[start:end]]
        control = [(SOL_UDP, UDP_SEGMENT, _SEGMENT.pack(size))]
        try:
            if target is None:
                self._sock.sendmsg(buffers, control)
            else:
                self._sock.sendmsg(buffers, control, 0, target)
        except (BlockingIOError, InterruptedError):
            return _AGAIN
        except OSError as exc:
            # The per-datagram path reports each datagram's own error, if it has one.
            if exc.errno in _GSO_OFF:
                self._gso = False
            elif exc.errno == errno.EINVAL:
                self._gso_max_size = size - 1  # e.g. larger than the path MTU allows
            return _FALLBACK
        call_soon = self._loop.call_soon
        for entry in entries[start:end]:
            if entry[2] is not None:
                call_soon(entry[2], None, size)
        return _SENT

    # ---------------------------------------------------------------- backlog (EAGAIN)
    def _defer(self, entries: list[Entry], start: int) -> None:
        backlog = self._backlog
        for entry in entries[start:]:
            backlog.append(entry)
            self._backlog_bytes += len(entry[0])
        if not self._writing:
            self._writing = True
            self._loop.add_writer(self._sock.fileno(), self._on_writable)

    def _stop_writing(self) -> None:
        if self._writing:
            self._writing = False
            if not self._loop.is_closed():
                self._loop.remove_writer(self._sock.fileno())

    def _on_writable(self) -> None:
        backlog = self._backlog
        sock = self._sock
        call_soon = self._loop.call_soon
        core = self._core
        while backlog and not core.closed:
            data, target, callback = backlog[0]
            try:
                sent = sock.sendto(data, target) if target is not None else sock.send(data)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                backlog.popleft()
                self._backlog_bytes -= len(data)
                self._failed(exc, target, callback)
                continue
            backlog.popleft()
            self._backlog_bytes -= len(data)
            if callback is not None:
                call_soon(callback, None, sent)
        self._stop_writing()

"""The receive path: drain the socket on readiness, many datagrams per wake-up.

This is the hot path of the whole application. Where `recvmmsg` is reachable (Linux) one system
call fetches up to 256 datagrams; elsewhere a `recvfrom` loop does the same job more slowly. Per
datagram it avoids attribute lookups, caches peer addresses, builds `RemoteInfo` with
`tuple.__new__` (no `__init__` call), re-reads the listener tuple (so `once` and `off` take effect
at once) and stops dispatching the moment the socket is closed, so no `message` follows `close()`
even within one drained batch. A listener that raises is reported to the loop's exception
handler and the batch goes on with the next datagram.

The rules it keeps: docs/dgram.md, "Receiving".
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from time import perf_counter
from typing import Any

from . import mmsg
from .batch import Batch, NameSnapshot, RawBatch
from .cmsg import ControlDecoder, parse_ancillary
from .core import SocketCore
from .errors import from_oserror
from .ifnames import InterfaceNames
from .types import RemoteInfo

Listeners = Mapping[str, tuple[Callable[..., Any], ...]]

BATCH = 256  # datagrams per wake-up on the portable recvfrom path
# recvmmsg path: drain until the queue is empty, or this much time, or this many datagrams.
# A busy event loop (a TUI drawing frames) wakes the reader less often; draining only a fixed
# few per wake-up would then cap the receive rate at (few / frame time) and the kernel would drop.
DRAIN_SECONDS = 0.002
DRAIN_BATCHES = 64
_drain_budget = DRAIN_SECONDS


def set_drain_budget(seconds: float | None) -> float:
    """Set how long one wake-up may drain a socket (None: the default); returns the old value.

    An interactive app lowers it briefly while it handles input: during a flood every loop turn
    of that handling waits for the readers' drains first.
    """
    global _drain_budget
    old = _drain_budget
    _drain_budget = DRAIN_SECONDS if seconds is None else max(0.0, float(seconds))
    return old
MAX_DATAGRAM = 65536
ANCILLARY_SPACE = 256
_QUIET = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR)

_new = tuple.__new__


def _use_mmsg() -> bool:
    return mmsg.available() and not os.environ.get("UDPSCOPE_NO_MMSG")


class Receiver:
    """Reads for one socket; chooses its read path once, at start.

    What it needs from its socket is passed in, nothing more: the OS socket, the loop, the
    core (whose `closed` it checks after every datagram), the live listener table and `emit`
    (for receive errors).
    """

    def __init__(
        self, sock: socket.socket, loop: asyncio.AbstractEventLoop, core: SocketCore,
        listeners: Listeners, emit: Callable[..., bool], metadata: bool,
    ) -> None:
        self._sock = sock
        self._loop = loop
        self._core = core
        self._events = listeners
        self._emit = emit
        self._fd = sock.fileno()
        self._active = False
        self.drops = 0
        self._v6 = sock.family == socket.AF_INET6
        self._family = "IPv6" if self._v6 else "IPv4"
        self._metadata = metadata
        self._names = InterfaceNames(self._fd)
        self._control = ControlDecoder()
        self._peers: dict[bytes, tuple[int, RemoteInfo]] = {}

    def start(self) -> None:
        callback = self._read_batched if _use_mmsg() else self._read_fallback
        self._loop.add_reader(self._fd, callback)
        self._active = True

    def stop(self) -> None:
        if self._active:
            self._active = False
            if not self._loop.is_closed():
                self._loop.remove_reader(self._fd)

    def _error(self, exc: OSError) -> None:
        if exc.errno in _QUIET or self._core.closed:
            return
        self._emit("error", from_oserror(exc, "recvmsg"))

    # -------------------------------------------------------------- recvmmsg
    def _rinfo(self, key: bytes, size: int) -> tuple[int, RemoteInfo]:
        """A RemoteInfo for this peer and size, cached: a flood repeats both, and it is immutable."""
        cache = self._peers
        if len(cache) > 4096:
            cache.clear()
        if self._v6:
            address, port = mmsg.peer_v6(key, self._names)
        else:
            address, port = mmsg.peer_v4(key)
        rinfo = _new(RemoteInfo, (address, self._family, port, size, None, None, None, None))
        cache[key] = entry = (size, rinfo)
        return entry

    def _read_batched(self) -> None:
        core = self._core
        events = self._events
        fd = self._fd
        metadata = self._metadata
        batch = mmsg.recv_batch()
        batch.prepare(metadata, self._v6)
        cache = self._peers
        keys_of = batch.keys_v6 if self._v6 else batch.keys_v4
        self._names.refresh()
        deadline = perf_counter() + _drain_budget
        for _ in range(DRAIN_BATCHES):
            count = batch.receive(fd)
            if count <= 0:
                if count < 0:
                    self._error(OSError(-count, os.strerror(-count)))
                return
            payloads = batch.payloads(count)
            keys = keys_of()
            if events.get("batch"):
                if self._emit_batch(batch, payloads, keys, count):
                    return
            elif metadata:
                if self._dispatch_metadata(batch, payloads, keys, count):
                    return
            elif events.get("message"):
                # One iterator for the batch: after a listener raised, the loop resumes with
                # the next datagram (a `try` costs nothing until something is raised).
                items = zip(payloads, keys, strict=False)
                while True:
                    try:
                        for data, key in items:
                            entry = cache.get(key)
                            if entry is None or entry[0] != len(data):
                                entry = self._rinfo(key, len(data))
                            for listener in events.get("message", ()):
                                listener(data, entry[1])
                            if core.closed:
                                return
                    except Exception as exc:
                        self._uncaught(exc, "message")
                        if core.closed:
                            return
                        continue
                    break
            if count < mmsg.SLOTS or perf_counter() > deadline:
                return

    def _emit_batch(
        self, batch: mmsg.RecvBatch, payloads: tuple[bytes, ...], keys: tuple[bytes, ...],
        count: int,
    ) -> bool:
        """Hand one batch to `batch` listeners, then to `message` listeners; True if closed."""
        # The shared buffer has a key per slot: a kept batch takes only the ones read now (the
        # rest are stale peers that would cost memory and hide a one-sender batch).
        keys = keys[:count]
        controls = destinations = None
        names = self._names
        if self._metadata:
            lengths = batch.control_lengths(count)
            # The distinct destinations, read as columns of the shared buffer while every
            # datagram has the same cmsg layout (so a consumer need not decode each one).
            where = self._control.address_at(lengths[0])
            if where is not None and lengths.count(lengths[0]) == count:
                fmt = self._control.format_address
                destinations = frozenset(
                    fmt(raw, where[1]) for raw in batch.raw_addresses(where[0], where[1], count))
            controls = batch.controls(lengths)
            # The newest datagram carries the newest drop counter.
            drops = self._control.decode_bytes(controls[-1], names)[4]
            if drops is not None:
                self.drops = drops
            for index in self._control.interface_indexes(controls):
                names(index)
        if self._v6:
            for scope in mmsg.scope_ids(keys):
                names(scope)
        raw = RawBatch(payloads, keys, controls, self._v6, self._control,
                       NameSnapshot(names.snapshot()), destinations)
        return self._deliver(raw)

    def _uncaught(self, exc: Exception, event: str) -> None:
        """A listener raised: report it as Node reports an uncaught exception (to the loop's
        exception handler; under `dgram.run` that ends `run()` with it). The caller goes on
        with the next datagram, as Node does once an uncaughtException handler returns."""
        self._loop.call_exception_handler({
            "message": f"Exception in a {event!r} listener of a dgram socket",
            "exception": exc,
        })

    def _deliver(self, batch: Batch) -> bool:
        """Hand one batch to `batch` listeners, then each datagram to `message` listeners;
        True when the socket was closed meanwhile (nothing more is dispatched)."""
        core = self._core
        try:
            for listener in self._events.get("batch", ()):
                listener(batch)
                if core.closed:
                    return True
        except Exception as exc:  # the later batch listeners are skipped, as in Node's emit
            self._uncaught(exc, "batch")
            if core.closed:
                return True
        return self._dispatch(batch.payloads, batch.rinfo)

    def _dispatch(self, payloads: Sequence[bytes], rinfo: Callable[[int], RemoteInfo]) -> bool:
        """Each datagram to the current `message` listeners; True once the socket is closed."""
        core = self._core
        events = self._events
        if events.get("message"):
            items = enumerate(payloads)
            while True:
                try:
                    for i, data in items:
                        info = rinfo(i)
                        for listener in events.get("message", ()):
                            listener(data, info)
                        if core.closed:
                            return True
                except Exception as exc:
                    self._uncaught(exc, "message")
                    if core.closed:
                        return True
                    continue
                break
        return False

    def _dispatch_metadata(
        self, batch: mmsg.RecvBatch, payloads: tuple[bytes, ...], keys: tuple[bytes, ...],
        count: int,
    ) -> bool:
        """Dispatch one batch with its ancillary data; True when the socket closed meanwhile."""
        core = self._core
        events = self._events
        control = batch.control_view
        lengths = batch.control_lengths(count)
        decode = self._control.decode
        names = self._names
        cache = self._peers
        family = self._family
        span = mmsg.CONTROL_SIZE
        items = enumerate(zip(payloads, keys, strict=False))
        try:
            while True:
                try:
                    for i, (data, key) in items:
                        destination, interface, ttl, timestamp, drops = decode(
                            control, i * span, lengths[i], names
                        )
                        if drops is not None:
                            self.drops = drops
                        listeners = events.get("message")
                        if not listeners:
                            continue
                        entry = cache.get(key)
                        if entry is None or entry[0] != len(data):
                            entry = self._rinfo(key, len(data))
                        peer = entry[1]
                        rinfo = _new(RemoteInfo, (peer[0], family, peer[2], len(data),
                                                  destination, interface, ttl, timestamp))
                        for listener in listeners:
                            listener(data, rinfo)
                        if core.closed:
                            return True
                except Exception as exc:
                    self._uncaught(exc, "message")
                    if core.closed:
                        return True
                    continue
                return False
        finally:
            batch.rearm(count)

    # -------------------------------------------------------------- portable fallback
    def _read_fallback(self) -> None:
        """Portable path: up to BATCH `recvfrom` / `recvmsg` calls, then one delivery (batch
        listeners, then message listeners, as on the recvmmsg path)."""
        metadata = self._metadata
        family = self._family
        names = self._names
        names.refresh()
        payloads: list[bytes] = []
        rinfos: list[RemoteInfo] = []
        failure: OSError | None = None
        for _ in range(BATCH):
            try:
                if metadata:
                    data, ancdata, _flags, peer = self._sock.recvmsg(MAX_DATAGRAM, ANCILLARY_SPACE)
                    *extra, drops = parse_ancillary(ancdata, names)
                    if drops is not None:
                        self.drops = drops
                else:
                    data, peer = self._sock.recvfrom(MAX_DATAGRAM)
                    extra = [None, None, None, None]
            except BlockingIOError:
                break
            except OSError as exc:
                failure = exc
                break
            payloads.append(data)
            rinfos.append(_new(RemoteInfo, (peer[0], family, peer[1], len(data), *extra)))
        if payloads:
            closed = (self._deliver(Batch(tuple(payloads), rinfos))
                      if self._events.get("batch")
                      else self._dispatch(payloads, rinfos.__getitem__))
            if closed:
                return
        if failure is not None:
            self._error(failure)

"""Drives the sans-I/O core on an asyncio loop: performs what the core answers (bind, lookups,
connect(2), handing datagrams to the sender), reports the outcomes back to it and turns them into
events, always on a later loop turn than the call that caused them.

`Driver` is the private half of `Socket` (socket.py holds the public, documented half): it owns
the pieces — core, OS handle, sender, receiver — and passes each only what it needs.

See docs/dgram.md for the rules and the module map.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from . import lookup, runtime
from .core import CONNECTED, Bind, Connect, Fail, Request, Resolve, SocketCore, Transmit
from .errors import DgramError, from_oserror
from .events import EventEmitter
from .handle import Handle
from .membership import MembershipBook
from .receiver import Receiver
from .sender import Sender
from .sockaddr import SockAddr, is_literal
from .types import SocketOptions
from .validate import Payload

Callback = Callable[..., Any]
Enqueue = Callable[[Payload, SockAddr | None, Callback | None], None]


def _not_bound(data: Payload, target: SockAddr | None, callback: Callback | None) -> None:
    raise AssertionError("send fast path taken on a socket that is not bound")


class Driver(EventEmitter):
    """The state of one socket and the loop-side work of its core's actions."""

    def __init__(self, options: SocketOptions) -> None:
        super().__init__()
        self._options = options
        self.type = options.type
        self._family_name = "IPv4" if options.type == "udp4" else "IPv6"
        self._core = SocketCore(options.type)
        self._handle = Handle(options)
        self._memberships = MembershipBook()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sender: Sender | None = None
        self._receiver: Receiver | None = None
        self._enqueue: Enqueue = _not_bound  # the sender's `queue` while bound
        self._bind_callback: Callback | None = None
        self._targets: dict[tuple[str | None, int], SockAddr] = {}  # send fast path
        self._peer: tuple[str, int] | None = None  # for the errors of connected sends

    # ------------------------------------------------------------------ the loop
    def _get_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:
                raise RuntimeError(
                    "udpscope.dgram needs a running asyncio event loop "
                    "(use dgram.run(...) or asyncio.run(...))"
                ) from None
        return self._loop

    def _loop_for(self, check: Callable[[], object]) -> asyncio.AbstractEventLoop:
        """The loop; without one, the call's own errors are raised first (`check`)."""
        if self._loop is None:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                check()
        return self._get_loop()

    def _track(self) -> None:
        if self._loop is not None:
            runtime.track(self._loop, self, self._core.keeps_alive, self._teardown)

    def _begin_bind(self, bind: Bind) -> None:
        loop = self._get_loop()
        self._track()
        if is_literal(bind.address):
            loop.call_soon(self._do_bind, bind.address, bind.port)
        else:
            lookup.resolve(loop, bind.address, self._handle.family, self._options.lookup,
                           partial(self._after_bind_lookup, bind.port))

    def _after_bind_lookup(self, port: int, err: DgramError | None, ip: str | None) -> None:
        if self._core.closed:
            return
        if err is not None:
            self._bind_failed(err)
        else:
            assert ip is not None
            self._do_bind(ip, port)

    def _do_bind(self, ip: str, port: int) -> None:
        core = self._core
        if core.closed:
            return
        try:
            sock = self._handle.bind(ip, port)
        except OSError as exc:
            self._bind_failed(from_oserror(exc, "bind", ip, port))
            return
        core.bound()
        self._bind_callback = None
        loop = self._get_loop()
        self._sender = Sender(sock, loop, core, self._send_failed)
        self._enqueue = self._sender.queue
        self._receiver = Receiver(sock, loop, core, self.listener_table, self.emit,
                                  self._options.metadata)
        self._receiver.start()
        self.emit("listening")
        self._pump()

    def _bind_failed(self, err: DgramError) -> None:
        abandoned = self._core.bind_failed()
        if self._bind_callback is not None:
            self.off("listening", self._bind_callback)
            self._bind_callback = None
        if abandoned is not None:
            self.off("connect", abandoned)
        self._track()
        self.emit("error", err)

    def _connect_now(self, request: Request) -> None:
        assert request.ip is not None and request.port is not None
        self._flush()  # what was sent before connect() leaves unconnected
        try:
            self._handle.connect(request.ip, request.port)
        except OSError as exc:
            error = from_oserror(exc, "connect", request.address, request.port)
            self._fail(self._core.connect_failed(request, error))
            return
        self._core.connected()
        self._peer = self._handle.peer_address()
        self._get_loop().call_soon(self._emit_connect)

    def _emit_connect(self) -> None:
        # close() or disconnect() may have come between the connect and its event: after close()
        # only `close` may be emitted, and a connection that is gone is not announced.
        core = self._core
        if not core.closed and core.connect_state == CONNECTED:
            self.emit("connect")

    def _transmit(self, tx: Transmit, key: str | None = None, remember: bool = False) -> None:
        """Hand a datagram to the sender; with `remember`, its (literal) destination is kept
        for the fast path under the caller's own address argument `key`."""
        if tx.address is None or tx.port is None:
            self._enqueue(tx.data, None, tx.callback)
            return
        try:
            target = self._handle.sockaddr(tx.address, tx.port)
        except OSError as exc:
            self._deliver_error(from_oserror(exc, "send", tx.address, tx.port), tx.callback)
            return
        if remember:
            if len(self._targets) > 4096:
                self._targets.clear()
            self._targets[(key, tx.port)] = target
        self._enqueue(tx.data, target, tx.callback)

    def _pump(self) -> None:
        """Perform what the core hands out for the head of the queue, in order, until it must
        wait (not bound yet, a lookup under way) or the queue is empty."""
        core = self._core
        while (action := core.next_action()) is not None:
            if isinstance(action, Transmit):
                self._transmit(action)
            elif isinstance(action, Resolve):
                request = action.request
                assert request.address is not None
                lookup.resolve(self._get_loop(), request.address, self._handle.family,
                               self._options.lookup, partial(self._after_lookup, request))
            elif isinstance(action, Connect):
                self._connect_now(action.request)
            else:
                self._fail(action)

    def _after_lookup(self, request: Request, err: DgramError | None, ip: str | None) -> None:
        self._core.resolved(request, err, ip)
        self._pump()

    def _fail(self, failure: Fail) -> None:
        callback = failure.callback
        if failure.connect and callback is not None:
            # A connect callback gets the error alone, as in Node: cb() on success, cb(err) here.
            self.off("connect", callback)
            self._get_loop().call_soon(callback, failure.error)
            return
        self._deliver_error(failure.error, callback)

    def _deliver_error(self, err: DgramError, callback: Callback | None) -> None:
        loop = self._get_loop()
        if callback is not None:
            loop.call_soon(callback, err, None)
        else:
            loop.call_soon(self.emit, "error", err)

    def _send_failed(self, exc: OSError, target: SockAddr | None,
                     callback: Callback | None) -> None:
        """The sender's report of a kernel send error: to the callback, else `error`."""
        if target is not None:
            address, port = self._handle.describe(target)
        elif self._peer is not None:
            address, port = self._peer
        else:
            address, port = None, None
        self._deliver_error(from_oserror(exc, "send", address, port), callback)

    def _flush(self) -> None:
        """Hand the outbox to the kernel now (before anything that changes how it would leave)."""
        if self._sender is not None and self._sender.outbox:
            self._sender.flush()

    def _teardown(self) -> None:
        """Release everything without events: the socket is closed from here on."""
        self._core.teardown()
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None
        if self._sender is not None:
            self._sender.drop()
            self._sender = None
        self._enqueue = _not_bound
        self._memberships.clear()
        self._handle.close()
        self._track()

"""Node's dgram rules as a sans-I/O state machine: bind and connect states, the one ordered queue
of sends and connects waiting behind a bind, a connect or a lookup, which error when, and close.

The core owns no file descriptor and no event loop, so every rule can be tested by driving it
directly (tests/dgram/test_dgram_core.py), the way aioquic tests its `QuicConnection`. The
`Socket` shell asks it before doing anything; the core raises the argument and state errors
Node raises, changes state, and answers with what to do next:

- `Bind(address, port)`: open the OS socket and bind it (after a lookup if `address` is a name);
  report `bound()` or `bind_failed()`.
- `next_action()` pumps the queue in call order while the socket is bound: `Transmit` a datagram,
  `Resolve` a request's host name (report with `resolved()`), `Connect` now (report with
  `connected()` or `connect_failed()`), or `Fail` a request (deliver its error).

When and how an outcome becomes an event (always asynchronously) is the shell's business. See
docs/dgram.md for the rules themselves.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import DgramError, not_running
from .sockaddr import is_literal
from .validate import Payload, check_address, check_callback, check_peer, check_port

UNBOUND, BINDING, BOUND = 0, 1, 2
DISCONNECTED, CONNECTING, CONNECTED = 0, 1, 2
SEND, SEND_CONNECTED, CONNECT = "send", "send-connected", "connect"

Callback = Callable[..., Any]


class Request:
    """A send or connect waiting in the queue; `ip` is set once its host is known."""

    __slots__ = ("kind", "data", "port", "address", "callback", "ip", "error", "resolving")

    def __init__(
        self, kind: str, data: Payload | None, port: int | None, address: str | None,
        callback: Callback | None,
    ) -> None:
        self.kind = kind
        self.data = data
        self.port = port
        self.address = address
        self.callback = callback
        self.ip: str | None = None
        self.error: DgramError | None = None
        self.resolving = False

    def __repr__(self) -> str:
        return f"<Request {self.kind} {self.address}:{self.port}>"


@dataclass(frozen=True, slots=True)
class Bind:
    """Bind the OS socket to `address` (a literal, or a name to look up first) and `port`."""

    address: str
    port: int


@dataclass(frozen=True, slots=True)
class Transmit:
    """Hand one datagram to the sender; `address`/`port` are None on a connected socket."""

    data: Payload
    address: str | None
    port: int | None
    callback: Callback | None


@dataclass(frozen=True, slots=True)
class Resolve:
    """Look up `request.address`; report with `resolved(request, error, ip)`."""

    request: Request


@dataclass(frozen=True, slots=True)
class Connect:
    """connect(2) to `request.ip`:`request.port` now; report `connected()` or
    `connect_failed(request, error)`."""

    request: Request


@dataclass(frozen=True, slots=True)
class Fail:
    """Deliver `error` to `callback` (a connect callback takes it alone), or emit it as `error`."""

    error: DgramError
    callback: Callback | None
    connect: bool = False


Action = Transmit | Resolve | Connect | Fail


class SocketCore:
    """The state of one dgram socket and the rules that change it.

    `idle_bound` and `idle_connected` say when a send may skip the queue (bound or connected,
    nothing waiting, not closed): the shell's fast path reads them on every send.
    """

    __slots__ = ("type", "any_address", "loopback", "bind_state", "connect_state", "closed",
                 "referenced", "idle_bound", "idle_connected", "_queue")

    def __init__(self, type: str) -> None:
        self.type = type
        self.any_address = "0.0.0.0" if type == "udp4" else "::"
        self.loopback = "127.0.0.1" if type == "udp4" else "::1"
        self.bind_state = UNBOUND
        self.connect_state = DISCONNECTED
        self.closed = False
        self.referenced = True
        self.idle_bound = False
        self.idle_connected = False
        self._queue: deque[Request] = deque()

    # ------------------------------------------------------------------ reading the state
    @property
    def state(self) -> str:
        """"unbound", "binding", "bound", "connected" or "closed"."""
        if self.closed:
            return "closed"
        if self.connect_state == CONNECTED:
            return "connected"
        return ("unbound", "binding", "bound")[self.bind_state]

    @property
    def keeps_alive(self) -> bool:
        """Whether `dgram.run` must wait for this socket: open, referenced, bound or binding."""
        return not self.closed and self.referenced and self.bind_state != UNBOUND

    @property
    def queued(self) -> int:
        """Requests waiting in the queue (sends and connects)."""
        return len(self._queue)

    def check_running(self) -> None:
        """ERR_SOCKET_DGRAM_NOT_RUNNING once closed."""
        if self.closed:
            raise not_running()

    def check_connected(self) -> None:
        """For disconnect() and remote_address(): running, then connected."""
        if self.closed:
            raise not_running()
        if self.connect_state != CONNECTED:
            raise DgramError("ERR_SOCKET_DGRAM_NOT_CONNECTED", "Not connected")

    def _settle(self) -> None:
        idle = not self._queue and not self.closed
        self.idle_bound = idle and self.bind_state == BOUND and self.connect_state == DISCONNECTED
        self.idle_connected = idle and self.connect_state == CONNECTED

    # ------------------------------------------------------------------ bind
    def check_bind(self, port: object, address: object, callback: object) -> Bind:
        """The checks of an explicit bind, in Node's order (closed, already bound, port, address,
        callback), without changing anything; returns what `bind` would bind."""
        if self.closed:
            raise not_running()
        if self.bind_state != UNBOUND:
            raise DgramError("ERR_SOCKET_ALREADY_BOUND", "Socket is already bound")
        number = check_port(port, allow_zero=True)
        host = check_address(address)
        check_callback(callback)
        return Bind(host or self.any_address, number)

    def bind(self, port: object, address: object, callback: object) -> Bind:
        """An explicit bind: checked, then binding until `bound()` or `bind_failed()`."""
        bind = self.check_bind(port, address, callback)
        return self._start_bind(bind.address, bind.port)

    def _start_bind(self, address: str, port: int) -> Bind:
        self.bind_state = BINDING
        self._settle()
        return Bind(address, port)

    def bound(self) -> None:
        """The OS socket is bound: queued requests may go (see `next_action`)."""
        self.bind_state = BOUND
        self._settle()

    def bind_failed(self) -> Callback | None:
        """The bind failed: unbound again (a later bind may succeed), queued sends dropped without
        their callbacks. Returns the callback of a connect that was waiting for this bind: it
        is abandoned too and must never run (the error is emitted once, as `error`)."""
        abandoned = None
        if self.connect_state == CONNECTING:
            self.connect_state = DISCONNECTED
            for request in self._queue:
                if request.kind == CONNECT:
                    abandoned = request.callback
        self.bind_state = UNBOUND
        self._queue.clear()
        self._settle()
        return abandoned

    # ------------------------------------------------------------------ connect
    def check_connect(self, port: object, address: object, callback: object) -> Request:
        """The checks of connect (port, address, callback, closed, already connected) without
        changing anything; returns the request `connect` would queue."""
        number = check_peer(port, address)
        cb = check_callback(callback)
        if self.closed:
            raise not_running()
        if self.connect_state != DISCONNECTED:
            raise DgramError("ERR_SOCKET_DGRAM_IS_CONNECTED", "Already connected")
        target = address if isinstance(address, str) and address else self.loopback
        return Request(CONNECT, None, number, target, cb)

    def connect(self, port: object, address: object, callback: object) -> Bind | None:
        """Queue a connect behind whatever waits; returns the implicit `Bind` when unbound."""
        request = self.check_connect(port, address, callback)
        self.connect_state = CONNECTING
        bind = self._start_bind(self.any_address, 0) if self.bind_state == UNBOUND else None
        self._queue.append(request)
        self._settle()
        return bind

    def connected(self) -> None:
        self.connect_state = CONNECTED
        self._settle()

    def connect_failed(self, request: Request, error: DgramError) -> Fail:
        """The connect's lookup or connect(2) failed: disconnected again, its callback gets it."""
        self.connect_state = DISCONNECTED
        self._settle()
        return Fail(error, request.callback, connect=True)

    def disconnected(self) -> None:
        self.connect_state = DISCONNECTED
        self._settle()

    # ------------------------------------------------------------------ send
    def check_send(
        self, port: object, address: object, callback: object
    ) -> tuple[bool, int | None, Callback | None]:
        """The checks of a send (the destination rules depend on the connect state), then
        closed, without changing anything: (goes to the connected peer, port, callback)."""
        state = self.connect_state
        connected = state == CONNECTED or (state == CONNECTING and port is None)
        if connected:
            if port is not None or address is not None:
                raise DgramError("ERR_SOCKET_DGRAM_IS_CONNECTED", "Already connected")
            number = None
        else:
            number = check_peer(port, address)
        cb = check_callback(callback)
        if self.closed:
            raise not_running()
        return connected, number, cb

    def send(
        self, data: Payload, port: object, address: object, callback: object
    ) -> Transmit | Bind | None:
        """Check a send and place it: the `Transmit` when it can go at once; otherwise it is
        queued (behind a bind, connect or lookup) and the implicit `Bind` is returned when the
        socket was unbound, else None."""
        connected, number, cb = self.check_send(port, address, callback)
        bind = self._start_bind(self.any_address, 0) if self.bind_state == UNBOUND else None
        if connected:
            if self.idle_connected:
                return Transmit(data, None, None, cb)
            self._queue.append(Request(SEND_CONNECTED, data, None, None, cb))
        else:
            target = address if isinstance(address, str) and address else self.loopback
            if self.idle_bound and is_literal(target):
                return Transmit(data, target, number, cb)
            self._queue.append(Request(SEND, data, number, target, cb))
        self._settle()
        return bind

    # ------------------------------------------------------------------ the queue
    def next_action(self) -> Action | None:
        """The next thing to do for the head of the queue, or None while it must wait (not
        bound yet, a lookup or a connect under way) or when the queue is empty."""
        queue = self._queue
        if not queue or self.bind_state != BOUND or self.closed:
            return None
        request = queue[0]
        if request.kind == SEND_CONNECTED:
            if self.connect_state == CONNECTING:
                return None
            queue.popleft()
            self._settle()
            if self.connect_state == DISCONNECTED:
                error = DgramError("ERR_SOCKET_DGRAM_NOT_CONNECTED", "Not connected")
                return Fail(error, request.callback)
            assert request.data is not None
            return Transmit(request.data, None, None, request.callback)
        if request.ip is None and request.error is None:
            assert request.address is not None
            if is_literal(request.address):
                request.ip = request.address
            elif request.resolving:
                return None
            else:
                request.resolving = True
                return Resolve(request)
        queue.popleft()
        self._settle()
        if request.kind == CONNECT:
            if request.error is not None:
                return self.connect_failed(request, request.error)
            return Connect(request)
        if request.error is not None:
            return Fail(request.error, request.callback)
        assert request.data is not None
        return Transmit(request.data, request.ip, request.port, request.callback)

    def resolved(self, request: Request, error: DgramError | None, ip: str | None) -> None:
        """A lookup started for `request` finished (ignored once closed)."""
        if self.closed:
            return
        if error is not None:
            request.error = error
        else:
            request.ip = ip

    # ------------------------------------------------------------------ close / ref
    def close(self) -> None:
        """Close: a second close is ERR_SOCKET_DGRAM_NOT_RUNNING."""
        if self.closed:
            raise not_running()
        self.teardown()

    def teardown(self) -> None:
        """Closed from here on; queued requests are dropped and their callbacks never run."""
        self.closed = True
        self._queue.clear()
        self.bind_state = UNBOUND
        self.connect_state = DISCONNECTED
        self._settle()

"""The public dgram `Socket`: Node's API, assembled from the sans-I/O core and thin shells.

- core.py decides (states, the ordered queue, which error when), with validate.py's checks;
- driver.py performs what the core answers on the event loop and emits the events;
- handle.py owns the OS socket; receiver.py and sender.py move the datagrams;
- sockopts.py, membership.py and aio.py add the option, group and awaitable methods.

This module holds the public methods of Node's API and their fast send path. Why not asyncio's
DatagramTransport: it reads one datagram per loop iteration, where the receiver drains many per
wake-up. See docs/dgram.md for the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

from .aio import AsyncMethods, MessageIterator
from .core import Transmit
from .driver import Driver
from .membership import MembershipMethods
from .sockopts import OptionMethods
from .types import AddressInfo, SocketOptions
from .validate import check_callback, to_bytes

__all__ = ["MessageIterator", "Socket", "create_socket"]

Callback = Callable[..., Any]


class Socket(Driver, OptionMethods, MembershipMethods, AsyncMethods):
    """A UDP socket with Node's `dgram.Socket` semantics; make one with `create_socket`.

    Events: `listening()`, `message(msg, rinfo)`, `batch(batch)` (udpscope's: every datagram of
    one read at once, see batch.py), `connect()`, `close()` and `error(err)`. Every event and
    callback comes after the method that caused it has returned.
    """

    def __repr__(self) -> str:
        return f"<dgram.Socket {self.type} {self.state}>"

    @property
    def state(self) -> str:
        """"unbound", "binding", "bound", "connected" or "closed" (udpscope's extra)."""
        return self._core.state

    def fileno(self) -> int:
        """The OS socket's descriptor, or -1 before it exists and after close."""
        return self._handle.fileno()

    # ------------------------------------------------------------------ bind
    def bind(self, port: Any = 0, address: Any = None, callback: Callback | None = None) -> Self:
        """Bind to `address`:`port`, asynchronously; `listening` follows, or `error`.

        Args:
            port: 0-65535 (0: a random free port); a callable here is taken as the callback,
                a dict as Node's `{port, address}` options.
            address: an IP literal or a host name (looked up); None: all interfaces
                (`0.0.0.0` / `::`). An IPv6 link-local address needs its `%zone`.
            callback: called with no arguments once bound (a one-shot `listening` listener);
                dropped if the bind fails.

        Returns:
            The socket.

        Raises:
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close; ERR_SOCKET_ALREADY_BOUND
                while binding or bound. A failed bind (EADDRINUSE, a lookup failure, ...) is
                never raised: it is emitted as `error`, and the socket may be bound again.
            DgramRangeError: ERR_SOCKET_BAD_PORT.
            DgramTypeError: ERR_INVALID_ARG_TYPE for a non-str address or non-callable callback.
        """
        if callable(port) and address is None and callback is None:
            port, callback = 0, port
        elif callable(address) and callback is None:
            address, callback = None, address
        if isinstance(port, dict):
            address = port.get("address", address)
            port = port.get("port", 0)
        if port is None:
            port = 0
        core = self._core
        self._loop_for(lambda: core.check_bind(port, address, callback))
        bind = core.bind(port, address, callback)
        if callback is not None:
            self._bind_callback = callback
            self.once("listening", callback)
        self._begin_bind(bind)
        return self

    # ------------------------------------------------------------------ connect
    def connect(self, port: Any, address: Any = None, callback: Callback | None = None) -> Self:
        """Associate the socket with one peer, asynchronously; `connect` follows, or an error.

        Binds implicitly first when unbound. Afterwards `send` takes no destination and only
        the peer's datagrams are received.

        Args:
            port: the peer's port, 1-65535.
            address: an IP literal (a link-local one with its `%zone`) or a host name; None:
                `127.0.0.1` / `::1`.
            callback: called with no arguments once connected (a one-shot `connect`
                listener); on failure it gets the error instead.

        Returns:
            The socket.

        Raises:
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close; ERR_SOCKET_DGRAM_IS_CONNECTED
                while connecting or connected. A failed lookup or connect goes to `callback`,
                or without one is emitted as `error`.
            DgramRangeError: ERR_SOCKET_BAD_PORT.
            DgramTypeError: ERR_INVALID_ARG_TYPE.
        """
        if callable(address) and callback is None:
            address, callback = None, address
        core = self._core
        loop = self._loop_for(lambda: core.check_connect(port, address, callback))
        bind = core.connect(port, address, callback)
        if callback is not None:
            self.once("connect", callback)
        if bind is not None:
            self._begin_bind(bind)
        loop.call_soon(self._pump)
        return self

    def disconnect(self) -> None:
        """Dissolve the association made by `connect`; `send` needs a destination again.

        Raises:
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close; ERR_SOCKET_DGRAM_NOT_CONNECTED
                unless connected.
        """
        self._core.check_connected()
        self._flush()
        self._handle.disconnect()
        self._core.disconnected()
        self._peer = None

    def remote_address(self) -> AddressInfo:
        """The connected peer's address.

        Raises:
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close; ERR_SOCKET_DGRAM_NOT_CONNECTED
                unless connected.
        """
        self._core.check_connected()
        address, port = self._handle.peer_address()
        return AddressInfo(address, self._family_name, port)

    def address(self) -> AddressInfo:
        """The bound local address (the port the kernel picked for port 0).

        Raises:
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close; EBADF (syscall
                "getsockname") before the OS socket exists.
        """
        self._core.check_running()
        address, port = self._handle.local_address()
        return AddressInfo(address, self._family_name, port)

    # ------------------------------------------------------------------ send
    def send(
        self,
        msg: Any,
        port: Any = None,
        address: Any = None,
        callback: Callback | None = None,
        *,
        offset: int | None = None,
        length: int | None = None,
    ) -> None:
        """Send one datagram; the call returns at once and `callback(err, nbytes)` follows.

        An unbound socket is bound implicitly (all interfaces, a random port). Sends waiting
        for a bind, a connect or a lookup go out in call order. A full send buffer delays a
        datagram, never loses it.

        Args:
            msg: bytes, bytearray, memoryview, str (UTF-8) or a list of them (one datagram).
            port: the destination port, 1-65535; None on a connected socket. A callable here
                (or in `address`) is taken as the callback.
            address: an IP literal (a link-local one with its `%zone`, by name or index) or a
                host name; None: `127.0.0.1` / `::1`. An unknown zone fails with ENODEV.
            callback: gets `(None, nbytes)`, or `(err, None)` for a lookup or kernel error
                (with `.address` and `.port`); without one such errors are emitted as `error`.
            offset, length: send only this part of a single buffer.

        Raises:
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close; ERR_SOCKET_DGRAM_IS_CONNECTED
                with a destination on a connected socket.
            DgramRangeError: ERR_SOCKET_BAD_PORT; ERR_BUFFER_OUT_OF_BOUNDS.
            DgramTypeError: ERR_INVALID_ARG_TYPE.
        """
        # Fast paths: bytes from a bound, idle socket to a destination seen before (a literal),
        # or to the connected peer.
        if (
            type(msg) is bytes
            and offset is None
            and length is None
            and (callback is None or callable(callback))
        ):
            if type(port) is int:
                if self._core.idle_bound:
                    target = self._targets.get((address, port))
                    if target is not None:
                        self._enqueue(msg, target, callback)
                        return
            elif port is None and address is None and self._core.idle_connected:
                self._enqueue(msg, None, callback)
                return
        self._send_checked(msg, port, address, callback, offset, length)

    def _send_checked(
        self, msg: Any, port: Any, address: Any, callback: Any, offset: Any, length: Any,
    ) -> None:
        if callable(port) and address is None and callback is None:
            port, callback = None, port
        elif callable(address) and callback is None:
            address, callback = None, address
        data = to_bytes(msg, offset, length)
        core = self._core
        self._loop_for(lambda: core.check_send(port, address, callback))
        outcome = core.send(data, port, address, callback)
        if isinstance(outcome, Transmit):
            self._transmit(outcome, address if outcome.port is not None else None, True)
            return
        if outcome is not None:
            self._begin_bind(outcome)
        self._pump()

    def get_send_queue_size(self) -> int:
        """Bytes waiting to be sent because the kernel's send buffer was full. As in Node,
        sends still waiting for a bind or a lookup are not counted.

        Raises:
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close.
        """
        self._core.check_running()
        return self._sender.queued_bytes() if self._sender is not None else 0

    def get_send_queue_count(self) -> int:
        """Datagrams waiting to be sent because the kernel's send buffer was full (not those
        waiting for a bind or a lookup, as in Node).

        Raises:
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING after close.
        """
        self._core.check_running()
        return self._sender.queued_count() if self._sender is not None else 0

    # ------------------------------------------------------------------ close / ref
    def close(self, callback: Callback | None = None) -> Self:
        """Close: receiving stops at once (no `message` after this call, even for datagrams
        already read); datagrams already sent still leave; sends still waiting for a bind are
        dropped without their callbacks. `close` is emitted once, asynchronously.

        Args:
            callback: a `close` listener, called with no arguments.

        Returns:
            The socket.

        Raises:
            DgramError: ERR_SOCKET_DGRAM_NOT_RUNNING when already closed.
            DgramTypeError: ERR_INVALID_ARG_TYPE for a non-callable callback.
        """
        self._core.check_running()
        check_callback(callback)
        if callback is not None:
            self.on("close", callback)
        self._flush()  # datagrams sent before close() still leave
        self._teardown()
        try:
            loop = self._get_loop()
        except RuntimeError:
            self.emit("close")
            return self
        loop.call_soon(self.emit, "close")
        return self

    def ref(self) -> Self:
        """Let the socket keep `dgram.run` alive again (the default); idempotent, also after
        close. Returns the socket."""
        self._core.referenced = True
        self._track()
        return self

    def unref(self) -> Self:
        """Let `dgram.run` return while this socket is still open; idempotent, also after close.
        Returns the socket."""
        self._core.referenced = False
        self._track()
        return self


def create_socket(type_or_options: Any, callback: Callback | None = None) -> Socket:
    """Node's `dgram.createSocket`.

    Args:
        type_or_options: "udp4", "udp6", a `SocketOptions` or a dict of its fields.
        callback: a `message` listener, `(msg, rinfo)`.

    Returns:
        A new, unbound `Socket` (the OS socket is created at bind, first send or first
        membership call).

    Raises:
        DgramTypeError: ERR_SOCKET_BAD_TYPE, ERR_INVALID_ARG_TYPE, ERR_SOCKET_BAD_BUFFER_SIZE.
    """
    options = SocketOptions.from_any(type_or_options)
    check_callback(callback)
    sock = Socket(options)
    if callback is not None:
        sock.on("message", callback)
    return sock


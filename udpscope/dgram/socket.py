"""The dgram `Socket`: Node's state machine over a non-blocking socket driven by the event loop.

Why not asyncio's DatagramTransport: it does one `recvfrom` per loop iteration; reading with
`loop.add_reader` and draining many datagrams per wake-up is several times faster. Sends are tried
at once and queued (never dropped) on EAGAIN until the socket is writable; sends issued behind a
pending bind, connect or DNS lookup wait in one ordered queue so they go out in call order.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import struct
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any, Self

from . import linux, mmsg, runtime
from .errors import (
    DgramError,
    DgramRangeError,
    DgramTypeError,
    bad_port,
    from_oserror,
    invalid_arg_type,
    lookup_error,
    not_running,
    system_error,
)
from .events import EventEmitter
from .io import Receiver
from .sender import Sender
from .types import AddressInfo, SocketOptions

__all__ = ["Socket", "create_socket"]

UNBOUND, BINDING, BOUND = 0, 1, 2
DISCONNECTED, CONNECTING, CONNECTED = 0, 1, 2

Callback = Callable[..., Any]


def _check_peer(port: Any, address: Any) -> int:
    """A destination's port (1-65535) and address type, as connect() and send() check them."""
    port = _check_port(port, allow_zero=False)
    if address is not None and not isinstance(address, str):
        raise invalid_arg_type("address", "of type str", address)
    return port


def _check_port(port: object, *, allow_zero: bool) -> int:
    """Node's validatePort: integers (or digit strings) in range."""
    if isinstance(port, str) and port.strip().isdigit():
        value: object = int(port)
    else:
        value = port
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_port(port, allow_zero=allow_zero)
    if value < (0 if allow_zero else 1) or value > 65535:
        raise bad_port(port, allow_zero=allow_zero)
    return value


def _check_callback(callback: object, name: str = "callback") -> None:
    if callback is not None and not callable(callback):
        raise invalid_arg_type(name, "a callable", callback)


def _to_bytes(msg: object, offset: object, length: object) -> bytes | memoryview:
    """Node accepts Buffer/TypedArray/string or an array of them; so do we (bytes-likes, str)."""
    if isinstance(msg, bytes):
        data: bytes | memoryview = msg
    elif isinstance(msg, str):
        data = msg.encode()
    elif isinstance(msg, bytearray | memoryview):
        data = bytes(msg)
    elif isinstance(msg, list | tuple):
        parts = []
        for item in msg:
            if isinstance(item, str):
                parts.append(item.encode())
            elif isinstance(item, bytes | bytearray | memoryview):
                parts.append(bytes(item))
            else:
                raise invalid_arg_type(
                    "buffer list arguments", "of type str or a bytes-like object", item
                )
        data = b"".join(parts)
        if offset is not None or length is not None:
            raise invalid_arg_type("offset", "None when msg is a list", offset)
        return data
    else:
        raise invalid_arg_type("msg", "of type str, a bytes-like object or a list of them", msg)
    if offset is None and length is None:
        return data
    size = len(data)
    for name, value in (("offset", offset), ("length", length)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise invalid_arg_type(name, "of type int", value)
    start = 0 if offset is None else offset
    if start < 0 or start > size:
        raise DgramRangeError("ERR_BUFFER_OUT_OF_BOUNDS", '"offset" is outside of buffer bounds')
    count = size - start if length is None else length
    if count < 0 or start + count > size:
        raise DgramRangeError("ERR_BUFFER_OUT_OF_BOUNDS", '"length" is outside of buffer bounds')
    return data[start : start + count]


class _Request:
    """A send or connect waiting behind a bind, connect or lookup."""

    __slots__ = ("kind", "data", "port", "address", "callback", "target", "error", "resolving")

    def __init__(
        self, kind: str, data: bytes | memoryview | None, port: int | None,
        address: str | None, callback: Callback | None,
    ) -> None:
        self.kind = kind  # "send", "send-connected" or "connect"
        self.data = data
        self.port = port
        self.address = address
        self.callback = callback
        self.target: tuple[Any, ...] | None = None
        self.error: DgramError | None = None
        self.resolving = False


class Socket(EventEmitter):
    """A UDP socket with Node's `dgram.Socket` semantics (see spec/dgram-api.md)."""

    def __init__(self, options: SocketOptions) -> None:
        super().__init__()
        self._options = options
        self.type = options.type
        self._family = socket.AF_INET if options.type == "udp4" else socket.AF_INET6
        self._family_name = "IPv4" if options.type == "udp4" else "IPv6"
        self._any = "0.0.0.0" if options.type == "udp4" else "::"
        self._loopback = "127.0.0.1" if options.type == "udp4" else "::1"
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bind_state = UNBOUND
        self._connect_state = DISCONNECTED
        self._closed = False
        self._ref = True
        self._bind_callback: Callback | None = None
        self._connect_callback: Callback | None = None
        self._peer: tuple[str, int] | None = None
        self._pending: deque[_Request] = deque()
        self._sender: Sender | None = None
        self._targets: dict[tuple[str | None, int], tuple[str, int]] = {}
        self._receiver: Receiver | None = None
        self._memberships: dict[tuple[str, str | None, str | None], None] = {}
        self._literals: dict[str, str | None] = {}

    # ----------------------------------------------------------------- introspection
    def __repr__(self) -> str:
        return f"<dgram.Socket {self.type} {self.state}>"

    @property
    def state(self) -> str:
        """"unbound", "binding", "bound", "connected" or "closed"."""
        if self._closed:
            return "closed"
        if self._connect_state == CONNECTED:
            return "connected"
        return ("unbound", "binding", "bound")[self._bind_state]

    def fileno(self) -> int:
        return self._sock.fileno() if self._sock is not None else -1

    def _keeps_alive(self) -> bool:
        return not self._closed and self._ref and self._bind_state != UNBOUND

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

    # ----------------------------------------------------------------- OS socket
    def _ensure_socket(self) -> socket.socket:
        if self._sock is not None:
            return self._sock
        options = self._options
        sock = socket.socket(self._family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            if options.reuse_addr:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if options.reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if self._family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(options.ipv6_only))
            if options.multicast_all is not None:
                self._set_multicast_all(sock, options.multicast_all)
            if options.metadata:
                self._enable_metadata(sock)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        return sock

    def _enable_metadata(self, sock: socket.socket) -> None:
        """Ask for destination, interface, TTL, timestamp and drop count with every datagram."""
        wanted = [
            (socket.SOL_SOCKET, linux.SO_TIMESTAMPNS),
            (socket.SOL_SOCKET, linux.SO_RXQ_OVFL),
            (socket.IPPROTO_IP, linux.IP_PKTINFO),
            (socket.IPPROTO_IP, linux.IP_RECVTTL),
        ]
        if self._family == socket.AF_INET6:
            wanted += [
                (socket.IPPROTO_IPV6, linux.IPV6_RECVPKTINFO),
                (socket.IPPROTO_IPV6, linux.IPV6_RECVHOPLIMIT),
            ]
        for level, option in wanted:
            if option is None:
                continue
            with contextlib.suppress(OSError):
                sock.setsockopt(level, option, 1)

    def _set_multicast_all(self, sock: socket.socket, flag: bool) -> None:
        if self._family == socket.AF_INET6:
            if linux.IPV6_MULTICAST_ALL is None:
                raise OSError(errno.ENOPROTOOPT, "IPV6_MULTICAST_ALL is not available here")
            sock.setsockopt(socket.IPPROTO_IPV6, linux.IPV6_MULTICAST_ALL, int(flag))
            # A dual-stack socket also receives IPv4 groups: isolate those too.
            if not self._options.ipv6_only and linux.IP_MULTICAST_ALL is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_IP, linux.IP_MULTICAST_ALL, int(flag))
        else:
            if linux.IP_MULTICAST_ALL is None:
                raise OSError(errno.ENOPROTOOPT, "IP_MULTICAST_ALL is not available here")
            sock.setsockopt(socket.IPPROTO_IP, linux.IP_MULTICAST_ALL, int(flag))

    def _literal(self, address: str) -> str | None:
        """The address if it is an IP literal (of either family; cached), else None.

        A literal of the other family is still used as it is: the kernel refuses it, as in Node.
        """
        try:
            return self._literals[address]
        except KeyError:
            pass
        result = address if _family_of(address.partition("%")[0]) is not None else None
        if len(self._literals) > 4096:
            self._literals.clear()
        self._literals[address] = result
        return result

    # ----------------------------------------------------------------- lookup
    def _lookup(self, hostname: str, done: Callable[[DgramError | None, str | None], None]) -> None:
        """Resolve asynchronously through `options.lookup` or the system resolver."""
        loop = self._get_loop()
        family_number = 4 if self._family == socket.AF_INET else 6
        custom = self._options.lookup
        if custom is not None:
            fired = False

            def callback(err: Any = None, address: Any = None, family: Any = None) -> None:
                nonlocal fired
                if fired:
                    return
                fired = True
                if err is not None:
                    error = err if isinstance(err, DgramError) else lookup_error(err, hostname)
                    loop.call_soon(done, error, None)
                elif not isinstance(address, str):
                    loop.call_soon(done, lookup_error(OSError("bad lookup result"), hostname), None)
                else:
                    loop.call_soon(done, None, address)

            try:
                result = custom(hostname, family_number, callback)
            except Exception as exc:  # a user lookup that throws is a lookup failure
                callback(exc)
                return
            if isinstance(result, str):
                callback(None, result, family_number)
            elif asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                async def await_result() -> None:
                    try:
                        value = await result
                    except Exception as exc:
                        callback(exc)
                    else:
                        callback(None, value, family_number)

                loop.create_task(await_result())
            return

        async def resolve() -> None:
            try:
                infos = await loop.getaddrinfo(
                    hostname, None, family=self._family, type=socket.SOCK_DGRAM
                )
                if not infos:
                    raise socket.gaierror(socket.EAI_NONAME, "no address")
                address = infos[0][4][0]
            except Exception as exc:
                done(lookup_error(exc, hostname), None)
            else:
                done(None, address)

        loop.create_task(resolve())

    # ----------------------------------------------------------------- bind
    def bind(
        self, port: Any = 0, address: Any = None, callback: Callback | None = None
    ) -> Self:
        """Bind asynchronously; `listening` (and `callback`) follow, or `error`."""
        if callable(port) and address is None and callback is None:
            port, callback = 0, port
        elif callable(address) and callback is None:
            address, callback = None, address
        if isinstance(port, dict):
            address = port.get("address", address)
            port = port.get("port", 0)
        if port is None:
            port = 0
        if self._closed:
            raise not_running()
        if self._bind_state != UNBOUND:
            raise DgramError("ERR_SOCKET_ALREADY_BOUND", "Socket is already bound")
        port = _check_port(port, allow_zero=True)
        if address is not None and not isinstance(address, str):
            raise invalid_arg_type("address", "of type str", address)
        _check_callback(callback)
        loop = self._get_loop()
        self._bind_state = BINDING
        runtime.update(self)
        if callback is not None:
            self._bind_callback = callback
            self.once("listening", callback)
        host = address or self._any
        if self._literal(host) is not None:
            loop.call_soon(self._do_bind, host, port)
        else:
            self._lookup(host, lambda err, ip: self._after_bind_lookup(err, ip, port))
        return self

    def _after_bind_lookup(self, err: DgramError | None, ip: str | None, port: int) -> None:
        if self._closed:
            return
        if err is not None:
            self._bind_failed(err)
        else:
            assert ip is not None
            self._do_bind(ip, port)

    def _do_bind(self, ip: str, port: int) -> None:
        if self._closed:
            return
        try:
            sock = self._ensure_socket()
            sock.bind((ip, port))
        except OSError as exc:
            self._bind_failed(from_oserror(exc, "bind", ip, port))
            return
        options = self._options
        try:
            if options.recv_buffer_size:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, options.recv_buffer_size)
            if options.send_buffer_size:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, options.send_buffer_size)
        except OSError as exc:
            self._bind_failed(from_oserror(exc, "bind", ip, port))
            return
        self._bind_state = BOUND
        self._bind_callback = None
        self._sender = Sender(self, sock)
        self._receiver = Receiver(self, sock)
        self._receiver.start()
        self.emit("listening")
        self._pump()

    def _bind_failed(self, err: DgramError) -> None:
        self._bind_state = UNBOUND
        if self._bind_callback is not None:
            self.off("listening", self._bind_callback)
            self._bind_callback = None
        if self._connect_state == CONNECTING:
            self._connect_state = DISCONNECTED
            if self._connect_callback is not None:
                self.off("connect", self._connect_callback)
                self._connect_callback = None
        self._pending.clear()
        runtime.update(self)
        self.emit("error", err)

    # ----------------------------------------------------------------- connect
    def connect(self, port: Any, address: Any = None, callback: Callback | None = None) -> Self:
        """Associate the socket with one peer; `connect` (and `callback`) follow, or an error."""
        if callable(address) and callback is None:
            address, callback = None, address
        port = _check_peer(port, address)
        _check_callback(callback)
        if self._closed:
            raise not_running()
        if self._connect_state != DISCONNECTED:
            raise DgramError("ERR_SOCKET_DGRAM_IS_CONNECTED", "Already connected")
        loop = self._get_loop()
        self._connect_state = CONNECTING
        if callback is not None:
            self._connect_callback = callback
            self.once("connect", callback)
        if self._bind_state == UNBOUND:
            self.bind()
        self._pending.append(_Request("connect", None, port, address or self._loopback, callback))
        if self._bind_state == BOUND:
            loop.call_soon(self._pump)
        return self

    def _finish_connect(self, req: _Request) -> None:
        assert self._sock is not None
        self._flush()
        if req.error is None:
            try:
                assert req.target is not None
                self._sock.connect(req.target)
            except OSError as exc:
                req.error = from_oserror(exc, "connect", req.address, req.port)
        if req.error is not None:
            self._connect_state = DISCONNECTED
            if self._connect_callback is not None:
                self.off("connect", self._connect_callback)
                self._connect_callback = None
            self._deliver_error(req.error, req.callback)
            return
        self._connect_state = CONNECTED
        self._connect_callback = None
        peer = self._sock.getpeername()
        self._peer = (peer[0], peer[1])
        self._get_loop().call_soon(self._emit_connect)

    def _emit_connect(self) -> None:
        # close() or disconnect() may have come between the connect and its event: after close()
        # only `close` may be emitted, and a connection that is gone is not announced.
        if not self._closed and self._connect_state == CONNECTED:
            self.emit("connect")

    def disconnect(self) -> None:
        if self._closed:
            raise not_running()
        if self._connect_state != CONNECTED:
            raise DgramError("ERR_SOCKET_DGRAM_NOT_CONNECTED", "Not connected")
        assert self._sock is not None
        self._flush()
        _disconnect(self._sock)
        self._connect_state = DISCONNECTED
        self._peer = None

    def remote_address(self) -> AddressInfo:
        if self._closed:
            raise not_running()
        if self._connect_state != CONNECTED or self._sock is None:
            raise DgramError("ERR_SOCKET_DGRAM_NOT_CONNECTED", "Not connected")
        try:
            peer = self._sock.getpeername()
        except OSError as exc:
            raise from_oserror(exc, "getpeername") from None
        return AddressInfo(peer[0], self._family_name, peer[1])

    def address(self) -> AddressInfo:
        if self._closed:
            raise not_running()
        if self._sock is None:
            raise system_error(errno.EBADF, "getsockname")
        try:
            local = self._sock.getsockname()
        except OSError as exc:
            raise from_oserror(exc, "getsockname") from None
        return AddressInfo(local[0], self._family_name, local[1])

    # ----------------------------------------------------------------- send
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
        """Send one datagram; `callback(err, nbytes)` follows asynchronously."""
        # Fast path: bytes to a known literal destination from a bound, idle, unconnected socket.
        if (
            type(msg) is bytes
            and type(port) is int
            and offset is None
            and length is None
            and self._bind_state == BOUND
            and self._connect_state == DISCONNECTED
            and not self._pending
            and (callback is None or callable(callback))
        ):
            target = self._targets.get((address, port))
            if target is not None:
                self._sender.queue(msg, target, callback)  # type: ignore[union-attr]
                return
        elif (
            type(msg) is bytes
            and port is None
            and address is None
            and offset is None
            and length is None
            and self._connect_state == CONNECTED
            and not self._pending
            and (callback is None or callable(callback))
        ):
            self._sender.queue(msg, None, callback)  # type: ignore[union-attr]
            return
        self._send_checked(msg, port, address, callback, offset, length)

    def _send_checked(
        self, msg: Any, port: Any, address: Any, callback: Callback | None,
        offset: int | None, length: int | None,
    ) -> None:
        if callable(port) and address is None and callback is None:
            port, callback = None, port
        elif callable(address) and callback is None:
            address, callback = None, address
        data = _to_bytes(msg, offset, length)
        connect_state = self._connect_state
        connected = connect_state == CONNECTED or (connect_state == CONNECTING and port is None)
        if connected:
            if port is not None or address is not None:
                raise DgramError("ERR_SOCKET_DGRAM_IS_CONNECTED", "Already connected")
        else:
            port = _check_peer(port, address)
        _check_callback(callback)
        if self._closed:
            raise not_running()
        if self._bind_state == UNBOUND:
            self.bind()
        if connected:
            if self._bind_state == BOUND and not self._pending and connect_state == CONNECTED:
                self._transmit(data, None, callback)
                return
            self._pending.append(_Request("send-connected", data, None, None, callback))
            return
        key = (address, port)
        if not address:
            address = self._loopback
        if self._literal(address) is not None:
            target = (address, port)
            if len(self._targets) > 4096:
                self._targets.clear()
            self._targets[key] = target
            if self._bind_state == BOUND and not self._pending:
                self._transmit(data, target, callback)
                return
        self._pending.append(_Request("send", data, port, address, callback))
        if self._bind_state == BOUND:
            self._pump()

    def _pump(self) -> None:
        """Issue queued requests in order while the head is ready (bound, address resolved)."""
        pending = self._pending
        while pending and self._bind_state == BOUND and not self._closed:
            req = pending[0]
            if req.kind == "send-connected":
                if self._connect_state != CONNECTED:
                    if self._connect_state == DISCONNECTED:
                        pending.popleft()
                        self._deliver_error(
                            DgramError("ERR_SOCKET_DGRAM_NOT_CONNECTED", "Not connected"),
                            req.callback,
                        )
                        continue
                    return
                pending.popleft()
                self._transmit(req.data, None, req.callback)
                continue
            if req.target is None and req.error is None:
                assert req.address is not None
                if self._literal(req.address) is not None:
                    req.target = (req.address, req.port)
                else:
                    if not req.resolving:
                        req.resolving = True
                        self._lookup(req.address, partial(self._after_send_lookup, req))
                    return
            pending.popleft()
            if req.kind == "connect":
                self._finish_connect(req)
            elif req.error is not None:
                self._deliver_error(req.error, req.callback)
            else:
                self._transmit(req.data, req.target, req.callback)

    def _after_send_lookup(self, req: _Request, err: DgramError | None, ip: str | None) -> None:
        if self._closed:
            return
        if err is not None:
            req.error = err
        else:
            req.target = (ip, req.port)
        self._pump()

    def _transmit(
        self, data: Any, target: tuple[Any, ...] | None, callback: Callback | None
    ) -> None:
        assert self._sender is not None
        self._sender.queue(data, target, callback)

    def _flush(self) -> None:
        """Hand the outbox to the kernel now (before anything that changes how it would leave)."""
        if self._sender is not None and self._sender.outbox:
            self._sender.flush()

    def _deliver_error(self, err: DgramError, callback: Callback | None) -> None:
        loop = self._get_loop()
        if callback is not None:
            loop.call_soon(callback, err, None)
        else:
            loop.call_soon(self.emit, "error", err)

    def get_send_queue_size(self) -> int:
        queued = self._sender.queued_bytes() if self._sender is not None else 0
        return queued + sum(len(r.data) for r in self._pending if r.data is not None)

    def get_send_queue_count(self) -> int:
        queued = self._sender.queued_count() if self._sender is not None else 0
        return queued + sum(1 for r in self._pending if r.kind != "connect")

    # ----------------------------------------------------------------- close
    def close(self, callback: Callback | None = None) -> Self:
        """Stop receiving at once; `close` is emitted once, asynchronously."""
        if self._closed:
            raise not_running()
        _check_callback(callback)
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

    def _teardown(self) -> None:
        """Release everything without events: the socket is closed from here on."""
        self._closed = True
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None
        if self._sender is not None:
            self._sender.drop()
            self._sender = None
        self._pending.clear()
        self._memberships.clear()
        self._bind_state = UNBOUND
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._connect_state = DISCONNECTED
        runtime.update(self)

    # ----------------------------------------------------------------- ref / unref
    def ref(self) -> Self:
        self._ref = True
        runtime.update(self)
        return self

    def unref(self) -> Self:
        self._ref = False
        runtime.update(self)
        return self

    # ----------------------------------------------------------------- options
    def _require_socket(self, syscall: str) -> socket.socket:
        if self._closed:
            raise not_running()
        if self._sock is None:
            raise system_error(errno.EBADF, syscall)
        return self._sock

    def _setsockopt(self, syscall: str, level: int, option: int, value: int | bytes) -> None:
        sock = self._require_socket(syscall)
        self._flush()
        try:
            sock.setsockopt(level, option, value)
        except OSError as exc:
            raise from_oserror(exc, syscall) from None

    def _getsockopt(self, syscall: str, level: int, option: int) -> int:
        sock = self._require_socket(syscall)
        try:
            return sock.getsockopt(level, option)
        except OSError as exc:
            raise from_oserror(exc, syscall) from None

    def _check_int(self, value: object, name: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise invalid_arg_type(name, "of type int", value)
        return value

    def _v6(self) -> bool:
        return self._family == socket.AF_INET6

    def set_broadcast(self, flag: Any) -> None:
        self._setsockopt("setBroadcast", socket.SOL_SOCKET, socket.SO_BROADCAST, int(bool(flag)))

    def get_broadcast(self) -> bool:
        return bool(self._getsockopt("getBroadcast", socket.SOL_SOCKET, socket.SO_BROADCAST))

    def _set_hops(
        self, ttl: Any, lowest: int, syscall: str, v6_option: int, v4_option: int
    ) -> int:
        """TTL / hop-limit setters: type first, then closed, then range (EINVAL), then EBADF."""
        ttl = self._check_int(ttl, "ttl")
        if self._closed:
            raise not_running()
        if not lowest <= ttl <= 255:
            raise system_error(errno.EINVAL, syscall)
        if self._v6():
            self._setsockopt(syscall, socket.IPPROTO_IPV6, v6_option, ttl)
        else:
            self._setsockopt(syscall, socket.IPPROTO_IP, v4_option, ttl)
        return ttl

    def set_ttl(self, ttl: Any) -> int:
        return self._set_hops(ttl, 1, "setTTL", socket.IPV6_UNICAST_HOPS, socket.IP_TTL)

    def get_ttl(self) -> int:
        if self._v6():
            return self._getsockopt("getTTL", socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS)
        return self._getsockopt("getTTL", socket.IPPROTO_IP, socket.IP_TTL)

    def set_multicast_ttl(self, ttl: Any) -> int:
        return self._set_hops(
            ttl, 0, "setMulticastTTL", socket.IPV6_MULTICAST_HOPS, socket.IP_MULTICAST_TTL
        )

    def get_multicast_ttl(self) -> int:
        if self._v6():
            return self._getsockopt(
                "getMulticastTTL", socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS
            )
        return self._getsockopt("getMulticastTTL", socket.IPPROTO_IP, socket.IP_MULTICAST_TTL)

    def set_multicast_loopback(self, flag: Any) -> Any:
        value = int(bool(flag))
        if self._v6():
            self._setsockopt(
                "setMulticastLoopback", socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, value
            )
        else:
            self._setsockopt(
                "setMulticastLoopback", socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, value
            )
        return flag

    def get_multicast_loopback(self) -> bool:
        if self._v6():
            return bool(self._getsockopt(
                "getMulticastLoopback", socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP
            ))
        return bool(
            self._getsockopt("getMulticastLoopback", socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP)
        )

    def set_multicast_interface(self, interface: Any) -> None:
        """Outgoing multicast interface: an IPv4 address, or `::%ifname` / `%ifname` for IPv6."""
        if not isinstance(interface, str):
            raise invalid_arg_type("interfaceAddress", "of type str", interface)
        if self._closed:
            raise not_running()
        syscall = "setMulticastInterface"
        if self._v6():
            index = _ipv6_interface_index(interface, syscall)
            self._setsockopt(syscall, socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
        else:
            packed = _pack_ipv4(interface, syscall)
            self._setsockopt(syscall, socket.IPPROTO_IP, socket.IP_MULTICAST_IF, packed)

    def set_multicast_all(self, flag: bool) -> bool:
        """Isolation switch (IP_MULTICAST_ALL): False = only groups this socket joined."""
        sock = self._require_socket("setMulticastAll")
        try:
            self._set_multicast_all(sock, bool(flag))
        except OSError as exc:
            raise from_oserror(exc, "setMulticastAll") from None
        return bool(flag)

    def get_multicast_all(self) -> bool:
        if self._v6():
            option = linux.IPV6_MULTICAST_ALL
            level = socket.IPPROTO_IPV6
        else:
            option = linux.IP_MULTICAST_ALL
            level = socket.IPPROTO_IP
        if option is None:
            raise system_error(errno.ENOPROTOOPT, "getMulticastAll")
        return bool(self._getsockopt("getMulticastAll", level, option))

    # buffer sizes
    def _check_buffer_size(self, size: Any) -> int:
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise DgramTypeError(
                "ERR_SOCKET_BAD_BUFFER_SIZE", "Buffer size must be a positive integer"
            )
        return size

    def get_recv_buffer_size(self) -> int:
        return self._getsockopt("getRecvBufferSize", socket.SOL_SOCKET, socket.SO_RCVBUF)

    def set_recv_buffer_size(self, size: int) -> None:
        size = self._check_buffer_size(size)
        self._setsockopt("setRecvBufferSize", socket.SOL_SOCKET, socket.SO_RCVBUF, size)

    def get_send_buffer_size(self) -> int:
        return self._getsockopt("getSendBufferSize", socket.SOL_SOCKET, socket.SO_SNDBUF)

    def set_send_buffer_size(self, size: int) -> None:
        size = self._check_buffer_size(size)
        self._setsockopt("setSendBufferSize", socket.SOL_SOCKET, socket.SO_SNDBUF, size)

    def get_kernel_drops(self) -> int:
        """Datagrams the kernel dropped for this socket (full receive buffer), cumulative."""
        if self._sock is None:
            return self._receiver.drops if self._receiver is not None else 0
        if linux.SO_MEMINFO is not None:
            try:
                raw = self._sock.getsockopt(
                    socket.SOL_SOCKET, linux.SO_MEMINFO, 4 * linux.SK_MEMINFO_VARS
                )
                return struct.unpack_from("@9I", raw)[linux.SK_MEMINFO_DROPS]
            except (OSError, struct.error):
                pass
        return self._receiver.drops if self._receiver is not None else 0

    # ----------------------------------------------------------------- memberships
    def _membership_args(
        self, group: Any, interface: Any, source: Any = None, *, ssm: bool = False
    ) -> None:
        if ssm:
            if not isinstance(source, str):
                raise invalid_arg_type("sourceAddress", "of type str", source)
            if not isinstance(group, str):
                raise invalid_arg_type("groupAddress", "of type str", group)
        else:
            if group is None or group == "":
                raise DgramTypeError(
                    "ERR_MISSING_ARGS", 'The "multicastAddress" argument must be specified'
                )
            if not isinstance(group, str):
                raise invalid_arg_type("multicastAddress", "of type str", group)
        if interface is not None and not isinstance(interface, str):
            raise invalid_arg_type("interfaceAddress", "of type str", interface)
        if self._closed:
            raise not_running()

    def _membership_socket(self, syscall: str) -> socket.socket:
        try:
            return self._ensure_socket()
        except OSError as exc:
            raise from_oserror(exc, syscall) from None

    def _membership(self, join: bool, group: str, interface: str | None) -> None:
        syscall = "addMembership" if join else "dropMembership"
        sock = self._membership_socket(syscall)
        family = _family_of(group)
        try:
            if family == socket.AF_INET:
                iface = _pack_ipv4(interface, syscall) if interface else bytes(4)
                option = socket.IP_ADD_MEMBERSHIP if join else socket.IP_DROP_MEMBERSHIP
                sock.setsockopt(socket.IPPROTO_IP, option, socket.inet_aton(group) + iface)
            elif family == socket.AF_INET6:
                index = _ipv6_interface_index(interface, syscall) if interface else 0
                option = socket.IPV6_JOIN_GROUP if join else socket.IPV6_LEAVE_GROUP
                packed = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", index)
                sock.setsockopt(socket.IPPROTO_IPV6, option, packed)
            else:
                raise system_error(errno.EINVAL, syscall)
        except OSError as exc:
            raise from_oserror(exc, syscall) from None
        self._remember(join, group, None, interface)

    def _remember(self, join: bool, group: str, source: str | None, interface: str | None) -> None:
        """Track joins under normalised keys so a drop spelled differently still matches."""
        key = (_normal(group), _normal(source) if source else None, interface or None)
        if join:
            self._memberships[key] = None
            return
        if key in self._memberships:
            del self._memberships[key]
            return
        # The kernel dropped it: forget the entry for that group and source on any interface.
        for candidate in self._memberships:
            if candidate[:2] == key[:2]:
                del self._memberships[candidate]
                return

    def add_membership(self, group: Any = None, interface: Any = None) -> None:
        self._membership_args(group, interface)
        self._membership(True, group, interface)

    def drop_membership(self, group: Any = None, interface: Any = None) -> None:
        self._membership_args(group, interface)
        self._membership(False, group, interface)

    def _source_membership(
        self, join: bool, source: str, group: str, interface: str | None
    ) -> None:
        syscall = "addSourceSpecificMembership" if join else "dropSourceSpecificMembership"
        sock = self._membership_socket(syscall)
        family = _family_of(group)
        if family is None or _family_of(source) != family:
            raise system_error(errno.EINVAL, syscall)
        try:
            if family == socket.AF_INET:
                iface = _pack_ipv4(interface, syscall) if interface else bytes(4)
                option = linux.IP_ADD_SOURCE_MEMBERSHIP if join else linux.IP_DROP_SOURCE_MEMBERSHIP
                if option is None:
                    raise system_error(errno.ENOPROTOOPT, syscall)
                packed = socket.inet_aton(group) + iface + socket.inet_aton(source)
                sock.setsockopt(socket.IPPROTO_IP, option, packed)
            else:
                index = _ipv6_interface_index(interface, syscall) if interface else 0
                option = linux.MCAST_JOIN_SOURCE_GROUP if join else linux.MCAST_LEAVE_SOURCE_GROUP
                if option is None:
                    raise system_error(errno.ENOPROTOOPT, syscall)
                packed = (
                    struct.pack("@I4x", index)
                    + _sockaddr_storage_in6(group)
                    + _sockaddr_storage_in6(source)
                )
                sock.setsockopt(socket.IPPROTO_IPV6, option, packed)
        except OSError as exc:
            if isinstance(exc, DgramError):
                raise
            raise from_oserror(exc, syscall) from None
        self._remember(join, group, source, interface)

    def add_source_specific_membership(
        self, source: Any, group: Any, interface: Any = None
    ) -> None:
        self._membership_args(group, interface, source, ssm=True)
        self._source_membership(True, source, group, interface)

    def drop_source_specific_membership(
        self, source: Any, group: Any, interface: Any = None
    ) -> None:
        self._membership_args(group, interface, source, ssm=True)
        self._source_membership(False, source, group, interface)

    def get_memberships(self) -> list[tuple[str, str | None, str | None]]:
        """The groups (group, source, interface) this socket has joined and not dropped."""
        return list(self._memberships)

    # ----------------------------------------------------------------- Pythonic extras
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if not self._closed:
            self.close()

    async def bind_async(self, port: int = 0, address: str | None = None) -> AddressInfo:
        """Bind and wait: returns the bound address or raises the bind error."""
        loop = self._get_loop()
        future: asyncio.Future[AddressInfo] = loop.create_future()

        def on_listening() -> None:
            cleanup()
            if not future.done():
                future.set_result(self.address())

        def on_error(err: BaseException) -> None:
            cleanup()
            if not future.done():
                future.set_exception(err)

        def on_close() -> None:
            cleanup()
            if not future.done():
                future.set_exception(not_running())

        def cleanup() -> None:
            self.off("error", on_error)
            self.off("close", on_close)
            self.off("listening", on_listening)

        self.once("error", on_error)
        self.once("close", on_close)
        try:
            self.bind(port, address, on_listening)
        except BaseException:
            cleanup()
            raise
        return await future

    async def send_async(
        self, msg: Any, port: int | None = None, address: str | None = None, *,
        offset: int | None = None, length: int | None = None,
    ) -> int:
        """Send and wait for the result: the byte count, or the error raised."""
        loop = self._get_loop()
        future: asyncio.Future[int] = loop.create_future()

        def done(err: BaseException | None, sent: int | None) -> None:
            if future.done():
                return
            if err is not None:
                future.set_exception(err)
            else:
                future.set_result(sent or 0)

        self.send(msg, port, address, done, offset=offset, length=length)
        return await future

    def messages(self, max_queue: int = 65536) -> MessageIterator:
        """`async for msg, rinfo in sock.messages():` until the socket closes."""
        return MessageIterator(self, max_queue)


class MessageIterator:
    """Buffers messages from the moment it is created; bounded (overflow is counted in `dropped`)."""

    def __init__(self, sock: Socket, max_queue: int) -> None:
        self._sock = sock
        self._queue: deque[tuple[bytes, Any]] = deque()
        self._max = max_queue
        self._waiter: asyncio.Future[None] | None = None
        self._done = sock._closed
        self.dropped = 0
        sock.on("message", self._on_message)
        sock.on("close", self._on_close)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_message(self, msg: bytes, rinfo: Any) -> None:
        if len(self._queue) < self._max:
            self._queue.append((msg, rinfo))
        else:
            self.dropped += 1
        self._wake()

    def _on_close(self) -> None:
        self._done = True
        self._detach()
        self._wake()

    def _detach(self) -> None:
        self._sock.off("message", self._on_message)
        self._sock.off("close", self._on_close)

    def __aiter__(self) -> MessageIterator:
        return self

    async def __anext__(self) -> tuple[bytes, Any]:
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._done:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
            self._waiter = None

    async def aclose(self) -> None:
        self._done = True
        self._detach()


# --------------------------------------------------------------------- helpers
def _family_of(address: str) -> int | None:
    try:
        socket.inet_pton(socket.AF_INET, address)
        return socket.AF_INET
    except OSError:
        pass
    try:
        socket.inet_pton(socket.AF_INET6, address)
        return socket.AF_INET6
    except OSError:
        return None


def _normal(address: str) -> str:
    """Canonical spelling of an IP literal (`FF15:0::1` → `ff15::1`)."""
    family = _family_of(address)
    if family is None:
        return address
    return socket.inet_ntop(family, socket.inet_pton(family, address))


def _pack_ipv4(address: str, syscall: str) -> bytes:
    try:
        return socket.inet_pton(socket.AF_INET, address)
    except OSError:
        raise system_error(errno.EINVAL, syscall) from None


def _ipv6_interface_index(interface: str, syscall: str) -> int:
    """`::%eth0`, `fe80::1%2`, `%eth0` or a bare name → the interface index (libuv's rule)."""
    if interface is None:
        return 0
    bare, sep, scope = interface.partition("%")
    if sep:
        if bare:
            try:
                socket.inet_pton(socket.AF_INET6, bare)
            except OSError:
                raise system_error(errno.EINVAL, syscall) from None
        if scope.isdigit():
            return int(scope)
        try:
            return socket.if_nametoindex(scope)
        except OSError:
            raise system_error(errno.ENODEV, syscall) from None
    try:
        socket.inet_pton(socket.AF_INET6, bare)
        return 0
    except OSError:
        pass
    try:
        return socket.if_nametoindex(bare)
    except OSError:
        raise system_error(errno.EINVAL, syscall) from None


def _sockaddr_storage_in6(address: str) -> bytes:
    """A `struct sockaddr_in6` padded to `struct __kernel_sockaddr_storage` (128 bytes)."""
    sin6 = struct.pack("@H", socket.AF_INET6) + struct.pack("!HI", 0, 0)
    sin6 += socket.inet_pton(socket.AF_INET6, address) + struct.pack("@I", 0)
    return sin6.ljust(128, b"\0")


def _disconnect(sock: socket.socket) -> None:
    """connect() with AF_UNSPEC dissolves a UDP association; Python has no spelling for it."""
    import ctypes

    unspec = (ctypes.c_ubyte * 16)()  # sa_family = AF_UNSPEC (0)
    if mmsg.libc().connect(sock.fileno(), ctypes.byref(unspec), ctypes.sizeof(unspec)) != 0:
        err = ctypes.get_errno()
        raise system_error(err, "disconnect")


def create_socket(type_or_options: Any, callback: Callback | None = None) -> Socket:
    """Node's `dgram.createSocket`: a type string, a SocketOptions or a dict of its fields."""
    options = SocketOptions.from_any(type_or_options)
    _check_callback(callback)
    sock = Socket(options)
    if callback is not None:
        sock.on("message", callback)
    return sock

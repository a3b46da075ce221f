"""The Pythonic extras on top of Node's callback API: `async with`, awaitable bind and send, and
`async for` over received messages. A mixin of `Socket` built only from its public methods and
events, so the extras follow the same rules as the callbacks they wrap (docs/dgram.md,
"Pythonic extras").
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, Self

from .errors import not_running
from .types import AddressInfo, RemoteInfo


class _Sock(Protocol):
    """The public methods the extras are built from (a `Socket`)."""

    @property
    def state(self) -> str: ...
    def bind(self, port: Any = ..., address: Any = ..., callback: Any = ...) -> Any: ...
    def send(self, msg: Any, port: Any = ..., address: Any = ..., callback: Any = ..., *,
             offset: int | None = ..., length: int | None = ...) -> None: ...
    def close(self, callback: Any = ...) -> Any: ...
    def address(self) -> AddressInfo: ...
    def on(self, event: str, listener: Callable[..., Any]) -> Any: ...
    def once(self, event: str, listener: Callable[..., Any]) -> Any: ...
    def off(self, event: str, listener: Callable[..., Any]) -> Any: ...


class AsyncMethods:
    """`async with`, `bind_async`, `send_async` and `messages` (a mixin of `Socket`)."""

    async def __aenter__(self) -> Self:
        """`async with create_socket(...) as sock:` hands over the socket itself."""
        return self

    async def __aexit__(self: _Sock, *exc_info: object) -> None:
        """Close the socket on leaving the block, unless it is already closed."""
        if self.state != "closed":
            self.close()

    async def bind_async(self: _Sock, port: int = 0, address: str | None = None) -> AddressInfo:
        """Bind and wait for the outcome.

        Returns:
            The bound `AddressInfo`.

        Raises:
            DgramError: what `bind` raises, the bind's own error (EADDRINUSE, a lookup
                failure, ...), or ERR_SOCKET_DGRAM_NOT_RUNNING if the socket closes first.
        """
        future: asyncio.Future[AddressInfo] = asyncio.get_running_loop().create_future()
        sock = self

        def on_listening() -> None:
            cleanup()
            if not future.done():
                future.set_result(sock.address())

        def on_error(err: BaseException) -> None:
            cleanup()
            if not future.done():
                future.set_exception(err)

        def on_close() -> None:
            cleanup()
            if not future.done():
                future.set_exception(not_running())

        def cleanup() -> None:
            sock.off("error", on_error)
            sock.off("close", on_close)
            sock.off("listening", on_listening)

        sock.once("error", on_error)
        sock.once("close", on_close)
        try:
            sock.bind(port, address, on_listening)
        except BaseException:
            cleanup()
            raise
        return await future

    async def send_async(
        self: _Sock, msg: Any, port: int | None = None, address: str | None = None, *,
        offset: int | None = None, length: int | None = None,
    ) -> int:
        """Send (arguments as `send`, without the callback) and wait for the outcome.

        Returns:
            The number of bytes sent.

        Raises:
            DgramError: what `send` raises, or the send's own error (a lookup or kernel error).
        """
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def done(err: BaseException | None, sent: int | None = None) -> None:
            if future.done():
                return
            if err is not None:
                future.set_exception(err)
            else:
                future.set_result(sent or 0)

        self.send(msg, port, address, done, offset=offset, length=length)
        return await future

    def messages(self: _Sock, max_queue: int = 65536) -> MessageIterator:
        """`async for msg, rinfo in sock.messages():` until the socket closes.

        Args:
            max_queue: messages kept while nobody reads; more are counted in `.dropped`.

        Returns:
            A `MessageIterator` that buffers from now on.
        """
        return MessageIterator(self, max_queue)


class MessageIterator:
    """`async for msg, rinfo in sock.messages():` — buffers messages from the moment it is
    created, ends when the socket closes. Bounded: messages beyond `max_queue` waiting to be
    read are counted in `dropped`, not kept."""

    def __init__(self, sock: _Sock, max_queue: int) -> None:
        self._sock = sock
        self._queue: deque[tuple[bytes, RemoteInfo]] = deque()
        self._max = max_queue
        self._waiter: asyncio.Future[None] | None = None
        self._done = sock.state == "closed"
        self.dropped = 0
        sock.on("message", self._on_message)
        sock.on("close", self._on_close)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_message(self, msg: bytes, rinfo: RemoteInfo) -> None:
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

    async def __anext__(self) -> tuple[bytes, RemoteInfo]:
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._done:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
            self._waiter = None

    async def aclose(self) -> None:
        """Stop listening; what was buffered is dropped."""
        self._done = True
        self._detach()

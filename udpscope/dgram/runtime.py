"""Process lifetime the Node way: `run()` returns once the main coroutine is done *and* no
referenced socket that is bound or binding remains open.

Sockets report every change of (closed, referenced, bind state) here, with the function that
releases them should `run()` end first. An error emitted with no listener inside a loop callback
ends `run()` with that error, as it would crash a Node process.

See docs/dgram.md, "Process lifetime".
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

# loop -> {socket: its teardown} for the sockets that keep that loop's run() alive
_alive: dict[asyncio.AbstractEventLoop, dict[object, Callable[[], None]]] = {}
_waiters: dict[asyncio.AbstractEventLoop, asyncio.Future[None]] = {}


def track(
    loop: asyncio.AbstractEventLoop, sock: object, keeps_alive: bool,
    teardown: Callable[[], None],
) -> None:
    """Record whether `sock` keeps `loop`'s `run()` alive; `teardown` releases it at the end."""
    group = _alive.get(loop)
    if keeps_alive:
        if group is None:
            group = _alive[loop] = {}
        group[sock] = teardown
        return
    if group is not None:
        group.pop(sock, None)
        if not group:
            del _alive[loop]
            waiter = _waiters.pop(loop, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)


def _idle(loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
    waiter = _waiters.get(loop)
    if waiter is None or waiter.done():
        waiter = _waiters[loop] = loop.create_future()
        if loop not in _alive:
            waiter.set_result(None)
    return waiter


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed (and not disabled with UDPSCOPE_NO_UVLOOP=1)."""
    if os.environ.get("UDPSCOPE_NO_UVLOOP"):
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _lifetime(main: Awaitable[T]) -> T:
    loop = asyncio.get_running_loop()
    failure: asyncio.Future[None] = loop.create_future()

    def on_uncaught(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, Exception) and not failure.done():
            failure.set_exception(exc)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(on_uncaught)
    task = asyncio.ensure_future(main)
    first: set[asyncio.Future[Any]] = {task, failure}
    try:
        await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            task.cancel()
            failure.result()
        result = task.result()
        while loop in _alive:
            await asyncio.wait({_idle(loop), failure}, return_when=asyncio.FIRST_COMPLETED)
            if failure.done():
                failure.result()
        if failure.done():  # the last socket failed: its error came with its release
            failure.result()
        return result
    finally:
        for teardown in list(_alive.get(loop, {}).values()):
            teardown()
        _waiters.pop(loop, None)
        if failure.done() and not failure.cancelled():
            failure.exception()  # mark retrieved
        elif not failure.done():
            failure.cancel()


def run(main: Awaitable[T]) -> T:
    """Run `main` on a new event loop (uvloop where installed) with Node's process lifetime."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(_lifetime(main))

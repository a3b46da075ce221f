"""Shared helpers for event-driven tests: counted callbacks, event recording, the next event.

Why: an event-driven test that only asserts inside a listener passes when the listener never
fires. These helpers make "never fired", "fired twice" and "waited forever" all fail the test:
`MustCall` counts calls and is verified at teardown, `EventRecorder` keeps the exact order of
events, and every wait goes through `tests.waiting` (bounded, naming what it waited for).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Iterable
from typing import Any

from tests.waiting import DEFAULT_TIMEOUT, wait_for


class MustCall:
    """A callback that must be called exactly `expected` times before the test ends.

    Every call is recorded with its arguments in `calls`. A call beyond `expected` is remembered
    (so the failure survives being swallowed by an event loop callback) and also raises at once.
    `verify()` asserts the exact count; the `must_call` fixture runs it at teardown.
    """

    def __init__(
        self, expected: int = 1, fn: Callable[..., Any] | None = None, name: str | None = None
    ) -> None:
        self.expected = expected
        self.fn = fn
        self.name = name or (getattr(fn, "__name__", None) if fn else None) or "callback"
        self.calls: list[tuple[Any, ...]] = []
        self.overcalled = False

    def __call__(self, *args: Any) -> Any:
        self.calls.append(args)
        if len(self.calls) > self.expected:
            self.overcalled = True
            raise AssertionError(
                f"{self.name} called {len(self.calls)} times, expected {self.expected}: "
                f"{self.calls!r}"
            )
        if self.fn is not None:
            return self.fn(*args)
        return None

    @property
    def count(self) -> int:
        return len(self.calls)

    @property
    def args(self) -> tuple[Any, ...]:
        """Arguments of the only call (asserts there was exactly one)."""
        assert len(self.calls) == 1, f"{self.name}: expected one call, got {self.calls!r}"
        return self.calls[0]

    def verify(self) -> None:
        assert not self.overcalled and len(self.calls) == self.expected, (
            f"{self.name} called {len(self.calls)} times, expected {self.expected}: {self.calls!r}"
        )

    async def wait(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[Any, ...] | None:
        """Wait until it has been called `expected` times; return the last call's args."""
        await wait_for(
            lambda: len(self.calls) >= self.expected,
            timeout,
            what=lambda: f"{self.name} to be called {self.expected} time(s) (got {len(self.calls)})",
        )
        return self.calls[-1] if self.calls else None


class MustCallRegistry:
    """Creates `MustCall`s and verifies all of them at once (the `must_call` fixture)."""

    def __init__(self) -> None:
        self.items: list[MustCall] = []

    def __call__(
        self, expected: int = 1, fn: Callable[..., Any] | None = None, name: str | None = None
    ) -> MustCall:
        item = MustCall(expected, fn, name)
        self.items.append(item)
        return item

    def verify(self) -> None:
        for item in self.items:
            item.verify()


class EventRecorder:
    """Records `(event, args)` of a socket's events in the order they are emitted.

    Attach it before the action under test. By default it does not listen to `error`, so an
    unexpected error still raises as it would without the recorder; pass `events` to include it.
    `marker(text)` puts a synchronous marker into the same sequence, to assert that no event
    happened before a method returned.
    """

    DEFAULT_EVENTS = ("listening", "connect", "message", "close")

    def __init__(self, emitter: Any, events: Iterable[str] = DEFAULT_EVENTS) -> None:
        self.emitter = emitter
        self.records: list[tuple[str, tuple[Any, ...]]] = []
        self._handlers: dict[str, Callable[..., None]] = {}
        for event in events:
            handler = self._make_handler(event)
            self._handlers[event] = handler
            emitter.on(event, handler)

    def _make_handler(self, event: str) -> Callable[..., None]:
        def handler(*args: Any) -> None:
            self.records.append((event, args))

        return handler

    def marker(self, text: str) -> None:
        self.records.append((f"#{text}", ()))

    def detach(self) -> None:
        for event, handler in self._handlers.items():
            self.emitter.off(event, handler)
        self._handlers.clear()

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.records]

    def args_of(self, event: str) -> list[tuple[Any, ...]]:
        return [args for name, args in self.records if name == event]

    def count(self, event: str) -> int:
        return sum(1 for name, _ in self.records if name == event)

    async def wait(
        self, event: str, count: int = 1, timeout: float = DEFAULT_TIMEOUT
    ) -> tuple[Any, ...]:
        """Wait until `event` has been recorded `count` times; return the args of that one."""
        await wait_for(
            lambda: self.count(event) >= count,
            timeout,
            what=lambda: f"{count} {event!r} event(s); got {self.names!r}",
        )
        return self.args_of(event)[count - 1]


class _NextEvent:
    """Awaitable for the next emission of an event; awaiting it is bounded by `timeout`."""

    def __init__(self, emitter: Any, event: str, timeout: float) -> None:
        self.event = event
        self.timeout = timeout
        self.future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()
        emitter.once(event, self._handler)

    def _handler(self, *args: Any) -> None:
        if not self.future.done():
            self.future.set_result(args)

    def done(self) -> bool:
        return self.future.done()

    def __await__(self) -> Generator[Any, None, tuple[Any, ...]]:
        return wait_for(self.future, self.timeout, what=f"a {self.event!r} event").__await__()


def next_event(emitter: Any, event: str, timeout: float = DEFAULT_TIMEOUT) -> _NextEvent:
    """Awaitable args of the next `event` emitted by `emitter` (subscribe first, await later);
    fails the test if it does not come within `timeout` seconds."""
    return _NextEvent(emitter, event, timeout)

"""Bounded waits, the only ones the tests use: for a condition, a future, an event or a thread.

Why one module: a test that waits without a bound hangs the suite instead of failing, and a
test that sleeps "long enough" fails under load (or passes when the thing never happened).
Every wait here has a deadline and fails with an AssertionError that names what was awaited
(`what`: a string, or a function called at failure time so it can show the state then).

- `wait_for` (async): a predicate polled on the running loop, or an awaitable; TUI tests pass
  their `pilot` so the app handles its messages and refreshes between looks.
- `wait_until` (sync): a predicate polled from a plain thread (a subprocess, a reader thread).
- `wait_notified` (sync): a predicate under a `threading.Condition`, woken by `notify_all`.
- `loop_turns`: let the loop run a few turns, only after a positive signal was awaited, to
  assert that something did *not* happen after the point where it could have.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

DEFAULT_TIMEOUT = 5.0
_POLL = 0.002  # between looks on the loop: state changes inside loop callbacks
_PILOT_POLL = 0.02  # between looks through a pilot: each look lets the app refresh
_THREAD_POLL = 0.01  # between looks from a thread: another process or thread does the work

What = str | Callable[[], str] | None
T = TypeVar("T")


class Pausing(Protocol):
    """What `wait_for` needs of a Textual `Pilot`: a pause that lets the app run."""

    async def pause(self, delay: float | None = None) -> None: ...


def describe(what: What, target: object) -> str:
    """The text naming what was awaited (`what` called now if it is a function)."""
    if callable(what):
        return what()
    return what or getattr(target, "__name__", None) or repr(target)


def _timed_out(timeout: float, what: What, target: object) -> AssertionError:
    return AssertionError(f"timed out after {timeout:g} s waiting for {describe(what, target)}")


async def wait_for(
    target: Callable[[], T] | Awaitable[T],
    timeout: float = DEFAULT_TIMEOUT,
    *,
    what: What = None,
    pilot: Pausing | None = None,
) -> T:
    """Wait until a predicate is truthy, or an awaitable is done, at most `timeout` seconds.

    Args:
        target: a function of no arguments (polled), or an awaitable (a future, a task, a
            coroutine) awaited with the timeout.
        timeout: seconds before the test fails.
        what: names what is awaited in the failure message (a function: called at failure).
        pilot: a Textual pilot; polls then pause through it (messages handled, screen updated).

    Returns:
        The predicate's truthy value, or the awaitable's result.

    Raises:
        AssertionError: on timeout, naming `what`.
    """
    if inspect.isawaitable(target):
        try:
            return await asyncio.wait_for(target, timeout)
        except TimeoutError:
            raise _timed_out(timeout, what, target) from None
    if not callable(target):
        if hasattr(target, "pause"):
            raise TypeError("wait_for(pilot, cond) is the old TUI form: "
                            "write wait_for(cond, what=..., pilot=pilot)")
        raise TypeError(f"wait_for needs a predicate or an awaitable, not {target!r}")
    deadline = time.monotonic() + timeout
    if pilot is None:
        for _ in range(3):  # the cheap case: true within a few loop turns
            value = target()
            if value:
                return value
            await asyncio.sleep(0)
    while True:
        value = target()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(timeout, what, target)
        if pilot is None:
            await asyncio.sleep(_POLL)
        else:
            await pilot.pause(_PILOT_POLL)


def wait_until(
    predicate: Callable[[], T],
    timeout: float = DEFAULT_TIMEOUT,
    *,
    what: What = None,
    interval: float = _THREAD_POLL,
) -> T:
    """The synchronous `wait_for`: poll `predicate` from this thread until truthy.

    For work done by another process or thread (a child that writes a file, a server that
    starts). Returns the truthy value; AssertionError naming `what` on timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            raise _timed_out(timeout, what, predicate)
        time.sleep(min(interval, left))


def wait_notified(
    condition: threading.Condition,
    predicate: Callable[[], T],
    timeout: float = DEFAULT_TIMEOUT,
    *,
    what: What = None,
) -> T:
    """Wait under `condition` until `predicate` (checked with it held) is truthy.

    Woken by every `notify_all` of the thread that changes the state, so it needs no polling.
    Returns the truthy value; AssertionError naming `what` on timeout (`what` is called with
    the condition held, so it can show the state it guards).
    """
    deadline = time.monotonic() + timeout
    with condition:
        while True:
            value = predicate()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise _timed_out(timeout, what, predicate)
            condition.wait(left)


async def loop_turns(n: int = 10) -> None:
    """Let the event loop run `n` iterations: for asserting that something did NOT happen
    after the point where it could have (always used after an awaited positive signal)."""
    for _ in range(n):
        await asyncio.sleep(0)


__all__ = ["DEFAULT_TIMEOUT", "describe", "loop_turns", "wait_for", "wait_notified",
           "wait_until"]

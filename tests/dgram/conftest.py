"""Fixtures for the engine contract tests: counted callbacks, tracked sockets, loop error capture.

Async tests run twice, on asyncio's own loop and on uvloop (the loop `dgram.run` picks), since
the engine drives sockets with loop primitives (add_reader/add_writer) whose edges differ.

Exceptions raised inside event-loop callbacks (a listener that asserts, an `error` emitted with
no listener) do not reach the test by themselves; `loop_errors` collects them and fails the test,
so a broken listener cannot hide behind a passing test.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.dgram.dgram_helpers import KINDS, SocketFactory
from tests.support import MustCallRegistry


def pytest_asyncio_loop_factories(config, item):
    """Every async engine test runs on asyncio's loop and on uvloop (what `dgram.run` uses)."""
    factories = {"asyncio": asyncio.new_event_loop}
    try:
        import uvloop
    except ImportError:
        return factories
    factories["uvloop"] = uvloop.new_event_loop
    return factories


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over udp4 and udp6."""
    return request.param


@pytest.fixture
def must_call() -> Iterator[MustCallRegistry]:
    """`must_call(n)` returns a callback that must be called exactly n times by the test's end."""
    registry = MustCallRegistry()
    yield registry
    registry.verify()


@pytest.fixture
async def _loop_error_guard() -> AsyncIterator[list[dict[str, Any]]]:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield errors
    # Let callbacks scheduled by the test's last steps run, so their failures are seen too.
    for _ in range(5):
        await asyncio.sleep(0)
    loop.set_exception_handler(previous)
    assert not errors, "exceptions in event loop callbacks: " + "; ".join(
        f"{c.get('message')}: {c.get('exception')!r}" for c in errors
    )


@pytest.fixture(autouse=True)
def loop_errors(request: pytest.FixtureRequest) -> list[dict[str, Any]] | None:
    """For async tests: fail the test if any loop callback raised (see module docstring)."""
    if inspect.iscoroutinefunction(getattr(request.node, "function", None)):
        return request.getfixturevalue("_loop_error_guard")
    return None


@pytest.fixture
async def sockets() -> AsyncIterator[SocketFactory]:
    """`sockets("udp4")` / `await sockets.bound("udp6")`: engine sockets closed after the test."""
    factory = SocketFactory()
    yield factory
    await factory.close_all()

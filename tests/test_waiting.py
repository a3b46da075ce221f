"""The bounded waits fail as they promise: on time, naming what was awaited, with the state then."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.waiting import wait_for, wait_notified, wait_until


async def test_a_predicate_that_never_holds_fails_naming_it() -> None:
    seen = []
    with pytest.raises(AssertionError, match=r"timed out after 0.05 s waiting for the thing \(3\)"):
        await wait_for(lambda: seen.append(1) and False, 0.05,
                       what=lambda: f"the thing ({min(len(seen), 3)})")
    assert len(seen) > 3  # it was polled, not looked at once


async def test_an_awaitable_gives_its_result_or_fails_naming_it() -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.call_soon(done.set_result, 42)
    assert await wait_for(done, 1, what="the answer") == 42
    with pytest.raises(AssertionError, match="waiting for a future that never ends"):
        await wait_for(loop.create_future(), 0.05, what="a future that never ends")


async def test_the_old_tui_form_is_refused_with_the_new_one() -> None:
    class Pilot:
        async def pause(self, delay: float | None = None) -> None: ...

    with pytest.raises(TypeError, match=r"pilot=pilot"):
        await wait_for(Pilot(), lambda: True)  # type: ignore[arg-type]


def test_sync_waits_return_the_value_or_fail_on_time() -> None:
    box: list[int] = []
    threading.Timer(0.02, box.append, (7,)).start()
    assert wait_until(lambda: box[:1], 5, what="the timer") == [7]
    with pytest.raises(AssertionError, match="waiting for nothing"):
        wait_until(lambda: False, 0.05, what="nothing")

    cond = threading.Condition()
    state = {"n": 0}

    def bump() -> None:
        with cond:
            state["n"] = 2
            cond.notify_all()

    threading.Timer(0.02, bump).start()
    assert wait_notified(cond, lambda: state["n"] == 2, 5, what="the bump")
    with pytest.raises(AssertionError, match=r"n is 2"):
        wait_notified(cond, lambda: state["n"] == 3, 0.05, what=lambda: f"n is {state['n']}")

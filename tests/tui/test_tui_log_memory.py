"""The live log's own ring (sharing the capture's batches) is bounded in bytes like the capture's,
following or held; a filtered log too. Batches are emitted by the test: nothing is sent."""

from __future__ import annotations

from datetime import UTC

from tests.batches import fake_batch
from tests.tui.tui_helpers import ROOT, frozen, log_of, type_into
from tests.waiting import wait_for
from udpscope.capture import Capture
from udpscope.ring import RxChunk
from udpscope.tui.app import UdpscopeApp

MiB = 1 << 20
BUDGET = 4 * MiB


def _kept_bytes(rows) -> int:  # type: ignore[no-untyped-def]
    return sum(c.batch.total_bytes() if isinstance(c, RxChunk) else len(c.payload)
               for c in rows.chunks_after(0))


def _app() -> UdpscopeApp:
    capture = Capture(ring_size=10_000, ring_bytes=BUDGET, clock=frozen, monotonic=frozen)
    return UdpscopeApp(capture=capture, tz=UTC, theme_dirs=[ROOT / "themes"], theme="udpscope-dark")


async def _flood(pilot, app: UdpscopeApp, batches: int, text: bytes = b"") -> None:  # type: ignore[no-untyped-def]
    entry = app.capture.sockets.get(1) or app.capture.create_socket("udp4")
    log = log_of(app)
    for _ in range(batches):
        entry.sock.emit("batch", fake_batch([text + bytes(60_000)] * 8))
        await wait_for(lambda: log.last_seq == app.capture.seq or log.new_count,
                       what="the log pulled", pilot=pilot)


async def test_following_and_held_log_keep_no_more_than_the_budget() -> None:
    app = _app()
    async with app.run_test(size=(120, 30)) as pilot:
        log = log_of(app)
        await _flood(pilot, app, 40)  # 40 x 480 kB: about 4.6 times the budget
        assert app.capture.evictions > 0
        assert log.rows.nbytes <= BUDGET and _kept_bytes(log.rows) <= BUDGET
        assert len(log.rows) < 320
        log.focus()
        await pilot.press("up", "up")  # reading: the log stops following and holds when full
        await wait_for(lambda: not log.following, what="follow off", pilot=pilot)
        await _flood(pilot, app, 20)
        assert log.rows.nbytes <= BUDGET and _kept_bytes(log.rows) <= BUDGET


async def test_filtered_log_is_bounded_too() -> None:
    app = _app()
    async with app.run_test(size=(120, 30)) as pilot:
        log = log_of(app)
        await pilot.press("slash")
        await type_into(pilot, "#filter", "text:keep")
        await pilot.press("enter")
        await wait_for(lambda: log.predicate is not None, what="filter applied", pilot=pilot)
        await _flood(pilot, app, 40, b"keep")
        await wait_for(lambda: len(log.rows) > 0, what="rows kept", pilot=pilot)
        assert log.rows.nbytes <= BUDGET and _kept_bytes(log.rows) <= BUDGET

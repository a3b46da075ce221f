"""Send jobs: a bounded, paced series of sends whose results arrive through the engine's callback.

A user asks for "N datagrams at R per second"; the first send is issued at once (so an argument
error raises to the caller), the rest by a task that sleeps between sends and never bursts to
catch up when it falls behind. Every send is bounded: `MAX_SEND_COUNT` per job, and a job stops
at the first exception (the socket closed under it), counting the rest as failed.

What each result means for the history (records, counters) is the capture layer's business: the
job only tallies its own outcome for the composer's summary line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["MAX_SEND_COUNT", "SendJob"]

MAX_SEND_COUNT = 1_000_000


class SendJob:
    """A bounded, paced series of sends and the tally of their results.

    `send_one(index)` issues datagram `index` (0-based); results are reported back with
    `succeeded` / `failed_with` by whoever receives the engine's callback.
    """

    def __init__(self, count: int) -> None:
        if count < 1 or count > MAX_SEND_COUNT:
            raise ValueError(f"count must be 1..{MAX_SEND_COUNT}")
        self.count = count
        self.ok = 0
        self.failed = 0
        self.bytes = 0
        self.last_bytes: int | None = None
        self.last_error: str | None = None
        self.last_error_code: str | None = None
        self.cancelled = False
        self.task: asyncio.Task[None] | None = None
        # Told each result after the capture layer recorded it (a responder counts replies so).
        self.on_result: Callable[[BaseException | None, int | None], None] | None = None

    @property
    def done(self) -> bool:
        """Every send has a result, or the job was cancelled."""
        return self.cancelled or (self.ok + self.failed) >= self.count

    def cancel(self) -> None:
        """Stop issuing sends (those already queued still report their results)."""
        self.cancelled = True
        if self.task is not None:
            self.task.cancel()

    def succeeded(self, nbytes: int) -> None:
        """One send went out with `nbytes` bytes."""
        self.ok += 1
        self.bytes += nbytes
        self.last_bytes = nbytes

    def failed_with(self, err: BaseException, sends: int = 1) -> None:
        """`sends` sends failed, the last with `err`."""
        self.failed += sends
        self.last_error = str(err) or type(err).__name__
        self.last_error_code = getattr(err, "code", None)

    def summary(self) -> str:
        """Plain-text summary (may contain OS error text: sanitise before display)."""
        parts = [f"sent {self.ok}/{self.count}"]
        if self.last_bytes is not None:
            parts.append(f"{self.last_bytes} bytes each" if self.count > 1 else f"{self.last_bytes} bytes")
        if self.failed:
            parts.append(f"{self.failed} failed: {self.last_error}")
        if self.cancelled and not self.done:
            parts.append("cancelled")
        return ", ".join(parts)

    def start(
        self,
        send_one: Callable[[int], None],
        rate: float | None,
        monotonic: Callable[[], float],
        on_abort: Callable[[BaseException], None],
    ) -> None:
        """Issue send 0 now (its argument errors raise here) and the rest from a task, paced
        at `rate` datagrams/s (None: as fast as the engine queues them, yielding to the loop
        every 64). A later send that raises stops the job: the rest count as failed and
        `on_abort(err)` is called. Needs a running event loop when `count` > 1."""
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        send_one(0)
        if self.count > 1:
            self.task = asyncio.get_running_loop().create_task(
                self._send_rest(send_one, rate, monotonic, on_abort))

    async def _send_rest(
        self,
        send_one: Callable[[int], None],
        rate: float | None,
        monotonic: Callable[[], float],
        on_abort: Callable[[BaseException], None],
    ) -> None:
        interval = 1.0 / rate if rate else 0.0
        next_at = monotonic() + interval
        for index in range(1, self.count):
            if self.cancelled:
                return
            if interval:
                delay = next_at - monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                # Never burst to catch up: the schedule restarts from now when we are late.
                next_at = max(next_at, monotonic()) + interval
            elif index % 64 == 0:
                await asyncio.sleep(0)
            try:
                send_one(index)
            except Exception as err:  # the socket was closed under us, etc.
                self.failed_with(err, self.count - index)
                on_abort(err)
                return

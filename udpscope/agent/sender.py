"""Bounded, paced probe jobs: `count` probes to each target at `rate` per second.

Why its own loop rather than the capture layer's SendJob: a matrix sender talks to many
destinations at once, each with its own probe stream id, and must say how late it ran (a sender
that falls behind looks like a slow network otherwise). One timer tick sends one probe to every
target, so sixteen destinations cost one wake-up, not sixteen.

Every job is bounded twice: by its count, and by a deadline (twice its planned duration plus a
margin) after which it stops whatever happened. Being late never causes a burst: the schedule
restarts from now.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from udpscope.probe import encode_probe

DEADLINE_MARGIN_S = 10.0


@dataclass(slots=True)
class TargetCounters:
    """One destination of a job: where, which stream, how it went."""

    address: str
    port: int
    stream: int
    issued: int = 0
    sent: int = 0
    errors: int = 0
    last_error: str | None = None
    last_error_code: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"to": self.address, "port": self.port, "stream": self.stream,
                "issued": self.issued, "sent": self.sent, "errors": self.errors,
                "last_error": self.last_error, "last_error_code": self.last_error_code}


class ProbeJob:
    """A running series of probes from one engine socket. Start with `start()`."""

    def __init__(self, job_id: int, sock: Any, targets: Sequence[tuple[str, int, int]],
                 count: int, rate: float, size: int,
                 monotonic: Callable[[], float] = time.monotonic,
                 time_ns: Callable[[], int] = time.time_ns) -> None:
        self.id = job_id
        self.sock = sock
        self.targets = [TargetCounters(a, p, s) for a, p, s in targets]
        self.count = count
        self.rate = rate
        self.size = size
        self.monotonic = monotonic
        self.time_ns = time_ns
        self.state = "pending"        # pending, running, done, cancelled, failed
        self.error: str | None = None
        self.ticks = 0
        self.late_ms_max = 0.0        # how far behind schedule a tick ran, at worst
        self.started: float | None = None
        self.finished: float | None = None
        self.task: asyncio.Task[None] | None = None
        self.on_done: Callable[[ProbeJob], None] | None = None
        self.pending = 0              # sends whose engine callback has not run yet
        self._loop_over = False

    @property
    def total_rate(self) -> float:
        return self.rate * len(self.targets)

    @property
    def active(self) -> bool:
        return self.state in ("pending", "running")

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    def cancel(self) -> None:
        if self.active:
            self.state = "cancelled"
            if self.task is not None:
                self.task.cancel()
            self._finish()

    async def _run(self) -> None:
        self.state = "running"
        interval = 1.0 / self.rate
        start = self.started = self.monotonic()
        deadline = start + self.count * interval * 2 + DEADLINE_MARGIN_S
        next_at = start
        try:
            for seq in range(self.count):
                now = self.monotonic()
                if now > deadline:
                    self.state = "failed"
                    self.error = f"stopped at its deadline after {seq} of {self.count} ticks"
                    break
                if next_at > now:
                    await asyncio.sleep(next_at - now)
                    now = self.monotonic()
                late = now - next_at
                self.late_ms_max = max(self.late_ms_max, late * 1000.0)
                # A tick more than one interval late never bursts to catch up: the schedule
                # restarts from now.
                next_at = next_at + interval if late < interval else now + interval
                if not self._tick(seq):
                    break
            else:
                self.state = "done"
        except asyncio.CancelledError:
            if self.state == "running":
                self.state = "cancelled"
        finally:
            self._loop_over = True
            if self.pending == 0 or self.state == "cancelled":
                self._finish()

    def _settled(self) -> None:
        """An engine send callback ran: the job is over once its last one has."""
        self.pending -= 1
        if self.pending == 0 and self._loop_over:
            self._finish()

    def _tick(self, seq: int) -> bool:
        """One probe to every target; False when the socket is gone (the job fails)."""
        self.ticks += 1
        now_ns = self.time_ns()
        for target in self.targets:
            data = encode_probe(seq, now_ns, self.size, target.stream, time_ns=True)
            target.issued += 1
            try:
                self.sock.send(data, target.port, target.address, _Result(self, target))
                self.pending += 1
            except Exception as err:  # closed socket, or an argument the engine refuses
                target.errors += 1
                target.last_error = str(err) or type(err).__name__
                target.last_error_code = getattr(err, "code", None)
                self.state = "failed"
                self.error = target.last_error
                return False
        return True

    def _finish(self) -> None:
        if self.finished is None:
            self.finished = self.monotonic()
            if self.on_done is not None:
                self.on_done(self)

    def to_json(self) -> dict[str, Any]:
        return {"job": self.id, "state": self.state, "count": self.count, "rate": self.rate,
                "size": self.size, "ticks": self.ticks, "late_ms_max": round(self.late_ms_max, 3),
                "error": self.error, "targets": [t.to_json() for t in self.targets]}


class _Result:
    """The engine's send callback for one datagram: count it sent or failed."""

    __slots__ = ("job", "target")

    def __init__(self, job: ProbeJob, target: TargetCounters) -> None:
        self.job = job
        self.target = target

    def __call__(self, err: BaseException | None, _nbytes: int | None) -> None:
        if err is None:
            self.target.sent += 1
        else:
            self.target.errors += 1
            self.target.last_error = str(err) or type(err).__name__
            self.target.last_error_code = getattr(err, "code", None)
        self.job._settled()

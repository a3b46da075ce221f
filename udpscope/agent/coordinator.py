"""The coordinator: one matrix run over many agents, and a snapshot a view polls on a timer.

A run, every step bounded by the run's deadline (`--timeout`, less a reserve for stopping):
1. start every agent through its template, at once; wait for each hello; set its limits (this
   run's count, rate, TTL and group, nothing more); open a socket on the group's port; join.
   A host that fails here is reported with the reason while the others go on.
2. every ready host sends its multicast probes; the coordinator polls every agent's report and
   learns each host's address from where its multicast probes were heard;
3. once every address is known (or after `address_wait`, falling back to the address the host's
   own route to the group names) every host sends the same number of probes by unicast to every
   other host;
4. when every job is over, a short grace for the last datagrams, one final report each, then
   every agent is stopped (bye, stdin closed, SIGTERM, SIGKILL: leaving no membership behind).

`stop()` (SIGTERM, a view's Stop key) jumps to 4. The coordinator is never on the data path: it
only reads reports, so it cannot lose probes; its own cost and lag are measured and reported in
`snapshot().stats`.

The API a view uses: construct with a `MatrixConfig` and `HostSpec`s, `await run()` in a task,
call `snapshot()` on a timer (hosts with state and error, the cells, the phase), `pair(a, b)` for
one cell's stream details, and `stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from udpscope.addresses import family_of
from udpscope.agent import grid
from udpscope.agent.client import AgentClient, AgentError, AgentGone, Link
from udpscope.agent.protocol import DEFAULT_SIZE, PROTOCOL_VERSION
from udpscope.agent.transport import HostSpec, LinkError, ProcessLink

SHUTDOWN_RESERVE_S = 3.0
MISSED_POLLS = 3          # reports in a row an agent may miss before it is given up
LAG_TICK_S = 0.05


@dataclass(frozen=True)
class MatrixConfig:
    """What one run measures. `timeout` None: long enough for the plan (see default_timeout)."""

    group: str
    port: int
    count: int = 100
    rate: float = 100.0
    ttl: int = 1
    max_loss: float = 0.0
    timeout: float | None = None
    size: int = DEFAULT_SIZE
    poll_interval: float = 0.25
    address_wait: float = 1.0
    grace: float = 0.5
    start_timeout: float = 20.0
    request_timeout: float = 5.0

    @property
    def family(self) -> str:
        return family_of(self.group) or "udp4"

    @property
    def endpoint(self) -> str:
        return f"[{self.group}]:{self.port}" if ":" in self.group else f"{self.group}:{self.port}"

    @property
    def send_time_s(self) -> float:
        return self.count / self.rate

    @property
    def effective_timeout(self) -> float:
        return self.timeout if self.timeout is not None else default_timeout(self.count, self.rate)


def default_timeout(count: int, rate: float) -> float:
    """Room for slow ssh logins, both sending phases and stopping."""
    return 30.0 + 2.0 * count / rate


@dataclass(frozen=True)
class HostView:
    """One host as a view shows it."""

    name: str
    state: str                 # waiting, starting, ready, sending, done, failed, stopped
    error: str | None
    address: str | None
    address_seen: bool         # the address receivers saw (else the host's own route's)
    agent_version: str | None
    send_errors: int
    last_send_error: str | None
    kernel_drops: int
    late_ms_max: float | None  # how far behind schedule its sender ran, at worst
    loss: grid.HostLoss | None
    agent_cpu_s: float | None = None   # the agent process's CPU time so far


@dataclass(frozen=True)
class CoordinatorStats:
    """The coordinator's own cost: proof that it keeps up (or that it does not)."""

    elapsed_s: float
    cpu_s: float
    loop_lag_ms_max: float
    loop_lag_ms_p99: float
    polls: int
    poll_ms_avg: float
    poll_ms_max: float
    report_bytes: int


@dataclass(frozen=True)
class MatrixSnapshot:
    """Everything a view draws, at one moment. `ok` is None until the run is over."""

    phase: str
    hosts: tuple[HostView, ...]
    cells: tuple[grid.Cell, ...]
    ok: bool | None
    interrupted: bool
    timed_out: bool
    stats: CoordinatorStats

    def cell(self, sender: str, receiver: str) -> grid.Cell | None:
        for cell in self.cells:
            if cell.sender == sender and cell.receiver == receiver:
                return cell
        return None


@dataclass(frozen=True)
class PairDetail:
    """One cell's raw material: what the sender sent, what the receiver heard (stream stats)."""

    sender: str
    receiver: str
    multicast_sent: grid.SentStream | None
    unicast_sent: grid.SentStream | None
    multicast_stream: dict[str, Any] | None
    unicast_stream: dict[str, Any] | None


class _Host:
    """The coordinator's mutable state for one host."""

    def __init__(self, spec: HostSpec, index: int) -> None:
        self.spec = spec
        self.index = index
        self.state = "waiting"
        self.error: str | None = None
        self.client: AgentClient | None = None
        self.socket: int | None = None
        self.route_source: str | None = None
        self.seen_address: str | None = None
        self.report: dict[str, Any] | None = None
        self.missed = 0
        self.jobs: list[int] = []

    @property
    def live(self) -> bool:
        return self.error is None and self.state in ("ready", "sending", "done")

    @property
    def address(self) -> str | None:
        return self.seen_address or self.route_source

    def fail(self, reason: str) -> None:
        if self.error is None:
            self.error = reason
        self.state = "failed"


class Coordinator:
    """One matrix run. See the module docstring for the phases and the view API."""

    def __init__(self, config: MatrixConfig, hosts: Sequence[HostSpec], *,
                 link_factory: Callable[[HostSpec], Link] | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._hosts = [_Host(spec, i) for i, spec in enumerate(hosts)]
        self._link_factory = link_factory or (lambda spec: ProcessLink(spec.argv))
        self._mono = monotonic
        self.plan = grid.StreamPlan(tuple(h.spec.name for h in self._hosts),
                                    random.getrandbits(32))
        self.phase = "idle"
        self.interrupted = False
        self.timed_out = False
        self._stop: asyncio.Event | None = None
        self._started: float | None = None
        self._ended: float | None = None
        self._cpu0 = time.process_time()
        self._cpu1: float | None = None
        self._lags: deque[float] = deque(maxlen=6_000)   # the last five minutes
        self._polls = 0
        self._poll_times: deque[float] = deque(maxlen=10_000)
        self._done = False
        self._start_budget = config.start_timeout
        self._cache: tuple[Any, tuple[HostView, ...], tuple[grid.Cell, ...]] | None = None

    # ---- the view API -----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the run now (every agent is stopped; the result says it was interrupted)."""
        self.interrupted = self.interrupted or not self._done
        if self._stop is not None:
            self._stop.set()

    def snapshot(self) -> MatrixSnapshot:
        """The hosts, cells and phase now. Cells are rebuilt only when a report or a host's
        state changed since the last call, so a view may call this at any frame rate."""
        key = (self._done, tuple((id(h.report), h.state, h.error, h.seen_address, h.route_source)
                                 for h in self._hosts))
        if self._cache is None or self._cache[0] != key:
            cells = tuple(grid.build_cells(
                self.plan, [h.report for h in self._hosts],
                [h.report is not None and h.error is None for h in self._hosts],
                count=self.config.count, rate=self.config.rate))
            hosts = tuple(self._host_view(h, cells) for h in self._hosts)
            self._cache = (key, hosts, cells)
        _key, hosts, cells = self._cache
        ok = self._ok(hosts, cells) if self._done else None
        return MatrixSnapshot(self.phase, hosts, cells, ok, self.interrupted, self.timed_out,
                              self._stats())

    def pair(self, sender: str, receiver: str) -> PairDetail:
        """Stream details of one cell (KeyError for an unknown host name)."""
        names = self.plan.names
        s, r = names.index(sender), names.index(receiver)
        sent = grid.sent_streams(self._hosts[s].report)
        heard = grid.heard_streams(self._hosts[r].report)
        m_id, u_id = self.plan.multicast(s), self.plan.unicast(s, r)
        return PairDetail(sender, receiver, sent.get(m_id), sent.get(u_id),
                          _copy(heard.get(m_id)), _copy(heard.get(u_id)))

    # ---- the run ------------------------------------------------------------------------------

    async def run(self) -> MatrixSnapshot:
        """Run once, bounded by the config's timeout; the final snapshot (never raises for a
        host's failure: that is in the snapshot)."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self.interrupted:
            self._stop.set()
        self._started = self._mono()
        self._cpu0 = time.process_time()
        timeout = self.config.effective_timeout
        reserve = min(SHUTDOWN_RESERVE_S, timeout * 0.2)
        # A host that hangs (a blackholed ssh) must not eat the time the others need: starting
        # gets what is left after the sending phases, however long start_timeout is.
        cfg = self.config
        sending = cfg.send_time_s + cfg.address_wait + cfg.grace + 2 * cfg.poll_interval + 1.0
        self._start_budget = min(cfg.start_timeout, max(1.0, timeout - reserve - sending))
        lag = loop.create_task(self._measure_lag())
        work = loop.create_task(self._work())
        stopper = loop.create_task(self._stop.wait())
        try:
            done, _ = await asyncio.wait({work, stopper}, timeout=max(0.0, timeout - reserve),
                                         return_when=asyncio.FIRST_COMPLETED)
            if work not in done:
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
                if stopper in done:
                    self.interrupted = True
                else:
                    self.timed_out = True
                    self._mark_timeout(timeout)
            else:
                work.result()
        finally:
            stopper.cancel()
            self.phase = "stopping"
            await self._shutdown(reserve)
            lag.cancel()
            self._ended = self._mono()
            self._cpu1 = time.process_time()
            self._done = True
            self.phase = "done"
        return self.snapshot()

    async def _work(self) -> None:
        cfg = self.config
        self.phase = "starting"
        await asyncio.gather(*(self._start_host(h) for h in self._hosts))
        if sum(h.live for h in self._hosts) < 2:
            return
        self.phase = "sending"
        began = self._mono()
        await asyncio.gather(*(self._send(h, [{"to": cfg.group, "stream": self.plan.multicast(
            h.index)}], ttl=cfg.ttl) for h in self._live()))
        unicast = False
        while True:
            await self._poll()
            self._learn_addresses()
            if not unicast and (all(h.seen_address for h in self._live())
                                or self._mono() - began >= cfg.address_wait):
                unicast = True
                await asyncio.gather(*(self._send(h, self._unicast_targets(h))
                                       for h in self._live()))
            if not self._live() or (unicast and self._all_sent()):
                break
            await asyncio.sleep(cfg.poll_interval)
        self.phase = "settling"
        await asyncio.sleep(cfg.grace)
        self.phase = "reporting"
        await self._poll()
        for h in self._live():
            h.state = "done"

    def _live(self) -> list[_Host]:
        return [h for h in self._hosts if h.live]

    async def _start_host(self, h: _Host) -> None:
        cfg = self.config
        budget = self._start_budget
        h.state = "starting"
        link: Link | None = None
        try:
            async with asyncio.timeout(budget):
                link = self._link_factory(h.spec)
                h.client = AgentClient(link)
                await link.start()
                await h.client.connect(budget)
                limits = {"max_count": cfg.count, "max_rate": cfg.rate, "max_ttl": cfg.ttl,
                          "groups": [cfg.group]}
                t = cfg.request_timeout
                await h.client.request("hello", t, protocol=PROTOCOL_VERSION, limits=limits)
                opened = await h.client.request("open", t, port=cfg.port, family=cfg.family)
                h.socket = int(opened["socket"])
                joined = await h.client.request("join", t, socket=h.socket, group=cfg.group)
            source = joined.get("source")
            h.route_source = source if isinstance(source, str) else None
            h.state = "ready"
        except TimeoutError:
            said = link.last_error() if link is not None else None
            h.fail(f"no answer from the agent within {budget:g} s"
                   + (f" (it said: {said})" if said else ""))
        except (AgentError, AgentGone, LinkError) as e:
            h.fail(_agent_failure(h, e))
        except asyncio.CancelledError:
            h.fail("stopped before the agent was ready")
            raise

    async def _send(self, h: _Host, targets: list[dict[str, Any]], ttl: int | None = None) -> None:
        if not targets or h.client is None or not h.live:
            return
        cfg = self.config
        args: dict[str, Any] = {"socket": h.socket, "targets": targets, "count": cfg.count,
                                "rate": cfg.rate, "size": cfg.size}
        if ttl is not None:
            args["ttl"] = ttl
        try:
            reply = await h.client.request("send", cfg.request_timeout, **args)
        except TimeoutError:
            h.fail("the agent did not answer a send command")
            return
        except (AgentError, AgentGone) as e:
            h.fail(_agent_failure(h, e))
            return
        h.jobs.append(int(reply["job"]))
        h.state = "sending"

    def _unicast_targets(self, h: _Host) -> list[dict[str, Any]]:
        return [{"to": o.address, "stream": self.plan.unicast(h.index, o.index)}
                for o in self._live() if o is not h and o.address]

    async def _poll(self) -> None:
        began = self._mono()
        await asyncio.gather(*(self._report(h) for h in self._live()))
        self._polls += 1
        self._poll_times.append(self._mono() - began)

    async def _report(self, h: _Host) -> None:
        assert h.client is not None
        try:
            h.report = await h.client.request("report", self.config.request_timeout)
            h.missed = 0
        except TimeoutError:
            h.missed += 1
            if h.missed >= MISSED_POLLS:
                h.fail(f"no report for {MISSED_POLLS} polls in a row")
        except (AgentError, AgentGone) as e:
            h.fail(_agent_failure(h, e))

    def _learn_addresses(self) -> None:
        """A sender's address is where receivers heard its multicast probes come from."""
        by_stream = {self.plan.multicast(h.index): h for h in self._hosts}
        for receiver in self._hosts:
            for stream in (receiver.report or {}).get("streams") or ():
                sender = by_stream.get(stream.get("stream"))
                source = stream.get("source")
                if sender is not None and sender.seen_address is None and isinstance(source, str):
                    sender.seen_address = source

    def _all_sent(self) -> bool:
        for h in self._live():
            states = {j.get("job"): j.get("state") for j in (h.report or {}).get("jobs") or ()}
            if any(states.get(job) in (None, *grid.ACTIVE_JOB_STATES) for job in h.jobs):
                return False
        return True

    def _mark_timeout(self, timeout: float) -> None:
        for h in self._hosts:
            if h.state in ("waiting", "starting"):
                h.fail(f"not ready within --timeout {timeout:g} s")

    async def _shutdown(self, budget: float) -> None:
        async def close(h: _Host) -> None:
            if h.client is not None:
                with contextlib.suppress(Exception):
                    await h.client.close(budget)
            if h.state != "failed":
                h.state = "stopped" if self.interrupted or self.timed_out else "done"

        await asyncio.gather(*(close(h) for h in self._hosts))

    async def _measure_lag(self) -> None:
        while True:
            before = self._mono()
            await asyncio.sleep(LAG_TICK_S)
            self._lags.append(max(0.0, self._mono() - before - LAG_TICK_S))

    # ---- views ---------------------------------------------------------------------------------

    def _host_view(self, h: _Host, cells: tuple[grid.Cell, ...]) -> HostView:
        report = h.report or {}
        errors = 0
        last_error = None
        late = None
        for job in report.get("jobs") or ():
            late = max(late or 0.0, float(job.get("late_ms_max") or 0.0))
            for t in job.get("targets") or ():
                errors += int(t.get("errors") or 0)
                last_error = t.get("last_error") or last_error
        drops = sum(int(s.get("kernel_drops") or 0) for s in report.get("sockets") or ())
        hello = h.client.hello if h.client is not None else None
        version = hello.get("udpscope") if hello else None
        loss = grid.host_loss(h.spec.name, cells, self.config.max_loss) if h.report else None
        cpu = report.get("cpu_s")
        return HostView(h.spec.name, h.state, h.error, h.address, h.seen_address is not None,
                        str(version) if version is not None else None, errors,
                        str(last_error) if last_error else None, drops, late, loss,
                        float(cpu) if isinstance(cpu, int | float) else None)

    def _ok(self, hosts: tuple[HostView, ...], cells: tuple[grid.Cell, ...]) -> bool:
        if self.interrupted or self.timed_out or len(hosts) < 2:
            return False
        if any(h.error is not None for h in hosts):
            return False
        limit = self.config.max_loss
        for cell in cells:
            for path in (cell.multicast, cell.unicast):
                if path.loss_pct is None or path.loss_pct > limit:
                    return False
        return True

    def _stats(self) -> CoordinatorStats:
        now = self._ended if self._ended is not None else self._mono()
        elapsed = now - self._started if self._started is not None else 0.0
        cpu = (self._cpu1 if self._cpu1 is not None else time.process_time()) - self._cpu0
        lags = sorted(self._lags)
        p99 = lags[min(len(lags) - 1, math.ceil(len(lags) * 0.99) - 1)] if lags else 0.0
        polls = list(self._poll_times)
        read = sum(h.client.bytes_read for h in self._hosts if h.client is not None)
        return CoordinatorStats(
            round(elapsed, 3), round(cpu, 3), round(max(lags, default=0.0) * 1000, 3),
            round(p99 * 1000, 3), self._polls,
            round(sum(polls) / len(polls) * 1000, 3) if polls else 0.0,
            round(max(polls, default=0.0) * 1000, 3), read)


def _agent_failure(h: _Host, err: BaseException) -> str:
    if isinstance(err, AgentError):
        return f"agent error ({err.code}): {err.message}"
    return str(err) or type(err).__name__


def _copy(stream: Any) -> dict[str, Any] | None:
    return dict(stream) if stream is not None else None

"""The Hosts view's session: the hosts and settings the user gave, and the run going on now.

Why apart from the screen: a run outlives the view (leave it with 1..6 and the agents go on), and
it must end with the app — quitting, SIGTERM and SIGHUP all come through `shutdown`, which stops
every agent (bye, stdin closed, SIGTERM, SIGKILL, each bounded by the coordinator) so no
membership is left behind. The coordinator is one-shot, so each Start makes a new one, as an
asyncio task on the app's loop: it only waits on pipes and timers, so the UI never blocks on it.
No Textual here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from udpscope.tui.hostforms import TEMPLATE_PRESETS, MatrixFields, MatrixSettings

if TYPE_CHECKING:
    from udpscope.agent.client import Link
    from udpscope.agent.coordinator import Coordinator, MatrixConfig, MatrixSnapshot, PairDetail
    from udpscope.agent.transport import HostSpec

SHUTDOWN_WAIT_S = 10.0  # the coordinator stops its agents within its own reserve (3 s)


@dataclass(frozen=True)
class HostEntry:
    """A host in the list: its name, the template it was added with ("" = this machine) and
    the argv that starts its agent."""

    name: str
    template: str
    argv: tuple[str, ...]

    @property
    def via(self) -> str:
        """A short word for how the agent is reached (ssh, namespace, kubectl, local, ...)."""
        if not self.template:
            return "local"
        for label, template in TEMPLATE_PRESETS:
            if template == self.template:
                return label
        return self.template.split()[0] if self.template.split() else "?"


class RunRefused(ValueError):
    """A Start or an edit that cannot happen now; the message says why, for people."""


class HostsSession:
    """Hosts, settings as typed, and at most one run (its coordinator and task)."""

    def __init__(self, link_factory: Callable[[HostSpec], Link] | None = None) -> None:
        self.link_factory = link_factory  # tests give fake transports; None: real processes
        self.hosts: list[HostEntry] = []
        self.fields = MatrixFields()
        self.template = TEMPLATE_PRESETS[0][1]  # the last template used, offered next
        self.coordinator: Coordinator | None = None
        self.settings: MatrixSettings | None = None  # the settings of the current/last run
        self.runs = 0
        self.crash: str | None = None  # a run that ended by an exception (a bug), in words
        self.on_done: Callable[[MatrixSnapshot | None], None] | None = None
        self._task: asyncio.Task[MatrixSnapshot] | None = None

    # ---- the list ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True from Start until every agent of the run is stopped."""
        return self._task is not None and not self._task.done()

    def add(self, entry: HostEntry) -> None:
        """Add a host at the end. Raises RunRefused while a run goes on or for a name taken."""
        self._editable()
        if any(h.name == entry.name for h in self.hosts):
            raise RunRefused(f"{entry.name} is in the list already")
        self.hosts.append(entry)
        if entry.template:
            self.template = entry.template

    def remove(self, name: str) -> None:
        """Remove a host by name (nothing if absent). Raises RunRefused while a run goes on."""
        self._editable()
        self.hosts = [h for h in self.hosts if h.name != name]

    def _editable(self) -> None:
        if self.running:
            raise RunRefused("a run is going on: stop it (s) before changing the hosts")

    # ---- the run -------------------------------------------------------------------------------

    def config_for(self, settings: MatrixSettings) -> MatrixConfig:
        """The coordinator's configuration for ``settings`` (the matrix command's defaults)."""
        from udpscope.agent.coordinator import MatrixConfig

        return MatrixConfig(group=settings.group, port=settings.port, count=settings.count,
                            rate=settings.rate, ttl=settings.ttl, max_loss=settings.max_loss)

    def start(self, settings: MatrixSettings) -> Coordinator:
        """Start a run over every host in the list, as a task on the running loop.

        Raises:
            RunRefused: a run is going on already, or fewer than two hosts are listed.
        """
        if self.running:
            raise RunRefused("a run is going on already (s stops it)")
        if len(self.hosts) < 2:
            raise RunRefused("add at least two hosts (a): the grid is between hosts")
        from udpscope.agent.coordinator import Coordinator
        from udpscope.agent.transport import HostSpec

        specs = [HostSpec(h.name, h.argv) for h in self.hosts]
        coordinator = Coordinator(self.config_for(settings), specs, link_factory=self.link_factory)
        self.coordinator = coordinator
        self.settings = settings
        self.crash = None
        self.runs += 1
        task = asyncio.get_running_loop().create_task(coordinator.run())
        task.add_done_callback(self._finished)
        self._task = task
        return coordinator

    def _finished(self, task: asyncio.Task[MatrixSnapshot]) -> None:
        final: MatrixSnapshot | None = None
        if task.cancelled():
            self.crash = "the run was cancelled"
        elif task.exception() is not None:
            exc = task.exception()
            self.crash = f"the run failed: {type(exc).__name__}: {exc}"
        else:
            final = task.result()
        if self.on_done is not None:
            with contextlib.suppress(Exception):
                self.on_done(final)

    def stop(self) -> None:
        """Ask the run to stop now (every agent is stopped; the verdict says it was stopped)."""
        if self.coordinator is not None and self.running:
            self.coordinator.stop()

    def snapshot(self) -> MatrixSnapshot | None:
        """The current (or last) run's snapshot; None before the first Start."""
        return self.coordinator.snapshot() if self.coordinator is not None else None

    def pair(self, sender: str, receiver: str) -> PairDetail | None:
        """One cell's stream details from the current (or last) run; None if there is none."""
        if self.coordinator is None:
            return None
        try:
            return self.coordinator.pair(sender, receiver)
        except (KeyError, ValueError):
            return None

    async def shutdown(self, timeout: float = SHUTDOWN_WAIT_S) -> None:
        """Stop the run and wait (bounded) until every agent is stopped. Never raises."""
        task = self._task
        if task is None or task.done():
            return
        self.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except Exception:  # a hung stop (TimeoutError) or a crashed run: the app still ends
            task.cancel()

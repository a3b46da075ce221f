"""The scenario interface: what a new kind of measurement implements to join a bench run.

Why this shape: every measurement here is the same story told with different actors. A measured
worker runs in a fresh interpreter pinned to one CPU, a peer (feeder or sink) on another, the
worker prints `READY <port> <rcvbuf>` and later one JSON line, and the run's numbers go into one
section of the report and one table. So a scenario only names its peers (`Peer`: how to start
one), what a repetition runs (`round`), what it puts in the report (`finish`) and how its table
reads (`render`); the runner (`runner.Bench`) owns processes, pinning, interleaving and errors.

The runner calls, for each scenario in order: `prepare` once; then for each repetition i,
`round(bench, i)` of every scenario in turn (so drift on a shared machine hits them alike);
then `finish(bench, report)`; the report calls `render(report, sym)`. Everything has a default,
so a scenario overrides only what it needs (see bench/README.md in the source checkout).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from udpscope.benchkit.report import Symbols
    from udpscope.benchkit.runner import Bench, Config


@dataclass(frozen=True)
class ReceiverSpec:
    """What a receiving worker is started with: `READY <port> <rcvbuf>`, then its JSON line
    `idle_ms` after the last datagram (or at `max_s`)."""

    host: str
    rcvbuf: int
    idle_ms: int
    max_s: float


@dataclass(frozen=True)
class SenderSpec:
    """What a sending worker is started with: send `size`-byte datagrams to host:port for
    `seconds` (`mode` "connected" or "unconnected"), then print its JSON line."""

    host: str
    port: int
    size: int
    seconds: float
    mode: str


S = TypeVar("S", ReceiverSpec, SenderSpec)


@dataclass(frozen=True)
class Peer(Generic[S]):
    """One program that takes part in a measurement.

    `key` names it in the JSON report, `label` in the tables; `argv(spec)` is its command line
    (it must refuse any host but 127.0.0.1 / ::1 and bound itself in time and count).
    """

    key: str
    label: str
    argv: Callable[[S], list[str]]


class Scenario:
    """One kind of measurement; subclass and override what you need (all defaults do nothing).

    `key` is the scenario's section in the JSON report (and in progress lines).
    """

    key: str = ""

    def estimate_s(self, cfg: Config) -> float:
        """Rough wall time of this scenario's runs, for the "about N s" line."""
        return 0.0

    def prepare(self, bench: Bench) -> None:
        """Once, before the first round: build or find peers; say in `bench.notes` what is
        skipped and why."""

    def round(self, bench: Bench, index: int) -> None:
        """Repetition `index` (0-based) of `cfg.repeat`: run each peer once, keep the runs.

        Run each measurement through `bench.attempt` so a failure becomes that run's error.
        """

    def finish(self, bench: Bench, report: dict[str, Any]) -> None:
        """Put this scenario's section (and its entries in `report["ratios"]`) in the report.

        Sections of the scenarios before this one are already there (to take ratios to them).
        A scenario measured once rather than per repetition (the TUI) runs its processes here.
        """

    def render(self, report: dict[str, Any], sym: Symbols) -> list[str]:
        """This scenario's table, as lines (an empty list when its section is absent)."""
        return []

"""The grid: sender x receiver cells built from the agents' reports. Pure: no I/O, no clock.

Each (sender, kind, receiver) has its own probe stream id (`StreamPlan`), so a cell is the
sender's count for that stream (from its job report) against what the receiver heard of it.

Loss is counted the way omping counts it, with the warm-up apart: multicast probes before the
first one a receiver heard (up to one second's worth, at most half the count) are `warmup_lost`
— the join settling in a snooping switch — and `loss_pct` is over the rest. While senders are
still sending (a live view), the probes that may still be in flight are not counted as lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from udpscope.agent.protocol import U32

WARMUP_S = 1.0
IN_FLIGHT_S = 0.1      # live view: probes this recent are not yet called lost
ACTIVE_JOB_STATES = ("pending", "running")


@dataclass(frozen=True)
class StreamPlan:
    """Which stream id each (sender, kind, receiver) uses: `base` + a fixed layout."""

    names: tuple[str, ...]
    base: int

    def multicast(self, sender: int) -> int:
        return (self.base + sender) & U32

    def unicast(self, sender: int, receiver: int) -> int:
        n = len(self.names)
        return (self.base + n + sender * n + receiver) & U32


@dataclass(frozen=True)
class Path:
    """One direction of one kind (multicast or unicast) between two hosts."""

    sent: int | None = None          # probes the sender tried to send (None: it never started)
    received: int | None = None      # distinct probes heard (None: the receiver is not reporting)
    loss_pct: float | None = None
    lost: int | None = None
    warmup_lost: int | None = None
    duplicates: int | None = None
    reordered: int | None = None
    delay_ms_avg: float | None = None
    ttl: int | None = None
    send_errors: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Cell:
    """Sender -> receiver: multicast and unicast."""

    sender: str
    receiver: str
    multicast: Path
    unicast: Path

    def to_json(self) -> dict[str, Any]:
        return {"from": self.sender, "to": self.receiver, "multicast": self.multicast.to_json(),
                "unicast": self.unicast.to_json()}


@dataclass(frozen=True)
class SentStream:
    issued: int
    errors: int
    final: bool


def sent_streams(report: Mapping[str, Any] | None) -> dict[int, SentStream]:
    """Per stream id, what a sender's report says it sent (jobs running and finished)."""
    out: dict[int, SentStream] = {}
    if not report:
        return out
    for job in report.get("jobs") or ():
        final = job.get("state") not in ACTIVE_JOB_STATES
        for target in job.get("targets") or ():
            stream = target.get("stream")
            if isinstance(stream, int):
                out[stream] = SentStream(int(target.get("issued") or 0),
                                         int(target.get("errors") or 0), final)
    return out


def heard_streams(report: Mapping[str, Any] | None) -> dict[int, Mapping[str, Any]]:
    """Per stream id, what a receiver's report says it heard."""
    if not report:
        return {}
    return {s["stream"]: s for s in report.get("streams") or () if isinstance(s.get("stream"), int)}


def warmup_cap(count: int, rate: float) -> int:
    return min(math.ceil(rate * WARMUP_S), count // 2)


def build_path(sent: SentStream | None, heard: Mapping[str, Any] | None, *, receiving: bool,
               rate: float, warmup_limit: int) -> Path:
    """One path from the sender's count and the receiver's stream (absent: nothing heard)."""
    if sent is None:
        return Path()
    if not receiving:
        return Path(sent=sent.issued, send_errors=sent.errors)
    received = int(heard.get("received") or 0) if heard else 0
    first = heard.get("first_seq") if heard else None
    warmup = min(first, warmup_limit) if received and isinstance(first, int) else 0
    expected = sent.issued - warmup
    lost = max(0, expected - received)
    if not sent.final:
        # Still sending: what may be in flight is not lost yet; gaps already seen are.
        allowance = max(1, math.ceil(rate * IN_FLIGHT_S))
        gaps = int(heard.get("lost") or 0) if heard else 0
        lost = max(gaps, expected - allowance - received, 0)
    loss = round(100.0 * lost / expected, 2) if expected > 0 else None
    return Path(
        sent=sent.issued, received=received, loss_pct=loss, lost=lost, warmup_lost=warmup,
        duplicates=int(heard.get("duplicates") or 0) if heard else 0,
        reordered=int(heard.get("reordered") or 0) if heard else 0,
        delay_ms_avg=heard.get("delay_ms_avg") if heard else None,
        ttl=heard.get("ttl_min") if heard else None,
        send_errors=sent.errors,
    )


def build_cells(plan: StreamPlan, reports: Sequence[Mapping[str, Any] | None],
                receiving: Sequence[bool], *, count: int, rate: float) -> list[Cell]:
    """Every ordered pair of distinct hosts. `reports[i]` is host i's latest report (None: none
    yet); `receiving[i]` says whether host i's receive counts are usable."""
    names = plan.names
    sent = [sent_streams(r) for r in reports]
    heard = [heard_streams(r) for r in reports]
    limit = warmup_cap(count, rate)
    cells = []
    for s, sender in enumerate(names):
        m_id = plan.multicast(s)
        for r, receiver in enumerate(names):
            if r == s:
                continue
            u_id = plan.unicast(s, r)
            cells.append(Cell(
                sender, receiver,
                build_path(sent[s].get(m_id), heard[r].get(m_id), receiving=receiving[r],
                           rate=rate, warmup_limit=limit),
                build_path(sent[s].get(u_id), heard[r].get(u_id), receiving=receiving[r],
                           rate=rate, warmup_limit=0),
            ))
    return cells


def over(path: Path, max_loss: float) -> bool:
    return path.loss_pct is not None and path.loss_pct > max_loss


# ---- per host: where the loss is ---------------------------------------------------------------

@dataclass(frozen=True)
class HostLoss:
    """A host's loss in each direction and kind (over all its cells), and what it points to.

    Flags: `multicast-in` when every measured multicast cell into the host is over the limit
    (likewise `multicast-out`, `unicast-in`, `unicast-out`), and `multicast-only` when multicast
    fails in a direction where unicast is within the limit — the "unicast works, multicast
    doesn't" case.
    """

    multicast_in_loss_pct: float | None
    multicast_out_loss_pct: float | None
    unicast_in_loss_pct: float | None
    unicast_out_loss_pct: float | None
    flags: tuple[str, ...]


def _aggregate(paths: Iterable[Path]) -> float | None:
    """Loss % over every measured path together (None when none is measured)."""
    lost = expected = 0
    for path in paths:
        if path.loss_pct is None or path.lost is None or path.sent is None:
            continue
        lost += path.lost
        expected += path.sent - (path.warmup_lost or 0)
    return round(100.0 * lost / expected, 2) if expected else None


def host_loss(name: str, cells: Sequence[Cell], max_loss: float) -> HostLoss:
    into = [c for c in cells if c.receiver == name]
    out = [c for c in cells if c.sender == name]

    def measured(paths: list[Path]) -> list[Path]:
        return [x for x in paths if x.loss_pct is not None]

    def all_bad(paths: list[Path]) -> bool:
        m = measured(paths)
        return bool(m) and all(over(x, max_loss) for x in m)

    def any_bad(paths: list[Path]) -> bool:
        return any(over(x, max_loss) for x in paths)

    groups = {
        "multicast-in": [c.multicast for c in into], "multicast-out": [c.multicast for c in out],
        "unicast-in": [c.unicast for c in into], "unicast-out": [c.unicast for c in out],
    }
    flags = [flag for flag, paths in groups.items() if all_bad(paths)]
    if (("multicast-in" in flags and not any_bad(groups["unicast-in"])
         and measured(groups["unicast-in"]))
            or ("multicast-out" in flags and not any_bad(groups["unicast-out"])
                and measured(groups["unicast-out"]))):
        flags.append("multicast-only")
    pct = {k: _aggregate(v) for k, v in groups.items()}
    return HostLoss(pct["multicast-in"], pct["multicast-out"], pct["unicast-in"],
                    pct["unicast-out"], tuple(flags))

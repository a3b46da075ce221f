"""A LAN of fake agents in memory, for the coordinator and the Hosts view: no process, no socket.

Each `FakeAgentLink` answers the agent protocol the way `udpscope agent` does (hello, open, join,
send, report, bye), from one shared `FakeLan` that knows who joined and what every sender's jobs
have issued so far. Jobs advance with the clock (the real one by default), so a live view sees
its numbers grow; what a receiver hears is decided per (receiver, kind) by a drop fraction,
deterministically (never the first probe, so no warm-up), so a finished run always ends with the
same grid. A host can fail the way a real one does: a transport that cannot start (LinkError),
or an agent that exits at once with something on stderr (ssh's "No route to host").
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from udpscope.agent.protocol import COMMANDS, PROTOCOL_VERSION, hard_caps
from udpscope.agent.transport import HostSpec, LinkError

MULTICAST_DELAY = (0.12, 0.2, 0.41, 0.03)  # ms: min, avg, max, jitter
UNICAST_DELAY = (0.09, 0.15, 0.33, 0.02)


@dataclass
class _Job:
    sender: str
    id: int
    targets: list[tuple[str, int]]  # (destination, stream)
    count: int
    rate: float
    ttl: int
    began: float

    def issued(self, now: float) -> int:
        return min(self.count, int((now - self.began) * self.rate) + 1)

    def state(self, now: float) -> str:
        return "done" if now - self.began >= (self.count - 1) / self.rate else "running"


@dataclass
class FakeLan:
    """The shared network. ``drop[(receiver, "multicast"|"unicast")]`` is the fraction lost."""

    clock: Callable[[], float] = time.monotonic
    drop: dict[tuple[str, str], float] = field(default_factory=dict)
    start_errors: dict[str, str] = field(default_factory=dict)  # host -> LinkError text
    exits: dict[str, str] = field(default_factory=dict)  # host -> stderr, then exit 255
    addresses: dict[str, str] = field(default_factory=dict)
    links: dict[str, FakeAgentLink] = field(default_factory=dict)
    joined: dict[str, str] = field(default_factory=dict)  # host -> group
    jobs: list[_Job] = field(default_factory=list)

    def link(self, spec: HostSpec) -> FakeAgentLink:
        """The coordinator's link_factory."""
        if spec.name not in self.addresses:
            self.addresses[spec.name] = f"10.77.0.{len(self.addresses) + 1}"
        link = FakeAgentLink(self, spec.name)
        self.links[spec.name] = link
        return link

    def heard(self, receiver: str, now: float) -> list[dict[str, Any]]:
        """The streams ``receiver`` reports: every job that sends to its group or address."""
        out = []
        for job in self.jobs:
            if job.sender == receiver:
                continue
            for destination, stream in job.targets:
                multicast = destination == self.joined.get(receiver)
                if not multicast and destination != self.addresses.get(receiver):
                    continue
                kind = "multicast" if multicast else "unicast"
                issued = job.issued(now)
                fraction = self.drop.get((receiver, kind), 0.0)
                dropped = _dropped(issued, fraction)
                received = issued - dropped
                if received <= 0:
                    continue
                delay = MULTICAST_DELAY if multicast else UNICAST_DELAY
                ttl = job.ttl if multicast else 64
                out.append({
                    "stream": stream, "kind": kind, "source": self.addresses[job.sender],
                    "source_port": 5000, "destination": destination, "interface": "eth0",
                    "received": received, "datagrams": received, "lost": dropped,
                    "duplicates": 0, "reordered": 0, "stale": 0, "restarts": 0, "first_seq": 0,
                    "highest_seq": issued - 1, "delay_ms_min": delay[0], "delay_ms_avg": delay[1],
                    "delay_ms_max": delay[2], "jitter_ms": delay[3], "ttl_min": ttl,
                    "ttl_max": ttl, "other_sources": 0, "first_time": 0.0, "last_time": 0.0})
        return out


def _dropped(issued: int, fraction: float) -> int:
    """Probes 1..issued-1 dropped at ``fraction`` (evenly spread; probe 0 always arrives)."""
    if fraction >= 1.0:
        return issued
    return math.floor((issued - 1) * fraction) if issued > 1 else 0


class FakeAgentLink:
    """One agent's link (the coordinator's `Link` protocol), answering from the shared LAN."""

    def __init__(self, lan: FakeLan, name: str) -> None:
        self.lan = lan
        self.name = name
        self.lines: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.closed = False
        self.status: int | None = None
        self.commands: list[str] = []
        self._job_ids = 0

    async def start(self) -> None:
        if self.name in self.lan.start_errors:
            raise LinkError(self.lan.start_errors[self.name])
        if self.name in self.lan.exits:
            self.status = 255
            self.lines.put_nowait(None)
            return
        self._put({"type": "hello", "protocol": PROTOCOL_VERSION, "udpscope": "0.1.0",
                   "host": self.name, "pid": 0, "time": 0.0, "addresses": [],
                   "caps": hard_caps(), "commands": list(COMMANDS)})

    def _put(self, message: dict[str, Any]) -> None:
        self.lines.put_nowait(json.dumps(message).encode())

    async def read_line(self) -> bytes | None:
        return await self.lines.get()

    async def write_line(self, data: bytes) -> None:
        if self.closed:
            raise LinkError("the agent's input is closed")
        message = json.loads(data)
        cmd = message["cmd"]
        self.commands.append(cmd)
        fields = self._answer(cmd, message)
        self._put({"type": "ok", "id": message["id"], "cmd": cmd, **fields})
        if cmd == "bye":
            self.lan.joined.pop(self.name, None)

    def _answer(self, cmd: str, message: dict[str, Any]) -> dict[str, Any]:
        lan, now = self.lan, self.lan.clock()
        if cmd == "open":
            return {"socket": 1, "address": "0.0.0.0", "port": message["port"],
                    "family": message.get("family", "udp4")}
        if cmd == "join":
            lan.joined[self.name] = message["group"]
            return {"socket": 1, "group": message["group"], "interface": None,
                    "source": lan.addresses[self.name]}
        if cmd == "send":
            self._job_ids += 1
            job = _Job(self.name, self._job_ids, [(t["to"], t["stream"]) for t in message["targets"]],
                       message["count"], message["rate"], message.get("ttl", 1), now)
            lan.jobs.append(job)
            return {"job": job.id, "duration_s": job.count / job.rate}
        if cmd == "report":
            mine = [j for j in lan.jobs if j.sender == self.name]
            jobs = [{"job": j.id, "state": j.state(now), "count": j.count, "rate": j.rate,
                     "late_ms_max": 0.5, "error": None,
                     "targets": [{"stream": s, "issued": j.issued(now), "errors": 0}
                                 for _to, s in j.targets]} for j in mine]
            return {"time": now, "cpu_s": 0.01, "sockets": [], "jobs": jobs,
                    "streams": lan.heard(self.name, now), "dropped_streams": 0, "non_probe": 0}
        return {}

    async def wait(self, timeout: float) -> int | None:
        return self.status

    async def close(self, grace: float) -> int | None:
        self.closed = True
        self.lan.joined.pop(self.name, None)
        if self.status is None:
            self.status = 0
        self.lines.put_nowait(None)
        return self.status

    def last_error(self) -> str | None:
        return self.lan.exits.get(self.name)

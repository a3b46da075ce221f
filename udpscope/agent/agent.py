"""The agent core: one command in, one reply out, over whatever carries the lines.

Transport-agnostic on purpose: `serve_stdio` (in stdio.py) feeds it stdin lines for
`udpscope agent`, and a view could run one in-process for the local host. It reuses the engine
(sockets), the capture layer (counters, kernel drops, errors of every socket it opens) and the
probe format, and adds only what a remote vantage point needs: limits, jobs and stream reports.

What an agent refuses, with one error object each and without stopping: a line that is not a
JSON object, an unknown command or argument, a value of the wrong type or range, any command
before a `hello` with this protocol version, and anything over the coordinator's limits or the
agent's own hard caps (see protocol.py).
"""

from __future__ import annotations

import contextlib
import os
import socket as pysocket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from udpscope import __version__, dgram
from udpscope.addresses import family_of, is_multicast
from udpscope.agent import protocol as p
from udpscope.agent.sender import ProbeJob
from udpscope.agent.streams import StreamTable
from udpscope.capture import Capture, SocketEntry

FINISHED_JOBS_KEPT = 32


@dataclass
class OpenSocket:
    """A socket the coordinator opened, with the groups it joined through us."""

    id: int
    entry: SocketEntry
    family: str
    port: int
    joins: set[tuple[str, str | None]] = field(default_factory=set)

    @property
    def sock(self) -> Any:
        return self.entry.sock


def route_source(group: str, port: int, family: str) -> str | None:
    """The address the kernel would send from to `group` (a connected UDP socket sends nothing).

    This is where this host's multicast probes come from as far as it can tell; the coordinator
    prefers what receivers actually saw, and falls back to this.
    """
    af = pysocket.AF_INET6 if family == "udp6" else pysocket.AF_INET
    try:
        with pysocket.socket(af, pysocket.SOCK_DGRAM) as s:
            s.connect((group, port))
            return str(s.getsockname()[0])
    except OSError:
        return None


def local_addresses() -> list[dict[str, Any]]:
    """The host's interfaces and addresses, for the hello (empty if they cannot be read)."""
    try:
        from udpscope.net.interfaces import list_interfaces

        interfaces = list_interfaces()
    except Exception:  # psutil missing or /proc unreadable: the hello still goes out
        return []
    return [{"interface": i.name, "index": i.index, "addresses": list(i.addresses), "up": i.up,
             "multicast": i.multicast, "loopback": i.loopback} for i in interfaces]


class Agent:
    """Executes protocol commands. `emit` writes one message (a dict) to the coordinator."""

    def __init__(self, emit: Callable[[dict[str, Any]], None], *,
                 capture: Capture | None = None, clock: Callable[[], float] = time.time) -> None:
        self.emit = emit
        self.capture = capture if capture is not None else Capture(ring_size=256)
        self.clock = clock
        self.limits: p.Limits | None = None
        self.sockets: dict[int, OpenSocket] = {}
        self.jobs: dict[int, ProbeJob] = {}
        self.finished: deque[ProbeJob] = deque(maxlen=FINISHED_JOBS_KEPT)
        self.streams = StreamTable(clock=clock)
        self.bye_requested = False
        self.commands = 0
        self.errors = 0
        self._socket_ids = 0
        self._job_ids = 0

    # ---- the wire ----------------------------------------------------------------------------

    def hello(self) -> dict[str, Any]:
        """The unsolicited first line: who this agent is and what it will never exceed."""
        return {"type": "hello", "protocol": p.PROTOCOL_VERSION, "udpscope": __version__,
                "host": pysocket.gethostname(), "pid": os.getpid(), "time": self.clock(),
                "addresses": local_addresses(), "caps": p.hard_caps(), "commands": list(p.COMMANDS)}

    async def handle_line(self, raw: bytes) -> None:
        """Decode, check and run one line; emit exactly one reply (ok or error), none for a
        blank line."""
        if not raw.strip():
            return   # blank lines (keep-alives) are ignored, not answered
        message: dict[str, Any] | None = None
        try:
            message = p.decode_line(raw)
            command = p.parse_command(message)
        except p.ProtocolError as err:
            self.errors += 1
            cid = p.message_id(message) if message is not None else None
            name = message.get("cmd") if message is not None else None
            self.emit(p.error_reply(err, id=cid, cmd=name if isinstance(name, str) and
                                    name in p.COMMANDS else None))
            return
        self.emit(await self.run(command))

    async def run(self, command: p.Command) -> dict[str, Any]:
        """The reply to one checked command (errors as error objects, never raised)."""
        self.commands += 1
        try:
            if command.name != "hello" and self.limits is None:
                raise p.ProtocolError("hello-required",
                                      f"send hello with protocol {p.PROTOCOL_VERSION} first")
            handler = getattr(self, f"_cmd_{command.name}")
            fields = await handler(command.args)
            return p.ok_reply(command, **fields)
        except p.ProtocolError as err:
            self.errors += 1
            return p.error_reply(err, id=command.id, cmd=command.name)
        except dgram.DgramError as err:
            self.errors += 1
            code = getattr(err, "code", None)
            return p.error_reply(p.ProtocolError("os-error", str(err) or str(code),
                                                 errno_code=code if isinstance(code, str) else None),
                                 id=command.id, cmd=command.name)
        except Exception as err:  # a bug must cost one command, not the agent and its sockets
            self.errors += 1
            return p.error_reply(p.ProtocolError("internal-error",
                                                 f"{type(err).__name__}: {str(err)[:300]}"),
                                 id=command.id, cmd=command.name)

    # ---- commands ----------------------------------------------------------------------------

    async def _cmd_hello(self, args: dict[str, Any]) -> dict[str, Any]:
        version = args["protocol"]
        if version != p.PROTOCOL_VERSION:
            raise p.ProtocolError(
                "version-mismatch",
                f"the coordinator speaks protocol {version}, this agent (udpscope {__version__}) "
                f"speaks protocol {p.PROTOCOL_VERSION}: run the same udpscope version on both "
                "sides", argument="protocol")
        self.limits = args.get("limits") or p.Limits()
        return {"protocol": p.PROTOCOL_VERSION, "udpscope": __version__,
                "limits": self.limits.to_json(), "time": self.clock()}

    async def _cmd_ping(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"time": self.clock()}

    async def _cmd_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if len(self.sockets) >= p.CAP_SOCKETS:
            raise p.ProtocolError("limit", f"at most {p.CAP_SOCKETS} sockets are open at once")
        address = args.get("address")
        family = args.get("family") or (family_of(address) if address else None) or "udp4"
        if address and family_of(address) != family:
            raise p.ProtocolError("bad-argument", f"address: {address} is not {family}",
                                  argument="address")
        entry = await self._bind(family, args["port"], address, isolate=True)
        sock = entry.sock
        sock.set_multicast_loopback(False)   # a host is never its own receiver in the grid
        self._socket_ids += 1
        opened = OpenSocket(self._socket_ids, entry, family, sock.address().port)
        self.sockets[opened.id] = opened
        info = sock.address()
        return {"socket": opened.id, "address": info.address, "port": info.port, "family": family}

    async def _bind(self, family: str, port: int, address: str | None, *,
                    isolate: bool) -> SocketEntry:
        options = dgram.SocketOptions(type=family, reuse_addr=True, metadata=True,
                                      multicast_all=False if isolate else None)
        entry = self.capture.create_socket(options, label="agent")
        entry.sock.on("batch", self.streams.on_batch)
        try:
            await entry.sock.bind_async(port, address)
        except dgram.DgramError as err:
            self.capture.forget(entry.id)
            if isolate and getattr(err, "code", None) == "ENOPROTOOPT":
                # No IP_MULTICAST_ALL on this kernel: go on without isolation.
                return await self._bind(family, port, address, isolate=False)
            raise
        return entry

    def _socket(self, args: dict[str, Any]) -> OpenSocket:
        opened = self.sockets.get(args["socket"])
        if opened is None:
            raise p.ProtocolError("not-found", f"no open socket {args['socket']}",
                                  argument="socket")
        return opened

    def _allowed_group(self, group: str, argument: str) -> None:
        assert self.limits is not None
        if group not in self.limits.groups:
            allowed = ", ".join(sorted(self.limits.groups)) or "none"
            raise p.ProtocolError("limit", f"{argument}: group {group} is not allowed by the "
                                  f"coordinator's limits (allowed: {allowed})", argument=argument)

    def _interface(self, args: dict[str, Any], family: str) -> tuple[str | None, str | None]:
        spec = args.get("interface")
        if spec is None:
            return None, None
        from udpscope.net.interfaces import resolve_interface

        try:
            resolved = resolve_interface(spec, family)
        except (ValueError, OSError) as e:
            raise p.ProtocolError("bad-argument", f"interface: {e}", argument="interface") from None
        return resolved.dgram_arg, resolved.name

    async def _cmd_join(self, args: dict[str, Any]) -> dict[str, Any]:
        opened = self._socket(args)
        group = args["group"]
        self._allowed_group(group, "group")
        if family_of(group) != opened.family:
            raise p.ProtocolError("bad-argument", f"group: {group} is not {opened.family} like "
                                  f"socket {opened.id}", argument="group")
        if len(opened.joins) >= p.CAP_JOINS:
            raise p.ProtocolError("limit", f"at most {p.CAP_JOINS} groups per socket")
        arg, name = self._interface(args, opened.family)
        opened.sock.add_membership(group, arg)
        opened.joins.add((group, arg))
        return {"socket": opened.id, "group": group, "interface": name,
                "source": route_source(group, opened.port, opened.family)}

    async def _cmd_leave(self, args: dict[str, Any]) -> dict[str, Any]:
        opened = self._socket(args)
        arg, name = self._interface(args, opened.family)
        if (args["group"], arg) not in opened.joins:
            raise p.ProtocolError("not-found", f"socket {opened.id} has not joined "
                                  f"{args['group']}" + (f" on {name}" if name else ""),
                                  argument="group")
        opened.sock.drop_membership(args["group"], arg)
        opened.joins.discard((args["group"], arg))
        return {"socket": opened.id, "group": args["group"]}

    async def _cmd_send(self, args: dict[str, Any]) -> dict[str, Any]:
        assert self.limits is not None
        opened = self._socket(args)
        count, rate = args["count"], args["rate"]
        if count > self.limits.max_count:
            raise p.ProtocolError("limit", f"count: {count} is over the limit of "
                                  f"{self.limits.max_count}", argument="count")
        if rate > self.limits.max_rate:
            raise p.ProtocolError("limit", f"rate: {rate:g}/s is over the limit of "
                                  f"{self.limits.max_rate:g}/s", argument="rate")
        if count / rate > p.CAP_DURATION_S:
            raise p.ProtocolError("limit", f"count/rate: {count / rate:.0f} s is longer than "
                                  f"{p.CAP_DURATION_S:.0f} s", argument="rate")
        ttl = args.get("ttl")
        if ttl is not None and ttl > self.limits.max_ttl:
            raise p.ProtocolError("limit", f"ttl: {ttl} is over the limit of "
                                  f"{self.limits.max_ttl}", argument="ttl")
        targets = []
        for i, t in enumerate(args["targets"]):
            where = f"targets[{i}].to"
            if family_of(t["to"]) != opened.family:
                raise p.ProtocolError("bad-argument", f"{where}: {t['to']} is not "
                                      f"{opened.family} like socket {opened.id}", argument=where)
            if is_multicast(t["to"]):
                self._allowed_group(t["to"], where)
            targets.append((t["to"], t["port"] or opened.port, t["stream"]))
        active = [j for j in self.jobs.values() if j.active]
        if len(active) >= p.CAP_JOBS:
            raise p.ProtocolError("busy", f"{len(active)} jobs are running (at most {p.CAP_JOBS})")
        total = sum(j.total_rate for j in active) + rate * len(targets)
        if total > p.CAP_TOTAL_RATE:
            raise p.ProtocolError("limit", f"rate: {total:g} probes/s in all would be over this "
                                  f"agent's cap of {p.CAP_TOTAL_RATE:g}/s", argument="rate")
        if ttl is not None:
            opened.sock.set_multicast_ttl(ttl)
        self._job_ids += 1
        job = ProbeJob(self._job_ids, opened.sock, targets, count, rate,
                       args.get("size", p.DEFAULT_SIZE))
        job.on_done = self._job_done
        self.jobs[job.id] = job
        job.start()
        return {"job": job.id, "duration_s": round(count / rate, 3)}

    def _job_done(self, job: ProbeJob) -> None:
        self.jobs.pop(job.id, None)
        self.finished.append(job)
        self.emit({"type": "event", "event": "job-done", **job.to_json()})

    async def _cmd_cancel(self, args: dict[str, Any]) -> dict[str, Any]:
        job_id = args.get("job")
        if job_id is not None:
            job = self.jobs.get(job_id)
            if job is None:
                raise p.ProtocolError("not-found", f"no running job {job_id}", argument="job")
            job.cancel()
            return {"cancelled": [job_id]}
        ids = list(self.jobs)
        for jid in ids:
            self.jobs[jid].cancel()
        return {"cancelled": ids}

    async def _cmd_report(self, args: dict[str, Any]) -> dict[str, Any]:
        return self.report()

    def report(self) -> dict[str, Any]:
        """Counters of every socket, every job (running and recently finished), every stream."""
        with contextlib.suppress(Exception):
            self.capture.tick()
        sockets = []
        for opened in self.sockets.values():
            e = opened.entry
            sockets.append({"socket": opened.id, "port": opened.port, "family": opened.family,
                            "state": e.state, "joins": sorted(g for g, _i in opened.joins),
                            "rx_datagrams": e.rx_datagrams, "rx_bytes": e.rx_bytes,
                            "kernel_drops": e.kernel_drops, "last_error": e.last_error})
        jobs = [j.to_json() for j in (*self.finished, *self.jobs.values())]
        return {"time": self.clock(), "cpu_s": round(time.process_time(), 3),
                "sockets": sockets, "jobs": jobs,
                "streams": self.streams.to_json(), "dropped_streams": self.streams.dropped_streams,
                "non_probe": self.streams.non_probe}

    async def _cmd_close(self, args: dict[str, Any]) -> dict[str, Any]:
        opened = self._socket(args)
        self._close_socket(opened)
        return {"socket": opened.id}

    def _close_socket(self, opened: OpenSocket) -> None:
        for job in list(self.jobs.values()):
            if job.sock is opened.sock:
                job.cancel()
        self.sockets.pop(opened.id, None)
        opened.joins.clear()
        self.capture.forget(opened.entry.id)   # closing drops every membership it holds

    async def _cmd_bye(self, args: dict[str, Any]) -> dict[str, Any]:
        self.bye_requested = True
        self.close()
        return {}

    def close(self) -> None:
        """Stop every job and close every socket (leaving every group). Idempotent."""
        for job in list(self.jobs.values()):
            job.cancel()
        for opened in list(self.sockets.values()):
            self._close_socket(opened)

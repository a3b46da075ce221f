"""A workspace brought to life in a capture layer, and a running session read back into one.

The TUI (and tests) open a workspace's sockets through the same `Capture` that every other
socket goes through: created with metadata, bound, then — once bound, because the kernel options
need a socket — TTLs, loopback, broadcast, joins and responders. Every failure is handed to
``report(sock_id, error)`` (the app turns it into a log row and a notification) and the rest goes
on: one bad join must not lose the other sockets.

`snapshot_workspace` goes the other way for "workspace: save": options are read back from the
kernel (what the socket really has), joins from the engine's membership list, rules from the
responders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from udpscope import dgram
from udpscope.capture import Capture, SocketEntry
from udpscope.respond import Responder, parse_rule
from udpscope.workspace.schema import JoinSpec, PayloadSpec, SocketSpec, Workspace

__all__ = ["WorkspaceSession", "snapshot_workspace", "socket_spec_of"]

Report = Callable[[int | None, BaseException], None]


def _resolve(interface: str | None, family: str) -> str | None:
    if interface is None:
        return None
    from udpscope.net.interfaces import resolve_interface  # psutil: only when a join names one

    return resolve_interface(interface, family).dgram_arg


@dataclass
class WorkspaceSession:
    """The sockets, responders and saved payloads of a running session.

    ``responders`` and ``joins`` are keyed by capture socket id; the TUI reads responder
    counters from here and adds its own sockets' rules with `set_rules`.
    """

    capture: Capture
    report: Report
    responders: dict[int, Responder] = field(default_factory=dict)
    joins: dict[int, list[JoinSpec]] = field(default_factory=dict)
    payloads: list[PayloadSpec] = field(default_factory=list)
    binds: dict[int, tuple[str | None, int]] = field(default_factory=dict)
    _detach: dict[int, Callable[[], None]] = field(default_factory=dict)

    def open(self, workspace: Workspace) -> list[SocketEntry]:
        """Create every socket of ``workspace`` (binding now, options once bound) and keep its
        payloads. Returns the entries created; failures go to ``report``."""
        self.payloads = list(workspace.payloads)
        entries = []
        for spec in workspace.sockets:
            entry = self.open_socket(spec)
            if entry is not None:
                entries.append(entry)
        return entries

    def open_socket(self, spec: SocketSpec) -> SocketEntry | None:
        # Isolated like the TUI's and `listen`'s own sockets: only the groups it joins itself
        # (IP_MULTICAST_ALL off), not every group another program joined on the host.
        options = dgram.SocketOptions(type=spec.type, metadata=True,
                                      reuse_addr=bool(spec.joins), multicast_all=False)
        try:
            entry = self.capture.create_socket(options)
        except Exception as exc:
            self.report(None, exc)
            return None
        entry.isolated = True
        if spec.respond:
            self.set_rules(entry, spec.respond, spec.respond_limit)
        if spec.bind is None:
            return entry
        address, port = spec.bind
        self.binds[entry.id] = spec.bind
        entry.sock.once("listening", lambda: self._configure(entry, spec))
        try:
            entry.sock.bind(port, address)
        except Exception as exc:
            self.report(entry.id, exc)
        return entry

    def _configure(self, entry: SocketEntry, spec: SocketSpec) -> None:
        sock = entry.sock
        steps: list[tuple[Callable[..., Any], Any]] = []
        if spec.broadcast is not None:
            steps.append((sock.set_broadcast, spec.broadcast))
        if spec.ttl is not None:
            steps.append((sock.set_ttl, spec.ttl))
        if spec.multicast_ttl is not None:
            steps.append((sock.set_multicast_ttl, spec.multicast_ttl))
        if spec.multicast_loopback is not None:
            steps.append((sock.set_multicast_loopback, spec.multicast_loopback))
        for fn, value in steps:
            try:
                fn(value)
            except Exception as exc:
                self.report(entry.id, exc)
        for join in spec.joins:
            self.join(entry, join)

    def join(self, entry: SocketEntry, join: JoinSpec) -> bool:
        """Join a group on a bound socket; False (reported) if the kernel or the name refused."""
        try:
            arg = _resolve(join.interface, entry.type)
            if join.source is not None:
                entry.sock.add_source_specific_membership(join.source, join.group, arg)
            else:
                entry.sock.add_membership(join.group, arg)
        except Exception as exc:
            self.report(entry.id, exc)
            return False
        self.joins.setdefault(entry.id, []).append(join)
        return True

    def set_rules(self, entry: SocketEntry, rules: Iterable[str], limit: int | None = None) -> Responder:
        """Replace ``entry``'s responder rules (an empty list removes the responder).

        Raises RuleError for a bad rule, before anything changes. Replies go out through the
        capture layer, so they are logged as sent datagrams. The counters go on from the old
        responder's (an edited rule set is the same responder to the user).
        """
        parsed = [parse_rule(text) for text in rules]
        old = self.responders.pop(entry.id, None)
        detach = self._detach.pop(entry.id, None)
        if detach is not None:
            detach()
        responder = Responder(parsed, limit if limit is not None else
                              (old.limit.limit if old is not None else 1000))
        if old is not None:
            responder.matched, responder.replies = old.matched, old.replies
            responder.replies_dropped, responder.reply_errors = old.replies_dropped, old.reply_errors
            responder.last_error = old.last_error
        if parsed:
            capture = self.capture

            def send(data: bytes, port: int, address: str,
                     done: Callable[[BaseException | None, int | None], None]) -> None:
                capture.send(entry.id, data, port, address, on_result=done)

            self._detach[entry.id] = responder.attach(entry.sock, send)
            self.responders[entry.id] = responder
        return responder

    def snapshot(self) -> Workspace:
        """The session as a workspace (see `snapshot_workspace`)."""
        return snapshot_workspace(self.capture.entries(), self.responders, self.joins,
                                  self.payloads, self.binds)


def _read(getter: Callable[[], Any]) -> Any:
    try:
        return getter()
    except Exception:  # not bound, closed, or an option this kernel lacks: leave it out
        return None


def socket_spec_of(entry: SocketEntry, responder: Responder | None = None,
                   joins: Iterable[JoinSpec] = (),
                   bind: tuple[str | None, int] | None = None) -> SocketSpec | None:
    """A bound socket as a `SocketSpec`, options read back from the kernel; None if it is not
    bound (or closed): there is nothing to reopen. ``bind`` keeps the address as the user gave
    it (port 0 stays "random" rather than the port this run happened to get)."""
    local = entry.local()
    if local is None or entry.state not in ("bound", "connected"):  # closed, or a capture file
        return None
    sock = entry.sock
    known = {(j.group, j.source): j for j in joins}
    memberships = []
    for group, source, interface in _read(sock.get_memberships) or []:
        join = known.get((group, source))
        if join is None:
            name = interface.partition("%")[2] if interface and "%" in interface else interface
            join = JoinSpec(group, name or None, source)
        memberships.append(join)
    spec = SocketSpec(
        type=entry.type,
        bind=bind if bind is not None else local,
        ttl=_read(sock.get_ttl),
        multicast_ttl=_read(sock.get_multicast_ttl),
        multicast_loopback=_read(sock.get_multicast_loopback),
        broadcast=_read(sock.get_broadcast),
        joins=memberships,
    )
    if responder is not None and responder.rules:
        spec.respond = responder.rule_texts
        spec.respond_limit = responder.limit.limit
    return spec


def snapshot_workspace(entries: Iterable[SocketEntry], responders: Mapping[int, Responder],
                       joins: Mapping[int, list[JoinSpec]],
                       payloads: Iterable[PayloadSpec] = (),
                       binds: Mapping[int, tuple[str | None, int]] | None = None) -> Workspace:
    """Every bound socket of a session, with its kernel options, joins and rules, plus the
    saved payloads: what "workspace: save" writes."""
    sockets = []
    for entry in entries:
        spec = socket_spec_of(entry, responders.get(entry.id), joins.get(entry.id, ()),
                              (binds or {}).get(entry.id))
        if spec is not None:
            sockets.append(spec)
    return Workspace(sockets=sockets, payloads=list(payloads))

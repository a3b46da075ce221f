"""`udpscope doctor`: join a group for a while, watch queriers and traffic, say what is wrong.

For CI jobs and SSH sessions that need one answer instead of a screen: the same observations as
the TUI's multicast pane (querier, kernel memberships, firewall, reverse-path filter, what
arrived), one report, and an exit status that is 1 exactly when an error-level finding exists.
The group is left at the end and on Ctrl-C / SIGTERM (the socket's close drops it too).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from udpscope.addresses import family_of
from udpscope.cli.common import (
    Output,
    group_arg,
    install_signals,
    ip_arg,
    port_arg,
    positive_float,
    remove_signals,
    run_subcommand,
)
from udpscope.textsafe import safe_text

PROG = "udpscope doctor"
MAX_SENDERS = 64   # senders told apart; the rest are counted in the total
MAX_WATCH_S = 86400.0

DESCRIPTION = """\
Join GROUP (on IFACE; source-specific with --source) for --watch seconds, listen for IGMP/MLD
queries and, with --port, count datagrams to the group; then leave and report: the querier
(address, version, interval), what arrived, and findings with fixes (firewall rules dropping
IGMP/MLD, reverse-path filter, forced IGMP version, join limits, TTL, interface state).
Seeing queries needs CAP_NET_RAW (root); without it the report says so.
Exit status: 0 when no finding is an error, 1 when one is, 2 on bad usage."""


def configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("group", metavar="GROUP[@IFACE]", type=group_arg,
                   help="the multicast group, optionally on an interface (name, index or address)")
    p.add_argument("--source", metavar="SRC", type=ip_arg,
                   help="join source-specifically: only datagrams from SRC")
    p.add_argument("--port", metavar="PORT", type=port_arg,
                   help="also count datagrams to GROUP:PORT")
    p.add_argument("--watch", metavar="SECONDS", type=positive_float("watch", hi=MAX_WATCH_S),
                   default=5.0, help="how long to stay joined and watch (default 5)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default) for people, json for one JSON object")
    return p


def main(argv: list[str]) -> int:
    return run_subcommand(argv, PROG, DESCRIPTION, configure, run)


@dataclass
class Plan:
    """The checked command line: group, family, interface (name and join argument)."""

    group: str
    family: str                       # "udp4" / "udp6"
    interface: str | None             # the name, when IFACE was given
    join_arg: str | None              # the engine's argument for it
    source: str | None
    port: int | None
    watch: float
    fmt: str


def _plan(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> Plan:
    group, iface_spec = ns.group
    family = family_of(group) or "udp4"
    if ns.source is not None and family_of(ns.source) != family:
        parser.error(f"argument --source: {safe_text(ns.source, limit=60)} is not an "
                     f"{'IPv4' if family == 'udp4' else 'IPv6'} address like the group")
    name = arg = None
    if iface_spec is not None:
        from udpscope.net.interfaces import InterfaceError, find_interface, resolve_interface

        try:
            iface = find_interface(iface_spec)
            if family == "udp4" and not iface.ipv4:
                # still diagnosable (the report says "no IPv4 address"); join by index
                name, arg = iface.name, None
            else:
                resolved = resolve_interface(iface_spec, family)
                name, arg = resolved.name, resolved.dgram_arg
        except (InterfaceError, OSError, ValueError) as e:
            msg = str(e).removeprefix("interface: ")
            parser.error(f"argument GROUP[@IFACE]: {safe_text(msg, limit=300)}")
    return Plan(group, family, name, arg, ns.source, ns.port, ns.watch, ns.format)


def run(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    plan = _plan(ns, parser)
    from udpscope import dgram

    result = dgram.run(_doctor(plan))
    from udpscope.cli.doctor_report import render_json, render_text

    out = Output()
    if plan.fmt == "json":
        out.line(render_json(*result))
    else:
        for line in render_text(*result):
            if not out.line(line):
                break
    _watch, findings = result
    return 1 if any(f.level == "error" for f in findings) else 0


@dataclass
class _Traffic:
    group: str
    datagrams: int = 0
    senders: dict[tuple[str, int], list[Any]] = field(default_factory=dict)

    def on_message(self, msg: bytes, rinfo: Any) -> None:
        dest = getattr(rinfo, "destination", None)
        if dest is not None and dest != self.group:
            return   # a unicast datagram to the same port: not the group's traffic
        now = time.monotonic()
        self.datagrams += 1
        key = (rinfo.address, rinfo.port)
        row = self.senders.get(key)
        if row is None:
            if len(self.senders) >= MAX_SENDERS:
                return
            row = self.senders[key] = [0, None, None, now, now]
        row[0] += 1
        row[1], row[2], row[4] = rinfo.ttl, rinfo.interface, now


async def _doctor(plan: Plan) -> tuple[Any, list[Any]]:
    import asyncio

    from udpscope import dgram
    from udpscope.net import checks, diagnose, firewall, joins
    from udpscope.net.interfaces import find_interface
    from udpscope.net.querier import QuerierObserver

    loop = asyncio.get_running_loop()
    fam = "IPv6" if plan.family == "udp6" else "IPv4"
    ifname = plan.interface
    named = ifname is not None
    if ifname is None:
        ifname = joins.route_to(plan.group).interface   # where the kernel will put the join
    observer = QuerierObserver(interfaces=[ifname] if ifname else None, families=(fam,))
    observer.start(loop)
    stop = asyncio.Event()
    installed = install_signals(loop, stop.set)
    rp_before = checks.read_rp_filter_drops()
    traffic = _Traffic(plan.group)
    errors: list[str] = []
    started = time.monotonic()
    joined_at = None
    system = None
    sock = dgram.create_socket(dgram.SocketOptions(type=plan.family, reuse_addr=True,
                                                   metadata=True))
    sock.on("message", traffic.on_message)
    sock.on("error", lambda err: errors.append(_describe(err)))
    try:
        try:
            await sock.bind_async(plan.port or 0)
            if plan.interface is not None and plan.join_arg is None:
                raise OSError(f"{plan.interface} has no IPv4 address to name it by in a join")
            if plan.source is not None:
                sock.add_source_specific_membership(plan.source, plan.group, plan.join_arg)
            else:
                sock.add_membership(plan.group, plan.join_arg)
            joined_at = time.monotonic()
        except Exception as e:   # a failed bind or join is a finding, not a crash
            errors.append(_describe(e))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=plan.watch)
        system = checks.read_system()   # while still joined: the membership list counts
    finally:
        remove_signals(loop, installed)
        ended = time.monotonic()
        with contextlib.suppress(Exception):
            sock.close()   # closing the socket leaves the group
        view = observer.view(ifname, fam) if ifname else None
        status = observer.status(fam)
        observer.close()
    rp_after = checks.read_rp_filter_drops()
    route_src = joins.route_to(plan.source).interface if plan.source else None
    local = None
    if ifname:
        with contextlib.suppress(Exception):
            iface = find_interface(ifname)
            local = next(iter(iface.ipv4 if fam == "IPv4" else
                              sorted(iface.ipv6, key=lambda a: not a.startswith("fe80"))), None)
    senders = tuple(diagnose.Sender(a, p, r[0], r[1], r[2], r[3], r[4])
                    for (a, p), r in traffic.senders.items())
    watch = diagnose.Watch(
        plan.group, ifname, named, plan.source, plan.port, started, ended, joined_at,
        "; ".join(errors) or None, status, view, senders, traffic.datagrams,
        None if rp_before is None or rp_after is None else rp_after - rp_before,
        route_src, firewall.read_ruleset(), local)
    extra = []
    if not named and plan.source:
        found = joins.join_route_finding(plan.group, plan.source, ifname)
        if found is not None:
            extra.append(found)
    findings = diagnose.diagnose(watch, system or checks.read_system(), extra=extra)
    return watch, findings


def _describe(err: BaseException) -> str:
    from udpscope.cli.common import describe_error

    _code, message, hint = describe_error(err)
    return f"{message} ({hint})" if hint else message


"""`udpscope matrix HOST... --group GROUP:PORT`: who hears whom, in one command.

Thin: check the arguments (exit 2 naming the wrong one), run the coordinator (udpscope.agent)
with SIGINT/SIGTERM wired to its stop, print the grid as text or one JSON object, exit 0 when
every cell is within --max-loss and every host answered, 1 otherwise.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
from typing import TYPE_CHECKING

from udpscope.addresses import AddressError, parse_bind_spec
from udpscope.cli.common import (
    Output,
    argtype,
    install_signals,
    int_range,
    positive_float,
    remove_signals,
    run_subcommand,
)

if TYPE_CHECKING:
    from udpscope.agent.coordinator import MatrixConfig
    from udpscope.agent.transport import HostSpec

PROG = "udpscope matrix"
MAX_COUNT = 100_000
MAX_RATE = 10_000.0
MAX_HOSTS = 64

DESCRIPTION = """\
Probe a multicast group between many hosts and show who hears whom. One agent per HOST is started
through the --via template ({host} is replaced; default: ssh -T -o BatchMode=yes {host} udpscope
agent). Every host joins GROUP, sends --count probes to GROUP:PORT and the same number by unicast
to every other host, and every host receives. The grid (sender x receiver: multicast and unicast
loss, duplicates, delay, TTL seen) is printed as text or one JSON object. Multicast probes lost
before a join settles (warm-up) are reported apart.
Examples of --via: 'ip netns exec {host} udpscope agent', 'kubectl exec -i {host} -- udpscope agent'
Exit status: 0 when every cell is within --max-loss and every host answered, 1 when not, 2 on
bad usage."""


def _group_port(text: str) -> tuple[str, int]:
    address, port = parse_bind_spec(text, what="group")
    if address is None:
        raise AddressError("group", f"'{text[:60]}' needs GROUP:PORT, e.g. 239.1.2.3:5000")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise AddressError("group", f"'{address[:60]}' is not a group address (an IP literal)") \
            from None
    if not ip.is_multicast:
        rng = "224.0.0.0/4" if ip.version == 4 else "ff00::/8"
        raise AddressError("group", f"{address} is not a multicast address (those are in {rng})")
    if port == 0:
        raise AddressError("group", "the port must be 1-65535")
    return str(ip), port


def configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    from udpscope.agent.transport import DEFAULT_TEMPLATE

    p.add_argument("hosts", metavar="HOST", nargs="+",
                   help="hosts to probe between (what the template's {host} becomes)")
    p.add_argument("--group", metavar="GROUP:PORT", type=argtype(_group_port), required=True,
                   help="the multicast group and port, e.g. 239.1.2.3:5000 or [ff15::1]:5000")
    p.add_argument("--via", metavar="TEMPLATE", default=DEFAULT_TEMPLATE,
                   help=f"command that starts an agent on {{host}} (default: {DEFAULT_TEMPLATE})")
    p.add_argument("--count", metavar="N", type=int_range(1, MAX_COUNT, "count"), default=100,
                   help="probes each host sends to the group, and to every other host (default 100)")
    p.add_argument("--rate", metavar="PPS", type=positive_float("rate", MAX_RATE), default=100.0,
                   help="probes per second per destination (default 100)")
    p.add_argument("--ttl", metavar="N", type=int_range(1, 255, "ttl"), default=1,
                   help="multicast TTL (default 1: the local link; raise it for routed paths)")
    p.add_argument("--max-loss", metavar="PERCENT", dest="max_loss",
                   type=argtype(_percent), default=0.0,
                   help="loss above this in any cell makes the result not ok (default 0)")
    p.add_argument("--timeout", metavar="SECONDS", type=positive_float("timeout"),
                   help="bound on the whole run (default: 30 s + twice the sending time)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default): tables for people; json: one object")
    return p


def _percent(text: str) -> float:
    from udpscope.addresses import parse_float_range

    return parse_float_range(text, "max-loss", lo=0.0, lo_inclusive=True, hi=100.0)


def main(argv: list[str]) -> int:
    return run_subcommand(argv, PROG, DESCRIPTION, configure, run, intermixed=True)


def run(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from udpscope.agent.coordinator import MatrixConfig
    from udpscope.agent.transport import HostSpec, TemplateError, parse_template

    try:
        parse_template(ns.via)
    except TemplateError as e:
        parser.error(f"argument --via: {e}")
    if len(ns.hosts) < 2:
        parser.error("argument HOST: give at least two hosts (a matrix is between hosts)")
    if len(ns.hosts) > MAX_HOSTS:
        parser.error(f"argument HOST: {len(ns.hosts)} hosts, at most {MAX_HOSTS}")
    if len(set(ns.hosts)) != len(ns.hosts):
        twice = next(h for h in ns.hosts if ns.hosts.count(h) > 1)
        parser.error(f"argument HOST: {twice[:60]!r} is given twice")
    specs = []
    for host in ns.hosts:
        try:
            specs.append(HostSpec.from_template(host, ns.via))
        except TemplateError as e:
            parser.error(f"argument HOST: {e}")
    group, port = ns.group
    config = MatrixConfig(group=group, port=port, count=ns.count, rate=ns.rate, ttl=ns.ttl,
                          max_loss=ns.max_loss, timeout=ns.timeout)
    if ns.timeout is not None and ns.timeout < config.send_time_s + 1.0:
        parser.error(f"argument --timeout: {ns.timeout:g} s is shorter than sending {ns.count} "
                     f"probes at {ns.rate:g}/s needs ({config.send_time_s:g} s, plus start-up)")
    from udpscope import dgram

    return int(dgram.run(_run(config, specs, ns.format)))


async def _run(config: MatrixConfig, specs: list[HostSpec], fmt: str) -> int:
    import asyncio

    from udpscope.agent.coordinator import Coordinator
    from udpscope.agent.result import result_json, result_text

    coordinator = Coordinator(config, specs)
    loop = asyncio.get_running_loop()
    installed = install_signals(loop, coordinator.stop)
    try:
        snap = await coordinator.run()
    finally:
        remove_signals(loop, installed)
    out = Output()
    if fmt == "json":
        out.line(json.dumps(result_json(config, snap)))
    else:
        for line in result_text(config, snap):
            out.line(line)
    return 0 if snap.ok else 1
